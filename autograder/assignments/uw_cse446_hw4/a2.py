"""A2: autoencoders on MNIST (a 10, b 10, c 5), graded from `hw4_a2.py` and the h = 128 checkpoints
`a2_f1_h128.pt` and `a2_f2_h128.pt`.

Structure and formulas are checked on a small model (d = 12, h = 5, so W_e (5, 12) and W_d (12, 5)
are told apart by shape) with weights set by the grader; nn.Linear's biases are part of both
formulas, as the handout allows. The expected outputs are the reference's, with the same weights:
nothing here computes F1, F2 or reconstruction_error, since this module ships in the students'
self-check bundle. The reconstruction error of the checkpoints on MNIST test images is computed
here, in the parent, from the reconstructions the student's model returns (the metric of the check).
"""

from __future__ import annotations

import numpy as np

from autograder import figures
from autograder.checkpoints import load_into
from autograder.compare import Tolerance, compare_arrays
from autograder.data import mnist
from autograder.model import Check, Problem, Verdict
from autograder.records import Record
from autograder.student import Subject, SubmissionError, to_array

MODULE = "hw4_a2"
D, H = 12, 5
CLOSE = Tolerance(atol=1e-5, rtol=1e-4)
BUILDERS = {"F1": "linear_autoencoder", "F2": "relu_autoencoder"}
ACTIVATIONS = ("ReLU", "Sigmoid", "Tanh", "LeakyReLU", "ELU", "GELU", "Softplus")


def weights() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(446)
    return {"W_e": rng.normal(0, 0.5, (H, D)), "b_e": rng.normal(0, 0.3, H),
            "W_d": rng.normal(0, 0.5, (D, H)), "b_d": rng.normal(0, 0.3, D)}


def images(n: int, seed: int) -> np.ndarray:
    """(n, d) inputs in [0, 1], like scaled pixels."""
    return np.random.default_rng(seed).random((n, D))


def _layers(model, what: str):
    """(encoder, decoder): the model's two nn.Linear layers, W_e (h, d) and W_d (d, h)."""
    import torch

    if not isinstance(model, torch.nn.Module):
        raise SubmissionError(f"{what} should return an nn.Module, but it returned {type(model).__name__}.")
    linears = [m for m in model.modules() if isinstance(m, torch.nn.Linear)]
    shapes = [tuple(m.weight.shape) for m in linears]
    if sorted(shapes) != sorted([(H, D), (D, H)]):
        raise SubmissionError(f"{what} should hold two nn.Linear layers, d -> h then h -> d (weights of shape "
                              f"({H}, {D}) and ({D}, {H})); found {len(linears)}: {shapes or 'none'}.")
    encoder = next(m for m in linears if tuple(m.weight.shape) == (H, D))
    decoder = next(m for m in linears if tuple(m.weight.shape) == (D, H))
    return encoder, decoder


def _built(subject: Subject, kind: str):
    what = f"{BUILDERS[kind]}(d={D}, h={H})"
    model = subject.call(MODULE, BUILDERS[kind], D, H)
    return model, _layers(model, what), what


# --- (a) F1, a single linear layer: F1(x) = W_d W_e x ---------------------------------------------
# Each check of (a) takes the kind of autoencoder ("F1" here); (b) runs the same ones with "F2".

class Structure(Record):
    activations: list[str]
    """The names of the model's activation modules (those in ACTIVATIONS), in module order."""


def run_structure(kind: str):
    def run(subject: Subject) -> Structure:
        model, _, _ = _built(subject, kind)
        names = [type(m).__name__ for m in model.modules()]
        return Structure(activations=[n for n in names if n in ACTIVATIONS])
    return run


