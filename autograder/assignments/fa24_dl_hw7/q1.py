"""Q1: k-means using a neural network (model 5, b 5 points, the autograder's split), graded from `hw7_q1.py`.

The forward pass is checked on centers and images the grader sets: soft assignments for the formula
(every term of softmax(20 (x0 C^T - 1/2 ||C_i||^2)) C - x0 shows), and well separated points for the
assignment, which must be the nearest center (the judge finds it in numpy). `train` is checked by
the centers after one and after two SGD steps (epochs) on one batch, `init_centers_from_digits` and `cluster_counts` on
small data sets shaped like torchvision's MNIST; the expected values are the reference's. On the
real MNIST the whole of part (b) runs under a budget: centers from the first image of each digit,
one epoch of training, and the 10 x 10 table of all 60,000 training images; the k-means error of the
centers, computed in the judge, must drop about as much as the reference's.

Handout mistake, not rewarded: part (a)'s update C_i <- (1 - eta/5) C_i + eta/5 m_i forgets that
nn.MSELoss averages over the 784 pixels as well; the code the handout prescribes (nn.MSELoss against
zeros, eta = 4.5) moves a center eta / (5 * 784) of the way per step. The checks follow the code.
"""

from __future__ import annotations

import numpy as np

from autograder import figures
from autograder.assignments.fa24_dl_hw7 import mnist_train
from autograder.assignments.fa24_dl_hw7.mnist_train import digits
from autograder.compare import Tolerance, compare_arrays
from autograder.data import mnist
from autograder.model import Check, Problem, Verdict
from autograder.records import Record
from autograder.student import Subject, SubmissionError, to_array

MODULE = "hw7_q1"
K, D = 10, 784
CLOSE = Tolerance(atol=1e-5, rtol=1e-4)
FORMULA = "softmax(20 * (x0 C^T - 1/2 ||C_i||^2), dim=1) C - x0"


# --- inputs: centers and images the grader sets ---------------------------------------------------

def soft_centers() -> np.ndarray:
    """Centers near 0.5 with norms a little apart: on uniform images the softmax stays soft, and
    leaving out 1/2 ||C_i||^2 changes the scores by about 20 * 392 * 0.02 (float32 (10, 784))."""
    rng = np.random.default_rng(71)
    offsets = rng.permutation(np.linspace(-0.02, 0.02, K))[:, None]
    return (0.5 + offsets + 0.005 * rng.standard_normal((K, D))).astype(np.float32)


def uniform_images(n: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).random((n, 1, 28, 28)).astype(np.float32)


def separated() -> tuple[np.ndarray, np.ndarray]:
    """(centers, images): binary prototypes scaled from 0.2 to 1.0, and 40 images within noise 0.02 of
    one of them. The nearest center is the one each image was drawn from, far ahead of the others;
    without the 1/2 ||C_i||^2 term, the points of the faint centers go to a bright one."""
    rng = np.random.default_rng(72)
    scale = rng.permutation(np.linspace(0.2, 1.0, K))[:, None]
    centers = (rng.random((K, D)) < 0.5) * scale
    which = np.concatenate([np.arange(K), rng.integers(0, K, 30)])
    images = centers[which] + rng.normal(0, 0.02, (len(which), D))
    return centers.astype(np.float32), images.reshape(-1, 1, 28, 28).astype(np.float32)


def labelled_images(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """uint8 images (n, 28, 28) and labels (n,): the inputs of `digits`."""
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (n, 28, 28), dtype=np.uint8), rng.integers(0, K, n).astype(np.uint8)


def first_images_data() -> tuple[np.ndarray, np.ndarray]:
    """40 images whose labels start 3, 3, 7, ..., every digit more than once: the first image of a digit
    is neither at its own index nor its last one."""
    images, _ = labelled_images(40, 73)
    labels = np.array([3, 3, 7, 1, 0, 7, 9, 2, 2, 5, 8, 6, 4, 1, 0, 9, 3, 5, 8, 6] * 2, dtype=np.uint8)
    return images, labels


