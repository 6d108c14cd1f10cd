"""A4 of uw-cse446-hw4: the reference passes every check (on synthetic CIFAR-10 with checkpoints
trained here, and on the real JPEG copies with the repository's checkpoints), the template scores 0
with "not implemented", and each fault of a real submission loses exactly its checks, with a message
that names it."""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from conftest import HW4, by_id, lost, mutate, real_data_root, reference, template, text_of

from autograder.assignments import load_assignment
from autograder.assignments.uw_cse446_hw4 import a4
from autograder.config import REPO_ROOT, GradingConfig
from autograder.data import cifar10
from autograder.runner import grade

FILE = "hw4_a4.py"
ALL = {c.id for c in a4.PROBLEM.checks}
DATA_CHECKS = {c.id for c in a4.PROBLEM.checks if c.data}
FORMULA_CHECKS = {"a4.fgsm.formula", "a4.fgsm.batch"}
REPOSITORY_CHECKPOINTS = {name: REPO_ROOT / "reference" / HW4 / name for name in ("a4_c.pt", "a4_d.pt")}


def reference_module():
    sys.path.insert(0, str(REPO_ROOT / "reference" / HW4))
    try:
        import hw4_a4
    finally:
        sys.path.pop(0)
    return hw4_a4


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
def grade_a4(fake_cifar, tmp_path_factory):
    """grade_a4(text, artifacts=None, real=False) -> Grade of A4 only."""
    caches = {False: tmp_path_factory.mktemp("a4-fake-cache"), True: tmp_path_factory.mktemp("a4-real-cache")}
    root, trained = fake_cifar

    def run(text: str, artifacts: dict[str, Path] | None = None, real: bool = False):
        folder = tmp_path_factory.mktemp("submission")
        (folder / FILE).write_text(text)
        for name, path in (artifacts if artifacts is not None else
                           REPOSITORY_CHECKPOINTS if real else trained).items():
            shutil.copy(path, folder / name)
        data_root = real_data_root(cifar10.DATASET) if real else root
        config = GradingConfig(cache_dir=caches[real], data_root=data_root, problems=("a4",))
        return grade(folder, load_assignment(HW4), config)

    return run


@pytest.fixture(scope="module")
def ref():
    return reference(FILE)


@pytest.fixture(scope="module")
def ref_grade(grade_a4, ref):
    return grade_a4(ref)


def faulty(text: str, *replacements: tuple[str, str]) -> str:
    for old, new in replacements:
        text = mutate(text, old, new)
    return text


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


# --- faults of real submissions --------------------------------------------------------------------

def test_conv_pool_size_off_by_one_loses_the_size_and_formula_checks(grade_a4, ref):
    g = grade_a4(faulty(ref, ("pooled = (33 - k) // N", "pooled = (32 - k) // N")), artifacts={})
    assert lost(g) - DATA_CHECKS == {"a4.convpool.parameters", "a4.convpool.pooled_size",
                                     "a4.convpool.forward_formula"}
    message = text_of(by_id(g, "a4.convpool.pooled_size"))
    assert "off by one" in message and "33 - k pixels" in message


def test_fgsm_with_a_minus_sign_loses_the_formula_checks(grade_a4, ref):
    g = grade_a4(faulty(ref, ("return (x + epsilon * grad.sign()).detach()",
                              "return (x - epsilon * grad.sign()).detach()")))
    # Stepping down the loss by 16 pixel levels still overshoots into another class for some of the
    # synthetic images: the flip check's claim holds, and the formula checks name the fault.
    assert lost(g) == FORMULA_CHECKS
    assert "minus sign" in text_of(by_id(g, "a4.fgsm.formula"))


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