def judge_structure(kind: str):
    def judge(got: Structure, expected: Structure, check: Check) -> Verdict:
        found, wanted = got.activations, [] if kind == "F1" else ["ReLU", "ReLU"]
        # F2's ReLUs may be functional (F.relu in forward), which no module shows: the formula check
        # finds them. Only activations that F1 must not have, or that are not ReLUs, fail here.
        wrong = [a for a in found if a != "ReLU"] if kind == "F2" else found
        if kind == "F2" and len(found) > 2:
            wrong = found
        if not wrong:
            return Verdict.passed(f"{BUILDERS[kind]} has two nn.Linear layers, d -> h -> d"
                                  + (", and no activation." if kind == "F1" else ", with ReLU activations."))
        return Verdict.failed(f"{BUILDERS[kind]} has the activation modules {found}; {kind} wants "
                              f"{wanted or 'none'}.",
                              hint="F1(x) = W_d W_e x has no non-linearity." if kind == "F1" else
                              "F2(x) = relu(W_d relu(W_e x)): one ReLU after each linear map, nothing else.")
    return judge


def _set_weights(encoder, decoder, zeroed: tuple[str, ...] = ()) -> list[bool]:
    """The grader's weights in the two layers (the biases named in `zeroed` set to 0); which have a bias."""
    import torch

    w = weights()
    with torch.no_grad():
        for layer, (weight, bias) in ((encoder, ("W_e", "b_e")), (decoder, ("W_d", "b_d"))):
            layer.weight.copy_(torch.from_numpy(w[weight]))
            if layer.bias is not None:
                layer.bias.copy_(torch.from_numpy(0 * w[bias] if bias in zeroed else w[bias]))
    return [layer.bias is not None for layer in (encoder, decoder)]


class Forward(Record):
    output: np.ndarray
    """The model's output for 7 inputs (7, d), with the grader's weights."""
    biases: list[bool]
    """Whether the encoder and the decoder (in that order) have a bias."""


def _output(subject: Subject, kind: str, zeroed: tuple[str, ...] = ()) -> Forward:
    import torch

    model, (encoder, decoder), what = _built(subject, kind)
    biases = _set_weights(encoder, decoder, zeroed)
    with torch.no_grad():
        out = subject.invoke(model, torch.from_numpy(images(7, 1)).float())
    return Forward(output=to_array(out, f"{what}(x)"), biases=biases)


def run_forward(kind: str):
    def run(subject: Subject) -> Forward:
        return _output(subject, kind)
    return run


class ReferenceForward(Record):
    """The reference's outputs with the grader's weights. The handout's formulas have no biases, so a
    student's model built without one (or both) is compared with the reference's with it set to 0."""

    output: np.ndarray
    """With both biases: what a model with both must give."""
    without_b_e: np.ndarray
    """With b_e set to 0: what a model whose encoder has no bias must give."""
    without_b_d: np.ndarray
    """With b_d set to 0: what a model whose decoder has no bias must give."""
    without_b_e_and_b_d: np.ndarray
    """With both set to 0: what a model without biases must give."""
    F1: np.ndarray
    """The reference's F1(x), for the hints."""
    F2: np.ndarray
    """The reference's F2(x), for the hints."""


def expected_forward(kind: str):
    """The reference's output with the grader's weights; with biases set to 0, for a student's model
    built without them (the handout omits them); and both references' outputs, for the hints."""
    def expected(subject: Subject) -> ReferenceForward:
        return ReferenceForward(output=_output(subject, kind).output,
                                without_b_e=_output(subject, kind, ("b_e",)).output,
                                without_b_d=_output(subject, kind, ("b_d",)).output,
                                without_b_e_and_b_d=_output(subject, kind, ("b_e", "b_d")).output,
                                F1=_output(subject, "F1").output, F2=_output(subject, "F2").output)
    return expected


