"""P2: hand-written optimisers on MNIST (a 0.5, b 1, c 0.5, d 1.5, e 1 points), from `hw3_p2.py`.

The optimisers are compared with torch.optim's own, run by the trusted expected half on the same
fixed problem with the same hyperparameters: the student process never runs torch's optimisers
for the judge. Every student half that steps an optimiser runs under a watch on torch.optim, so
steps taken by torch itself are recognised and not credited. The ban on torch.optim covers the
whole module, its `Optimizer` base class included (the handout allows no built-in optimiser and
the spec says "no torch.optim inside them"): it is checked on the AST and at run time.

`train` is graded on the grader's model, optimiser and loader: the losses it passes to
`loss.backward()` are recorded, so that the values it returns are compared with each epoch's real
mean loss (`run_train`, `epoch_means`).

Points: each part's points go to the checks of its own optimiser, except that the ban takes 0.25
of (b) (the AST) and 0.125 of (c) (run time): it covers all three classes at once, and a fault
there costs the optimiser concerned its equivalence points as well.
"""

from __future__ import annotations

import ast
import contextlib
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np

from autograder.assignments.umn_csci5527_hw3.common import batched, calls_seen, test_images
from autograder.checkpoints import load_checkpoint
from autograder.compare import Tolerance, compare_arrays
from autograder.data import mnist
from autograder.model import Check, Problem, Verdict
from autograder.records import Record
from autograder.source import is_placeholder
from autograder.student import Subject, SubmissionError, to_array

MODULE = "hw3_p2"
FILE = "hw3_p2.py"
STEPS = 20
HYPERPARAMETERS = {
    # Chosen so that each classic fault shows within 20 steps: Adam's bias correction changes
    # the first step by a factor 3.16 with these betas, RMSprop's square root is a factor
    # 1/sqrt(1 - alpha) = 3.16 at step 1, and Adagrad's accumulator shrinks the steps from step 2.
    "Adagrad": {"lr": 0.1, "eps": 1e-10},
    "RMSprop": {"lr": 0.01, "alpha": 0.9, "eps": 1e-8},
    "Adam": {"lr": 0.01, "betas": (0.9, 0.999), "eps": 1e-8},
}
TRAJECTORY = Tolerance(atol=1e-7, rtol=1e-6)
"""float64 on a small problem: torch's and a faithful implementation agree to ~1e-15; the
tolerance only leaves room for a different but equivalent order of operations."""

FIRST_STEP_LR = 0.003
FIRST_STEP_RTOL = 1e-3
"""At t = 1 Adam moves each parameter by lr * g / (|g| + eps / sqrt(1 - beta2)...): exactly lr up
to eps / |g| ~ 1e-6 here; 1e-3 is three orders of magnitude looser and far tighter than any fault
(no correction: x3.16; corrections swapped or on one moment only: x0.0316 to x1000)."""

ACCURACY_TARGET = 0.98
CHECKPOINTS = {"Adagrad": "p2_adagrad.pt", "RMSprop": "p2_rmsprop.pt", "Adam": "p2_adam.pt"}
INPUT_SHAPE = (1, 28, 28)
"""Images reach the model as float32 (N, 1, 28, 28) in [0, 1], as torchvision's ToTensor makes them
(the template says so); a model that only takes (N, 784) gets flattened images instead."""


# --- the fixed problem and the torch.optim watch ------------------------------------------------

def fixed_problem():
    """Parameters and a loss of a small tanh network in float64 on seeded data."""
    import torch

    g = torch.Generator().manual_seed(5527)
    X = torch.randn(32, 6, generator=g, dtype=torch.float64)
    Y = torch.randn(32, 3, generator=g, dtype=torch.float64)
    params = [(torch.randn(6, 8, generator=g, dtype=torch.float64) * 0.5).requires_grad_(),
              (torch.randn(8, generator=g, dtype=torch.float64) * 0.1).requires_grad_(),
              (torch.randn(8, 3, generator=g, dtype=torch.float64) * 0.5).requires_grad_()]

    def loss():
        W1, b1, W2 = params
        return ((torch.tanh(X @ W1 + b1) @ W2 - Y) ** 2).mean()

    return params, loss


def _flat(params) -> np.ndarray:
    return np.concatenate([p.detach().numpy().ravel() for p in params])


