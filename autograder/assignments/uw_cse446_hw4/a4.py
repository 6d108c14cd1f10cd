"""A4: CIFAR-10 networks and FGSM (a 15, b 15, c 15, d 5, e 10), graded from `hw4_a4.py` and the
checkpoints `a4_c.pt` (ConvPool) and `a4_d.pt` (TutorialNet).

Images reach every network as float tensors (N, 3, 32, 32) normalised as in the "Training a
classifier" tutorial: pixels / 255, then (x - 0.5) / 0.5. The formulas are checked with weights
set by the grader, matched to the student's parameters by shape. The handout lets vec() flatten
"in an arbitrary but consistent pattern": channel-major (torch.flatten of (C, H, W)) and
channel-last (of (H, W, C)) are both accepted. Every expected value (the parameters' shapes, the
outputs for given weights, the pooled size, FGSM's step) comes from the reference, run by the
trusted half: nothing here computes the networks or the attack, since this module ships in the
students' self-check bundle. Accuracies are computed here, in the parent, from
the predictions the student's model returns. The worker never reads the data root: the parent hands
it the graded training images with their labels (FGSM needs them as y) and the test images without
theirs, in an order that does not tell them; the test labels come from the trusted half.
"""

from __future__ import annotations

import contextlib

import numpy as np

from autograder import figures
from autograder.assignments.uw_cse446_hw4.a4_inputs import (
    ATTACK_EPSILONS,
    FGSM_BATCH,
    FGSM_EPSILON,
    attack_model,
    attack_weights,
    formula_weights,
    probe_images,
)
from autograder.checkpoints import load_into
from autograder.compare import Tolerance, compare_arrays
from autograder.data import cifar10
from autograder.model import Check, Problem, Verdict
from autograder.records import Record
from autograder.student import Subject, SubmissionError, to_array

MODULE = "hw4_a4"
CLOSE = Tolerance(atol=1e-4, rtol=1e-4)
MODELS = {"logistic": ("LogisticRegression", {}), "hidden": ("OneHiddenLayer", {"M": 37}),
          "convpool": ("ConvPool", {"M": 8, "k": 5, "N": 14}), "tutorial": ("TutorialNet", {})}
HINTS = {
    "logistic": "One nn.Linear(3072, 10) on the flattened image: W is 10 x 3072 and b has 10 entries.",
    "hidden": "nn.Linear(3072, M), then nn.Linear(M, 10): W_1 is M x 3072 and W_2 is 10 x M.",
    "convpool": "nn.Conv2d(3, M, k) (with its bias), nn.MaxPool2d(N), then nn.Linear(M * ((33 - k) // N) ** 2, 10).",
    "tutorial": "With no arguments TutorialNet is the tutorial's net: Conv2d(3, 6, 5), MaxPool2d(2, 2), "
                "Conv2d(6, 16, 5), Linear(16 * 5 * 5, 120), Linear(120, 84), Linear(84, 10).",
}


def describe(builder: str, kwargs: dict) -> str:
    return f"{builder}({', '.join(f'{k}={v}' for k, v in kwargs.items())})"


# --- student side: building models -----------------------------------------------------------------

def build(subject: Subject, builder: str, kwargs: dict):
    import torch

    model = subject.call(MODULE, builder, **kwargs)
    if not isinstance(model, torch.nn.Module):
        raise SubmissionError(f"{describe(builder, kwargs)} should build an nn.Module, but it gave "
                              f"{type(model).__name__}.")
    return model


def set_by_shape(model, weights: dict[tuple, np.ndarray], what: str) -> None:
    """Copy into each parameter the grader's array of that shape."""
    import torch

    with torch.no_grad():
        for name, parameter in model.named_parameters():
            shape = tuple(parameter.shape)
            if shape not in weights:
                raise SubmissionError(f"{what} has a parameter {name} of shape {shape}, which the handout's formula "
                                      f"does not have (its parameters have the shapes {sorted(weights)}).")
            parameter.copy_(torch.from_numpy(weights[shape]))


def forward(subject: Subject, model, x: np.ndarray, what: str) -> np.ndarray:
    import torch

    with torch.no_grad():
        return to_array(subject.invoke(model, torch.from_numpy(x)), f"{what}(x)")


def config(subject: Subject, name: str) -> dict:
    value = getattr(subject.module(MODULE), name, None)
    if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
        raise SubmissionError(f"{name} in {MODULE}.py should be a dict of your chosen hyperparameters "
                              f"(keyword arguments of the constructor), but it is {type(value).__name__}.")
    return value


# --- (a) Fully-connected output, 0 hidden layers (logistic regression) ------------------------------

class Parameters(Record):
    shapes: dict[str, list[int]]
    """Each parameter's shape, by its name, in the order of named_parameters()."""


def run_parameters(kind: str):
    def run(subject: Subject) -> Parameters:
        builder, kwargs = MODELS[kind]
        model = build(subject, builder, kwargs)
        return Parameters(shapes={name: list(p.shape) for name, p in model.named_parameters()})
    return run