def judge_forward(kind: str):
    def judge(got: Forward, expected: ReferenceForward, check: Check) -> Verdict:
        biases = tuple(got.biases)
        right = {(True, True): expected.output, (False, True): expected.without_b_e,
                 (True, False): expected.without_b_d, (False, False): expected.without_b_e_and_b_d}[biases]
        comparison = compare_arrays(f"{kind}(x)", got.output, right, CLOSE)
        if comparison.equal:
            return Verdict.passed(f"{BUILDERS[kind]} computes "
                                  + ("W_d W_e x (+ biases)" if kind == "F1" else "relu(W_d relu(W_e x)) (+ biases)")
                                  + " for given weights.")
        out, hint = got.output, comparison.hint
        if out.shape == right.shape and all(biases):
            f1, f2 = expected.F1, expected.F2

            def near(a: np.ndarray, b: np.ndarray) -> bool:
                return np.allclose(a, b, atol=1e-4)
            if kind == "F2" and near(np.maximum(out, 0), f2):
                hint = "The ReLU after the decoder is missing: F2(x) = relu(W_d relu(W_e x))."
            elif kind == "F2" and near(out, np.maximum(f1, 0)):
                hint = "The ReLU after the encoder is missing: F2(x) = relu(W_d relu(W_e x))."
            elif kind == "F1" and (near(out, f2) or near(out, np.maximum(f1, 0)) or near(np.maximum(out, 0), f2)):
                hint = "F1 is linear: no ReLU in F1(x) = W_d W_e x."
        return Verdict.failed(f"{BUILDERS[kind]}'s forward pass differs from "
                              + ("W_d W_e x" if kind == "F1" else "relu(W_d relu(W_e x))") + " for given weights.",
                              details=tuple(comparison.lines()), arrays=(comparison.report,),
                              hint=hint or "Apply W_e, then W_d, as the handout's formula says.")
    return judge


# Training: 256 inputs of dimension 12 near a 3-dimensional subspace, h = 8, 6 epochs of batches
# of 32, Adam 0.02. The threshold, "at most 75 % of the starting error", from the distribution of
# the error after training over the error before (benchmarks/uw_cse446_hw4_a2_training.py;
# docs/uw-cse446-hw4-a2-a6.md): the reference, without biases, batches in order, and a DataLoader,
# each built under torch seeds 0-49 (seed 0 is the grader's own): F1 0.5 % to 4.4 %, F2 1.2 % to
# 63.9 % (200 runs each; F2's output ReLU leaves the pixels whose units start dead unlearned, so its
# spread is wide). A trainer that never steps stays at 100 %. The bar is 11 points above the worst
# valid run and 25 below that fault. (A trainer that ignores lr, Adam at 1e-3, lowers the error to
# 47-51 % (F1) and 64-86 % (F2): it still trains, which is all this check claims.)
EPOCHS, LR, BATCH, H_TRAIN = 6, 0.02, 32, 8
LOWERED = 0.75


def training_data() -> np.ndarray:
    rng = np.random.default_rng(7)
    return np.clip(0.5 + rng.normal(0, 0.4, (256, 3)) @ rng.normal(0, 0.5, (3, D)), 0, 1)


class Training(Record):
    losses: np.ndarray
    """What train_autoencoder returned: the mean training loss of each epoch, as floats."""
    before: np.ndarray
    """The model's output on the training inputs (256, d) before training."""
    after: np.ndarray
    """The same after training."""


def run_training(kind: str):
    def run(subject: Subject) -> Training:
        import torch

        what = f"{BUILDERS[kind]}(d={D}, h={H_TRAIN})"
        model = subject.call(MODULE, BUILDERS[kind], D, H_TRAIN)
        x = torch.from_numpy(training_data()).float()
        with torch.no_grad():
            before = to_array(subject.invoke(model, x), f"{what}(x)")
        losses = subject.call(MODULE, "train_autoencoder", model, x, EPOCHS, LR, BATCH)
        try:
            losses = [float(v) for v in losses]
        except (TypeError, ValueError):
            raise SubmissionError("train_autoencoder should return a list of floats, the mean training loss of "
                                  f"each epoch, but it returned {type(losses).__name__}.") from None
        with torch.no_grad():
            after = to_array(subject.invoke(model, x), f"{what}(x)")
        return Training(losses=np.array(losses), before=before, after=after)
    return run