def trajectory(subject: Subject, make_optimizer, steps: int) -> np.ndarray:
    """(steps + 1, n) parameters: the start, then after each zero_grad / backward / step."""
    params, loss = fixed_problem()
    optimizer = make_optimizer(params)
    zero_grad, step = subject.method(optimizer, "zero_grad"), subject.method(optimizer, "step")
    rows = [_flat(params)]
    for _ in range(steps):
        subject.invoke(zero_grad)
        loss().backward()
        subject.invoke(step)
        rows.append(_flat(params))
    return np.stack(rows)


@contextlib.contextmanager
def torch_optim_watch() -> Iterator[list[str]]:
    """Record every construction of a torch.optim optimiser (subclasses included), every call of a
    torch.optim optimiser's step and of its functional update, while the block runs."""
    import torch.optim

    calls: list[str] = []

    def noted(label: str):
        def note(*args, **kwargs) -> None:
            if label not in calls:
                calls.append(label)
        return note

    watched = [(torch.optim.Optimizer, "__init__", noted("torch.optim.Optimizer.__init__ (a torch optimiser was "
                                                         "created, or a class derived from torch.optim.Optimizer)"))]
    for name in dir(torch.optim):
        cls = getattr(torch.optim, name)
        if isinstance(cls, type) and issubclass(cls, torch.optim.Optimizer) and "step" in cls.__dict__:
            watched.append((cls, "step", noted(f"torch.optim.{name}.step")))
    for name in ("adagrad", "rmsprop", "adam", "adamw", "sgd"):
        module = getattr(torch.optim, name, None)
        if module is not None and callable(getattr(module, name, None)):
            watched.append((module, name, noted(f"torch.optim.{name}.{name}")))
    with calls_seen(watched):
        yield calls


# --- (a) A 3-layer neural network -----------------------------------------------------------------

def _images(n: int, seed: int):
    import torch

    return torch.rand((n, *INPUT_SHAPE), generator=torch.Generator().manual_seed(seed))


def _forward(subject: Subject, model: Any, x: Any) -> tuple[Any, str]:
    """The model's output on images x (N, 1, 28, 28), or on them flattened if it only takes (N, 784)."""
    try:
        return subject.invoke(model, x), "(N, 1, 28, 28)"
    except Exception as first:  # noqa: BLE001 - retried once with the other common layout
        try:
            return subject.invoke(model, x.flatten(1)), "(N, 784)"
        except Exception:  # noqa: BLE001 - report the first failure, which the template asks for
            raise first from None


class ModelOutputs(Record):
    output: np.ndarray
    """make_model()'s output on 5 random images."""
    layout: str
    """The layout the model took the images in: "(N, 1, 28, 28)", or "(N, 784)" flattened."""


def run_model_outputs(subject: Subject) -> ModelOutputs:
    import torch

    model = subject.call(MODULE, "make_model")
    if not isinstance(model, torch.nn.Module):
        raise SubmissionError(f"make_model() should return an nn.Module, but it returned a {type(model).__name__}.")
    model.eval()
    with torch.no_grad():
        out, layout = _forward(subject, model, _images(5, 1))
    return ModelOutputs(output=to_array(out, "make_model()(images)"), layout=layout)


def judge_model_outputs(got: ModelOutputs, expected: None, check: Check) -> Verdict:
    out = got.output
    if out.shape != (5, 10):
        return Verdict.failed(f"make_model() maps 5 images {got.layout} to an output of shape {out.shape}; "
                              f"expected (5, 10), one score per class.",
                              hint="End the network with a layer of 10 outputs.")
    if not np.isfinite(out).all():
        return Verdict.failed("make_model()'s outputs on 5 images contain NaN or infinity.")
    return Verdict.passed(f"make_model() maps images {got.layout} to 10 outputs each.")


class WeightLayers(Record):
    weight_layers: list[str]
    """"name (shape)" of each parameter of 2 or more dimensions that the forward pass used."""


def run_weight_layers(subject: Subject) -> WeightLayers:
    """Parameters with two or more dimensions (Linear and Conv weights) that the forward pass uses."""
    import torch

    model = subject.call(MODULE, "make_model")
    if not isinstance(model, torch.nn.Module):
        raise SubmissionError(f"make_model() should return an nn.Module, but it returned a {type(model).__name__}.")
    model.train()
    out, _ = _forward(subject, model, _images(4, 2))
    out.float().sum().backward()
    used = [f"{name} {tuple(p.shape)}" for name, p in model.named_parameters()
            if p.ndim >= 2 and p.grad is not None]
    return WeightLayers(weight_layers=used)


