"""A4 of uw-cse446-hw4: the reference passes every check (on synthetic CIFAR-10 with checkpoints
trained here, and on the real JPEG copies with the repository's checkpoints), the template scores 0
with "not implemented", and each fault of a real submission (FAULTS) loses exactly its checks, with
a message that names it."""

from __future__ import annotations

import importlib.util
import io
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from conftest import HW4, Fault, by_id, figures_shown, lost, mutate, real_data_root, reference, template, text_of
from PIL import Image

from autograder.assignments.uw_cse446_hw4 import a4
from autograder.config import REPO_ROOT
from autograder.data import cifar10
from autograder.model import Visibility

FILE = "hw4_a4.py"
ALL = {c.id for c in a4.PROBLEM.checks}
DATA_CHECKS = {c.id for c in a4.PROBLEM.checks if c.data}
FORMULA_CHECKS = {"a4.fgsm.formula", "a4.fgsm.batch"}
REPOSITORY_CHECKPOINTS = {name: REPO_ROOT / "reference" / HW4 / name for name in ("a4_c.pt", "a4_d.pt")}

STEP = "return (x + epsilon * grad.sign()).detach()"
AUTOGRAD = "    (grad,) = torch.autograd.grad(loss, x)\n    " + STEP
BACKWARD = "    loss.backward()\n    grad = x.grad\n    " + STEP