def counts_data() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(centers, images, labels): 300 images near 10 separated centers (noise 0.05); a digit's images
    go to the center of the same index 70 % of the time, elsewhere the rest, so the table is not
    diagonal and not symmetric."""
    rng = np.random.default_rng(74)
    centers = ((rng.random((K, D)) < 0.5) * 0.8).astype(np.float32)
    labels = rng.integers(0, K, 300)
    cluster = np.where(rng.random(300) < 0.7, labels, rng.integers(0, K, 300))
    images = np.clip(centers[cluster] + rng.normal(0, 0.05, (300, D)), 0, 1)
    return centers, np.rint(images * 255).astype(np.uint8).reshape(-1, 28, 28), labels.astype(np.uint8)


# --- the student's model ---------------------------------------------------------------------------

def _model(subject: Subject, centers: np.ndarray | None = None):
    """KMeansNet() with the grader's centers (when given) copied into `model.centers`."""
    import torch

    model = subject.call(MODULE, "KMeansNet")
    if not isinstance(model, torch.nn.Module):
        raise SubmissionError(f"KMeansNet() should build an nn.Module, but it built {type(model).__name__}.")
    found = getattr(model, "centers", None)
    if not isinstance(found, torch.Tensor) or tuple(found.shape) != (K, D):
        shape = tuple(found.shape) if isinstance(found, torch.Tensor) else type(found).__name__
        raise SubmissionError(f"KMeansNet should keep its centers in `self.centers`, a ({K}, {D}) nn.Parameter; "
                              f"found {shape}.")
    if centers is not None:
        with torch.no_grad():
            found.copy_(torch.from_numpy(centers))
    return model


def _centers(model, what: str) -> np.ndarray:
    return to_array(model.centers, what).reshape(K, D)


def _forward(subject: Subject, model, images: np.ndarray) -> np.ndarray:
    import torch

    with torch.no_grad():
        out = subject.invoke(model, torch.from_numpy(images))
    return to_array(out, "KMeansNet's forward(x)").astype(np.float64)


# --- model: structure, the forward formula, the nearest center ---------------------------------

class Structure(Record):
    parameter: bool
    """Whether `model.centers` is an nn.Parameter."""
    in_parameters: bool
    """Whether `model.centers` is among `model.parameters()` (what an optimizer steps)."""
    flatten: bool
    """Whether the model holds an nn.Flatten layer."""
    softmax_dims: list[int | None]
    """The `dim` of each nn.Softmax layer of the model, in order (None where it is not an int)."""


def run_structure(subject: Subject) -> Structure:
    import torch

    model = _model(subject)
    softmax = [m.dim for m in model.modules() if isinstance(m, torch.nn.Softmax)]
    return Structure(parameter=isinstance(model.centers, torch.nn.Parameter),
                     in_parameters=any(p is model.centers for p in model.parameters()),
                     flatten=any(isinstance(m, torch.nn.Flatten) for m in model.modules()),
                     softmax_dims=[d if isinstance(d, int) else None for d in softmax])


def judge_structure(got: Structure, expected: Structure, check: Check) -> Verdict:
    wrong = []
    if not (got.parameter and got.in_parameters):
        wrong.append("`self.centers` is not an nn.Parameter of the model, so training would not move it: "
                     "self.centers = nn.Parameter(torch.rand(10, 784))")
    if not got.flatten:
        wrong.append("the constructor defines no flatten layer: self.flatten = nn.Flatten()")
    dims = got.softmax_dims
    if not dims:
        wrong.append("the constructor defines no softmax layer: self.softmax = nn.Softmax(dim=1)")
    elif dims != [1] and 1 not in dims and -1 not in dims:
        wrong.append(f"the softmax layer runs over dim {dims[0]}; the ten scores of each image are dim 1 "
                     f"(dim 0 is the batch): nn.Softmax(dim=1)")
    if wrong:
        return Verdict.failed("KMeansNet does not define the three elements the handout asks for: "
                              + "; ".join(wrong) + ".")
    return Verdict.passed("KMeansNet holds its centers as a (10, 784) nn.Parameter, a flatten layer and a softmax "
                          "over dim 1.")


class Forward(Record):
    out: np.ndarray
    """forward(x) of the grader's images, as returned (float64): (N, 784) when right."""