def judge_weight_layers(got: WeightLayers, expected: None, check: Check) -> Verdict:
    layers = got.weight_layers
    if len(layers) == 3:
        return Verdict.passed(f"make_model() has three weight layers: {'; '.join(layers)}.")
    return Verdict.failed(
        f"make_model() has {len(layers)} weight layers used by its forward pass; the handout asks for exactly 3.",
        details=("Weight layers (parameters of 2 or more dimensions, as in Linear and Conv layers): "
                 + ("; ".join(layers) or "none") + ".",),
        hint="Activations, dropout, pooling and batch normalisation do not count; Linear and Conv layers do.")


TRAIN_LR = 0.1
"""train is graded with torch's own plain SGD at this rate (`run_train`): an optimiser of the grader,
so that train is graded on its own, whatever the student's optimisers do."""
TRAIN_EPOCHS = 3
TRAIN_BATCH = 48
"""128 toy images in batches of 48, 48 and 32: with unequal batches the mean of the batch means and
the mean per image differ, so the check sees which one `train` returned, and accepts both."""


class _Loader:
    """The loader handed to `train`: fixed batches, with `len`, `dataset` and `batch_size` as a
    DataLoader has them, that counts the passes over it so that each loss is given its epoch."""

    def __init__(self, images, labels):
        from torch.utils.data import TensorDataset

        self.dataset, self.batch_size = TensorDataset(images, labels), TRAIN_BATCH
        self.batches = [(images[i:i + TRAIN_BATCH], labels[i:i + TRAIN_BATCH])
                        for i in range(0, len(labels), TRAIN_BATCH)]
        self.passes, self.current = 0, 0  # passes started; the size of the batch last handed out

    def __len__(self) -> int:
        return len(self.batches)

    def __iter__(self):
        self.passes += 1
        for images, labels in self.batches:
            self.current = len(labels)
            yield images, labels


def _toy_loader() -> _Loader:
    """128 images whose label is the brightest of ten horizontal bands: learnable in 3 epochs."""
    import torch

    g = torch.Generator().manual_seed(3)
    labels = torch.randint(0, 10, (128,), generator=g)
    images = torch.rand((128, *INPUT_SHAPE), generator=g) * 0.2
    for i, label in enumerate(labels.tolist()):
        images[i, 0, 2 * label + 4:2 * label + 6, :] += 0.8
    return _Loader(images, labels)


class Training(Record):
    losses: np.ndarray
    """What train returned: the mean loss of each epoch."""
    moved: bool
    """Whether train changed the model's parameters."""
    passes: np.ndarray
    """For each loss.backward() train called: the passes over the loader started by then (its epoch)."""
    batch_loss: np.ndarray
    """For each loss.backward(): the loss backpropagated (the mean of a non-scalar one)."""
    batch_size: np.ndarray
    """For each loss.backward(): the size of the batch the loader last handed out."""


def run_train(subject: Subject) -> Training:
    """The student's train on the grader's model, optimiser and loader, and the loss of every batch
    it trained on, recorded as loss.backward() ran: the epochs' real mean losses come from those."""
    import torch

    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(784, 32), torch.nn.ReLU(), torch.nn.Linear(32, 10))
    before = _flat(model.parameters())
    loader = _toy_loader()
    backpropagated: list[tuple[int, float, int]] = []

    def record(tensors, *args, **kwargs) -> None:
        if isinstance(tensors, torch.Tensor):  # a batch's loss; the mean of a non-scalar one
            backpropagated.append((loader.passes, float(tensors.detach().double().mean()), loader.current))

    with calls_seen([(torch.autograd, "backward", record)]):
        losses = subject.call(MODULE, "train", model, torch.optim.SGD(model.parameters(), lr=TRAIN_LR), loader,
                              TRAIN_EPOCHS)
    if not isinstance(losses, list | tuple):
        raise SubmissionError(f"train(...) should return a list of floats, one per epoch, "
                              f"but it returned a {type(losses).__name__}.")
    passes, values, sizes = zip(*backpropagated) if backpropagated else ((), (), ())
    return Training(losses=to_array([float(v) for v in losses], "train(...)"),
                    moved=bool(np.abs(_flat(model.parameters()) - before).max() > 0),
                    passes=np.array(passes, dtype=np.int64), batch_loss=np.array(values, dtype=np.float64),
                    batch_size=np.array(sizes, dtype=np.int64))


