"""P2 of umn-csci5527-hw3: the reference passes, the template fails cleanly, and each classic fault
of a hand-written optimiser loses exactly its checks with a message that names it.

Code faults are graded without checkpoints, so the checkpoint check fails there with "not found";
checkpoint faults are graded on a synthetic MNIST (loading errors) or on the real one (accuracy).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
from conftest import HW3, Fault, by_id, lost, mutate, reference_text

from autograder.assignments.umn_csci5527_hw3 import p2
from autograder.config import REPO_ROOT
from autograder.data import mnist

FILE = "hw3_p2.py"
CHECKPOINT_CHECK = "p2.checkpoints.accuracy_98"
ALL = {c.id for c in p2.PROBLEM.checks}
REFERENCE_DIR = REPO_ROOT / "reference" / HW3


def p2_lost(g) -> set[str]:
    return {i for i in lost(g) if i.startswith("p2.")}


def explain(g) -> list[str]:
    """What the lost checks said: shown when a lost-set assertion fails."""
    return [f"{c.id}: {c.feedback.summary}" for c in g.checks if c.id in p2_lost(g)]


@pytest.fixture(scope="module")
def reference():
    return reference_text(HW3, FILE)


REFERENCE_CHECKPOINTS = {f: REFERENCE_DIR / f for f in p2.CHECKPOINTS.values()}
FAILED_BY_TEST = {CHECKPOINT_CHECK: "test_checkpoints_at_97_percent_lose_only_the_target"}


def test_reference_passes_every_code_check(grade_hw3, reference):
    g = grade_hw3({FILE: reference})
    assert p2_lost(g) == {CHECKPOINT_CHECK}, explain(g)
    missing = by_id(g, CHECKPOINT_CHECK).feedback
    assert missing.summary == "0 of 3 checkpoints reach 98% test accuracy; at least 2 must."
    assert missing.details[0] == "p2_adagrad.pt was not found in the submission."


def test_template_scores_zero_with_clear_messages(grade_hw3):
    g = grade_hw3({FILE: (REPO_ROOT / "student_template" / HW3 / FILE).read_text()})
    checks = [c for c in g.checks if c.problem == "p2"]
    assert sum(c.score for c in checks) == 0 and {c.id for c in checks} == ALL
    for c in checks:
        if c.id == CHECKPOINT_CHECK:
            assert c.feedback.summary == "`make_model` in hw3_p2.py is not implemented yet: it raises NotImplementedError."
        elif c.id == "p2.no_torch_optim.source":  # no torch.optim in the template, but nothing written either
            assert c.feedback.summary.startswith("Not graded yet: Adagrad.step is, RMSprop.step is, Adam.step is "
                                                 "not implemented")
        else:
            assert "is not implemented yet: it raises NotImplementedError" in c.feedback.summary, c.id


TORCH_ADAM_INSIDE = '''

class Adam:
    """Delegates to torch's own Adam: what the ban is for."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        self.inner = torch.optim.Adam(params, lr=lr, betas=betas, eps=eps)

    def zero_grad(self):
        self.inner.zero_grad()

    def step(self):
        self.inner.step()