def run_formula(subject: Subject) -> Forward:
    return Forward(out=_forward(subject, _model(subject, soft_centers()), uniform_images(8, 75)))


def judge_formula(got: Forward, expected: Forward, check: Check) -> Verdict:
    comparison = compare_arrays("forward(x)", got.out, expected.out, CLOSE)
    if comparison.equal:
        return Verdict.passed(f"forward(x) returns {FORMULA}, the reconstruction error, for given centers.")
    out, right = got.out, expected.out
    hint = comparison.hint
    if out.shape == right.shape and np.allclose(out, -right, atol=1e-4):
        hint = "It returns x0 - reconstruction: return the error x - x0, the reconstruction minus the image."
    elif out.shape == (8, 1, 28, 28):
        hint = "Return the error flattened, (N, 784): x0 = self.flatten(x) is what the centers are compared with."
    return Verdict.failed("forward(x) differs from the handout's " + FORMULA + " for given centers.",
                          details=tuple(comparison.lines()), arrays=(comparison.report,),
                          hint=hint or "Check each step: x0 = flatten(x); scores x0 C^T - 0.5 * sum(C**2, 1); "
                                       "softmax over dim 1 of 20 times them; times C from the right; minus x0.")


def run_nearest(subject: Subject) -> Forward:
    centers, images = separated()
    out = _forward(subject, _model(subject, centers), images)
    return Forward(out=out)


def judge_nearest(got: Forward, expected: Forward, check: Check) -> Verdict:
    """The reconstruction (forward(x) + x0) of each well separated image must be its nearest center."""
    centers, images = (a.astype(np.float64) for a in separated())
    x0 = images.reshape(len(images), D)
    out = got.out
    if out.shape != x0.shape:
        return Verdict.failed(f"forward(x) returned shape {out.shape} for {len(x0)} images; it should return the "
                              f"reconstruction error of each one, shape {x0.shape}.")
    distances = ((x0[:, None, :] - centers[None]) ** 2).sum(-1)
    nearest = distances.argmin(1)
    reconstruction = out + x0
    wrong = np.flatnonzero(np.abs(reconstruction - centers[nearest]).max(1) > 1e-3)
    if not wrong.size:
        return Verdict.passed(f"Each of {len(x0)} well separated images is reconstructed as its nearest center.")
    i = int(wrong[0])
    closest = ((reconstruction[i] - centers) ** 2).sum(-1)
    details = (f"{wrong.size} of {len(x0)} images are not reconstructed as their nearest center; the first is "
               f"image {i}, nearest to center {nearest[i]}.",)
    if np.allclose(x0 - out, centers[nearest], atol=1e-3):
        hint = "forward returns x0 - reconstruction: return the reconstruction minus x0."
    elif np.allclose(reconstruction, centers[(x0 @ centers.T).argmax(1)], atol=1e-3):
        hint = ("Each image went to the center with the largest x0 C_i^T: the -1/2 ||C_i||^2 term is missing. "
                "Without it, bright centers win over near ones (||x0 - C_i||^2 = ||x0||^2 - 2 (x0 C_i^T - "
                "1/2 ||C_i||^2)).")
    elif np.sqrt(closest.min()) > 1e-2:
        hint = ("The reconstruction is no single center but a mixture: the softmax must run over the ten scores of "
                "each image (dim=1), not over the batch (dim 0), and on 20 times the scores.")
    else:
        hint = (f"Image {i} was reconstructed as center {int(closest.argmin())}: the largest score x0 C_i^T - "
                f"1/2 ||C_i||^2 must win.")
    return Verdict.failed("forward(x) does not reconstruct well separated images as their nearest center.",
                          details=details, hint=hint)


# --- b: init_centers_from_digits, train, cluster_counts ------------------------------------------

class Centers(Record):
    centers: np.ndarray
    """model.centers (10, 784) after init_centers_from_digits."""


def run_init(subject: Subject) -> Centers:
    model = _model(subject, np.zeros((K, D), np.float32))
    subject.call(MODULE, "init_centers_from_digits", model, digits(*first_images_data()))
    return Centers(centers=_centers(model, "model.centers after init_centers_from_digits"))