def judge_parameters(kind: str):
    def judge(got: Parameters, expected: Parameters, check: Check) -> Verdict:
        builder, kwargs = MODELS[kind]
        found = sorted(tuple(shape) for shape in got.shapes.values())
        wanted = sorted(tuple(shape) for shape in expected.shapes.values())  # the reference's
        count = sum(int(np.prod(s)) for s in found)
        if found == wanted:
            return Verdict.passed(f"{describe(builder, kwargs)} has the handout's parameters ({count:,} in all).")
        listed = ", ".join(f"{name} {tuple(shape)}" for name, shape in got.shapes.items()) or "none"
        return Verdict.failed(f"{describe(builder, kwargs)} has {count:,} parameters of shapes {found}; the handout's "
                              f"network has {sum(int(np.prod(s)) for s in wanted):,}, of shapes {wanted}.",
                              details=(f"Parameters found: {listed}.",), hint=HINTS[kind])
    return judge


class Output(Record):
    output: np.ndarray
    """The network's scores for the 5 probe images, with the grader's weights: (5, 10)."""


def run_forward(kind: str):
    def run(subject: Subject) -> Output:
        builder, kwargs = MODELS[kind]
        model = build(subject, builder, kwargs)
        set_by_shape(model, formula_weights(kind), describe(builder, kwargs))
        model.eval()
        return Output(output=forward(subject, model, probe_images(5, seed=1), describe(builder, kwargs)))
    return run


FLATTENED = {"logistic": ((10, 3072), (3, 32, 32)), "hidden": ((37, 3072), (3, 32, 32)),
             "convpool": ((10, 32), (8, 2, 2))}
"""The weight that reads vec(): its shape, and the (C, H, W) of the features it flattens."""
ORDERS = ("channel-major", "channel-last")


def channel_last(weight: np.ndarray, features: tuple[int, int, int]) -> np.ndarray:
    """The weight that, reading the channel-major vec() of features (C, H, W), gives what `weight`
    gives reading their channel-last vec(): its columns reordered."""
    C, H, W = features
    return np.ascontiguousarray(weight.reshape(len(weight), H, W, C).transpose(0, 3, 1, 2).reshape(len(weight), -1))


@contextlib.contextmanager
def relu_as_identity():
    """While the block runs, F.relu (which nn.ReLU calls too) returns its input: the reference's
    network without its relu, for the hint that names that fault."""
    import torch.nn.functional as F

    relu = F.relu
    F.relu = lambda input, inplace=False: input
    try:
        yield
    finally:
        F.relu = relu


class FormulaOutputs(Record):
    with_relu: dict[str, np.ndarray]
    """The reference's output, by vec() order (ORDERS): the handout's formula."""
    without_relu: dict[str, np.ndarray]
    """The same without its relu, by vec() order, for the hint (empty for LogisticRegression, which has none)."""


def expected_forward(kind: str):
    """The reference's output for the grader's weights, for each accepted vec() order (the
    channel-last reading is the reference with the vec() weight's columns reordered), and without
    its relu (for the hint)."""
    def expected(subject: Subject) -> FormulaOutputs:
        builder, kwargs = MODELS[kind]
        weights, (shape, features) = formula_weights(kind), FLATTENED[kind]
        x = probe_images(5, seed=1)
        out: dict[bool, dict[str, np.ndarray]] = {True: {}, False: {}}
        for order in ORDERS:
            given = weights if order == "channel-major" else {**weights, shape: channel_last(weights[shape], features)}
            for relu in (True, False) if kind != "logistic" else (True,):
                model = build(subject, builder, kwargs)
                set_by_shape(model, given, describe(builder, kwargs))
                model.eval()
                with contextlib.nullcontext() if relu else relu_as_identity():
                    out[relu][order] = forward(subject, model, x, describe(builder, kwargs))
        return FormulaOutputs(with_relu=out[True], without_relu=out[False])
    return expected


def formula_outputs(expected: FormulaOutputs, relu: bool = True) -> dict[str, np.ndarray]:
    """The handout's output for each accepted vec() order, from the reference (with or without relu)."""
    outputs = expected.with_relu if relu else expected.without_relu
    return {order: outputs[order] for order in ORDERS}


FORMULAS = {"logistic": "W vec(x) + b", "hidden": "W_2 relu(W_1 vec(x) + b_1) + b_2",
            "convpool": "W_2 vec(MaxPool(relu(Conv2d(x, W_1) + b_1))) + b_2"}


def judge_forward(kind: str):
    def judge(got: Output, expected: FormulaOutputs, check: Check) -> Verdict:
        builder, kwargs = MODELS[kind]
        out = got.output
        outputs = formula_outputs(expected)
        for order, right in outputs.items():
            if out.shape == right.shape and np.allclose(out, right, atol=CLOSE.atol, rtol=CLOSE.rtol):
                return Verdict.passed(f"{describe(builder, kwargs)} computes {FORMULAS[kind]} for given weights "
                                      f"(vec flattens {order}).")
        comparison = compare_arrays(f"{builder}(x)", out, outputs["channel-major"], CLOSE)
        return Verdict.failed(f"{describe(builder, kwargs)}'s output differs from {FORMULAS[kind]} for given "
                              f"weights, with either flattening order.", details=tuple(comparison.lines()),
                              arrays=(comparison.report,), hint=forward_hint(kind, out, expected) or comparison.hint)
    return judge