'''

HIDDEN_TORCH_ADAM = TORCH_ADAM_INSIDE.replace("torch.optim.Adam(", "__import__('importlib').import_module('torch.' + 'optim').Adam(")

ADAM = {"p2.adam.matches_torch", "p2.adam.first_step_is_lr"}
FAULTS = {  # each mistake, the p2 checks it loses besides the checkpoints (absent here), and what they say
    "adam_without_bias_correction": Fault(
        [("            m_hat = m / correction1\n            v_hat = v / correction2\n",
          "            m_hat = m\n            v_hat = v.clone()\n")],
        ADAM, ["Your Adam first differs from torch.optim.Adam", "after step 1 of 20",
               "bias correction is missing or applied to the wrong moment", "3.16 x lr"]),
    "adam_correction_on_wrong_moment": Fault(
        [("            m_hat = m / correction1\n            v_hat = v / correction2\n",
          "            m_hat = m / correction2\n            v_hat = v / correction1\n")],
        ADAM, ["bias correction is missing or applied to the wrong moment", "1e+03 x lr"]),
    "rmsprop_without_square_root": Fault(
        [("p.addcdiv_(g, v.sqrt().add_(self.eps), value=-self.lr)",
          "p.addcdiv_(g, v.add(self.eps), value=-self.lr)")],
        {"p2.rmsprop.matches_torch"}, ["Your RMSprop first differs", "Is the square root of v missing"]),
    "adagrad_accumulator_reset_each_step": Fault(
        [('total = state.setdefault("sum", torch.zeros_like(p))',
          'total = state["sum"] = torch.zeros_like(p)')],
        {"p2.adagrad.matches_torch"}, ["Your Adagrad first differs", "after step 2 of 20",
                                       "sum of squared gradients seems to restart at every step"]),
    "four_weight_layers": Fault(
        [("        nn.Linear(128, 10),\n",
          "        nn.Linear(128, 64), nn.ReLU(),\n        nn.Linear(64, 10),\n")],
        {"p2.make_model.three_weight_layers"}, ["make_model() has 4 weight layers", "exactly 3"]),
    "train_never_steps": Fault(
        [("            optimizer.step()\n",
          "")],
        {"p2.train.mean_loss_per_epoch"}, ["train did not change the model's parameters"]),
    "ten_outputs_forgotten": Fault(
        [("        nn.Linear(128, 10),\n", "        nn.Linear(128, 1),\n")],
        {"p2.make_model.ten_outputs"}, ["an output of shape (5, 1); expected (5, 10)", "a layer of 10 outputs"]),
    "adam_delegates_to_torch_optim": Fault(
        [("        history.append(total / count)\n    return history\n",
          "        history.append(total / count)\n    return history\n" + TORCH_ADAM_INSIDE)],
        ADAM | {"p2.no_torch_optim.source", "p2.no_torch_optim.runtime"}, ["uses torch.optim"]),
}


@pytest.mark.parametrize("name", list(FAULTS))
def test_fault_loses_exactly_its_checks(grade_hw3, reference, name):
    fault = FAULTS[name]
    g = grade_hw3({FILE: fault.apply(reference)})
    dataclasses.replace(fault, lost=fault.lost | {CHECKPOINT_CHECK}).assert_graded(g, "p2")


def test_adam_calling_torch_optim_loses_the_ban_and_adam(grade_hw3, reference):
    g = grade_hw3({FILE: reference + TORCH_ADAM_INSIDE})
    assert p2_lost(g) == ADAM | {"p2.no_torch_optim.source", "p2.no_torch_optim.runtime", CHECKPOINT_CHECK}, explain(g)
    line = 1 + next(i for i, text in enumerate((reference + TORCH_ADAM_INSIDE).splitlines()) if "torch.optim.Adam(" in text)
    assert by_id(g, "p2.no_torch_optim.source").feedback.summary.startswith(
        f"hw3_p2.py uses torch.optim at line {line}: `torch.optim`.")
    assert by_id(g, "p2.no_torch_optim.runtime").feedback.summary == (
        "Adam used torch.optim while stepping: torch.optim.Optimizer.__init__ (a torch optimiser was created, "
        "or a class derived from torch.optim.Optimizer).")
    assert "Adam's steps were taken with torch.optim, not by your code" in by_id(g, "p2.adam.matches_torch").feedback.summary


def test_torch_optim_hidden_from_the_source_is_caught_at_run_time(grade_hw3, reference):
    g = grade_hw3({FILE: reference + HIDDEN_TORCH_ADAM})
    assert p2_lost(g) == ADAM | {"p2.no_torch_optim.runtime", CHECKPOINT_CHECK}, explain(g)
    assert "torch.optim.Adam.step" in " ".join(by_id(g, "p2.no_torch_optim.runtime").feedback.details)


def test_subclassing_torch_optimizer_is_banned_too(grade_hw3, reference):
    text = mutate(reference, "class _Optimizer:\n", "class _Optimizer(torch.optim.Optimizer):\n")
    text = mutate(text, "        self.params = [p for p in params]\n",
                  "        self.params = [p for p in params]\n        super().__init__(self.params, {})\n")
    g = grade_hw3({FILE: text})
    assert {"p2.no_torch_optim.source", "p2.no_torch_optim.runtime"} <= p2_lost(g)
    assert "from torch" not in by_id(g, "p2.no_torch_optim.source").feedback.summary
    assert "`torch.optim`" in by_id(g, "p2.no_torch_optim.source").feedback.summary


def test_checkpoint_that_does_not_fit_make_model_is_named(grade_hw3, reference):
    four_layers = FAULTS["four_weight_layers"].apply(reference)
    g = grade_hw3({FILE: four_layers, **REFERENCE_CHECKPOINTS})
    result = by_id(g, CHECKPOINT_CHECK)
    assert result.score == 0 and result.feedback.summary.startswith("0 of 3 checkpoints reach 98% test accuracy")
    assert "p2_adagrad.pt does not fit the model built by make_model()" in result.feedback.details[0]
    assert "Missing key(s)" in result.feedback.details[0] or "Unexpected key(s)" in result.feedback.details[0]


def test_checkpoint_that_is_not_a_state_dict_is_named(grade_hw3, reference):
    files = {**REFERENCE_CHECKPOINTS, "p2_adam.pt": b"not a checkpoint"}
    g = grade_hw3({FILE: reference, **files})
    details = by_id(g, CHECKPOINT_CHECK).feedback.details
    assert details[2].startswith("p2_adam.pt could not be loaded with torch.load(..., weights_only=True)")


# --- real MNIST ---------------------------------------------------------------------------------

def _degraded(source: Path, target_accuracy: float, folder: Path, data_root: Path) -> Path:
    """The checkpoint with Gaussian noise on its weights, scaled so that it scores ~target_accuracy."""
    import torch

    namespace: dict = {}
    exec(compile(reference_text(HW3, FILE), FILE, "exec"), namespace)
    root = data_root / "mnist"
    x = torch.from_numpy(mnist.load_images(root, "test").astype(np.float32) / 255.0).unsqueeze(1)
    y = torch.from_numpy(mnist.load_labels(root, "test").astype(np.int64))
    state = torch.load(source, weights_only=True)
    noise = {k: torch.randn(v.shape, generator=torch.Generator().manual_seed(1)) * v.std() for k, v in state.items()}
    model = namespace["make_model"]().eval()

    def accuracy(scale: float) -> float:
        model.load_state_dict({k: v + scale * noise[k] for k, v in state.items()})
        with torch.no_grad():
            return float((model(x).argmax(1) == y).float().mean())

    low, high = 0.0, 1.0
    for _ in range(20):
        middle = (low + high) / 2
        low, high = (middle, high) if accuracy(middle) > target_accuracy else (low, middle)
    accuracy(high)
    path = folder / "degraded.pt"
    torch.save(model.state_dict(), path)
    return path


@pytest.mark.realdata
def test_reference_scores_full_marks_on_real_mnist(grade_hw3, reference, real_root):
    g = grade_hw3({FILE: reference, **REFERENCE_CHECKPOINTS}, real=True)
    assert p2_lost(g) == set(), explain(g)
    assert sum(c.score for c in g.checks if c.problem == "p2") == 4.5
    accuracies = [float(line.rsplit(" ", 1)[1]) for line in by_id(g, CHECKPOINT_CHECK).feedback.details]
    assert min(accuracies) >= 0.98


@pytest.mark.realdata
def test_checkpoints_at_97_percent_lose_only_the_target(grade_hw3, reference, tmp_path, real_root):
    degraded = _degraded(REFERENCE_DIR / "p2_adam.pt", 0.97, tmp_path, real_root)
    two_bad = {**REFERENCE_CHECKPOINTS, "p2_adam.pt": degraded, "p2_rmsprop.pt": degraded}
    g = grade_hw3({FILE: reference, **two_bad}, real=True)
    assert p2_lost(g) == {CHECKPOINT_CHECK}, explain(g)
    result = by_id(g, CHECKPOINT_CHECK)
    assert result.feedback.summary == "1 of 3 checkpoints reach 98% test accuracy; at least 2 must."
    assert result.feedback.details[2].startswith("p2_adam.pt: test accuracy ")
    assert 0.965 < float(result.feedback.details[2].rsplit(" ", 1)[1]) < 0.975
    one_bad = {**REFERENCE_CHECKPOINTS, "p2_adam.pt": degraded}
    assert p2_lost(grade_hw3({FILE: reference, **one_bad}, real=True)) == set()


@pytest.mark.realdata
def test_two_good_checkpoints_of_three_earn_the_point(grade_hw3, reference, real_root):
    """The handout gives (e) for "any two of (b), (c) and (d)": a missing third costs nothing."""
    two = {f: p for f, p in REFERENCE_CHECKPOINTS.items() if f != "p2_adagrad.pt"}
    g = grade_hw3({FILE: reference, **two}, real=True)
    assert p2_lost(g) == set(), explain(g)
    assert by_id(g, CHECKPOINT_CHECK).feedback.details[0] == "p2_adagrad.pt was not found in the submission."


# --- train: the values it returns are the epochs' real mean losses --------------------------------

TRAIN = "p2.train.mean_loss_per_epoch"
MADE_UP_CURVE = '''