def judge_init(got: Centers, expected: Centers, check: Check) -> Verdict:
    comparison = compare_arrays("model.centers", got.centers, expected.centers, CLOSE)
    if comparison.equal:
        return Verdict.passed("init_centers_from_digits sets center i to the first image of digit i, in [0, 1].")
    out, right, hint = got.centers, expected.centers, comparison.hint
    images, labels = first_images_data()
    flat = images.reshape(len(images), D).astype(np.float64) / 255
    last = flat[[int(np.flatnonzero(labels == d)[-1]) for d in range(K)]]
    if out.shape == right.shape:
        if np.allclose(out, 255 * right, atol=1e-3):
            hint = "The centers hold pixels 0-255: the images are in [0, 1] (ToTensor's scale); divide by 255."
        elif np.allclose(out, last, atol=1e-5):
            hint = "Center i is the last image of digit i; the handout's cheat takes the first one."
        elif np.allclose(np.sort(out, 0), np.sort(right, 0), atol=1e-5):
            hint = "The right images, in the wrong rows: center i (row i of model.centers) is digit i's image."
    return Verdict.failed("init_centers_from_digits does not set center i to the first image of digit i.",
                          details=tuple(comparison.lines()), arrays=(comparison.report,),
                          hint=hint or "Go through the data set in order and keep, for each digit, its first image, "
                                       "flattened: model.centers[i, :] = image.flatten(), under torch.no_grad().")


ONE_STEP_RATIOS = {
    784.0: "The step is 784 times the expected one: the loss sums over the pixels. Use nn.MSELoss() with its "
           "default mean against a zero tensor (it averages over pixels as well as images).",
    784.0 * 64: "The step is 64 * 784 times the expected one: the loss is a sum (reduction='sum'). Use "
                "nn.MSELoss() with its default mean.",
    64.0: "The step is 64 times the expected one: the loss sums over the images of the batch. Use nn.MSELoss() "
          "with its default mean.",
    -1.0: "The centers moved up the gradient: step with torch.optim.SGD (or subtract lr * grad).",
    0.1: "The step is a tenth of the expected one: use the learning rate `lr` given (4.5).",
}
TWO_STEP_RATIOS = {
    1.5: "The second step is twice the first: the gradients accumulate. Call optimizer.zero_grad() before "
         "each backward().",
    0.5: "epochs=2 took one step only: train for `epochs` passes over the loader.",
}
RUNS = {"one step": 1, "two steps": 2}
"""Calls of train on one batch of 64, each from the same centers: epochs=1, then epochs=2. The
feedback names each run by its key; the record holds each by its epochs."""


class Trained(Record):
    centers: dict[int, np.ndarray]
    """model.centers (10, 784) after train(model, loader, lr=4.5, epochs=e), by e (the epochs of RUNS)."""


def run_train(subject: Subject) -> Trained:
    import torch

    centers = {}
    for epochs in RUNS.values():
        model = _model(subject, soft_centers())
        loader = torch.utils.data.DataLoader(digits(*labelled_images(64, 76)), batch_size=64)
        subject.call(MODULE, "train", model, loader, lr=4.5, epochs=epochs)
        centers[epochs] = _centers(model, f"model.centers after train(model, loader, lr=4.5, epochs={epochs})")
    return Trained(centers=centers)