def test_fgsm_returning_the_step_alone_loses_every_fgsm_check(grade_a4, ref):
    g = grade_a4(faulty(ref, ("return (x + epsilon * grad.sign()).detach()",
                              "return (epsilon * grad.sign()).detach()")))
    assert lost(g) == FORMULA_CHECKS | {"a4.fgsm.epsilon_zero", "a4.fgsm.flips_trained_predictions"}
    assert "The step alone came back" in text_of(by_id(g, "a4.fgsm.epsilon_zero"))
    assert "an FGSM step moves each pixel by at most epsilon" in \
        text_of(by_id(g, "a4.fgsm.flips_trained_predictions"))


def test_logistic_regression_without_bias_and_a_hidden_layer_ignoring_m(grade_a4, ref):
    g = grade_a4(faulty(ref, ("self.linear = nn.Linear(3 * 32 * 32, 10)", "self.linear = nn.Linear(3 * 32 * 32, 10, bias=False)"),
                         ("self.hidden = nn.Linear(3 * 32 * 32, M)", "self.hidden = nn.Linear(3 * 32 * 32, 100)"),
                         ("self.output = nn.Linear(M, 10)", "self.output = nn.Linear(100, 10)")))
    assert lost(g) == {"a4.logistic.parameters", "a4.logistic.forward_formula", "a4.hidden.parameters",
                       "a4.hidden.forward_formula"}
    assert "LogisticRegression() has 30,720 parameters of shapes [(10, 3072)]; the handout's network has 30,730" in \
        by_id(g, "a4.logistic.parameters").feedback.summary
    assert "OneHiddenLayer(M=37) has 308,310 parameters" in by_id(g, "a4.hidden.parameters").feedback.summary
    assert "has a parameter hidden.weight of shape (100, 3072), which the handout's formula does not have" in \
        text_of(by_id(g, "a4.hidden.forward_formula"))


def test_fgsm_without_the_sign_is_named(grade_a4, ref):
    g = grade_a4(faulty(ref, ("return (x + epsilon * grad.sign()).detach()",
                              "return (x + epsilon * grad).detach()")))
    assert FORMULA_CHECKS <= lost(g) and "a4.fgsm.epsilon_zero" not in lost(g)
    assert "sign() is missing" in text_of(by_id(g, "a4.fgsm.batch"))


BACKWARD_FGSM = ('''    (grad,) = torch.autograd.grad(loss, x)
    return (x + epsilon * grad.sign()).detach()''', '''    loss.backward()
    grad = x.grad
    return (x + epsilon * grad.sign()).detach()''')


def test_fgsm_that_leaves_grad_behind_loses_only_the_side_effect_check(grade_a4, ref):
    g = grade_a4(faulty(ref, BACKWARD_FGSM))
    assert lost(g) == {"a4.fgsm.no_side_effects"}
    assert ".grad left behind" in text_of(by_id(g, "a4.fgsm.no_side_effects"))


def test_fgsm_that_steps_an_optimiser_changes_the_model(grade_a4, ref):
    g = grade_a4(faulty(ref, (BACKWARD_FGSM[0], '''    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)
    return (x + epsilon * x.grad.sign()).detach()''')))
    assert "a4.fgsm.no_side_effects" in lost(g)
    message = text_of(by_id(g, "a4.fgsm.no_side_effects"))
    assert "its parameters ['0.weight', '0.bias', '3.weight', '3.bias'] had changed" in message
    assert "never the model" in message


def test_fgsm_that_switches_to_eval_mode_is_told_to_restore_it(grade_a4, ref):
    g = grade_a4(faulty(ref, ("    x = x.detach().clone().requires_grad_(True)\n",
                              "    model.eval()\n    x = x.detach().clone().requires_grad_(True)\n")))
    assert lost(g) == {"a4.fgsm.no_side_effects"}
    assert "left a model that was in train mode in eval mode" in text_of(by_id(g, "a4.fgsm.no_side_effects"))


def test_fgsm_that_attacks_x_in_place_is_told_to_return_a_new_tensor(grade_a4, ref):
    g = grade_a4(faulty(ref, ("    x = x.detach().clone().requires_grad_(True)\n    loss",
                              "    x.requires_grad_(True)\n    loss"),
                         ("return (x + epsilon * grad.sign()).detach()",
                          "with torch.no_grad():\n        x += epsilon * grad.sign()\n    return x.detach()")))
    assert "a4.fgsm.no_side_effects" in lost(g)
    message = text_of(by_id(g, "a4.fgsm.no_side_effects"))
    assert "changed the input tensor x in place" in message