FAULTS: dict[str, Fault] = {
    # Graded with the checkpoints trained on the fake CIFAR-10 (fake_cifar): a fault that changes
    # what ConvPool(**CONV_POOL_CONFIG) or TutorialNet(**TUTORIAL_NET_CONFIG) builds also loses the
    # checks that load a4_c.pt or a4_d.pt into it.

    # --- part (a), (b): the linear models
    "logistic_regression_without_bias": Fault(
        [("self.linear = nn.Linear(3 * 32 * 32, 10)", "self.linear = nn.Linear(3 * 32 * 32, 10, bias=False)")],
        {"a4.logistic.parameters", "a4.logistic.forward_formula"},
        ["LogisticRegression() has 30,720 parameters of shapes [(10, 3072)]; the handout's network has 30,730"]),
    "logistic_regression_returns_probabilities": Fault(
        [("        return self.linear(torch.flatten(x, 1))",
          "        return F.softmax(self.linear(torch.flatten(x, 1)), dim=1)")],
        {"a4.logistic.forward_formula"}, ["output is a softmax", "F.cross_entropy applies the softmax"]),
    "hidden_layer_ignores_m": Fault(
        [("self.hidden = nn.Linear(3 * 32 * 32, M)", "self.hidden = nn.Linear(3 * 32 * 32, 100)"),
         ("self.output = nn.Linear(M, 10)", "self.output = nn.Linear(100, 10)")],
        {"a4.hidden.parameters", "a4.hidden.forward_formula"},
        ["OneHiddenLayer(M=37) has 308,310 parameters",
         "has a parameter hidden.weight of shape (100, 3072), which the handout's formula does not have"]),
    "hidden_layer_without_relu": Fault(
        [("return self.output(F.relu(self.hidden(torch.flatten(x, 1))))",
          "return self.output(self.hidden(torch.flatten(x, 1)))")],
        {"a4.hidden.forward_formula"}, ["relu is missing", "after the hidden layer"]),

    # --- part (c): ConvPool
    "conv_pool_size_off_by_one": Fault(
        [("pooled = (33 - k) // N", "pooled = (32 - k) // N")],
        {"a4.convpool.parameters", "a4.convpool.pooled_size", "a4.convpool.forward_formula",
         "a4.convpool.checkpoint_test_accuracy"},
        ["off by one", "33 - k pixels"], read="a4.convpool.pooled_size"),
    # The grader hands the network tutorial-normalised images; scaling them again squeezes every
    # pixel to about -1/255..1/255, and the trained a4_c.pt sees nearly blank images.
    "conv_pool_scales_its_input_again": Fault(
        [("        return self.output(torch.flatten(self.pool(F.relu(self.conv(x))), 1))",
          "        x = x / 255\n        return self.output(torch.flatten(self.pool(F.relu(self.conv(x))), 1))")],
        {"a4.convpool.forward_formula", "a4.convpool.checkpoint_test_accuracy"},
        ["at least 0.70 is needed", "Normalize((0.5, 0.5, 0.5), (0.5, 0.5, 0.5))"],
        read="a4.convpool.checkpoint_test_accuracy"),
    "conv_pool_config_that_does_not_fit_the_checkpoint": Fault(
        [('CONV_POOL_CONFIG = {"M": 128, "k": 5, "N": 4}', 'CONV_POOL_CONFIG = {"M": 100, "k": 5, "N": 14}')],
        {"a4.convpool.checkpoint_test_accuracy"},
        ["a4_c.pt does not fit the model built by ConvPool(**CONV_POOL_CONFIG)"]),

    # --- part (d): TutorialNet
    "tutorial_net_with_an_extra_layer": Fault(
        [("        self.fc3 = nn.Linear(fc2_units, 10)\n",
          "        self.fc3 = nn.Linear(fc2_units, fc2_units)\n        self.fc4 = nn.Linear(fc2_units, 10)\n"),
         ("        return self.fc3(x)", "        return self.fc4(F.relu(self.fc3(x)))")],
        {"a4.tutorial.default_sizes", "a4.tutorial.core_structure", "a4.tutorial.checkpoint_train_accuracy",
         "a4.fgsm.flips_trained_predictions"},
        ["4 linear layers", "not the number of layers"], read="a4.tutorial.core_structure"),
    # The tutorial's older code flattens with x.view(-1, 16 * 5 * 5): right for its own sizes only.
    "tutorial_net_flattens_to_the_tutorials_size": Fault(
        [("        x = torch.flatten(x, 1)\n", "        x = x.view(-1, 16 * 5 * 5)\n")],
        {"a4.tutorial.core_structure", "a4.tutorial.checkpoint_train_accuracy", "a4.fgsm.flips_trained_predictions"},
        ["mat1 and mat2 shapes cannot be multiplied (8x400 and 1600x256)", "x = F.relu(self.fc1(x))"],
        read="a4.tutorial.core_structure"),
    "tutorial_config_not_a_dict": Fault(
        [("TUTORIAL_NET_CONFIG = {", "TUTORIAL_NET_CONFIG = [{"), ('"fc2_units": 128}', '"fc2_units": 128}]')],
        {"a4.tutorial.core_structure", "a4.tutorial.checkpoint_train_accuracy", "a4.fgsm.flips_trained_predictions"},
        ["TUTORIAL_NET_CONFIG in hw4_a4.py should be a dict"], read="a4.tutorial.core_structure"),

    # --- part (e): FGSM
    # Stepping down the loss by 16 pixel levels still overshoots into another class for some of the
    # synthetic images: the flip check's claim holds, and the formula checks name the fault.
    "fgsm_with_a_minus_sign": Fault(
        [(STEP, "return (x - epsilon * grad.sign()).detach()")], FORMULA_CHECKS, ["minus sign"]),
    # Without sign() each pixel moves by epsilon times a gradient far below 1: too little to flip
    # any of the trained network's four images.
    "fgsm_without_the_sign": Fault(
        [(STEP, "return (x + epsilon * grad).detach()")], FORMULA_CHECKS | {"a4.fgsm.flips_trained_predictions"},
        ["sign() is missing", "fgsm changed none of four correctly classified training images"]),
    "fgsm_returns_the_step_alone": Fault(
        [(STEP, "return (epsilon * grad.sign()).detach()")],
        FORMULA_CHECKS | {"a4.fgsm.epsilon_zero", "a4.fgsm.flips_trained_predictions"},
        ["The step alone came back", "an FGSM step moves each pixel by at most epsilon"]),
    "fgsm_leaves_grad_behind": Fault(
        [(AUTOGRAD, BACKWARD)], {"a4.fgsm.no_side_effects"}, [".grad left behind"]),
    "fgsm_steps_an_optimiser": Fault(
        [(AUTOGRAD, "    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)\n    optimizer.zero_grad()\n"
                    "    loss.backward()\n    optimizer.step()\n    optimizer.zero_grad(set_to_none=True)\n"
                    "    return (x + epsilon * x.grad.sign()).detach()")],
        {"a4.fgsm.no_side_effects"},
        ["its parameters ['0.weight', '0.bias', '3.weight', '3.bias'] had changed", "never the model"]),
    "fgsm_switches_to_eval_mode": Fault(
        [("    x = x.detach().clone().requires_grad_(True)\n",
          "    model.eval()\n    x = x.detach().clone().requires_grad_(True)\n")],
        {"a4.fgsm.no_side_effects"}, ["left a model that was in train mode in eval mode"]),
    "fgsm_attacks_x_in_place": Fault(
        [("    x = x.detach().clone().requires_grad_(True)\n    loss", "    x.requires_grad_(True)\n    loss"),
         (STEP, "with torch.no_grad():\n        x += epsilon * grad.sign()\n    return x.detach()")],
        {"a4.fgsm.no_side_effects"}, ["changed the input tensor x in place"]),
}