def judge_train(got: Trained, expected: Trained, check: Check) -> Verdict:
    """One and two SGD steps (one and two epochs of one batch of 64): the centers' moves must be the reference's."""
    before = soft_centers().astype(np.float64)
    for name, epochs in RUNS.items():
        mine = got.centers[epochs]
        if mine.shape != (K, D):
            return Verdict.failed(f"model.centers has shape {mine.shape} after train; expected ({K}, {D}).")
        step, right = mine - before, expected.centers[epochs] - before
        scale = float(np.abs(right).max())
        comparison = compare_arrays(f"the centers' move after {name}", step, right,
                                    Tolerance(atol=1e-3 * scale, rtol=1e-3))
        if comparison.equal:
            continue
        ratio = float(np.vdot(step, right) / np.vdot(right, right))
        fits = np.abs(step - ratio * right).max() <= 2e-2 * abs(ratio) * scale
        ratios = ONE_STEP_RATIOS if epochs == 1 else TWO_STEP_RATIOS
        hint = None
        if not np.any(step):
            hint = "The centers did not move: call loss.backward() and optimizer.step() for every batch."
        elif fits:
            hint = next((h for r, h in ratios.items() if abs(ratio - r) <= 0.02 * abs(r)), None)
        return Verdict.failed(f"train(model, loader, lr=4.5, epochs={epochs}) on one batch of 64 moves the centers "
                              f"otherwise than the expected {name} of SGD on nn.MSELoss of forward(x) against zeros.",
                              details=tuple(comparison.lines()) + ((f"Your move is {ratio:.4g} times the expected "
                                                                    "one.",) if fits else ()),
                              arrays=(comparison.report,),
                              hint=hint or comparison.hint or "The step goes through your forward: if the checks of "
                              "forward above fail, fix forward first. Otherwise, for each batch (x, y) of the loader: "
                              "error = model(x); loss = nn.MSELoss()(error, torch.zeros_like(error)); "
                              "optimizer.zero_grad(); loss.backward(); optimizer.step(), with "
                              "torch.optim.SGD(model.parameters(), lr=lr).")
    return Verdict.passed("train takes the expected SGD steps: lr 4.5 on the MSE of the reconstruction error against "
                          "zeros, one step per batch, one pass per epoch.")


def _table(value, what: str) -> np.ndarray:
    table = to_array(value, what)
    if table.dtype.kind == "f" and not np.all(np.isfinite(table)):
        raise SubmissionError(f"{what} holds NaN or inf; it should count images.")
    return table


class Counts(Record):
    counts: np.ndarray
    """cluster_counts' table, as returned: (10, 10), digits by clusters, when right."""


def run_counts(subject: Subject) -> Counts:
    centers, images, labels = counts_data()
    model = _model(subject, centers)
    counts = subject.call(MODULE, "cluster_counts", model, digits(images, labels))
    return Counts(counts=_table(counts, "cluster_counts(model, dataset)"))


def _judge_table(got: np.ndarray, right: np.ndarray, n: int) -> tuple[str, str] | None:
    """(what is wrong, hint) about the table's shape, total or orientation; None when those are right."""
    if got.shape != (K, K):
        return f"cluster_counts returned shape {got.shape}; it should be (10, 10).", \
            "Rows are the digits 0-9, columns the clusters (centers) 0-9."
    total = float(got.sum())
    if total != n:
        return (f"The table counts {total:g} images; the data set holds {n}: each image goes in exactly one cell.",
                "Count every image once: the row of its label, the column of its nearest center (drop_last "
                "would leave the last batch out).")
    if not np.array_equal(got, right) and np.array_equal(got.T, right):
        return ("The table is transposed: rows must be the digits, columns the clusters.",
                "counts[digit, cluster] += 1.")
    return None


def judge_counts(got: Counts, expected: Counts, check: Check) -> Verdict:
    n = len(counts_data()[2])
    wrong = _judge_table(got.counts, expected.counts, n)
    if wrong:
        return Verdict.failed(wrong[0], hint=wrong[1])
    comparison = compare_arrays("counts", got.counts, expected.counts, Tolerance(atol=0))
    if comparison.equal:
        return Verdict.passed(f"cluster_counts tallies the {n} images by digit (rows) and nearest center (columns).")
    return Verdict.failed(f"cluster_counts' table for a given model differs from the expected one in "
                          f"{comparison.report.mismatched} cells.", details=tuple(comparison.lines()),
                          arrays=(comparison.report,),
                          hint="An image's cluster is its nearest center, the largest x0 C_j^T - 1/2 ||C_j||^2 "
                               "(the one the softmax picks); its row is its label.")


# --- b on the real MNIST: one epoch from the digits' first images ---------------------------------