EPOCH_MEAN = Tolerance(atol=1e-6, rtol=1e-4)
"""The returned means against those recomputed from the recorded batch losses. Summed as Python
floats in any order they agree to ~1e-15; summed as float32 tensors, to ~1e-6: 1e-4 leaves room
for that, and made-up, stale or per-batch values miss by far more (whole percents)."""


def epoch_means(got: Training) -> dict[str, np.ndarray]:
    """The real mean loss of each epoch, under every reading of "mean loss per epoch" the handout
    admits, from the losses train backpropagated. A pass over the loader without loss.backward()
    (an evaluation) is not an epoch of training and is left out."""
    passes, values, sizes = got.passes, got.batch_loss, got.batch_size
    epochs = [(values[passes == k], sizes[passes == k]) for k in np.unique(passes[passes > 0])]
    return {
        "the mean of the batch losses": np.array([v.mean() for v, n in epochs]),
        "the mean per image, batch means weighted by batch size": np.array([v @ n / n.sum() for v, n in epochs]),
        "the mean per image, batch sums divided by the number of images": np.array(
            [v.sum() / n.sum() for v, n in epochs]),
    }


def _not_the_epoch_means(losses: np.ndarray, means: dict[str, np.ndarray]) -> Verdict | None:
    """None when `losses` are the epochs' mean losses under one of the readings."""
    if any(m.shape == losses.shape and np.allclose(losses, m, atol=EPOCH_MEAN.atol, rtol=EPOCH_MEAN.rtol)
           for m in means.values()):
        return None
    returned = f"train returned {np.round(losses, 4).tolist()}"
    epochs = len(next(iter(means.values())))
    if epochs != TRAIN_EPOCHS:
        return Verdict.failed(
            f"{returned}, but it called loss.backward() in {epochs} pass{'' if epochs == 1 else 'es'} over the "
            f"loader, not {TRAIN_EPOCHS}: the returned values cannot be the mean losses of {TRAIN_EPOCHS} epochs.",
            hint="Each epoch is one pass over the loader: for images, labels in loader: zero_grad, loss, "
                 "loss.backward(), step.")
    return Verdict.failed(
        f"{returned}, which are not the mean losses of its epochs: the losses of the batches it trained on "
        f"average {np.round(means['the mean of the batch losses'], 4).tolist()} per epoch.",
        details=tuple(f"{reading}: {np.round(m, 4).tolist()}" for reading, m in means.items()),
        hint=f"Add up loss.item() over the batches of each epoch and divide by the number of batches (or weight by "
             f"the batch sizes and divide by the number of images); compared within {EPOCH_MEAN.describe()}.")


def judge_train(got: Training, expected: None, check: Check) -> Verdict:
    losses = got.losses
    if losses.shape != (TRAIN_EPOCHS,):
        return Verdict.failed(f"train(model, optimizer, loader, epochs=3) returned {losses.size} values; "
                              f"expected 3, the mean loss of each epoch.")
    if not np.isfinite(losses).all() or (losses < 0).any():
        return Verdict.failed(f"train returned {losses.tolist()}: losses must be finite and non-negative.")
    if not got.moved:
        return Verdict.failed("train did not change the model's parameters: call optimizer.step() after "
                              "loss.backward() for every batch.")
    fake = _not_the_epoch_means(losses, epoch_means(got))
    if fake is not None:
        return fake
    if not losses[-1] < losses[0]:
        return Verdict.failed(f"train's mean loss did not decrease over 3 epochs on an easy problem: "
                              f"{losses.tolist()}.", hint="Call optimizer.zero_grad() before loss.backward().")
    return Verdict.passed(f"train returns the mean loss of each epoch, and it decreases: "
                          f"{np.round(losses, 4).tolist()}.")


# --- (b) Adagrad ----------------------------------------------------------------------------------

class Trajectory(Record):
    trajectory: np.ndarray
    """(STEPS + 1, n) parameters of the fixed problem: the start, then after each step."""
    torch_optim: list[str]
    """What of torch.optim the steps called (torch_optim_watch); empty when nothing."""