def train(model, optimizer, loader, epochs):
    """Nudges the parameters with one batch, then reports a curve that looks like training."""
    images, labels = next(iter(loader))
    optimizer.zero_grad()
    F.cross_entropy(model(images), labels).backward()
    optimizer.step()
    return [3.0, 2.0, 1.0]
'''


def _train_feedback(g) -> str:
    c = by_id(g, TRAIN)
    return " ".join([c.feedback.summary, *c.feedback.details, c.feedback.hint or ""])


@pytest.mark.parametrize("text, words", [
    (lambda ref: ref + MADE_UP_CURVE,
     "train returned [3.0, 2.0, 1.0], but it called loss.backward() in 1 pass over the loader, not 3"),
    (lambda ref: mutate(ref, "    return history\n", "    return [3.0, 2.0, 1.0]\n"),  # trains, reports made-up values
     "train returned [3.0, 2.0, 1.0], which are not the mean losses of its epochs: the losses of the batches it "
     "trained on average ["),
    (lambda ref: mutate(ref, "        history.append(total / count)\n", "        history.append(loss.item())\n"),
     "which are not the mean losses of its epochs"),  # the last batch's loss, a real student's slip
], ids=["made_up_curve_after_one_batch", "made_up_curve_after_training", "last_batch_loss"])
def test_train_returning_other_values_than_the_epoch_means_fails(grade_hw3, reference, text, words):
    g = grade_hw3({FILE: text(reference)})
    assert p2_lost(g) == {TRAIN, CHECKPOINT_CHECK}, explain(g)
    assert by_id(g, TRAIN).outcome.value == "failed"
    assert words in _train_feedback(g)


def test_train_returning_the_mean_of_batch_means_passes(grade_hw3, reference):
    """The handout's "mean loss per epoch" admits the mean over batches as well as the mean per image."""
    text = mutate(reference, "            total += loss.item() * len(labels)\n", "            total += loss.item()\n")
    text = mutate(text, "            count += len(labels)\n", "            count += 1\n")
    g = grade_hw3({FILE: text})
    assert p2_lost(g) == {CHECKPOINT_CHECK}, explain(g)
    assert by_id(g, TRAIN).feedback.summary.startswith("train returns the mean loss of each epoch, and it decreases")


# --- calls into the student's objects name the student's code, never the grader ------------------

STUDENT_NET = '''

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1, self.fc2, self.fc3 = nn.Linear(784, 256), nn.Linear(256, 128), nn.Linear(128, 10)

    def forward(self, x):
        x = x.view(-1, 28 * 28 * 3)  # kept from the CIFAR-10 version of the homework
        return self.fc3(F.relu(self.fc2(F.relu(self.fc1(x)))))