def judge_training(kind: str):
    def judge(got: Training, expected: Training, check: Check) -> Verdict:
        x = training_data()
        losses = got.losses
        if losses.shape != (EPOCHS,):
            return Verdict.failed(f"train_autoencoder(model, X, epochs={EPOCHS}, ...) returned {losses.size} values; "
                                  f"it should return one mean loss per epoch ({EPOCHS}).")
        if got.after.shape != x.shape:
            return Verdict.failed(f"The model's output has shape {got.after.shape}, expected {x.shape}.")
        before, after = (float(np.mean((output - x) ** 2)) for output in (got.before, got.after))
        details = ((f"Mean squared error on the training inputs: {before:.4f} before, {after:.4f} after "
                    f"{EPOCHS} epochs."), f"Returned losses per epoch: {np.round(losses, 4).tolist()}.")
        if not np.all(np.isfinite(losses)) or not after <= LOWERED * before:
            return Verdict.failed(f"Training {BUILDERS[kind]} for {EPOCHS} epochs (Adam, lr {LR}, batches of {BATCH}) "
                                  f"did not lower the reconstruction error to {LOWERED:.0%} of its start.",
                                  details=details, hint="For each batch: the mean squared error of the model's "
                                  "output against the batch itself, then zero the gradients, backpropagate, and "
                                  "step an Adam optimiser over the model's parameters at the lr given.")
        if not losses[-1] < losses[0]:
            return Verdict.failed("The model improved, but the returned losses do not decrease: return the mean "
                                  "training loss of each epoch, in order.", details=details)
        # The last epoch's mean loss is measured while training, so it lies between the errors before
        # and after; a sum over batches, or a loss of the wrong kind, lands far outside.
        if not 0.5 * after <= losses[-1] <= before:
            return Verdict.failed("The returned loss of the last epoch is not a mean squared error per pixel "
                                  f"({losses[-1]:.4g}, while the error after training is {after:.4g}).",
                                  details=details, hint="Average the batch losses over the epoch (weighted by "
                                  "batch size), with F.mse_loss's default mean reduction.")
        return Verdict.passed(f"train_autoencoder lowers {kind}'s error from {before:.4f} to {after:.4f} in "
                              f"{EPOCHS} epochs and returns the mean loss of each epoch.", details=details)
    return judge


# --- (b) F2, a single layer with non-linearity: F2(x) = relu(W_d relu(W_e x)) ---------------------
# relu_autoencoder's checks are (a)'s with the kind "F2": run_structure, run_forward and expected_forward,
# run_training, and their judges.


# --- (c) the test reconstruction errors (h = 128) -------------------------------------------------

def _mse_model():
    import torch

    torch.manual_seed(3)
    return torch.nn.Sequential(torch.nn.Linear(D, H), torch.nn.Linear(H, D))


class Error(Record):
    error: np.ndarray
    """What reconstruction_error(model, X) returned, as an array (one number, if right)."""


def run_error(subject: Subject) -> Error:
    import torch

    value = subject.call(MODULE, "reconstruction_error", _mse_model(), torch.from_numpy(images(9, 2)).float())
    return Error(error=to_array(value, "reconstruction_error(model, X)"))


def judge_error(got: Error, expected: Error, check: Check) -> Verdict:
    value, right = got.error.reshape(-1), float(expected.error)
    if value.size != 1:
        return Verdict.failed(f"reconstruction_error should return one float, but it returned {value.size} values.",
                              hint="Average over all pixels of all images (F.mse_loss's default reduction), and "
                                   "return that one number as a float.")
    value = float(value[0])
    if abs(value - right) <= 1e-6 + 1e-4 * abs(right):
        return Verdict.passed("reconstruction_error equals F.mse_loss(model(X), X).")
    n, d = 9, D
    hints = {n * d: "It sums the squared errors: take the mean over all pixels (F.mse_loss's default).",
             d: "It averages over images but sums over pixels: take the mean over every pixel too.",
             1 / 2: "It halves the squared error: the mean squared error has no factor 1/2."}
    hint = next((h for ratio, h in hints.items() if abs(value - ratio * right) <= 1e-4 * ratio * abs(right)), None)
    if hint is None and abs(value - right ** 0.5) <= 1e-4:
        hint = "It returns the root of the mean squared error: leave out the square root."
    return Verdict.failed(f"reconstruction_error returned {value:.6g}; F.mse_loss(model(X), X) is {right:.6g}.",
                          hint=hint or "Return the mean squared error of the model's reconstruction of X against X "
                                       "itself, over every pixel, as a float computed without gradients.")