def run_trajectory(name: str):
    def run(subject: Subject) -> Trajectory:
        with torch_optim_watch() as calls:
            path = trajectory(subject, lambda p: subject.call(MODULE, name, p, **HYPERPARAMETERS[name]), STEPS)
        return Trajectory(trajectory=path, torch_optim=calls)
    return run


class TorchTrajectory(Record):
    trajectory: np.ndarray
    """(STEPS + 1, n) parameters of the fixed problem under torch.optim's own optimiser."""


def expected_trajectory(name: str):
    def expected(subject: Subject) -> TorchTrajectory:
        import torch.optim

        return TorchTrajectory(trajectory=trajectory(
            subject, lambda p: getattr(torch.optim, name)(p, **HYPERPARAMETERS[name]), STEPS))
    return expected


def _borrowed(name: str, calls: list[str]) -> Verdict:
    return Verdict.failed(
        f"{name}'s steps were taken with torch.optim, not by your code: {calls[0]} was called.",
        details=tuple(f"Used: {c}" for c in calls),
        hint=f"Write {name} as a plain class that keeps its own state (no torch.optim anywhere, not even as a "
             f"base class) and updates each parameter inside torch.no_grad().")


def _sizes(step: np.ndarray) -> np.ndarray:
    return np.abs(step[np.abs(step) > 0])


def diagnose(name: str, got: np.ndarray, expected: np.ndarray) -> str:
    """The likely fault, from the student's step sizes; torch's update rule when none is recognised."""
    hyper = HYPERPARAMETERS[name]
    lr, steps = hyper["lr"], np.diff(got, axis=0)
    first = _sizes(steps[0])
    if name == "Adam" and first.size and not np.allclose(first, lr, rtol=FIRST_STEP_RTOL):
        return (f"Adam's first step should move every parameter by lr = {lr:g} (at t = 1, m_hat = g and v_hat = g^2); "
                f"yours moved them by {np.median(first) / lr:.3g} x lr (median): the bias correction is missing or "
                f"applied to the wrong moment. Use m_hat = m / (1 - beta1^t) and v_hat = v / (1 - beta2^t).")
    if name == "RMSprop" and first.size and first.max() > 1.5 * first.min():
        size = lr / np.sqrt(1 - hyper["alpha"])
        return (f"RMSprop's first step should move every parameter by the same amount, lr / sqrt(1 - alpha) = "
                f"{size:.4g}, since v = (1 - alpha) g^2; yours moved them by {first.min():.3g} to {first.max():.3g}. "
                f"Is the square root of v missing in the denominator (lr * g / (sqrt(v) + eps))?")
    if name == "Adagrad":
        later = np.concatenate([_sizes(s) for s in steps[1:]])
        if later.size and np.allclose(later, lr, rtol=1e-3):
            return (f"Every one of your Adagrad steps moves each parameter by exactly lr = {lr:g}: the sum of squared "
                    f"gradients seems to restart at every step. It must accumulate over all steps, kept in the "
                    f"optimiser's state between calls to step().")
    if np.allclose(got[1], expected[1], atol=TRAJECTORY.atol, rtol=TRAJECTORY.rtol):
        return ("The first step matches torch's; later ones do not: keep the optimiser's state (moments, "
                "accumulators, the step count t) between calls to step(), and let zero_grad() clear the gradients.")
    return f"Compare your update with the algorithm in the documentation of torch.optim.{name}."


def judge_trajectory(name: str):
    def judge(got: Trajectory, expected: TorchTrajectory, check: Check) -> Verdict:
        if got.torch_optim:
            return _borrowed(name, got.torch_optim)
        mine, theirs = got.trajectory, expected.trajectory
        if mine.shape != theirs.shape:
            return Verdict.failed(f"The parameters after {STEPS} steps of {name} have the wrong shape "
                                  f"{mine.shape}, expected {theirs.shape}: did step() replace a parameter?")
        close = np.isclose(mine, theirs, atol=TRAJECTORY.atol, rtol=TRAJECTORY.rtol).all(axis=1) \
            & np.isfinite(mine).all(axis=1)
        if close.all():
            return Verdict.passed(f"{STEPS} steps of your {name} match torch.optim.{name} within "
                                  f"{TRAJECTORY.describe()}.")
        k = int(np.argmin(close))
        comparison = compare_arrays(f"parameters after step {k}", mine[k], theirs[k], TRAJECTORY)
        settings = ", ".join(f"{key}={value}" for key, value in HYPERPARAMETERS[name].items())
        return Verdict.failed(
            f"Your {name} first differs from torch.optim.{name}({settings}) after step {k} of {STEPS}.",
            details=tuple(comparison.lines()), hint=diagnose(name, mine, theirs))
    return judge


