"""P3: robust subspaces and the deep autoencoder (a 3, b 3 points), graded from `hw3_p3.py`.

Nothing here computes what a student function returns: this module ships in the students'
self-check bundle. Expected values come from the reference's functions (`pca_basis`,
`subspace_distance`, `pca_reconstruct`) run by the trusted half. The handout's subspace data that
`pca_basis` and `robust_basis` are graded on is what the reference's `make_subspace_data` gives at
the checks' seeds, stored as data (`fixtures`, see autograder/fixtures.py), not made here and not by
the student's `make_subspace_data`, so a fault in one function costs only its own check.
`make_subspace_data` itself is judged on properties (orthonormal B, unit rows, 98 in span(B)).
Subspaces are compared by their principal angles; the robust basis's distance to B is the judge's
measure of the student's answer. On MNIST the student process returns the autoencoder's
reconstructions of the test images; the judge computes the error against the images from the
trusted half, and the PCA baseline comes from the reference's `pca_basis` in the trusted half.
"""

from __future__ import annotations

import functools
import itertools
from typing import Any

import numpy as np

from autograder.assignments.umn_csci5527_hw3.common import batched, test_images
from autograder.checkpoints import load_checkpoint
from autograder.compare import Tolerance, compare_arrays
from autograder.data import mnist
from autograder.fixtures import decode
from autograder.judges import values_match
from autograder.model import Check, Problem, Verdict
from autograder.records import Record
from autograder.student import Subject, SubmissionError, to_array

MODULE = "hw3_p3"
SEEDS = (5527, 2022)
K = 20
OUTLIERS = 2
"""The handout's X: 98 rows in span(B), then 2 Gaussian outliers."""
ROBUST_RATIO = 0.25
"""The robust basis must be at least 4x closer to B than PCA's on the same data (PCA's distance at the
check's seeds 5527 and 2022: 0.271 and 0.270). The figure judged is the larger of the two ratios. Over
the student's own seed 0-19 (benchmarks/umn_csci5527_hw3_p3_robust.py; the grader's call leaves it at
its default, 0): the reference's IRLS from a random basis, and IRLS from PCA's basis, 6.7e-13 every
time; Adam by autograd on problem (3) itself, over A and the z_i (lr 1e-2, 3,000 steps), 0.073 from
PCA's basis and 0.013 to 0.015 from a random one (80 runs). PCA's own basis, a fit of the squared
objective, is at 1. The bar is 3.4 times the worst valid ratio, and 4 times below PCA's."""
SPAN = 1e-6
"""Largest sine of a principal angle between two spans taken as equal (float64 SVDs agree to ~1e-14)."""
RECONSTRUCTION = Tolerance(atol=1e-6, rtol=1e-6)
DISTANCE = Tolerance(atol=1e-6, rtol=1e-6)
SIZES = (784, 1000, 500, 250)
"""Hinton and Salakhutdinov (2006), Fig. 1: the encoder's widths before the code layer."""
CODE_DIMS = (30, 2)
"""The codes DeepAutoencoder is built with: Fig. 1's network and Fig. 3's."""
PCA_COMPONENTS = 30


# --- fixed inputs ---------------------------------------------------------------------------------

@functools.cache
def _stored() -> dict[str, np.ndarray]:
    from autograder.assignments.umn_csci5527_hw3 import fixtures

    return decode(fixtures.TABLE)