def reference_module():
    """The reference's classes, loaded under a name of their own: the in-process grading puts each
    submission's module in sys.modules as hw4_a4."""
    spec = importlib.util.spec_from_file_location("hw4_a4_reference", REPO_ROOT / "reference" / HW4 / FILE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def normalised(images):
    return (torch.from_numpy(images).permute(0, 3, 1, 2).float() / 255 - 0.5) / 0.5


def train_on(model, x, y, epochs=8):
    torch.manual_seed(0)
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
    for _ in range(epochs):
        for rows in torch.randperm(len(x)).split(50):
            loss = F.cross_entropy(model(x[rows]), y[rows])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return model.eval()


@pytest.fixture(scope="module")
def fake_cifar(tmp_path_factory):
    """A synthetic data root in the image-folder layout, and reference checkpoints trained on it."""
    root = Path(tempfile.mkdtemp(prefix="hw4-a4-data-"))
    arrays = cifar10.write_fake_cifar10(root, layout="tar", n_train=20, n_test=10)
    for path in (root, *root.rglob("*")):  # readable by the worker's unprivileged user
        path.chmod(0o755 if path.is_dir() else 0o644)
    x, y = normalised(arrays["train"][0]), torch.from_numpy(arrays["train"][1])
    hw4_a4 = reference_module()
    torch.manual_seed(0)
    folder = tmp_path_factory.mktemp("a4-checkpoints")
    checkpoints = {}
    for name, model in (("a4_c.pt", hw4_a4.ConvPool(**hw4_a4.CONV_POOL_CONFIG)),
                        ("a4_d.pt", hw4_a4.TutorialNet(**hw4_a4.TUTORIAL_NET_CONFIG))):
        torch.save(train_on(model, x, y).state_dict(), folder / name)
        checkpoints[name] = folder / name
    yield root, checkpoints
    shutil.rmtree(root)


@pytest.fixture(scope="module")
def grade_a4(grade_files, fake_cifar):
    """grade_a4(text, artifacts=None, real=False) -> Grade of A4 only, with the checkpoints trained
    here (or the repository's, on real data) unless `artifacts` names others."""
    root, trained = fake_cifar

    def run(text: str, artifacts: dict[str, Path] | None = None, real: bool = False):
        files = artifacts if artifacts is not None else REPOSITORY_CHECKPOINTS if real else trained
        return grade_files({FILE: text, **files}, HW4, problems=("a4",),
                           data_root=real_data_root(cifar10.DATASET) if real else root)

    return run


@pytest.fixture(scope="module")
def ref():
    return reference(FILE)


@pytest.fixture(scope="module")
def ref_grade(grade_a4, ref):
    return grade_a4(ref)


def test_reference_scores_full_marks(ref_grade):
    g = ref_grade
    assert {c.id for c in g.checks} == ALL
    assert lost(g) == set(), [(c.id, c.feedback.summary) for c in g.checks if c.score < c.max_score]
    assert sum(c.score for c in g.checks) == 60.0
    assert "(vec flattens channel-major)" in by_id(g, "a4.logistic.forward_formula").feedback.summary


def test_template_scores_zero_with_not_implemented(grade_a4):
    g = grade_a4(template(FILE))
    assert sum(c.score for c in g.checks) == 0
    assert "not implemented yet" in text_of(by_id(g, "a4.logistic.parameters"))
    assert "not implemented yet" in text_of(by_id(g, "a4.fgsm.formula"))


@pytest.mark.realdata
def test_reference_checkpoints_meet_the_handout_targets_on_real_cifar(grade_a4, ref):
    g = grade_a4(ref, real=True)
    assert lost(g) == set(), [(c.id, c.feedback.summary) for c in g.checks if c.score < c.max_score]
    test_accuracy = by_id(g, "a4.convpool.checkpoint_test_accuracy").feedback.summary
    assert "test accuracy on 10,000 CIFAR-10 test images 0.7110" in test_accuracy
    assert "train accuracy on 10,000 CIFAR-10 train images 0.9" in \
        by_id(g, "a4.tutorial.checkpoint_train_accuracy").feedback.summary
    (figure,) = figures_shown(g, "a4.fgsm.flips_trained_predictions")  # the first of each class, in order
    assert [caption for _, caption in figure.rows[0][1]] == ["airplane", "automobile", "bird", "deer"]


# --- faults of real submissions --------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(FAULTS))
def test_fault_loses_exactly_its_checks(grade_a4, ref, name):
    fault = FAULTS[name]
    fault.assert_graded(grade_a4(fault.apply(ref)), "a4")


def test_channel_last_flattening_is_accepted(grade_a4, ref):
    g = grade_a4(mutate(ref, "        return self.linear(torch.flatten(x, 1))",
                        "        return self.linear(torch.flatten(x.permute(0, 2, 3, 1), 1))"))
    assert "a4.logistic.forward_formula" not in lost(g)
    assert "channel-last" in by_id(g, "a4.logistic.forward_formula").feedback.summary


# --- faults of the checkpoint files --------------------------------------------------------------

def test_a_network_that_fgsm_cannot_move_fails_the_flip_check(grade_a4, ref, fake_cifar, tmp_path):
    hw4_a4 = reference_module()
    model = hw4_a4.TutorialNet(**hw4_a4.TUTORIAL_NET_CONFIG)
    with torch.no_grad():  # a constant classifier: every gradient with respect to the input is 0
        for p in model.parameters():
            p.zero_()
        model.fc3.bias[3] = 1.0
    torch.save(model.state_dict(), tmp_path / "a4_d.pt")
    g = grade_a4(ref, artifacts={"a4_c.pt": fake_cifar[1]["a4_c.pt"], "a4_d.pt": tmp_path / "a4_d.pt"})
    assert lost(g) == {"a4.tutorial.checkpoint_train_accuracy", "a4.fgsm.flips_trained_predictions"}
    message = text_of(by_id(g, "a4.fgsm.flips_trained_predictions"))
    assert "fgsm changed none of four correctly classified training images" in message
    assert "True labels: ['cat', 'cat', 'cat', 'cat']" in message
    (figure,) = figures_shown(g, "a4.fgsm.flips_trained_predictions")  # at the largest epsilon
    assert "epsilon 0.1255 (16/255 of the pixel range)" in figure.title
    assert [caption for _, caption in figure.rows[1][1]] == ["cat"] * 4
    change = [np.asarray(Image.open(io.BytesIO(png))) for png, _ in figure.rows[2][1]]
    assert all((c == 128).all() for c in change)  # no gradient, no step: grey


def test_untrained_checkpoints_miss_the_targets(grade_a4, ref, tmp_path):
    hw4_a4 = reference_module()
    torch.manual_seed(1)
    files = {}
    for name, model in (("a4_c.pt", hw4_a4.ConvPool(**hw4_a4.CONV_POOL_CONFIG)),
                        ("a4_d.pt", hw4_a4.TutorialNet(**hw4_a4.TUTORIAL_NET_CONFIG))):
        torch.save(model.state_dict(), tmp_path / name)
        files[name] = tmp_path / name
    g = grade_a4(ref, artifacts=files)
    assert {"a4.convpool.checkpoint_test_accuracy", "a4.tutorial.checkpoint_train_accuracy"} <= lost(g)
    assert lost(g) - {"a4.fgsm.flips_trained_predictions"} == {"a4.convpool.checkpoint_test_accuracy",
                                                                 "a4.tutorial.checkpoint_train_accuracy"}
    assert "at least 0.70 is needed" in text_of(by_id(g, "a4.convpool.checkpoint_test_accuracy"))
    assert "Normalize((0.5, 0.5, 0.5)" in text_of(by_id(g, "a4.tutorial.checkpoint_train_accuracy"))


def test_missing_checkpoints_cost_only_their_checks(grade_a4, ref):
    g = grade_a4(ref, artifacts={})
    assert lost(g) == DATA_CHECKS
    assert "a4_c.pt" in text_of(by_id(g, "a4.convpool.checkpoint_test_accuracy"))


# --- the report's picture: the attacked images with the classes the student's network gives them ----

FLIPS = "a4.fgsm.flips_trained_predictions"


def test_the_report_shows_the_images_before_and_after_the_attack(ref_grade):
    (figure,) = figures_shown(ref_grade, FLIPS)
    assert "classified by your a4_d.pt" in figure.title
    assert [label for label, _ in figure.rows] == ["before: the true class (your network's too)",
                                                   "after: your network's class", "the change, magnified"]
    assert [len(tiles) for _, tiles in figure.rows] == [4, 4, 4]
    for png, _ in (tile for _, tiles in figure.rows for tile in tiles):
        assert Image.open(io.BytesIO(png)).size == (32, 32) and Image.open(io.BytesIO(png)).mode == "RGB"
    before = [caption for _, caption in figure.rows[0][1]]
    after = [caption for _, caption in figure.rows[1][1]]
    assert set(before) <= set(cifar10.CLASSES)
    changed = [a for a in after if a.endswith(" (changed)")]
    assert changed and all(a.removesuffix(" (changed)") in cifar10.CLASSES for a in after)
    assert f"changes the class of {len(changed)} of four" in by_id(ref_grade, FLIPS).feedback.summary


@pytest.mark.parametrize("change", [
    {"originals": None},
    lambda out: {"attacked_images": out.attacked_images * np.nan},
    lambda out: {"originals": out.originals.astype(np.float64) * 1e9, "attacked_images": out.attacked_images[:, :2]},
], ids=["missing", "not finite", "not images"])
def test_a_spoiled_picture_is_left_out_and_costs_nothing(grade_a4, ref, redeclare, change):
    """The picture's fields changed within their record's types (a field of another type is refused
    before the judge runs, tests/test_tamper.py), as a student reaching the worker's outputs could."""
    run = next(c for c in a4.PROBLEM.checks if c.id == FLIPS).run

    def spoiled(subject) -> a4.Flips:
        out = run(subject)
        return out.model_copy(update=change(out) if callable(change) else change)

    redeclare(FLIPS, run=spoiled)
    g = grade_a4(ref)
    assert lost(g) == set() and figures_shown(g, FLIPS) == []


def test_a_hidden_flip_check_shows_no_picture(grade_a4, ref, redeclare):
    redeclare(FLIPS, visibility=Visibility.hidden)
    g = grade_a4(ref)
    assert lost(g) == set() and by_id(g, FLIPS).feedback.figures == () and figures_shown(g, FLIPS) == []