# Checkpoints: the first TEST_IMAGES MNIST test images (pixels / 255, flattened). The reference
# (scripts/train_uw_cse446_hw4_a2.py: 10 epochs, Adam 1e-3, batches of 128, seed 0) sets the bar.
TEST_IMAGES = 1000
CHECKPOINT = {"F1": "a2_f1_h128.pt", "F2": "a2_f2_h128.pt"}


def _test_images(subject: Subject) -> np.ndarray:
    pixels = subject.inputs(mnist.TEST_IMAGES.name)["images"][:TEST_IMAGES]
    return pixels.reshape(len(pixels), -1).astype(np.float32) / 255.0


class Reconstructions(Record):
    reconstructions: np.ndarray
    """The checkpoint's model's output for the test images (TEST_IMAGES, 784), float32."""


def run_checkpoint(kind: str):
    def run(subject: Subject) -> Reconstructions:
        import torch

        model = load_into(subject, CHECKPOINT[kind], subject.call(MODULE, BUILDERS[kind], 784, 128),
                          f"{BUILDERS[kind]}(784, 128)")
        with torch.no_grad():
            out = subject.invoke(model, torch.from_numpy(_test_images(subject)))
        return Reconstructions(reconstructions=to_array(out, f"{kind}(test images)").astype(np.float32))
    return run


class ReferenceReconstructions(Reconstructions):
    """The reference's checkpoint's reconstructions, and the test images they are of."""

    images: np.ndarray
    """The test images (TEST_IMAGES, 784), pixels / 255."""


def expected_checkpoint(kind: str):
    def expected(subject: Subject) -> ReferenceReconstructions:
        return ReferenceReconstructions(reconstructions=run_checkpoint(kind)(subject).reconstructions,
                                        images=_test_images(subject))
    return expected


# The reference's test errors over all 10,000 test images (scripts/train_uw_cse446_hw4_a2.py):
# F1 0.00430 at h = 128 against 0.00917 at h = 64; F2 0.00681 at h = 128 against 0.01265 at h = 64.
# The margin allows a 50 % higher error than the reference's h = 128 model, which still lies well
# below the h = 64 errors (2.1 and 1.9 times): training choices (learning rate, batch size, epochs)
# that the handout leaves open pass, a model that has barely trained does not. The reference's own
# recipe under torch seeds 0-9 (seed 0 is the reference checkpoint) reaches 1.000 to 1.009 times the
# reference checkpoint's error on the check's 1,000 images (F1) and 0.855 to 1.287 (F2: dead output
# units again), so 1.5 is 0.21 above the worst of them (benchmarks/uw_cse446_hw4_a2_training.py
# --checkpoints 10).
CHECKPOINT_MARGIN = 1.5


def judge_checkpoint(kind: str):
    def judge(got: Reconstructions, expected: ReferenceReconstructions, check: Check) -> Verdict:
        x = expected.images.astype(np.float64)
        out = got.reconstructions.astype(np.float64)
        if out.shape != x.shape:
            return Verdict.failed(f"The model loaded from {CHECKPOINT[kind]} returns shape {out.shape} for "
                                  f"{x.shape} test images; it should reconstruct each one.")
        error = float(np.mean((out - x) ** 2))
        reference = float(np.mean((expected.reconstructions.astype(np.float64) - x) ** 2))
        limit = CHECKPOINT_MARGIN * reference
        pictures = reconstructions(kind, x, out, expected.reconstructions)
        if np.isfinite(error) and error <= limit:
            return Verdict.passed(f"{CHECKPOINT[kind]}: test reconstruction error {error:.5f} "
                                  f"(at most {limit:.5f} needed).", figures=pictures)
        return Verdict.failed(f"{CHECKPOINT[kind]}: test reconstruction error {error:.5f}; at most {limit:.5f} is "
                              f"needed ({CHECKPOINT_MARGIN:.2f} times the reference's).",
                              hint="Train the h = 128 model longer (or try other learning rates), then save "
                                   "torch.save(model.state_dict(), ...) of that model.", figures=pictures)
    return judge