EPOCHS, BATCH, LOADER_SEED = 1, 64, 0
"""The graded budget: one epoch (938 steps of 64) of the 60,000 training images, shuffled by a
generator of this seed. The handout trains 10 epochs; one keeps the check to seconds."""
SAMPLE = 2000
"""The k-means error is measured, in the judge, on the first SAMPLE training images."""
IMPROVED = 0.8
"""The training must lower the k-means error at least this share of what the reference's training
does from the same centers and batches: (E0 - E) / (E0 - E_reference), where E0 is the error of the
digits' first images as centers. The table itself is not compared with the reference's: after one
epoch it depends on the batch order (between batch orders, up to 42 % of the images change cells, and
29 % between two exact ways of writing the scores), while the error's drop does not: the reference, the scores as -1/2 cdist(x0, C)^2, float64 arithmetic and
counting one image at a time, each under 12 batch orders, drop it by 0.923 to 1.100 of the
reference's (median 1.00; benchmarks/fa24_dl_hw7_q1_error.py, docs/fa24-dl-hw7.md). The bar is 0.12
below the worst of them; never stepping gives 0, a tenth of the learning rate 0.30."""


class OnMnist(Record):
    counts: np.ndarray
    """cluster_counts of the whole training set after the epoch, as returned: (10, 10) when right."""
    centers: np.ndarray
    """model.centers after the epoch, (10, 784)."""
    n: int
    """The number of training images."""


class OnMnistReference(OnMnist):
    """The reference's run, with what the judge measures the k-means error by."""
    initial: np.ndarray
    """The centers before training: the first image of each digit, (10, 784)."""
    sample: np.ndarray
    """The first SAMPLE training images, uint8 (SAMPLE, 784), on which the error is measured."""


def run_mnist(subject: Subject) -> OnMnist:
    import torch

    data = subject.inputs(mnist_train.TRAIN.name)
    dataset = digits(data["images"], data["labels"])
    model = _model(subject)
    subject.call(MODULE, "init_centers_from_digits", model, dataset)
    generator = torch.Generator().manual_seed(LOADER_SEED)
    loader = torch.utils.data.DataLoader(dataset, batch_size=BATCH, shuffle=True, generator=generator)
    subject.call(MODULE, "train", model, loader, lr=4.5, epochs=EPOCHS)
    counts = subject.call(MODULE, "cluster_counts", model, dataset)
    return OnMnist(counts=_table(counts, "cluster_counts(model, training set)"),
                   centers=_centers(model, "model.centers after training"), n=len(dataset))


def expected_mnist(subject: Subject) -> OnMnistReference:
    """The reference's outputs, its centers before training, and the images the error is measured on."""
    data = subject.inputs(mnist_train.TRAIN.name)
    model = subject.call(MODULE, "init_centers_from_digits", _model(subject), digits(data["images"], data["labels"]))
    return OnMnistReference(**dict(run_mnist(subject)), initial=_centers(model, "the first images"),
                            sample=np.asarray(data["images"][:SAMPLE]).reshape(-1, D))


def kmeans_error(centers: np.ndarray, images: np.ndarray) -> float:
    """The mean squared distance of each image to its nearest center (pixels in [0, 1])."""
    x = images.astype(np.float64) / 255
    c = centers.astype(np.float64)
    distances = (x ** 2).sum(1)[:, None] - 2 * x @ c.T + (c ** 2).sum(1)[None]
    return float(np.maximum(distances.min(1), 0).mean())


