"""P3: robust subspaces and the deep autoencoder (a 3, b 3 points), graded from `hw3_p3.py`.

The subspace data of the checks are made here, not by the student's `make_subspace_data`, so a
fault in one function costs only its own check; distances are computed by the judge in numpy,
never taken from the student's `subspace_distance`. On MNIST the student process returns the
autoencoder's reconstructions of the test images; the judge computes the error against the
images from the trusted half, and the PCA baseline is computed by the trusted half too.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from autograder.assignments.umn_csci5527_hw3.common import batched, test_images
from autograder.checkpoints import load_checkpoint
from autograder.compare import Tolerance, compare_arrays
from autograder.data import mnist
from autograder.judges import values_match
from autograder.model import Check, Outputs, Problem, Verdict
from autograder.student import Subject, SubmissionError, to_array

MODULE = "hw3_p3"
SEEDS = (5527, 2022)
K = 20
ROBUST_RATIO = 0.25
"""The robust basis must be at least 4x closer to B than PCA's on the same data (PCA's distance at the
check's seeds 5527 and 2022: 0.271 and 0.270). The figure judged is the larger of the two ratios. Over
the student's own seed 0-19 (benchmarks/umn_csci5527_hw3_p3_robust.py; the grader's call leaves it at
its default, 0): the reference's IRLS from a random basis, and IRLS from PCA's basis, 6.7e-13 every
time; Adam by autograd on problem (3) itself, over A and the z_i (lr 1e-2, 3,000 steps), 0.073 from
PCA's basis and 0.013 to 0.015 from a random one (80 runs). PCA's own basis, a fit of the squared
objective, is at 1. The bar is 3.4 times the worst valid ratio, and 4 times below PCA's."""
PROJECTOR = Tolerance(atol=1e-6)
DISTANCE = Tolerance(atol=1e-6, rtol=1e-6)
RECONSTRUCTION = Tolerance(atol=1e-6, rtol=1e-6)
SIZES = (784, 1000, 500, 250)
"""Hinton and Salakhutdinov (2006), Fig. 1: the encoder's widths before the code layer."""
PCA_COMPONENTS = 30


# --- data made by the checks --------------------------------------------------------------------