def _banned(tree: ast.AST) -> Iterator[tuple[int, str]]:
    """(line, what) for every import of torch.optim and every use of torch.optim / optim.X."""
    aliases, torches = set(), {"torch"}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == "torch.optim" or alias.name.startswith("torch.optim."):
                    yield node.lineno, f"import {alias.name}"
                elif alias.name == "torch" and alias.asname:
                    torches.add(alias.asname)
        elif isinstance(node, ast.ImportFrom) and node.module:
            if node.module == "torch.optim" or node.module.startswith("torch.optim."):
                yield node.lineno, f"from {node.module} import {', '.join(a.name for a in node.names)}"
            elif node.module == "torch" and any(a.name == "optim" for a in node.names):
                aliases.update(a.asname or a.name for a in node.names if a.name == "optim")
                yield node.lineno, "from torch import optim"
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)):
            continue
        if (node.attr == "optim" and node.value.id in torches) or node.value.id in aliases:
            yield node.lineno, ast.unparse(node)


def _unwritten_steps(tree: ast.Module) -> list[str]:
    """The optimisers whose step() is missing or only raises NotImplementedError (the template's)."""
    classes = {node.name: node for node in tree.body if isinstance(node, ast.ClassDef)}

    def step_of(cls: ast.ClassDef, seen: set[str]) -> ast.FunctionDef | None:
        for node in cls.body:
            if isinstance(node, ast.FunctionDef) and node.name == "step":
                return node
        for base in cls.bases:  # a step inherited from a class of the same file
            if isinstance(base, ast.Name) and base.id in classes and base.id not in seen:
                found = step_of(classes[base.id], seen | {base.id})
                if found:
                    return found
        return None

    unwritten = []
    for name in HYPERPARAMETERS:
        step = step_of(classes[name], {name}) if name in classes else None
        if step is None or is_placeholder(step):
            unwritten.append(f"{name}.step is")
    return unwritten


def static_no_torch_optim(sources: Mapping[str, str], check: Check) -> Verdict:
    source = sources.get(FILE, "")
    try:
        tree = ast.parse(source, FILE)
    except SyntaxError as exc:
        return Verdict.failed(f"{FILE} could not be parsed (line {exc.lineno}: {exc.msg}), "
                              f"so the ban on torch.optim could not be checked.")
    found = sorted(set(_banned(tree)))
    unwritten = _unwritten_steps(tree)
    if not found and unwritten:
        return Verdict.failed(
            f"Not graded yet: {', '.join(unwritten)} not implemented, and the ban on torch.optim "
            f"is worth points only in a file whose optimisers are written.")
    if not found:
        return Verdict.passed(f"{FILE} neither imports nor uses torch.optim.")
    line, what = found[0]
    return Verdict.failed(
        f"{FILE} uses torch.optim at line {line}: `{what}`. No built-in optimiser is allowed in this problem.",
        details=tuple(f"line {n}: {w}" for n, w in found),
        hint="Remove every use of torch.optim, its Optimizer base class included: keep the parameters in a "
             "list and update them yourself.")


# --- (c) RMSprop ----------------------------------------------------------------------------------

class TorchOptimUse(Record):
    used: dict[str, list[str]]
    """By optimiser (HYPERPARAMETERS' names): what of torch.optim its steps called."""


def run_runtime_ban(subject: Subject) -> TorchOptimUse:
    """A few steps of each optimiser under the watch: which torch.optim pieces did they use?"""
    used = {}
    for name, hyper in HYPERPARAMETERS.items():
        with torch_optim_watch() as calls:
            trajectory(subject, lambda p, name=name, hyper=hyper: subject.call(MODULE, name, p, **hyper), 3)
        used[name] = calls
    return TorchOptimUse(used=used)