def forward_hint(kind: str, out: np.ndarray, expected: FormulaOutputs) -> str | None:
    if out.shape != (5, 10):
        return f"Return the 10 class scores of each image: shape (N, 10), here ({5}, 10)."
    for right in formula_outputs(expected).values():
        scores = np.exp(right - right.max(1, keepdims=True))
        if np.allclose(out, scores / scores.sum(1, keepdims=True), atol=1e-4) or \
                np.allclose(out, np.log(scores / scores.sum(1, keepdims=True)), atol=1e-4):
            return ("The output is a softmax (or log-softmax) of the scores. Return the scores x_out themselves: "
                    "F.cross_entropy applies the softmax.")
    if kind != "logistic" and any(np.allclose(out, r, atol=1e-4)
                                  for r in formula_outputs(expected, relu=False).values()):
        return "The relu is missing: apply F.relu after the " + ("hidden layer." if kind == "hidden" else "convolution.")
    return None


# --- (b) Fully-connected output, 1 fully-connected hidden layer -------------------------------------

# OneHiddenLayer's checks are part (a)'s parameter and forward checks, for the kind "hidden".


# --- (c) Convolutional layer with max-pool and fully-connected output -------------------------------

# ConvPool's parameters and forward pass: part (a)'s checks, for the kind "convpool".

# ConvPool's pooled size.

POOL_CASES = ((6, 5, 4), (4, 3, 2), (5, 7, 5), (3, 5, 14), (2, 4, 3))
"""(M, k, N). In each, floor((32 - k) / N) differs from floor((33 - k) / N): an off-by-one shows."""