PICTURED = 8
"""Test images drawn beside their reconstructions in the report."""


def reconstructions(kind: str, x: np.ndarray, out: np.ndarray, reference: np.ndarray):
    """The first test images above the student's reconstructions (each with its error) and the reference's."""
    shown = slice(0, PICTURED)
    errors = [f"error {e:.4f}" for e in np.mean((out[shown] - x[shown]) ** 2, axis=1)]
    return figures.image_grid(
        f"The first {PICTURED} test images and their reconstructions by {CHECKPOINT[kind]}",
        [("test image", x[shown]), ("your model", out[shown]), ("the reference's", reference[shown])],
        shape=(28, 28), captions={1: errors})


PROBLEM = Problem(
    id="a2",
    title="Autoencoders on MNIST",
    files=("hw4_a2.py",),
    # Handout ../shared/seeds/000_2b7f888c5a23a7ac.txt, A2 (30 points): a [10] (line 36), b [10] (line 42),
    # c [5] (line 48, the error table); d [5] (line 49) is written, graded by hand.
    parts={"a": 10.0, "b": 10.0, "c": 5.0},
    checks=(
        Check(id="a2.linear.structure", part="a", points=3,
              claim="linear_autoencoder has two linear maps d -> h -> d and no activation",
              run=run_structure("F1"), judge=judge_structure("F1")),
        Check(id="a2.linear.forward_formula", part="a", points=4,
              claim="linear_autoencoder computes W_d W_e x for given weights",
              run=run_forward("F1"), expected=expected_forward("F1"), judge=judge_forward("F1")),
        Check(id="a2.linear.training_lowers_loss", part="a", points=3, timeout=60.0,
              claim="train_autoencoder lowers F1's error under a fixed budget",
              run=run_training("F1"), judge=judge_training("F1")),
        Check(id="a2.relu.structure", part="b", points=3,
              claim="relu_autoencoder has two linear maps d -> h -> d and ReLU activations only",
              run=run_structure("F2"), judge=judge_structure("F2")),
        Check(id="a2.relu.forward_formula", part="b", points=4,
              claim="relu_autoencoder computes relu(W_d relu(W_e x)) for given weights",
              run=run_forward("F2"), expected=expected_forward("F2"), judge=judge_forward("F2")),
        Check(id="a2.relu.training_lowers_loss", part="b", points=3, timeout=60.0,
              claim="train_autoencoder lowers F2's error under a fixed budget",
              run=run_training("F2"), judge=judge_training("F2")),
        Check(id="a2.reconstruction_error.matches_mse", part="c", points=2,
              claim="reconstruction_error equals F.mse_loss(model(X), X)",
              run=run_error, judge=judge_error),
        Check(id="a2.checkpoint_f1.test_error", part="c", points=1.5, timeout=60.0,
              artifacts=(CHECKPOINT["F1"],), data=(mnist.DATASET,), inputs=(mnist.TEST_IMAGES,),
              claim="a2_f1_h128.pt reaches a test reconstruction error near the reference's",
              run=run_checkpoint("F1"), expected=expected_checkpoint("F1"), judge=judge_checkpoint("F1")),
        Check(id="a2.checkpoint_f2.test_error", part="c", points=1.5, timeout=60.0,
              artifacts=(CHECKPOINT["F2"],), data=(mnist.DATASET,), inputs=(mnist.TEST_IMAGES,),
              claim="a2_f2_h128.pt reaches a test reconstruction error near the reference's",
              run=run_checkpoint("F2"), expected=expected_checkpoint("F2"), judge=judge_checkpoint("F2")),
    ),
)