def make_model():
    return Net()
'''
MODEL_CHECKS = {"p2.make_model.ten_outputs", "p2.make_model.three_weight_layers"}


@pytest.mark.parametrize("text, summary, detail", [
    (lambda ref: mutate(ref, "def make_model() -> nn.Module:", "def make_model(hidden: int) -> nn.Module:"),
     "`make_model` in hw3_p2.py cannot be called as the handout specifies (missing a required argument: "
     "'hidden'). Keep the signature of the template.", None),
    (lambda ref: ref + STUDENT_NET,
     "`Net.forward` in hw3_p2.py raised RuntimeError: shape '[-1, 2352]' is invalid for input of size",
     "in Net.forward: `x = x.view(-1, 28 * 28 * 3)  # kept from the CIFAR-10 version of the homework`"),
    (lambda ref: ref + STUDENT_NET.replace("def forward(self, x):", "def forward(self, x, mask):"),
     "`Net.forward` in hw3_p2.py cannot be called as the handout specifies (missing a required argument: "
     "'mask'). Keep the signature of the template.", None),
], ids=["make_model_needs_an_argument", "forward_raises", "forward_needs_an_argument"])
def test_a_fault_met_inside_the_graders_helpers_names_the_students_code(grade_hw3, reference, text, summary, detail):
    g = grade_hw3({FILE: text(reference)})
    assert p2_lost(g) == MODEL_CHECKS | {CHECKPOINT_CHECK}, explain(g)  # no checkpoints in these uploads
    for c in (by_id(g, i) for i in MODEL_CHECKS):
        assert c.outcome.value == "error", (c.id, c.outcome)
        assert c.feedback.summary.startswith(summary), (c.id, c.feedback.summary)
        assert "not your fault" not in (c.feedback.hint or "")
        if detail:
            line = 1 + text(reference).splitlines().index("        x = x.view(-1, 28 * 28 * 3)  # kept from the "
                                                          "CIFAR-10 version of the homework")
            assert c.feedback.details == (f"hw3_p2.py, line {line}, {detail}",)