def judge_runtime_ban(got: TorchOptimUse, expected: None, check: Check) -> Verdict:
    used = {name: calls for name, calls in got.used.items() if calls}
    if not used:
        return Verdict.passed("Adagrad, RMSprop and Adam ran without calling anything from torch.optim.")
    return Verdict.failed(
        f"{', '.join(used)} used torch.optim while stepping: {next(iter(used.values()))[0]}.",
        details=tuple(f"{name}: {', '.join(calls)}" for name, calls in used.items()),
        hint="The handout allows no built-in optimiser: update the parameters with your own arithmetic.")


# --- (d) Adam -------------------------------------------------------------------------------------

class FirstStep(Record):
    step: np.ndarray
    """How far Adam's first step moved each parameter of the fixed problem (flat)."""
    gradient: np.ndarray
    """The gradient it stepped on (flat)."""
    torch_optim: list[str]
    """What of torch.optim the step called (torch_optim_watch); empty when nothing."""


def run_adam_first_step(subject: Subject) -> FirstStep:
    hyper = {**HYPERPARAMETERS["Adam"], "lr": FIRST_STEP_LR}
    params, loss = fixed_problem()
    with torch_optim_watch() as calls:
        optimizer = subject.call(MODULE, "Adam", params, **hyper)
        subject.invoke(subject.method(optimizer, "zero_grad"))
        loss().backward()
        gradient = np.concatenate([p.grad.detach().numpy().ravel() for p in params])
        start = _flat(params)
        subject.invoke(subject.method(optimizer, "step"))
    return FirstStep(step=_flat(params) - start, gradient=gradient, torch_optim=calls)


def judge_adam_first_step(got: FirstStep, expected: None, check: Check) -> Verdict:
    if got.torch_optim:
        return _borrowed("Adam", got.torch_optim)
    moving = np.abs(got.gradient) > 1e-6
    sizes = np.abs(got.step[moving]) / FIRST_STEP_LR
    if sizes.size and np.allclose(sizes, 1.0, rtol=FIRST_STEP_RTOL):
        return Verdict.passed(f"Adam's first step moves every parameter by lr = {FIRST_STEP_LR:g}: "
                              f"the bias correction is in place.")
    return Verdict.failed(
        f"Adam's first step (lr = {FIRST_STEP_LR:g}) moved the parameters by {np.min(sizes):.3g} to "
        f"{np.max(sizes):.3g} x lr; it should be exactly lr for every parameter: the bias correction is "
        f"missing or applied to the wrong moment.",
        hint="At t = 1, m = (1 - beta1) g and v = (1 - beta2) g^2; dividing m by 1 - beta1^t and v by 1 - beta2^t "
             "gives m_hat = g, v_hat = g^2, so the step is lr * g / |g|.")


# --- (e) A "98%" test -----------------------------------------------------------------------------

class Predictions(Record):
    predictions: dict[str, np.ndarray]
    """By optimiser (CHECKPOINTS' names): the class predicted for each test image, for the checkpoints that loaded."""
    problems: dict[str, str]
    """By optimiser: why its checkpoint could not be used (missing, or not fitting make_model())."""


def run_checkpoints(subject: Subject) -> Predictions:
    """Predicted classes of the 10,000 test images for each checkpoint (no labels here)."""
    import torch

    x = torch.from_numpy(test_images(subject)).reshape(-1, *INPUT_SHAPE)
    out: dict[str, np.ndarray] = {}
    problems = {}
    for name, file in CHECKPOINTS.items():
        model = subject.call(MODULE, "make_model")
        try:
            problem = load_checkpoint(subject, file, model, "make_model()")
        except SubmissionError as missing:  # two checkpoints of three can still earn the point
            problem = str(missing)
        if problem:
            problems[name] = problem
            continue
        model.eval()
        with torch.no_grad():
            chunks = batched(lambda b, model=model: _forward(subject, model, b)[0].argmax(dim=1).numpy(), x)
        out[name] = np.concatenate(chunks).astype(np.int64)
    return Predictions(predictions=out, problems=problems)


class Labels(Record):
    labels: np.ndarray
    """MNIST's 10,000 test labels."""


def expected_labels(subject: Subject) -> Labels:
    return Labels(labels=mnist.load_labels(subject.dataset(mnist.DATASET), "test").astype(np.int64))