def subspace_data(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The handout's data: orthonormal B (200x20); 98 unit rows in span(B), 2 Gaussian outliers."""
    rng = np.random.default_rng(seed)
    B, _ = np.linalg.qr(rng.standard_normal((200, K)))
    X = np.vstack([rng.standard_normal((98, K)) @ B.T, rng.standard_normal((2, 200))])
    return B, X / np.linalg.norm(X, axis=1, keepdims=True)


def projector(basis: np.ndarray) -> np.ndarray:
    return basis @ np.linalg.pinv(basis)


def distance(B1: np.ndarray, B2: np.ndarray) -> float:
    return float(np.linalg.norm(projector(B1) - projector(B2)))


def top_right_singular(X: np.ndarray, k: int) -> np.ndarray:
    return np.linalg.svd(X, full_matrices=False)[2][:k].T


def _basis(value: Any, what: str, k: int) -> np.ndarray:
    basis = to_array(value, what)
    if basis.shape != (200, k):
        raise SubmissionError(f"{what} should return a (200, {k}) basis, one column per direction, "
                              f"but it returned shape {basis.shape}.")
    return basis


# --- student halves -----------------------------------------------------------------------------

def run_make_subspace_data(subject: Subject) -> Outputs:
    out = {}
    for seed in SEEDS:
        returned = subject.call(MODULE, "make_subspace_data", seed)
        if not isinstance(returned, tuple | list) or len(returned) != 2:
            raise SubmissionError(f"make_subspace_data({seed}) should return the pair (B, X), "
                                  f"but it returned a {type(returned).__name__}.")
        out[f"B {seed}"] = to_array(returned[0], f"make_subspace_data({seed})[0] (B)")
        out[f"X {seed}"] = to_array(returned[1], f"make_subspace_data({seed})[1] (X)")
    return out


def run_pca_basis(subject: Subject) -> Outputs:
    out = {}
    for seed in SEEDS:
        X = subspace_data(seed)[1]
        out[f"k=20 {seed}"] = _basis(subject.call(MODULE, "pca_basis", X, 20), "pca_basis(X, k=20)", 20)
    X = subspace_data(SEEDS[0])[1]
    out["k=5"] = _basis(subject.call(MODULE, "pca_basis", X, k=5), "pca_basis(X, k=5)", 5)
    return out


def _distance_pairs() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Orthonormal bases, non-orthonormal ones (so that B^+ matters) and two bases of one subspace."""
    rng = np.random.default_rng(11)
    B = subspace_data(SEEDS[0])[0]
    skewed = rng.standard_normal((200, K))
    return {"orthonormal pair": (B, subspace_data(SEEDS[1])[0]),
            "non-orthonormal pair": (skewed, rng.standard_normal((200, K)) * 3.0),
            "same subspace, different bases": (skewed, skewed @ rng.standard_normal((K, K))),
            "different dimensions": (B[:, :5], skewed)}


DISTANCE_CASES = ("orthonormal pair", "non-orthonormal pair", "same subspace, different bases", "different dimensions")
DISTANCE_HINTS = {
    "non-orthonormal pair": "B B^T is the projector only for an orthonormal B; use B @ np.linalg.pinv(B).",
    "same subspace, different bases": "Two bases of one subspace are at distance 0: compare projectors B B^+, not bases.",
    "different dimensions": "Use B @ np.linalg.pinv(B) for each basis, whatever its number of columns.",
}


def run_subspace_distance(subject: Subject) -> Outputs:
    out = {}
    for name, (B1, B2) in _distance_pairs().items():
        value = subject.call(MODULE, "subspace_distance", B1, B2)
        out[name] = to_array(value, "subspace_distance(B1, B2)").reshape(())
    return out


def expected_subspace_distance(subject: Subject) -> Outputs:
    return {name: np.asarray(distance(B1, B2)) for name, (B1, B2) in _distance_pairs().items()}


def run_robust_basis(subject: Subject) -> Outputs:
    return {str(seed): _basis(subject.call(MODULE, "robust_basis", subspace_data(seed)[1], K),
                              "robust_basis(X, k=20)", K) for seed in SEEDS}


def expected_robust_basis(subject: Subject) -> Outputs:
    """Distances of PCA's basis to B, the baseline the robust basis must beat."""
    out = {}
    for seed in SEEDS:
        B, X = subspace_data(seed)
        out[f"B {seed}"] = B
        out[f"pca {seed}"] = np.asarray(distance(B, top_right_singular(X, K)))
    return out


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


def run_layer_sizes(subject: Subject) -> Outputs:
    out = {}
    for code_dim in (30, 2):
        trace = _linear_trace(subject, _autoencoder(subject, code_dim), _sample())
        out[str(code_dim)] = [list(sizes) for _, _, sizes in trace[:-1]]
        out[f"output shape {code_dim}"] = list(trace[-1][1].shape)
    return out


def run_activations(subject: Subject) -> Outputs:
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
    return {"gaps": gaps, "output": output_gap}


def _pca_inputs() -> np.ndarray:
    rng = np.random.default_rng(3)
    return rng.standard_normal((60, 12)) @ rng.standard_normal((12, 40)) * 0.3 + rng.uniform(0, 1, 40)


def run_pca_reconstruct(subject: Subject) -> Outputs:
    X = _pca_inputs()
    return {"k=5": to_array(subject.call(MODULE, "pca_reconstruct", X, 5), "pca_reconstruct(X, 5)")}


def expected_pca_reconstruct(subject: Subject) -> Outputs:
    """Both readings of the handout: PCA of the centred data (the paper's), or of X as it is."""
    X = _pca_inputs()
    mean = X.mean(axis=0)
    V, W = top_right_singular(X - mean, 5), top_right_singular(X, 5)
    return {"centred": (X - mean) @ V @ V.T + mean, "uncentred": X @ W @ W.T}


def run_reconstructions(subject: Subject) -> Outputs:
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
    return {"reconstructions": np.array(out, dtype=np.float32, copy=True, subok=False)}


def expected_reconstructions(subject: Subject) -> Outputs:
    """The test images and the error of 30-component PCA fitted on the training images (centred,
    as in the paper: 13.87), accumulated in chunks so that the 60k x 784 set is never float64 at once."""
    folder = subject.dataset(mnist.DATASET)
    train = mnist.load_images(folder, "train").reshape(-1, 784)
    gram, total = np.zeros((784, 784)), np.zeros(784)
    for start in range(0, len(train), 10000):
        chunk = train[start:start + 10000].astype(np.float64) / 255.0
        gram += chunk.T @ chunk
        total += chunk.sum(axis=0)
    mean = total / len(train)
    covariance = gram - len(train) * np.outer(mean, mean)
    V = np.linalg.eigh(covariance)[1][:, ::-1][:, :PCA_COMPONENTS]
    images = mnist.load_images(folder, "test").reshape(-1, 784)
    test = images.astype(np.float64) / 255.0
    reconstruction = (test - mean) @ V @ V.T + mean
    return {"images": images, "pca_error": float(np.mean(np.sum((reconstruction - test) ** 2, axis=1)))}


# --- judges -------------------------------------------------------------------------------------

def judge_subspace_data(got: Outputs, expected: Outputs, check: Check) -> Verdict:
    problems = []
    for seed in SEEDS:
        B, X = got[f"B {seed}"], got[f"X {seed}"]
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
    first, second = got[f"X {SEEDS[0]}"], got[f"X {SEEDS[1]}"]
    if first.shape == second.shape and np.allclose(first, second):
        problems.append("make_subspace_data gives the same X for seeds 5527 and 2022: draw with default_rng(seed).")
    if not problems:
        return Verdict.passed("B is orthonormal (200x20); X has 98 unit rows in span(B) and 2 unit outliers.")
    return Verdict.failed(problems[0], details=tuple(problems[1:]))


def judge_pca_basis(got: Outputs, expected: Outputs, check: Check) -> Verdict:
    for key in (f"k=20 {SEEDS[0]}", f"k=20 {SEEDS[1]}", "k=5"):
        basis, reference = got[key], expected[key]
        comparison = compare_arrays(f"pca_basis projector ({key})", projector(basis), projector(reference),
                                    PROJECTOR, reveal=check.reveals_expected)
        if comparison.equal:
            continue
        seed = SEEDS[0] if key == "k=5" else int(key.split()[1])
        X = subspace_data(seed)[1]
        k = basis.shape[1]
        centred = np.allclose(projector(basis), projector(top_right_singular(X - X.mean(axis=0), k)), atol=1e-6)
        hint = ("Your basis is the PCA of the centred data: the handout says not to centre X here."
                if centred else "Take the first k right singular vectors of X (rows of Vt in np.linalg.svd), "
                                "without centring.")
        return Verdict.failed(f"pca_basis spans a different subspace than the top {k} right singular vectors "
                              f"of X ({key}).", details=tuple(comparison.lines()), hint=hint)
    return Verdict.passed("pca_basis spans the top-k right singular subspace of X (k = 20 and 5), without centring.")


def judge_robust_basis(got: Outputs, expected: Outputs, check: Check) -> Verdict:
    lines, ok = [], True
    for seed in SEEDS:
        robust, pca = distance(expected[f"B {seed}"], got[str(seed)]), float(expected[f"pca {seed}"])
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


def judge_layer_sizes(got: Outputs, expected: Outputs, check: Check) -> Verdict:
    for code_dim in (30, 2):
        widths = (*SIZES, code_dim, *SIZES[::-1])
        wanted = [list(pair) for pair in itertools.pairwise(widths)]
        if got[str(code_dim)] != wanted:
            shown = " -> ".join(str(s[0]) for s in got[str(code_dim)]) + (
                f" -> {got[str(code_dim)][-1][1]}" if got[str(code_dim)] else "")
            return Verdict.failed(
                f"DeepAutoencoder(code_dim={code_dim}) applies Linear layers {shown or '(none)'}; expected "
                f"{' -> '.join(map(str, widths))}.",
                hint="Fig. 1 of Hinton and Salakhutdinov: 784-1000-500-250-code, then the mirror image.")
        if got[f"output shape {code_dim}"] != [8, 784]:
            return Verdict.failed(f"DeepAutoencoder(code_dim={code_dim}) maps (8, 784) to "
                                  f"{tuple(got[f'output shape {code_dim}'])}; expected (8, 784).")
    return Verdict.passed("DeepAutoencoder has the layers 784-1000-500-250-code-250-500-1000-784 for codes of 30 and 2.")


ACTIVATION_ATOL = 1e-6


def judge_activations(got: Outputs, expected: Outputs, check: Check) -> Verdict:
    names = ["784->1000", "1000->500", "500->250", "250->30 (code)", "30->250", "250->500", "500->1000"]
    wrong = []
    for i, (sigmoid_gap, identity_gap) in enumerate(got["gaps"]):
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


def judge_pca_reconstruct(got: Outputs, expected: Outputs, check: Check) -> Verdict:
    mine = got["k=5"]
    for reading in ("centred", "uncentred"):
        if compare_arrays("pca_reconstruct(X, 5)", mine, expected[reading], RECONSTRUCTION, reveal=False).equal:
            return Verdict.passed(f"pca_reconstruct projects onto the top 5 principal directions ({reading}).")
    comparison = compare_arrays("pca_reconstruct(X, 5)", mine, expected["centred"], RECONSTRUCTION,
                                reveal=check.reveals_expected)
    return Verdict.failed("pca_reconstruct(X, 5) is neither the centred nor the uncentred rank-5 PCA "
                          "reconstruction of X.", details=tuple(comparison.lines()),
                          hint="Project X - mean onto the top k right singular vectors V: (X - mean) V V^T + mean.")


def judge_beats_pca(got: Outputs, expected: Outputs, check: Check) -> Verdict:
    images, reconstructions = expected["images"], got["reconstructions"]
    if reconstructions.shape != images.shape:
        return Verdict.failed(f"The reconstructions have shape {reconstructions.shape}, expected {images.shape}.")
    if not np.isfinite(reconstructions).all():
        return Verdict.failed("The reconstructions of the test images contain NaN or infinity.")
    total = 0.0
    for start in range(0, len(images), 1000):  # in chunks: the parent shares the container's memory
        diff = reconstructions[start:start + 1000].astype(np.float64) - images[start:start + 1000] / 255.0
        total += float(np.sum(diff * diff))
    error, pca = total / len(images), float(expected["pca_error"])
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
    checks=(
        Check(id="p3.make_subspace_data.properties", part="a", points=0.5,
              claim="make_subspace_data gives an orthonormal B, 98 unit rows in span(B) and 2 unit outliers",
              run=run_make_subspace_data, judge=judge_subspace_data),
        Check(id="p3.pca_basis.top_singular_subspace", part="a", points=0.5,
              claim="pca_basis spans the top-k right singular vectors of X, without centring",
              run=run_pca_basis, judge=judge_pca_basis),
        Check(id="p3.subspace_distance.projector_formula", part="a", points=0.5,
              claim="subspace_distance computes ||B1 B1^+ - B2 B2^+||_F, for any bases",
              run=run_subspace_distance, expected=expected_subspace_distance,
              judge=values_match(DISTANCE_CASES, DISTANCE, noun="distance", hints=DISTANCE_HINTS)),
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