def test_logistic_regression_returning_probabilities_is_told_to_return_scores(grade_a4, ref):
    g = grade_a4(faulty(ref, ("        return self.linear(torch.flatten(x, 1))",
                              "        return F.softmax(self.linear(torch.flatten(x, 1)), dim=1)")))
    assert "a4.logistic.forward_formula" in lost(g)
    assert lost(g) <= {"a4.logistic.forward_formula"} | DATA_CHECKS
    assert "softmax" in text_of(by_id(g, "a4.logistic.forward_formula"))


def test_channel_last_flattening_is_accepted(grade_a4, ref):
    g = grade_a4(faulty(ref, ("        return self.linear(torch.flatten(x, 1))",
                              "        return self.linear(torch.flatten(x.permute(0, 2, 3, 1), 1))")))
    assert "a4.logistic.forward_formula" not in lost(g)
    assert "channel-last" in by_id(g, "a4.logistic.forward_formula").feedback.summary


def test_hidden_layer_without_relu_is_named(grade_a4, ref):
    g = grade_a4(faulty(ref, ("return self.output(F.relu(self.hidden(torch.flatten(x, 1))))",
                              "return self.output(self.hidden(torch.flatten(x, 1)))")))
    assert lost(g) == {"a4.hidden.forward_formula"}
    assert "relu is missing" in text_of(by_id(g, "a4.hidden.forward_formula"))


def test_tutorial_net_with_an_extra_layer_loses_the_structure_checks(grade_a4, ref):
    g = grade_a4(faulty(ref, ("        self.fc3 = nn.Linear(fc2_units, 10)\n",
                              "        self.fc3 = nn.Linear(fc2_units, fc2_units)\n"
                              "        self.fc4 = nn.Linear(fc2_units, 10)\n"),
                         ("        return self.fc3(x)", "        return self.fc4(F.relu(self.fc3(x)))")),
                 artifacts={})
    assert lost(g) - DATA_CHECKS == {"a4.tutorial.default_sizes", "a4.tutorial.core_structure"}
    assert "4 linear layers" in text_of(by_id(g, "a4.tutorial.core_structure"))


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


def test_checkpoint_that_does_not_fit_the_config_is_explained(grade_a4, ref):
    g = grade_a4(faulty(ref, ('CONV_POOL_CONFIG = {"M": 128, "k": 5, "N": 4}',
                              'CONV_POOL_CONFIG = {"M": 100, "k": 5, "N": 14}')))
    assert lost(g) == {"a4.convpool.checkpoint_test_accuracy"}
    message = text_of(by_id(g, "a4.convpool.checkpoint_test_accuracy"))
    assert "a4_c.pt does not fit the model built by ConvPool(**CONV_POOL_CONFIG)" in message


def test_missing_checkpoints_cost_only_their_checks(grade_a4, ref):
    g = grade_a4(ref, artifacts={})
    assert lost(g) == DATA_CHECKS
    assert "a4_c.pt" in text_of(by_id(g, "a4.convpool.checkpoint_test_accuracy"))


def test_config_that_is_not_a_dict_is_explained(grade_a4, ref):
    g = grade_a4(faulty(ref, ("TUTORIAL_NET_CONFIG = {", "TUTORIAL_NET_CONFIG = [{"),
                         ('"fc2_units": 128}', '"fc2_units": 128}]')))
    assert lost(g) == {"a4.tutorial.core_structure", "a4.tutorial.checkpoint_train_accuracy",
                       "a4.fgsm.flips_trained_predictions"}
    assert "TUTORIAL_NET_CONFIG in hw4_a4.py should be a dict" in text_of(by_id(g, "a4.tutorial.core_structure"))