def judge_checkpoints(got: Predictions, expected: Labels, check: Check) -> Verdict:
    labels = expected.labels
    lines, passed = [], []
    for name, file in CHECKPOINTS.items():
        if name in got.problems:
            lines.append(got.problems[name])
            continue
        predictions = got.predictions[name]
        if predictions.shape != labels.shape:
            lines.append(f"{file}: the model gave {predictions.shape} predictions for {labels.size} test images.")
            continue
        accuracy = float(np.mean(predictions == labels))
        lines.append(f"{file}: test accuracy {accuracy:.4f}")
        if accuracy >= ACCURACY_TARGET:
            passed.append(file)
    if len(passed) >= 2:
        return Verdict.passed(f"{len(passed)} of 3 checkpoints reach {ACCURACY_TARGET:.0%} test accuracy: "
                              f"{', '.join(passed)}.", details=tuple(lines))
    return Verdict.failed(
        f"{len(passed)} of 3 checkpoints reach {ACCURACY_TARGET:.0%} test accuracy; at least 2 must.",
        details=tuple(lines),
        hint="Train longer or with a smaller learning rate late in training; the network must stay three layers.")


PROBLEM = Problem(
    id="p2",
    title="Stochastic optimization methods for MNIST digit recognition",
    files=(FILE,),
    # Handout ../shared/seeds/002_7a7f64a6864d9a9d.txt, Problem 2 (4.5/15), lines 68-72: (a) 0.5, (b) 1,
    # (c) 0.5, (d) 1.5, (e) 1 (/15). The plots (b-d) are in the PDF; the spec gives each part to the code.
    parts={"a": 0.5, "b": 1.0, "c": 0.5, "d": 1.5, "e": 1.0},
    checks=(
        Check(id="p2.make_model.ten_outputs", part="a", points=0.125,
              claim="make_model() builds a network mapping 28x28 images to 10 outputs",
              run=run_model_outputs, judge=judge_model_outputs),
        Check(id="p2.make_model.three_weight_layers", part="a", points=0.25,
              claim="make_model() has exactly three weight layers",
              run=run_weight_layers, judge=judge_weight_layers),
        Check(id="p2.train.mean_loss_per_epoch", part="a", points=0.125,
              claim="train returns the real mean loss of each epoch, and the loss decreases on an easy problem",
              run=run_train, judge=judge_train),
        Check(id="p2.adagrad.matches_torch", part="b", points=0.75,
              claim=f"{STEPS} steps of Adagrad match torch.optim.Adagrad with the same hyperparameters",
              run=run_trajectory("Adagrad"), expected=expected_trajectory("Adagrad"),
              judge=judge_trajectory("Adagrad")),
        Check(id="p2.no_torch_optim.source", part="b", points=0.25,
              claim="hw3_p2.py neither imports nor uses torch.optim (checked on the source)",
              static=static_no_torch_optim),
        Check(id="p2.rmsprop.matches_torch", part="c", points=0.375,
              claim=f"{STEPS} steps of RMSprop match torch.optim.RMSprop with the same hyperparameters",
              run=run_trajectory("RMSprop"), expected=expected_trajectory("RMSprop"),
              judge=judge_trajectory("RMSprop")),
        Check(id="p2.no_torch_optim.runtime", part="c", points=0.125,
              claim="Adagrad, RMSprop and Adam call nothing from torch.optim while they run",
              run=run_runtime_ban, judge=judge_runtime_ban),
        Check(id="p2.adam.matches_torch", part="d", points=1.0,
              claim=f"{STEPS} steps of Adam match torch.optim.Adam with the same hyperparameters",
              run=run_trajectory("Adam"), expected=expected_trajectory("Adam"), judge=judge_trajectory("Adam")),
        Check(id="p2.adam.first_step_is_lr", part="d", points=0.5,
              claim="Adam's first step moves every parameter by lr (bias correction present)",
              run=run_adam_first_step, judge=judge_adam_first_step),
        Check(id="p2.checkpoints.accuracy_98", part="e", points=1.0, timeout=120.0,
              claim="at least two of p2_adagrad.pt, p2_rmsprop.pt, p2_adam.pt reach 98% MNIST test accuracy",
              run=run_checkpoints, expected=expected_labels, judge=judge_checkpoints,
              optional_artifacts=tuple(CHECKPOINTS.values()), data=(mnist.DATASET,),
              inputs=(mnist.TEST_IMAGES,)),
    ),
)