def handout_data(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(B, X) of the handout at one of SEEDS, as the reference's make_subspace_data gives them, stored
    in float32 as B, the inliers' coordinates C in B, and the outliers O: X = [C B^T; O], whose
    first 98 rows lie in span(B) exactly (scripts/make_fixtures.py)."""
    stored = _stored()
    B, C, O = (stored[f"p3 {seed} {part}"].astype(np.float64) for part in "BCO")
    return B, np.vstack([C @ B.T, O])


def orthonormal(basis: np.ndarray) -> np.ndarray:
    """An orthonormal basis of the column span of `basis` (its numerical rank many columns)."""
    u, s, _ = np.linalg.svd(basis, full_matrices=False)
    return u[:, s > 1e-10 * s.max()] if s.size and s.max() > 0 else u[:, :0]


def sines(wanted: np.ndarray, got: np.ndarray) -> np.ndarray:
    """For each direction of span(`wanted`), whose columns must be orthonormal, the sine of its
    principal angle to span(`got`): 0 where span(`got`) holds it (largest first). Taken from the part
    of `wanted` outside span(`got`), which keeps sines near 0 exact (1 - cos^2 loses them below 1e-8)."""
    outside = orthonormal(got)
    found = np.linalg.svd(wanted - outside @ (outside.T @ wanted), compute_uv=False)
    return np.concatenate([np.clip(found, 0.0, 1.0), np.zeros(wanted.shape[1] - found.size)])


def distance_to(B: np.ndarray, basis: np.ndarray) -> float:
    """How far span(`basis`) is from span(B), for an orthonormal B (the handout's) and a basis of as
    many columns: sqrt(2 * sum of the squared sines of their principal angles), the Frobenius distance
    of the two projectors, in which PCA's distance is reported. It is the check's measure of the
    student's basis, and only that: for bases of other sizes, or a B that is not orthonormal, it is
    not the subspace distance the handout asks for."""
    return float(np.sqrt(2.0 * np.sum(sines(B, basis) ** 2)))


def _basis(value: Any, what: str, k: int) -> np.ndarray:
    basis = to_array(value, what)
    if basis.shape != (200, k):
        raise SubmissionError(f"{what} should return a (200, {k}) basis, one column per direction, "
                              f"but it returned shape {basis.shape}.")
    return basis


# --- (a) Subspaces with outliers: PCA and a robust fit --------------------------------------------

class SubspaceData(Record):
    B: np.ndarray
    """make_subspace_data(seed)'s basis, (200, 20) when right."""
    X: np.ndarray
    """make_subspace_data(seed)'s data, (100, 200) when right."""


class SubspaceDraws(Record):
    by_seed: dict[int, SubspaceData]
    """At each of SEEDS."""


def run_make_subspace_data(subject: Subject) -> SubspaceDraws:
    by_seed = {}
    for seed in SEEDS:
        returned = subject.call(MODULE, "make_subspace_data", seed)
        if not isinstance(returned, tuple | list) or len(returned) != 2:
            raise SubmissionError(f"make_subspace_data({seed}) should return the pair (B, X), "
                                  f"but it returned a {type(returned).__name__}.")
        by_seed[seed] = SubspaceData(B=to_array(returned[0], f"make_subspace_data({seed})[0] (B)"),
                                     X=to_array(returned[1], f"make_subspace_data({seed})[1] (X)"))
    return SubspaceDraws(by_seed=by_seed)


def judge_subspace_data(got: SubspaceDraws, expected: None, check: Check) -> Verdict:
    problems = []
    for seed in SEEDS:
        B, X = got.by_seed[seed].B, got.by_seed[seed].X
        call = f"make_subspace_data({seed})"
        if B.shape != (200, 20) or X.shape != (100, 200):
            problems.append(f"{call}: B has shape {B.shape} and X {X.shape}; expected (200, 20) and (100, 200).")
            continue
        if not np.allclose(B.T @ B, np.eye(20), atol=1e-8):
            problems.append(f"{call}: B's columns are not orthonormal (B^T B differs from I by up to "
                            f"{np.abs(B.T @ B - np.eye(20)).max():.3g}); orthonormalise with np.linalg.qr.")
        norms = np.linalg.norm(X, axis=1)
        if not np.allclose(norms, 1.0, atol=1e-8):
            problems.append(f"{call}: the rows of X have norms from {norms.min():.4g} to {norms.max():.4g}; "
                            f"every row must have unit norm.")
        residual = np.linalg.norm(X - X @ B @ B.T, axis=1)
        inliers, outliers = int(np.sum(residual < 1e-8)), int(np.sum(residual > 0.5))
        if (inliers, outliers) != (98, 2):
            problems.append(f"{call}: {inliers} rows of X lie in span(B) and {outliers} far from it; expected 98 "
                            f"and 2 (centring X, or adding noise to the inliers, moves them off the subspace).")
    first, second = got.by_seed[SEEDS[0]].X, got.by_seed[SEEDS[1]].X
    if first.shape == second.shape and np.allclose(first, second):
        problems.append("make_subspace_data gives the same X for seeds 5527 and 2022: draw with default_rng(seed).")
    if not problems:
        return Verdict.passed("B is orthonormal (200x20); X has 98 unit rows in span(B) and 2 unit outliers.")
    return Verdict.failed(problems[0], details=tuple(problems[1:]))


PCA_CASES = {f"k=20 {seed}": (seed, 20) for seed in SEEDS} | {"k=5": (SEEDS[0], 5)}


class PcaBases(Record):
    bases: dict[str, np.ndarray]
    """pca_basis(X, k) by case (PCA_CASES' labels), (200, k) each."""


def run_pca_basis(subject: Subject) -> PcaBases:
    bases = {}
    for key, (seed, k) in PCA_CASES.items():
        X = handout_data(seed)[1]
        bases[key] = _basis(subject.call(MODULE, "pca_basis", X, k) if k == K else
                            subject.call(MODULE, "pca_basis", X, k=k), f"pca_basis(X, k={k})", k)
    return PcaBases(bases=bases)


class ReferencePcaBases(Record):
    bases: dict[str, np.ndarray]
    """The reference's pca_basis(X, k) by case (PCA_CASES' labels)."""
    centred: dict[str, np.ndarray]
    """The reference's basis of the centred X by case: what a student who centres X returns."""


def expected_pca_basis(subject: Subject) -> ReferencePcaBases:
    """The reference's bases, and its bases of the centred data (to name that fault)."""
    bases, centred = run_pca_basis(subject).bases, {}
    for key, (seed, k) in PCA_CASES.items():
        X = handout_data(seed)[1]
        centred[key] = np.asarray(subject.call(MODULE, "pca_basis", X - X.mean(axis=0), k))
    return ReferencePcaBases(bases=bases, centred=centred)


def judge_pca_basis(got: PcaBases, expected: ReferencePcaBases, check: Check) -> Verdict:
    for key, (_, k) in PCA_CASES.items():
        basis = got.bases[key]
        if not np.isfinite(basis).all():
            return Verdict.failed(f"pca_basis(X, k={k}) ({key}) returned NaN or infinity.")
        off = sines(orthonormal(expected.bases[key]), basis)
        if off[0] <= SPAN:
            continue
        centred = sines(orthonormal(expected.centred[key]), basis)[0] <= SPAN
        hint = ("Your basis is the PCA of the centred data: the handout says not to centre X here."
                if centred else "Take the first k right singular vectors of X (rows of Vt in np.linalg.svd), "
                                "without centring.")
        details = (f"{int(np.sum(off > SPAN))} of the top {k} right singular vectors of X lie outside the span of your "
                   f"basis: the largest angle between one of them and your span has sine {off[0]:.3g} (up to "
                   f"{SPAN:g} counts as inside).",
                   f"Your basis: shape {basis.shape}, rank {orthonormal(basis).shape[1]}; expected rank {k}.")
        return Verdict.failed(f"pca_basis spans a different subspace than the top {k} right singular vectors "
                              f"of X ({key}).", details=details, hint=hint)
    return Verdict.passed("pca_basis spans the top-k right singular subspace of X (k = 20 and 5), without centring.")


def _distance_pairs() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Orthonormal bases, non-orthonormal ones (so that B^+ matters) and two bases of one subspace."""
    rng = np.random.default_rng(11)
    B = handout_data(SEEDS[0])[0]
    skewed = rng.standard_normal((200, K))
    return {"orthonormal pair": (B, handout_data(SEEDS[1])[0]),
            "non-orthonormal pair": (skewed, rng.standard_normal((200, K)) * 3.0),
            "same subspace, different bases": (skewed, skewed @ rng.standard_normal((K, K))),
            "different dimensions": (B[:, :5], skewed)}


DISTANCE_CASES = ("orthonormal pair", "non-orthonormal pair", "same subspace, different bases", "different dimensions")
DISTANCE_HINTS = {
    "non-orthonormal pair": "B B^T is the projector only for an orthonormal B; use B @ np.linalg.pinv(B).",
    "same subspace, different bases": "Two bases of one subspace are at distance 0: compare projectors B B^+, not bases.",
    "different dimensions": "Use B @ np.linalg.pinv(B) for each basis, whatever its number of columns.",
}


class Distances(Record):
    distances: dict[str, np.ndarray]
    """subspace_distance(B1, B2) by case (DISTANCE_CASES), a 0-d array each."""


def run_subspace_distance(subject: Subject) -> Distances:
    pairs, distances = _distance_pairs(), {}
    for name in DISTANCE_CASES:
        value = subject.call(MODULE, "subspace_distance", *pairs[name])
        distances[name] = to_array(value, "subspace_distance(B1, B2)").reshape(())
    return Distances(distances=distances)


judge_subspace_distance = values_match({name: (lambda r, name=name: r.distances[name]) for name in DISTANCE_CASES},
                                       DISTANCE, noun="distance", hints=DISTANCE_HINTS)


class RobustBases(Record):
    bases: dict[int, np.ndarray]
    """robust_basis(X, k=20) on the handout's data at each of SEEDS, by seed: (200, 20)."""


def run_robust_basis(subject: Subject) -> RobustBases:
    return RobustBases(bases={seed: _basis(subject.call(MODULE, "robust_basis", handout_data(seed)[1], K),
                                           "robust_basis(X, k=20)", K) for seed in SEEDS})


class RobustBaseline(Record):
    B: np.ndarray
    """The handout's B at one seed."""
    pca: float
    """The distance to B of PCA's basis on the same data."""


class RobustBaselines(Record):
    by_seed: dict[int, RobustBaseline]
    """At each of SEEDS."""


def expected_robust_basis(subject: Subject) -> RobustBaselines:
    """B, and the distance to B of PCA's basis (the baseline the robust basis must beat), both by
    the reference's own `pca_basis` and `subspace_distance`."""
    by_seed = {}
    for seed in SEEDS:
        B, X = handout_data(seed)
        pca = subject.call(MODULE, "pca_basis", X, K)
        by_seed[seed] = RobustBaseline(B=B, pca=float(subject.call(MODULE, "subspace_distance", B, pca)))
    return RobustBaselines(by_seed=by_seed)


def judge_robust_basis(got: RobustBases, expected: RobustBaselines, check: Check) -> Verdict:
    lines, ok = [], True
    for seed in SEEDS:
        if not np.isfinite(got.bases[seed]).all():
            return Verdict.failed(f"robust_basis(X, k={K}) returned NaN or infinity (data of seed {seed}).")
        baseline = expected.by_seed[seed]
        robust, pca = distance_to(baseline.B, got.bases[seed]), baseline.pca
        lines.append(f"seed {seed}: distance to B of your robust basis {robust:.3g}, of PCA's {pca:.3g}")
        ok &= robust <= ROBUST_RATIO * pca
    if ok:
        return Verdict.passed(f"robust_basis is at least {1 / ROBUST_RATIO:g}x closer to B than PCA's basis.",
                              details=tuple(lines))
    return Verdict.failed(
        f"robust_basis is not much closer to B than PCA's basis: it must be at most {ROBUST_RATIO:g} x PCA's "
        f"distance, ||B1 B1^+ - B2 B2^+||_F.", details=tuple(lines),
        hint="Minimise the sum of the norms ||x_i - A z_i||_2, not of their squares (the squares give PCA "
             "again); start from PCA's basis and run enough iterations, or reweight: w_i = 1 / ||r_i||.")


# --- (b) The deep autoencoder of Hinton and Salakhutdinov (2006), and PCA -------------------------

def _linear_trace(subject: Subject, model: Any, x: Any) -> list[tuple[Any, Any, tuple[int, int]]]:
    """(input, output, (in, out) sizes) of every nn.Linear, in the order forward calls them."""
    import torch

    calls = []
    hooks = [m.register_forward_hook(lambda m, i, o: calls.append((i[0].detach(), o.detach(),
                                                                   (m.in_features, m.out_features))))
             for m in model.modules() if isinstance(m, torch.nn.Linear)]
    try:
        with torch.no_grad():
            out = subject.invoke(model, x)
    finally:
        for h in hooks:
            h.remove()
    return calls + [(None, out.detach(), None)]


def _autoencoder(subject: Subject, code_dim: int) -> Any:
    import torch

    model = subject.call(MODULE, "DeepAutoencoder", code_dim=code_dim)
    if not isinstance(model, torch.nn.Module):
        raise SubmissionError(f"DeepAutoencoder(code_dim={code_dim}) is not an nn.Module.")
    return model.eval()


def _sample(n: int = 8):
    import torch

    return torch.rand((n, 784), generator=torch.Generator().manual_seed(7))


class Layers(Record):
    linear: list[list[int]]
    """[in, out] of every nn.Linear, in the order forward calls them."""
    output_shape: list[int]
    """The shape of the output on (8, 784) random images."""


class LayerSizes(Record):
    by_code: dict[int, Layers]
    """DeepAutoencoder(code_dim) at each of CODE_DIMS."""


def run_layer_sizes(subject: Subject) -> LayerSizes:
    by_code = {}
    for code_dim in CODE_DIMS:
        trace = _linear_trace(subject, _autoencoder(subject, code_dim), _sample())
        by_code[code_dim] = Layers(linear=[list(sizes) for _, _, sizes in trace[:-1]],
                                   output_shape=list(trace[-1][1].shape))
    return LayerSizes(by_code=by_code)


def judge_layer_sizes(got: LayerSizes, expected: None, check: Check) -> Verdict:
    for code_dim in CODE_DIMS:
        widths = (*SIZES, code_dim, *SIZES[::-1])
        wanted = [list(pair) for pair in itertools.pairwise(widths)]
        layers = got.by_code[code_dim]
        if layers.linear != wanted:
            shown = " -> ".join(str(s[0]) for s in layers.linear) + (
                f" -> {layers.linear[-1][1]}" if layers.linear else "")
            return Verdict.failed(
                f"DeepAutoencoder(code_dim={code_dim}) applies Linear layers {shown or '(none)'}; expected "
                f"{' -> '.join(map(str, widths))}.",
                hint="Fig. 1 of Hinton and Salakhutdinov: 784-1000-500-250-code, then the mirror image.")
        if layers.output_shape != [8, 784]:
            return Verdict.failed(f"DeepAutoencoder(code_dim={code_dim}) maps (8, 784) to "
                                  f"{tuple(layers.output_shape)}; expected (8, 784).")
    return Verdict.passed("DeepAutoencoder has the layers 784-1000-500-250-code-250-500-1000-784 for codes of 30 and 2.")


class Activations(Record):
    gaps: list[list[float]]
    """For each nn.Linear after the first: [its input's largest gap to sigmoid(previous output), to previous output]."""
    output: list[float]
    """The same two gaps between the model's output and the last nn.Linear's output."""


def run_activations(subject: Subject) -> Activations:
    """For each Linear after the first: how far its input is from sigmoid(previous output) and from
    the previous output itself. Which one is ~0 tells the activation between them."""
    import torch

    trace = _linear_trace(subject, _autoencoder(subject, 30), _sample())
    gaps = []
    for (_, before, _), (after, _, _) in itertools.pairwise(trace[:-1]):
        if after.shape != before.shape:
            raise SubmissionError("The Linear layers of DeepAutoencoder are not called one after the other: "
                                  "forward should apply encoder then decoder, layer by layer.")
        gaps.append([float((after - torch.sigmoid(before)).abs().max()), float((after - before).abs().max())])
    final_linear, output = trace[-2][1], trace[-1][1]
    output_gap = [float((output - torch.sigmoid(final_linear)).abs().max()), float((output - final_linear).abs().max())]
    return Activations(gaps=gaps, output=output_gap)


ACTIVATION_ATOL = 1e-6


def judge_activations(got: Activations, expected: None, check: Check) -> Verdict:
    names = ["784->1000", "1000->500", "500->250", "250->30 (code)", "30->250", "250->500", "500->1000"]
    wrong = []
    for i, (sigmoid_gap, identity_gap) in enumerate(got.gaps):
        code = i == 3
        if code and identity_gap > ACTIVATION_ATOL:
            wrong.append(f"after {names[i]}: the code layer must be linear (no activation after it)")
        if not code and sigmoid_gap > ACTIVATION_ATOL:
            wrong.append(f"after {names[i] if i < len(names) else i}: a logistic (sigmoid) unit is expected")
    if not wrong:
        return Verdict.passed("Hidden units are logistic and the code layer is linear.")
    return Verdict.failed(f"DeepAutoencoder's activations differ from the paper's: {wrong[0]}.",
                          details=tuple(wrong[1:]),
                          hint="Use nn.Sigmoid() after every hidden Linear layer, and nothing after the code layer.")


def _pca_inputs() -> np.ndarray:
    rng = np.random.default_rng(3)
    return rng.standard_normal((60, 12)) @ rng.standard_normal((12, 40)) * 0.3 + rng.uniform(0, 1, 40)


class Reconstruction(Record):
    reconstruction: np.ndarray
    """pca_reconstruct(X, 5) on the fixed X (60, 40)."""


def run_pca_reconstruct(subject: Subject) -> Reconstruction:
    X = _pca_inputs()
    return Reconstruction(reconstruction=to_array(subject.call(MODULE, "pca_reconstruct", X, 5),
                                                  "pca_reconstruct(X, 5)"))


class Readings(Record):
    centred: np.ndarray
    """The rank-5 PCA reconstruction of X, centred (the paper's)."""
    uncentred: np.ndarray
    """The rank-5 PCA reconstruction of X as it is."""


def expected_pca_reconstruct(subject: Subject) -> Readings:
    """Both readings of the handout, by the reference's pca_reconstruct (which centres): PCA of the
    centred data (the paper's), and of X as it is, which is the reference's on [X; -X], a matrix
    whose mean is 0 and whose right singular vectors are X's."""
    X = _pca_inputs()
    both = np.asarray(subject.call(MODULE, "pca_reconstruct", np.vstack([X, -X]), 5))
    return Readings(centred=np.asarray(subject.call(MODULE, "pca_reconstruct", X, 5)), uncentred=both[:len(X)])


def judge_pca_reconstruct(got: Reconstruction, expected: Readings, check: Check) -> Verdict:
    mine = got.reconstruction
    for reading, wanted in (("centred", expected.centred), ("uncentred", expected.uncentred)):
        if compare_arrays("pca_reconstruct(X, 5)", mine, wanted, RECONSTRUCTION).equal:
            return Verdict.passed(f"pca_reconstruct projects onto the top 5 principal directions ({reading}).")
    comparison = compare_arrays("pca_reconstruct(X, 5)", mine, expected.centred, RECONSTRUCTION)
    return Verdict.failed("pca_reconstruct(X, 5) is neither the centred nor the uncentred rank-5 PCA "
                          "reconstruction of X.", details=tuple(comparison.lines()),
                          hint="Project X - mean onto the top k right singular vectors V: (X - mean) V V^T + mean.")


class Reconstructions(Record):
    reconstructions: np.ndarray
    """The autoencoder's reconstructions of the 10,000 test images, float32 (10000, 784)."""


def run_reconstructions(subject: Subject) -> Reconstructions:
    """The autoencoder's reconstructions of the test images, float32 (10000, 784): 31 MB, not float64's 63."""
    import torch

    model = _autoencoder(subject, 30)
    problem = load_checkpoint(subject, "p3_autoencoder.pt", model, "DeepAutoencoder(code_dim=30)")
    if problem:
        raise SubmissionError(problem)
    model.float().eval()
    x = torch.from_numpy(test_images(subject))
    with torch.no_grad():
        chunks = batched(lambda b: subject.invoke(model, b).float().numpy(), x)
    out = np.concatenate(chunks)
    if out.shape != tuple(x.shape):
        raise SubmissionError(f"DeepAutoencoder maps the test images {tuple(x.shape)} to shape {out.shape}; "
                              f"it should return reconstructions of the same shape.")
    return Reconstructions(reconstructions=np.array(out, dtype=np.float32, copy=True, subok=False))


class PcaBaseline(Record):
    images: np.ndarray
    """MNIST's test images, uint8 (10000, 784)."""
    pca_error: float
    """The average squared error per test image of 30-component PCA."""


def expected_reconstructions(subject: Subject) -> PcaBaseline:
    """The test images and the error of 30-component PCA fitted on the training images (centred,
    as in the paper: 13.87). Its directions are the reference's pca_basis of R, the triangular factor
    of the centred training set (R^T R = X^T X, so the same right singular vectors), accumulated in
    chunks so that the 60k x 784 set is never float64 at once; a test image's error is the part of
    it (less the mean) outside their span."""
    folder = subject.dataset(mnist.DATASET)
    train = mnist.load_images(folder, "train").reshape(-1, 784)
    mean = np.zeros(784)
    for start in range(0, len(train), 10000):
        mean += train[start:start + 10000].sum(axis=0, dtype=np.float64) / 255.0
    mean /= len(train)
    R = np.zeros((0, 784))
    for start in range(0, len(train), 10000):
        chunk = train[start:start + 10000].astype(np.float64) / 255.0 - mean
        R = np.linalg.qr(np.vstack([R, chunk]), mode="r")
    V = np.asarray(subject.call(MODULE, "pca_basis", R, PCA_COMPONENTS), dtype=np.float64)
    images = mnist.load_images(folder, "test").reshape(-1, 784)
    centred = images.astype(np.float64) / 255.0 - mean
    outside = np.sum(centred ** 2) - np.sum((centred @ orthonormal(V)) ** 2)
    return PcaBaseline(images=images, pca_error=float(outside / len(images)))


def judge_beats_pca(got: Reconstructions, expected: PcaBaseline, check: Check) -> Verdict:
    images, reconstructions = expected.images, got.reconstructions
    if reconstructions.shape != images.shape:
        return Verdict.failed(f"The reconstructions have shape {reconstructions.shape}, expected {images.shape}.")
    if not np.isfinite(reconstructions).all():
        return Verdict.failed("The reconstructions of the test images contain NaN or infinity.")
    total = 0.0
    for start in range(0, len(images), 1000):  # in chunks: the parent shares the container's memory
        diff = reconstructions[start:start + 1000].astype(np.float64) - images[start:start + 1000] / 255.0
        total += float(np.sum(diff * diff))
    error, pca = total / len(images), expected.pca_error
    figures = ((f"Average squared error per test image: your autoencoder {error:.3f}, "
                f"PCA with {PCA_COMPONENTS} components {pca:.3f} (the paper: 3.00 and 13.87)."),)
    if error < pca:
        return Verdict.passed("p3_autoencoder.pt reconstructs the MNIST test set better than 30-component PCA.",
                              details=figures)
    return Verdict.failed("p3_autoencoder.pt reconstructs the MNIST test set worse than 30-component PCA.",
                          details=figures,
                          hint="Train longer (tens of epochs, Adam, a learning rate around 1e-3) with inputs in [0, 1]; "
                               "forward must return the reconstruction, not the code.")


PROBLEM = Problem(
    id="p3",
    title="Autoencoders, deep factorization, and deep sparse coding",
    files=("hw3_p3.py",),
    # Handout ../shared/seeds/002_7a7f64a6864d9a9d.txt, Problem 3 (6/15): (a) is two items, PCA 1/15 (line 82)
    # and the robust fit 2/15 (line 93); (b) two items, Fig. 2(B) 2/15 (line 96) and Fig. 3 1/15 (line 97).
    # The comparisons are written; the spec gives each part (a 3, b 3) to the code.
    parts={"a": 3.0, "b": 3.0},
    checks=(
        Check(id="p3.make_subspace_data.properties", part="a", points=0.5,
              claim="make_subspace_data gives an orthonormal B, 98 unit rows in span(B) and 2 unit outliers",
              run=run_make_subspace_data, judge=judge_subspace_data),
        Check(id="p3.pca_basis.top_singular_subspace", part="a", points=0.5,
              claim="pca_basis spans the top-k right singular vectors of X, without centring",
              run=run_pca_basis, expected=expected_pca_basis, judge=judge_pca_basis),
        Check(id="p3.subspace_distance.projector_formula", part="a", points=0.5,
              claim="subspace_distance computes ||B1 B1^+ - B2 B2^+||_F, for any bases",
              run=run_subspace_distance, judge=judge_subspace_distance),
        Check(id="p3.robust_basis.closer_than_pca", part="a", points=1.5, timeout=120.0,
              claim=f"robust_basis is at least {1 / ROBUST_RATIO:g}x closer to B than PCA's basis on the handout's data",
              run=run_robust_basis, expected=expected_robust_basis, judge=judge_robust_basis),
        Check(id="p3.autoencoder.layer_sizes", part="b", points=0.5,
              claim="DeepAutoencoder has the layers 784-1000-500-250-code and their mirror, for codes of 30 and 2",
              run=run_layer_sizes, judge=judge_layer_sizes),
        Check(id="p3.autoencoder.activations", part="b", points=0.5,
              claim="DeepAutoencoder's hidden units are logistic and its code layer is linear",
              run=run_activations, judge=judge_activations),
        Check(id="p3.pca_reconstruct.values", part="b", points=0.5,
              claim="pca_reconstruct(X, k) is the rank-k PCA reconstruction of X",
              run=run_pca_reconstruct, expected=expected_pca_reconstruct, judge=judge_pca_reconstruct),
        Check(id="p3.autoencoder.beats_pca30", part="b", points=1.5, timeout=120.0,
              claim="p3_autoencoder.pt reconstructs the MNIST test images with a lower squared error than 30-component PCA",
              run=run_reconstructions, expected=expected_reconstructions, judge=judge_beats_pca,
              artifacts=("p3_autoencoder.pt",), data=(mnist.DATASET,), inputs=(mnist.TEST_IMAGES,)),
    ),
)