def off_by_one(M: int, k: int, N: int) -> int:
    """The linear layer's inputs of a common fault: a side of 32 - k pixels after the convolution."""
    return M * ((32 - k) // N) ** 2


class PooledSizes(Record):
    in_features: list[int]
    """Per case of POOL_CASES, the linear layer's in_features; minus the number of nn.Linear layers
    where there is not exactly one."""
    errors: list[str]
    """Per case, why the forward pass on two 32 x 32 images failed or returned another shape than
    (2, 10); "" where it did not."""


def run_pooled_size(subject: Subject) -> PooledSizes:
    import torch

    widths, errors = [], []
    for M, k, N in POOL_CASES:
        model = build(subject, "ConvPool", {"M": M, "k": k, "N": N})
        linears = [m for m in model.modules() if isinstance(m, torch.nn.Linear)]
        widths.append(linears[0].in_features if len(linears) == 1 else -len(linears))
        try:
            with torch.no_grad():
                shape = tuple(model(torch.zeros(2, 3, 32, 32)).shape)
            errors.append("" if shape == (2, 10) else f"returned shape {shape} for 2 images")
        except Exception as exc:  # noqa: BLE001 - a size mismatch in forward is this check's finding
            errors.append(f"{type(exc).__name__}: {' '.join(str(exc).split())[:200]}")
    return PooledSizes(in_features=widths, errors=errors)


def judge_pooled_size(got: PooledSizes, expected: PooledSizes, check: Check) -> Verdict:
    wrong = []
    for (M, k, N), width, error, right in zip(POOL_CASES, got.in_features, got.errors, expected.in_features):
        model = describe("ConvPool", {"M": M, "k": k, "N": N})
        if width < 0:
            wrong.append(f"{model} has {-width} nn.Linear layers; the handout's network has one.")
        elif width != right:
            cause = " (that is M * floor((32 - k) / N)^2: off by one)" if width == off_by_one(M, k, N) else ""
            wrong.append(f"{model}: its linear layer takes {width} inputs{cause}; "
                         f"M * floor((33 - k) / N)^2 = {right}.")
        elif error:
            wrong.append(f"{model} fails on a batch of 32 x 32 images: {error}.")
    if not wrong:
        return Verdict.passed(f"ConvPool's linear layer takes M * floor((33 - k) / N)^2 inputs for all "
                              f"{len(POOL_CASES)} (M, k, N) tried, and its forward pass runs.")
    return Verdict.failed(f"ConvPool's pooled size is wrong for {len(wrong)} of {len(POOL_CASES)} (M, k, N).",
                          details=tuple(wrong),
                          hint="A k x k convolution of a 32-pixel side leaves 32 - k + 1 = 33 - k pixels; "
                               "MaxPool2d(N) keeps floor((33 - k) / N) of them.")


# The checkpoints on CIFAR-10 (a4_c.pt here, a4_d.pt in part (d)).

CHECKPOINTS = {"c": ("a4_c.pt", "ConvPool", "CONV_POOL_CONFIG"), "d": ("a4_d.pt", "TutorialNet", "TUTORIAL_NET_CONFIG")}
TRAIN_PER_CLASS = 1000
"""Part (d)'s train accuracy is measured on the first 1000 training images of each class (10,000)."""
EVAL_BATCH = 100
"""Images per forward pass: ConvPool(128, 5, 4) holds 128 x 28 x 28 activations (400 KB) per image."""
GRADED = {"train": cifar10.training_set("cifar10-train-1000-per-class", TRAIN_PER_CLASS),
          "test": cifar10.test_images("cifar10-test")}
"""The graded images of each split, uint8 (n, 32, 32, 3) (31 MB for 10,000 images, against 123 MB
normalised; normalised a batch at a time): the training images with their labels, the 10,000 test
images without theirs, in an order that does not tell them (`cifar10.load_test`)."""


def graded_labels(subject: Subject, split: str) -> np.ndarray:
    """Trusted halves only: the labels of the graded images of `split`, in their order (the test
    labels from the data root; the training labels from the input set, as the parent wrote it)."""
    if split == "train":
        return subject.inputs(GRADED["train"].name)["labels"]
    return cifar10.load_test(subject.dataset(cifar10.DATASET))[1]


def normalise(pixels: np.ndarray) -> np.ndarray:
    """uint8 (n, 32, 32, 3) to the tutorial's float32 (n, 3, 32, 32) in [-1, 1]."""
    return (pixels.transpose(0, 3, 1, 2).astype(np.float32) / 255.0 - 0.5) / 0.5


def graded_model(subject: Subject, part: str):
    file, builder, name = CHECKPOINTS[part]
    chosen = config(subject, name)
    return load_into(subject, file, build(subject, builder, chosen), f"{builder}(**{name})")


def predictions(subject: Subject, model, x: np.ndarray, what: str) -> np.ndarray:
    import torch

    with torch.no_grad():
        scores = [to_array(subject.invoke(model, torch.from_numpy(normalise(x[i:i + EVAL_BATCH]) if x.dtype == np.uint8
                                                                  else x[i:i + EVAL_BATCH])), what)
                  for i in range(0, len(x), EVAL_BATCH)]
    scores = np.concatenate(scores) if scores else np.zeros((0, 10))
    if scores.ndim != 2 or scores.shape[1] != 10:
        raise SubmissionError(f"{what} returned scores of shape {scores.shape[1:]} per batch; expected 10 per image.")
    return scores.argmax(1).astype(np.int64)


class Predictions(Record):
    predictions: np.ndarray
    """The class the checkpoint predicts for each graded image of the split, in their order."""


def run_checkpoint(part: str, split: str):
    def run(subject: Subject) -> Predictions:
        file, builder, name = CHECKPOINTS[part]
        x = subject.inputs(GRADED[split].name)["images"]
        return Predictions(predictions=predictions(subject, graded_model(subject, part), x,
                                                   f"{builder}(**{name}) from {file}"))
    return run


class LabelledPredictions(Record):
    predictions: np.ndarray
    """The reference checkpoint's predicted classes."""
    labels: np.ndarray
    """The true classes of the same images (the trusted half's)."""


def expected_checkpoint(part: str, split: str):
    def expected(subject: Subject) -> LabelledPredictions:
        return LabelledPredictions(predictions=run_checkpoint(part, split)(subject).predictions,
                                   labels=graded_labels(subject, split))
    return expected


# The handout's targets: part (c) "at least 70%" test accuracy, part (d) "a train accuracy of at
# least 87%". The reference meets them on the lossy JPEG copies, the only full CIFAR-10 here:
# ConvPool(128, 5, 4) 0.7110 test accuracy, TutorialNet 0.990 train accuracy.
TARGETS = {"c": ("test", 0.70), "d": ("train", 0.87)}


def judge_checkpoint(part: str):
    def judge(got: Predictions, expected: LabelledPredictions, check: Check) -> Verdict:
        file, builder, name = CHECKPOINTS[part]
        split, target = TARGETS[part]
        labels, predicted = expected.labels, got.predictions
        if predicted.shape != labels.shape:
            return Verdict.failed(f"{file}: {len(predicted)} predictions for {len(labels)} {split} images.")
        accuracy = float(np.mean(predicted == labels))
        reference = float(np.mean(expected.predictions == labels))
        where = f"{split} accuracy on {len(labels):,} CIFAR-10 {split} images"
        detail = (f"The reference checkpoint reaches {reference:.4f} on the same images.",)
        if accuracy >= target:
            return Verdict.passed(f"{file} ({builder}(**{name})): {where} {accuracy:.4f} (at least {target:.2f} "
                                  f"needed).", details=detail)
        counts = np.bincount(predicted, minlength=10)
        return Verdict.failed(f"{file} ({builder}(**{name})): {where} {accuracy:.4f}; at least {target:.2f} is "
                              f"needed.", details=(*detail, f"Predictions per class: {counts.tolist()}."),
                              hint="The grader feeds images normalised as in the tutorial: ToTensor(), then "
                                   "Normalize((0.5, 0.5, 0.5), (0.5, 0.5, 0.5)). Train with the same, tune "
                                   f"{name}, and save torch.save(model.state_dict(), {file!r}).")
    return judge


# --- (d) Tuning -------------------------------------------------------------------------------------

# TutorialNet's default sizes: part (a)'s parameter check, for the kind "tutorial"; its checkpoint a4_d.pt:
# part (c)'s checkpoint check.

class Structure(Record):
    layers: list[str]
    """The class names of the network's Conv2d and Linear modules, in order."""
    shape: list[int]
    """The shape of forward's output for 2 images."""
    config: str
    """repr(TUTORIAL_NET_CONFIG), its first 300 characters."""


def run_tutorial_structure(subject: Subject) -> Structure:
    import torch

    chosen = config(subject, "TUTORIAL_NET_CONFIG")
    model = build(subject, "TutorialNet", chosen)
    kinds = [type(m).__name__ for m in model.modules() if isinstance(m, torch.nn.Conv2d | torch.nn.Linear)]
    with torch.no_grad():
        shape = list(subject.invoke(model, torch.zeros(2, 3, 32, 32)).shape)
    return Structure(layers=kinds, shape=shape, config=repr(chosen)[:300])


def judge_tutorial_structure(got: Structure, expected: None, check: Check) -> Verdict:
    layers, what = got.layers, f"TutorialNet(**{got.config})"
    if sorted(layers) != ["Conv2d", "Conv2d", "Linear", "Linear", "Linear"]:
        return Verdict.failed(f"{what} has {layers.count('Conv2d')} convolutions and {layers.count('Linear')} "
                              f"linear layers; the tutorial's structure has 2 and 3, and part (d) allows no "
                              f"other layers.", hint="Tune the sizes (filters, kernel, hidden units), not the "
                                                     "number of layers.")
    if got.shape != [2, 10]:
        return Verdict.failed(f"{what} returns shape {tuple(got.shape)} for 2 images; expected (2, 10).")
    return Verdict.passed(f"{what} keeps the tutorial's two convolutions and three linear layers.")


# --- (e) Adversarial Attacks ------------------------------------------------------------------------

# FGSM on a fixed model.

def fgsm_inputs(n: int) -> tuple[np.ndarray, np.ndarray]:
    return probe_images(n, seed=20 + n), np.arange(n, dtype=np.int64) % 10


class Attacked(Record):
    attacked: np.ndarray
    """x' = fgsm(model, x, y, epsilon), for x of shape (n, 3, 32, 32)."""


def run_fgsm(n: int, epsilon: float):
    def run(subject: Subject) -> Attacked:
        import torch

        model = attack_model(attack_weights())
        x, y = fgsm_inputs(n)
        attacked = subject.call(MODULE, "fgsm", model, torch.from_numpy(x), torch.from_numpy(y), epsilon)
        return Attacked(attacked=to_array(attacked, "fgsm(model, x, y, epsilon)"))
    return run


class ReferenceAttack(Record):
    attacked: np.ndarray
    """The reference's x'."""
    sign: np.ndarray
    """The sign of the reference's step, -1, 0 or 1 per pixel."""


def expected_fgsm(n: int, epsilon: float):
    """The reference's fgsm on the same model and inputs, and its step's sign (the reference's fgsm
    with epsilon 1, less x: -1, 0 or 1 per pixel), for the hints."""
    def expected(subject: Subject) -> ReferenceAttack:
        import torch

        model = attack_model(attack_weights())
        x, y = fgsm_inputs(n)
        attacked = to_array(subject.call(MODULE, "fgsm", model, torch.from_numpy(x), torch.from_numpy(y), epsilon),
                            "the reference's fgsm")
        unit = to_array(subject.call(MODULE, "fgsm", model, torch.from_numpy(x), torch.from_numpy(y), 1.0),
                        "the reference's fgsm")
        return ReferenceAttack(attacked=attacked, sign=np.rint(unit - x))
    return expected


SIGN_SLACK = 1e-3
"""Share of the pixels (3 of one image's 3,072) whose step may go the other way than the reference's:
where the gradient is within float error of 0 (1 pixel of each of these inputs lies within 1e-5 of
the largest), its sign depends on how the loss was written (mean or sum, log_softmax or
cross_entropy). Any step of at most epsilon is accepted there; a wrong step moves nearly every pixel."""


def judge_fgsm(n: int, epsilon: float):
    def judge(got: Attacked, expected: ReferenceAttack, check: Check) -> Verdict:
        x, _ = fgsm_inputs(n)
        right, sign, attacked = expected.attacked, expected.sign, got.attacked
        if attacked.shape == x.shape:
            unsure = ~np.isclose(attacked, right, atol=CLOSE.atol, rtol=CLOSE.rtol) \
                & (np.abs(attacked - x) <= epsilon + 1e-6)
            if unsure.sum() <= SIGN_SLACK * x.size:
                right = np.where(unsure, attacked, right)
        what = f"fgsm(model, x, y, epsilon={epsilon:g}) on {n} image{'s' if n > 1 else ''}"
        comparison = compare_arrays("x'", got.attacked, right, CLOSE)
        if comparison.equal:
            return Verdict.passed(f"{what} equals x + epsilon * sign(grad_x CrossEntropy(model(x), y)).")
        hint = comparison.hint
        if attacked.shape == x.shape:
            step = attacked - x
            wrong = {"x - epsilon * sign(grad)": (np.allclose(attacked, x - epsilon * sign, atol=1e-5),
                                                  "The step has a minus sign: FGSM moves x up the loss, "
                                                  "x + epsilon * sign(grad), to make the model wrong."),
                     "x + epsilon * grad": (np.mean(np.sign(step) == sign) > 0.99
                                            and not np.allclose(np.abs(step), epsilon, atol=1e-5),
                                            "The sign() is missing: the step is epsilon * sign(grad), every "
                                            "pixel moving by exactly epsilon."),
                     "x": (np.allclose(attacked, x, atol=1e-5), "x came back unchanged: add epsilon * sign(grad) to it."),
                     "epsilon * sign(grad)": (np.allclose(attacked, epsilon * sign, atol=1e-5),
                                              "The step alone came back: return x + epsilon * sign(grad).")}
            for formula, (returned, why) in wrong.items():
                if returned:
                    hint = f"It returns {formula}. {why}"
                    break
        return Verdict.failed(f"{what} differs from x + epsilon * sign(grad_x CrossEntropy(model(x), y)).",
                              details=tuple(comparison.lines()), arrays=(comparison.report,),
                              hint=hint or "Differentiate the cross-entropy of model(x) and y with respect to "
                                           "x (x.requires_grad_(), or torch.autograd.grad), then step by "
                                           "epsilon * grad.sign().")
    return judge


MODES = ("train", "eval")
"""The modes the model is in when fgsm is called, in turn."""


class AfterCall(Record):
    """What one call of fgsm left on a model that was in one mode."""

    training_after: bool
    """model.training after the call."""
    changed: list[str]
    """The names of the parameters whose values the call changed."""
    grads: list[str]
    """The names of the parameters left with a .grad."""


class SideEffects(Record):
    modes: dict[str, AfterCall]
    """By the mode the model was in (MODES)."""
    input_changed: bool
    """Whether the caller's x changed."""
    input_requires_grad: bool
    """Whether the caller's x requires grad after the calls."""


def run_side_effects(subject: Subject) -> SideEffects:
    import torch

    model = attack_model(attack_weights())
    x, y = fgsm_inputs(3)
    x_in = torch.from_numpy(x.copy())
    modes: dict[str, AfterCall] = {}
    for mode in MODES:
        model.train(mode == "train")
        before = {name: p.detach().clone() for name, p in model.named_parameters()}
        subject.call(MODULE, "fgsm", model, x_in, torch.from_numpy(y), FGSM_EPSILON)
        modes[mode] = AfterCall(training_after=bool(model.training),
                                changed=[name for name, p in model.named_parameters()
                                         if not torch.equal(p.detach(), before[name])],
                                grads=[name for name, p in model.named_parameters() if p.grad is not None])
        for p in model.parameters():
            p.grad = None
    return SideEffects(modes=modes, input_changed=not np.array_equal(x_in.detach().numpy(), x),
                       input_requires_grad=bool(x_in.requires_grad))


def judge_side_effects(got: SideEffects, expected: None, check: Check) -> Verdict:
    problems = []
    for mode in MODES:
        after = got.modes[mode]
        if after.changed:
            problems.append(f"After fgsm on a model in {mode} mode, its parameters {after.changed} "
                            f"had changed: an attack changes the input, never the model.")
        if after.grads:
            problems.append(f"After fgsm, the parameters {after.grads} have a .grad left behind "
                            f"(loss.backward() fills it): use torch.autograd.grad(loss, x), or clear it with "
                            f"model.zero_grad(set_to_none=True).")
        if after.training_after != (mode == "train"):
            problems.append(f"fgsm left a model that was in {mode} mode in "
                            f"{'train' if after.training_after else 'eval'} mode: restore "
                            f"model.training as you found it.")
    if got.input_changed:
        problems.append("fgsm changed the input tensor x in place: return a new tensor x' and leave x as it was.")
    if got.input_requires_grad:
        problems.append("fgsm set requires_grad on the caller's x: differentiate a copy, "
                        "x.detach().clone().requires_grad_(True).")
    if not problems:
        return Verdict.passed("fgsm leaves the model's parameters, their .grad, its train/eval mode and the "
                              "input x as they were.")
    return Verdict.failed("fgsm has side effects on the model or the input.", details=tuple(problems))


# FGSM against the student's part (d) network.

def attack_candidates(labels: np.ndarray) -> np.ndarray:
    """Training-image indices class by class in turn (airplane 0, automobile 0, ..., airplane 1, ...)."""
    per_class = [np.flatnonzero(labels == c) for c in range(10)]
    depth = max(len(p) for p in per_class)
    return np.array([p[i] for i in range(depth) for p in per_class if i < len(p)])


class Flips(Record):
    chosen: int
    """How many of the first 200 training images tried (at most 4) a4_d.pt classifies correctly:
    the images attacked. The other fields are None where there are none."""
    indices: np.ndarray | None = None
    """The attacked images' positions among the graded training images."""
    attacked: np.ndarray | None = None
    """The class a4_d.pt gives each attacked image, one row per epsilon of ATTACK_EPSILONS."""
    distance: np.ndarray | None = None
    """The largest change of a pixel at each epsilon."""
    originals: np.ndarray | None = None
    """For the report's picture only: the attacked images before the attack, uint8 (4, 32, 32, 3)."""
    attacked_images: np.ndarray | None = None
    """For the report's picture only: the images after the attack at each epsilon, (5, 4, 3, 32, 32)."""


def run_flips(subject: Subject) -> Flips:
    import torch

    model = graded_model(subject, "d")
    train = subject.inputs(GRADED["train"].name)
    x, labels = train["images"], train["labels"]
    order = attack_candidates(labels)[:200]
    right = order[predictions(subject, model, x[order], "TutorialNet") == labels[order]][:4]
    if len(right) == 0:
        return Flips(chosen=0)
    clean = normalise(x[right])
    x4, y4 = torch.from_numpy(clean), torch.from_numpy(labels[right])
    attacked, distance, images = [], [], []
    for epsilon in ATTACK_EPSILONS:
        out = to_array(subject.call(MODULE, "fgsm", model, x4, y4, epsilon), "fgsm(model, x, y, epsilon)")
        if out.shape != tuple(x4.shape):
            raise SubmissionError(f"fgsm returned shape {out.shape} for images of shape {tuple(x4.shape)}.")
        distance.append(float(np.abs(out - clean).max()))
        attacked.append(predictions(subject, model, out.astype(np.float32), "TutorialNet"))
        images.append(out.astype(np.float32))
    # The images themselves, for the report's picture only (the judge decides from the predictions).
    return Flips(chosen=len(right), indices=right, attacked=np.stack(attacked), distance=np.array(distance),
                 originals=x[right], attacked_images=np.stack(images))


class TrainingLabels(Record):
    labels: np.ndarray
    """The true classes of the graded training images, in their order."""


def expected_flips(subject: Subject) -> TrainingLabels:
    return TrainingLabels(labels=graded_labels(subject, "train"))


def judge_flips(got: Flips, expected: TrainingLabels, check: Check) -> Verdict:
    if got.chosen < 4:
        return Verdict.failed(f"Only {got.chosen} of the first 200 training images tried are classified correctly "
                              f"by a4_d.pt; the attack needs four.")
    indices = np.asarray(got.indices)
    if indices.dtype.kind not in "iu" or indices.shape != (4,) or indices.min() < 0 \
            or indices.max() >= len(expected.labels) or len(set(indices.tolist())) != 4:
        return Verdict.failed("The attack's four images could not be identified: the student half returned "
                              "indices that are not four distinct training images.")
    labels = expected.labels[indices]
    pixels = [f"{round(e * 0.5 * 255)}/255" for e in ATTACK_EPSILONS]
    details = []
    for step, (epsilon, shown, distance, predicted) in enumerate(zip(ATTACK_EPSILONS, pixels, got.distance,
                                                                     got.attacked)):
        names = [cifar10.CLASSES[p] for p in predicted]
        details.append(f"epsilon {epsilon:.4f} ({shown} of the pixel range): predictions {names}, largest change "
                       f"{distance:.4f}.")
        if distance > epsilon * (1 + 1e-4) + 1e-6:
            return Verdict.failed(f"fgsm moved a pixel by {distance:.4f} with epsilon {epsilon:.4f}: an FGSM step "
                                  f"moves each pixel by at most epsilon.", details=tuple(details),
                                  figures=attack_pictures(got, labels, step))
        flipped = int(np.sum(predicted != labels))
        if flipped:
            return Verdict.passed(f"FGSM with epsilon {epsilon:.4f} ({shown} of the pixel range) changes the class "
                                  f"of {flipped} of four correctly classified training images.",
                                  details=(f"True labels: {[cifar10.CLASSES[y] for y in labels]}.", *details),
                                  figures=attack_pictures(got, labels, step))
    return Verdict.failed(f"fgsm changed none of four correctly classified training images, for every epsilon up to "
                          f"{ATTACK_EPSILONS[-1]:.4f} ({pixels[-1]} of the pixel range).",
                          details=(f"True labels: {[cifar10.CLASSES[y] for y in labels]}.", *details),
                          hint="Check the sign of the step (x + epsilon * sign(grad) raises the loss) and that "
                               "the gradient is taken of the loss for the true labels y.",
                          figures=attack_pictures(got, labels, len(ATTACK_EPSILONS) - 1))


def attack_pictures(got: Flips, labels: np.ndarray, step: int):
    """The four images before and after the attack at ATTACK_EPSILONS[step], each with the class the
    student's own a4_d.pt gives it, and the step drawn magnified (grey is no change)."""
    originals, attacked = got.originals, got.attacked_images
    if not (isinstance(originals, np.ndarray) and originals.dtype == np.uint8 and originals.shape == (4, 32, 32, 3)
            and isinstance(attacked, np.ndarray) and attacked.dtype.kind == "f"
            and attacked.shape == (len(ATTACK_EPSILONS), 4, 3, 32, 32)):
        return ()
    epsilon, before, after = ATTACK_EPSILONS[step], normalise(originals), attacked[step]
    predicted = got.attacked[step]
    return figures.image_grid(
        f"FGSM at epsilon {epsilon:.4f} ({round(epsilon * 0.5 * 255)}/255 of the pixel range) on four training "
        "images, classified by your a4_d.pt",
        [("before: the true class (your network's too)", before), ("after: your network's class", after),
         ("the change, magnified", (after - before) / epsilon)],
        shape=(3, 32, 32), channels_first=True, value_range=(-1.0, 1.0),
        captions={0: [cifar10.CLASSES[y] for y in labels],
                  1: [cifar10.CLASSES[p] + (" (changed)" if p != y else "") for p, y in zip(predicted, labels)]})


PROBLEM = Problem(
    id="a4",
    title="CIFAR-10 networks and FGSM",
    files=("hw4_a4.py",),
    # Handout ../shared/seeds/000_2b7f888c5a23a7ac.txt, A4 (60 points): a [15] (line 94), b [15] (line 100),
    # c [15] (line 106), d [5] (line 118), e [10] (line 119); plots in the PDF, the parts go to the code (spec).
    parts={"a": 15.0, "b": 15.0, "c": 15.0, "d": 5.0, "e": 10.0},
    checks=(
        Check(id="a4.logistic.parameters", part="a", points=5,
              claim="LogisticRegression has W (10 x 3072) and b (10) and nothing else",
              run=run_parameters("logistic"), judge=judge_parameters("logistic")),
        Check(id="a4.logistic.forward_formula", part="a", points=10,
              claim="LogisticRegression computes W vec(x) + b for given weights",
              run=run_forward("logistic"), expected=expected_forward("logistic"), judge=judge_forward("logistic")),
        Check(id="a4.hidden.parameters", part="b", points=5,
              claim="OneHiddenLayer(M) has W_1 (M x 3072), b_1, W_2 (10 x M), b_2",
              run=run_parameters("hidden"), judge=judge_parameters("hidden")),
        Check(id="a4.hidden.forward_formula", part="b", points=10,
              claim="OneHiddenLayer computes W_2 relu(W_1 vec(x) + b_1) + b_2 for given weights",
              run=run_forward("hidden"), expected=expected_forward("hidden"), judge=judge_forward("hidden")),
        Check(id="a4.convpool.parameters", part="c", points=3,
              claim="ConvPool(M, k, N) has a k x k convolution with M filters and biases, and one linear layer",
              run=run_parameters("convpool"), judge=judge_parameters("convpool")),
        Check(id="a4.convpool.pooled_size", part="c", points=4,
              claim="ConvPool's linear layer takes M * floor((33 - k) / N)^2 inputs for several (M, k, N)",
              run=run_pooled_size, judge=judge_pooled_size),
        Check(id="a4.convpool.forward_formula", part="c", points=4,
              claim="ConvPool computes W_2 vec(MaxPool(relu(Conv2d(x, W_1) + b_1))) + b_2 for given weights",
              run=run_forward("convpool"), expected=expected_forward("convpool"), judge=judge_forward("convpool")),
        Check(id="a4.convpool.checkpoint_test_accuracy", part="c", points=4, timeout=120.0,
              artifacts=("a4_c.pt",), data=(cifar10.DATASET,), inputs=(GRADED["test"],),
              claim="a4_c.pt (ConvPool(**CONV_POOL_CONFIG)) reaches at least 0.70 test accuracy",
              run=run_checkpoint("c", "test"), expected=expected_checkpoint("c", "test"), judge=judge_checkpoint("c")),
        Check(id="a4.tutorial.default_sizes", part="d", points=1,
              claim="TutorialNet() is the tutorial's network",
              run=run_parameters("tutorial"), judge=judge_parameters("tutorial")),
        Check(id="a4.tutorial.core_structure", part="d", points=1,
              claim="TutorialNet(**TUTORIAL_NET_CONFIG) keeps two convolutions and three linear layers",
              run=run_tutorial_structure, judge=judge_tutorial_structure),
        Check(id="a4.tutorial.checkpoint_train_accuracy", part="d", points=3, timeout=120.0,
              artifacts=("a4_d.pt",), data=(cifar10.DATASET,), inputs=(GRADED["train"],),
              claim="a4_d.pt (TutorialNet(**TUTORIAL_NET_CONFIG)) reaches at least 0.87 train accuracy",
              run=run_checkpoint("d", "train"), expected=expected_checkpoint("d", "train"),
              judge=judge_checkpoint("d")),
        Check(id="a4.fgsm.formula", part="e", points=3,
              claim="fgsm returns x + epsilon * sign(grad_x CrossEntropy(model(x), y)) for one image",
              run=run_fgsm(1, FGSM_EPSILON), expected=expected_fgsm(1, FGSM_EPSILON), judge=judge_fgsm(1, FGSM_EPSILON)),
        Check(id="a4.fgsm.batch", part="e", points=2,
              claim="fgsm follows the formula for a batch of images with different labels",
              run=run_fgsm(FGSM_BATCH, FGSM_EPSILON), expected=expected_fgsm(FGSM_BATCH, FGSM_EPSILON),
              judge=judge_fgsm(FGSM_BATCH, FGSM_EPSILON)),
        Check(id="a4.fgsm.epsilon_zero", part="e", points=1,
              claim="fgsm with epsilon 0 returns x",
              run=run_fgsm(2, 0.0), expected=expected_fgsm(2, 0.0), judge=judge_fgsm(2, 0.0)),
        Check(id="a4.fgsm.no_side_effects", part="e", points=2,
              claim="fgsm leaves the model's parameters, their .grad, its mode and the input unchanged",
              run=run_side_effects, judge=judge_side_effects),
        Check(id="a4.fgsm.flips_trained_predictions", part="e", points=2, timeout=120.0,
              artifacts=("a4_d.pt",), data=(cifar10.DATASET,), inputs=(GRADED["train"],),
              claim="fgsm changes the class of at least one of four correctly classified training images",
              run=run_flips, expected=expected_flips, judge=judge_flips),
    ),
)