def judge_mnist(got: OnMnist, expected: OnMnistReference, check: Check) -> Verdict:
    n, pictures = int(expected.n), mnist_pictures(got, expected)
    wrong = _judge_table(got.counts, expected.counts, n)
    if wrong:
        return Verdict.failed(wrong[0], hint=wrong[1], figures=pictures)
    if got.centers.shape != (K, D) or not np.all(np.isfinite(got.centers)):
        return Verdict.failed("model.centers after training is not ten finite centers of 784 pixels.", figures=pictures,
                              hint="Training diverged: a step far larger than SGD's on nn.MSELoss() (its default mean) "
                                   "at lr 4.5. The check of train above says how your step differs.")
    start, sample = kmeans_error(expected.initial, expected.sample), expected.sample
    yours, reference = kmeans_error(got.centers, sample), kmeans_error(expected.centers, sample)
    share = (start - yours) / max(start - reference, 1e-12)
    details = (f"k-means error (mean squared distance to the nearest center) of the first {SAMPLE} training images: "
               f"{start:.3f} with the first images as centers, {yours:.3f} after your training, {reference:.3f} after "
               f"the reference's: {share:.0%} of the reference's drop (at least {IMPROVED:.0%} needed).",
               f"The table counts all {n} images; its diagonal holds {np.trace(got.counts) / n:.1%} of them, the "
               f"reference's {np.trace(expected.counts) / n:.1%} (after one epoch the table depends on the batch "
               f"order, so it is not graded against the reference's).")
    if share >= IMPROVED:
        return Verdict.passed(f"From the first image of each digit, {EPOCHS} epoch of training lowers the k-means error "
                              f"as the reference's does, and the table counts all {n} training images.",
                              details=details, figures=pictures)
    return Verdict.failed(f"From the first image of each digit, {EPOCHS} epoch of your training lowers the k-means "
                          f"error by {share:.0%} of the reference's drop; at least {IMPROVED:.0%} is needed.",
                          details=details, hint="The checks of init_centers_from_digits and train above say which of "
                                                "them differs.", figures=pictures)


def mnist_pictures(got: OnMnist, expected: OnMnist) -> tuple:
    labels = [str(d) for d in range(K)]
    return (figures.image_grid(f"The centers after {EPOCHS} epoch: cluster j's center", [
                ("your centers", got.centers), ("the reference's", expected.centers)],
                shape=(28, 28), captions={0: [f"cluster {j}" for j in range(K)]})
            + figures.heat_map("Your table: images of digit i (row) in cluster j (column)", got.counts,
                               [f"digit {d}" for d in labels], [f"cluster {d}" for d in labels])
            + figures.heat_map("The reference's table", expected.counts,
                               [f"digit {d}" for d in labels], [f"cluster {d}" for d in labels]))


PROBLEM = Problem(
    id="q1",
    title="K-Means using a Neural Network",
    files=("hw7_q1.py",),
    # Handout ../shared/seeds/003_e3b0b6e208b34aec.txt, Homework 7 Q1 (line 272): no points given. The
    # autograder's split: the network and its forward pass (the bullets before part a) 5, part (b)'s
    # code 5; the derivation (a), the discussion of (b) and part (c) are written (tests/test_points.py).
    parts={"model": 5.0, "b": 5.0},
    checks=(
        Check(id="q1.kmeans_net.structure", part="model", points=1,
              claim="KMeansNet holds its centers as a (10, 784) nn.Parameter, a flatten layer and a softmax over dim 1",
              run=run_structure, judge=judge_structure),
        Check(id="q1.forward.formula", part="model", points=2,
              claim="forward(x) returns softmax(20 (x0 C^T - 1/2 ||C_i||^2)) C - x0 for given centers",
              run=run_formula, judge=judge_formula),
        Check(id="q1.forward.nearest_center", part="model", points=2,
              claim="forward reconstructs well separated images as their nearest center",
              run=run_nearest, judge=judge_nearest),
        Check(id="q1.init_centers_from_digits.first_images", part="b", points=1,
              claim="init_centers_from_digits sets center i to the first image of digit i",
              run=run_init, judge=judge_init),
        Check(id="q1.train.sgd_steps", part="b", points=1.5,
              claim="train takes the reference's SGD steps on the same batch (lr 4.5, MSE against zeros)",
              run=run_train, judge=judge_train),
        Check(id="q1.cluster_counts.given_model", part="b", points=1,
              claim="cluster_counts tallies images by digit (rows) and nearest center (columns) for a given model",
              run=run_counts, judge=judge_counts),
        Check(id="q1.mnist.training_lowers_error", part="b", points=1.5, timeout=180.0,
              data=(mnist.DATASET,), inputs=(mnist_train.TRAIN,),
              claim="on MNIST, one epoch from the digits' first images lowers the k-means error as the reference's "
                    "does, and the table counts every training image",
              run=run_mnist, expected=expected_mnist, judge=judge_mnist),
    ),
)
