"""A3 of uw-cse446-hw4: the grader's AlexNet is torchvision's architecture; the reference passes every
check (with the CIFAR-10 checks on a synthetic data root), the template scores 0 with "not
implemented", other correct readings pass, and each fault loses exactly its checks, with a message
that names it."""

from __future__ import annotations

import math
import re

import pytest
import torch
from conftest import WEIGHTS_DATASET, WEIGHTS_FILE, Fault, by_id, lost, reference, template, text_of

from autograder.assignments.uw_cse446_hw4 import a3, a3_inputs, alexnet
from autograder.data import DataError, _synthetic

FILE = "hw4_a3.py"
ALL = {c.id for c in a3.PROBLEM.checks}
OPTION = {"a3.extractor.pretrained_accuracy", "a3.fine_tune.pretrained_accuracy"}
WITHOUT_DATA = ALL - OPTION

FREEZE = "for param in model.parameters():\n        param.requires_grad = False"
NEW_LAYER = "model.classifier[6] = nn.Linear(4096, num_classes)"
EXTRACTOR_END = NEW_LAYER + "\n    return model\n\n\ndef fine_tune_model"
FINE_TUNE_END = "param.requires_grad = True\n    " + NEW_LAYER + "\n"
"""Passages of the reference that occur once: the extractor's freezing loop, the end of each builder."""

CIFAR10_FAULTS: dict[str, Fault] = {
    # The steps change nothing, and a model that never learns stays at chance on CIFAR-10.
    "zero_learning_rate": Fault(
        [("lr=lr, momentum=0.9", "lr=0.0, momentum=0.9")],
        {"a3.extractor.step_changes_only_new_layer", "a3.fine_tune.step_changes_every_weight",
         "a3.extractor.pretrained_accuracy", "a3.fine_tune.pretrained_accuracy"},
        ["left the new layer unchanged (classifier.6.weight and classifier.6.bias)",
         "Nothing changed: make_optimizer must pass the model's parameters and use lr",
         "is needed (the reference's"]),
}
"""Graded with the CIFAR-10 checks (the fake CIFAR-10 and stand-in weights: seconds each)."""

FAULTS: dict[str, Fault] = {
    # The handout's loop with a typo: a new attribute on each tensor, nothing frozen.
    "required_grad_typo": Fault(
        [("param.requires_grad = False", "param.required_grad = False")],
        {"a3.extractor.only_new_layer_trainable", "a3.extractor.step_changes_only_new_layer"},
        ["feature_extractor sets `required_grad` on 14 parameters",
         "that is a new attribute, not `requires_grad`, so it freezes nothing; 16 parameters still require grad",
         "One optimiser step changed 14 pretrained parameters that must stay frozen, in the layers features.0, "
         "features.3, features.6, features.8, features.10, classifier.1, classifier.4", "They still require grad"]),
    "requires_grad_on_the_module": Fault(
        [("    " + FREEZE + "\n", "    model.requires_grad = False\n")],
        {"a3.extractor.only_new_layer_trainable", "a3.extractor.step_changes_only_new_layer"},
        ["feature_extractor sets `model.requires_grad`: on a module that is a plain attribute and freezes nothing"]),
    "freezing_only_the_features": Fault(
        [(FREEZE, FREEZE.replace("model.parameters()", "model.features.parameters()"))],
        {"a3.extractor.only_new_layer_trainable", "a3.extractor.step_changes_only_new_layer"},
        ["feature_extractor leaves 4 pretrained parameters trainable: classifier.1.weight, classifier.1.bias, "
         "classifier.4.weight, classifier.4.bias.",
         "One optimiser step changed 4 pretrained parameters that must stay frozen, in the layers classifier.1, "
         "classifier.4"]),
    # Freezing after the replacement freezes the new layer too; SGD then refuses an empty list.
    "freezing_after_replacing_the_last_layer": Fault(
        [("    " + FREEZE + "\n    " + NEW_LAYER + "\n", "    " + NEW_LAYER + "\n    " + FREEZE + "\n")],
        {"a3.extractor.only_new_layer_trainable", "a3.extractor.step_changes_only_new_layer"},
        ["classifier.6.weight and classifier.6.bias do not require grad: the new layer is frozen too",
         "Freeze first, then replace classifier[6]", "optimizer got an empty parameter list"]),
    "hard_coded_ten_classes": Fault(
        [(EXTRACTOR_END, EXTRACTOR_END.replace("num_classes)", "10)"))],
        {"a3.extractor.new_layer_linear_4096_to_n"},
        ["feature_extractor(model, num_classes=7) gives classifier[6] = Linear(4096, 10): num_classes is ignored"]),
    # ResNet's last layer: AlexNet keeps its 1000 outputs, and the new fc (not frozen) gets no gradient.
    "resnets_fc_in_the_feature_extractor": Fault(
        [(EXTRACTOR_END, EXTRACTOR_END.replace("model.classifier[6]", "model.fc"))],
        {"a3.extractor.only_new_layer_trainable", "a3.extractor.new_layer_linear_4096_to_n",
         "a3.extractor.output_shape", "a3.extractor.step_changes_only_new_layer"},
        ["returns shape (3, 1000) for 3 images of 3x64x64; expected (3, 10)",
         "No parameter of the model returned by feature_extractor(model) requires grad"]),
    "resnets_fc_in_fine_tuning": Fault(
        [(FINE_TUNE_END, FINE_TUNE_END.replace("model.classifier[6]", "model.fc"))],
        {"a3.fine_tune.new_layer_linear_4096_to_n", "a3.fine_tune.output_shape",
         "a3.fine_tune.step_changes_every_weight"},
        ["fine_tune_model leaves AlexNet's classifier[6], Linear(4096, 1000), in place",
         "a new fc (Linear) that AlexNet's forward never uses",
         "returns shape (3, 1000) for 3 images of 3x64x64; expected (3, 10)",
         "left 2 of 18 parameters of the fine-tuned model unchanged, in the layers fc: fc.weight, fc.bias",
         "fc.weight, fc.bias get no gradient: the model's forward never uses them"]),
    # The feature extractor's loop copied into fine-tuning.
    "fine_tuning_that_freezes": Fault(
        [("param.requires_grad = True", "param.requires_grad = False")],
        {"a3.fine_tune.all_parameters_trainable", "a3.fine_tune.step_changes_every_weight"},
        ["fine_tune_model freezes 14 of 16 parameters",
         "left 14 of 16 parameters of the fine-tuned model unchanged",
         "They do not require grad: fine_tune_model must leave every parameter trainable"]),
    "softmax_after_the_new_layer": Fault(
        [(FINE_TUNE_END, FINE_TUNE_END + "    model.classifier.append(nn.Softmax(dim=1))\n")],
        {"a3.fine_tune.new_layer_linear_4096_to_n"},
        ["fine_tune_model appends Softmax after classifier[6]", "nn.CrossEntropyLoss takes the scores"]),
    "fine_tune_model_without_return": Fault(
        [(FINE_TUNE_END + "    return model\n", FINE_TUNE_END)],
        {"a3.fine_tune.all_parameters_trainable", "a3.fine_tune.new_layer_linear_4096_to_n",
         "a3.fine_tune.output_shape", "a3.fine_tune.step_changes_every_weight"},
        ["fine_tune_model(model, num_classes=10) should return the model (an nn.Module), but it returned "
         "NoneType. End the function with `return model`."]),
    # Right for the feature extractor, which trains only the new layer; fine-tuning trains them all.
    "optimiser_of_the_new_layer_alone": Fault(
        [("[p for p in model.parameters() if p.requires_grad]", "model.classifier[6].parameters()")],
        {"a3.fine_tune.step_changes_every_weight"},
        ["left 14 of 16 parameters of the fine-tuned model unchanged",
         "make_optimizer must optimise every trainable parameter (model.parameters()), not only the new layer"]),
    "optimiser_returns_the_parameter_list": Fault(
        [("return torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=lr, momentum=0.9)",
          "return [p for p in model.parameters() if p.requires_grad]")],
        {"a3.extractor.step_changes_only_new_layer", "a3.fine_tune.step_changes_every_weight"},
        ["make_optimizer(model, lr) should return a torch.optim.Optimizer, but it returned list"]),
    **CIFAR10_FAULTS,
}
"""Mistakes real submissions make, each losing exactly its checks (conftest.Fault); without a data
root but for CIFAR10_FAULTS, so the CIFAR-10 checks are left out, not lost."""

# --- the grader's AlexNet ----------------------------------------------------------------------------

TORCHVISION_STATE = [
    ("features.0.weight", (64, 3, 11, 11)), ("features.0.bias", (64,)),
    ("features.3.weight", (192, 64, 5, 5)), ("features.3.bias", (192,)),
    ("features.6.weight", (384, 192, 3, 3)), ("features.6.bias", (384,)),
    ("features.8.weight", (256, 384, 3, 3)), ("features.8.bias", (256,)),
    ("features.10.weight", (256, 256, 3, 3)), ("features.10.bias", (256,)),
    ("classifier.1.weight", (4096, 9216)), ("classifier.1.bias", (4096,)),
    ("classifier.4.weight", (4096, 4096)), ("classifier.4.bias", (4096,)),
    ("classifier.6.weight", (1000, 4096)), ("classifier.6.bias", (1000,)),
]
"""`[(k, tuple(v.shape)) for k, v in torchvision.models.alexnet().state_dict().items()]`."""

TORCHVISION_REPR = """AlexNet(
  (features): Sequential(
    (0): Conv2d(3, 64, kernel_size=(11, 11), stride=(4, 4), padding=(2, 2))
    (1): ReLU(inplace=True)
    (2): MaxPool2d(kernel_size=3, stride=2, padding=0, dilation=1, ceil_mode=False)
    (3): Conv2d(64, 192, kernel_size=(5, 5), stride=(1, 1), padding=(2, 2))
    (4): ReLU(inplace=True)
    (5): MaxPool2d(kernel_size=3, stride=2, padding=0, dilation=1, ceil_mode=False)
    (6): Conv2d(192, 384, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))
    (7): ReLU(inplace=True)
    (8): Conv2d(384, 256, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))
    (9): ReLU(inplace=True)
    (10): Conv2d(256, 256, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))
    (11): ReLU(inplace=True)
    (12): MaxPool2d(kernel_size=3, stride=2, padding=0, dilation=1, ceil_mode=False)
  )
  (avgpool): AdaptiveAvgPool2d(output_size=(6, 6))
  (classifier): Sequential(
    (0): Dropout(p=0.5, inplace=False)
    (1): Linear(in_features=9216, out_features=4096, bias=True)
    (2): ReLU(inplace=True)
    (3): Dropout(p=0.5, inplace=False)
    (4): Linear(in_features=4096, out_features=4096, bias=True)
    (5): ReLU(inplace=True)
    (6): Linear(in_features=4096, out_features=1000, bias=True)
  )
)"""
"""`print(torchvision.models.alexnet())`, torchvision 0.13 and later."""
# No pinned grade reaches these (the real AlexNet weights are not in the data root): the reference
# passes them on the stand-in weights.
PASSED_BY_TEST = {"a3.extractor.pretrained_accuracy": "test_reference_scores_full_marks_with_the_cifar10_checks",
                  "a3.fine_tune.pretrained_accuracy": "test_reference_scores_full_marks_with_the_cifar10_checks"}


@pytest.fixture(scope="module")
def replica():
    torch.manual_seed(0)
    return alexnet.AlexNet()


def test_replica_has_torchvision_alexnets_parameters(replica):
    assert [(k, tuple(v.shape)) for k, v in replica.state_dict().items()] == TORCHVISION_STATE
    assert sum(p.numel() for p in replica.parameters()) == 61_100_840
    assert [name for name, _ in replica.named_parameters()] == list(a3.PARAMETERS)


def test_replica_has_torchvision_alexnets_layers_and_forward(replica):
    assert repr(replica) == TORCHVISION_REPR
    replica.eval()
    with torch.no_grad():
        assert replica(torch.zeros(1, 3, alexnet.MIN_SIZE, alexnet.MIN_SIZE)).shape == (1, 1000)
        assert replica(torch.zeros(2, 3, 224, 224)).shape == (2, 1000)


def test_replica_uses_pytorchs_default_initialisation(replica):
    """torchvision's AlexNet initialises nothing itself: every layer has PyTorch's default,
    uniform within 1 / sqrt(fan_in) for weights and biases alike."""
    for name, module in replica.named_modules():
        if isinstance(module, torch.nn.Conv2d | torch.nn.Linear):
            bound = 1 / math.sqrt(module.weight[0].numel())
            for p in (module.weight, module.bias):
                assert p.abs().max() <= bound and p.abs().max() > 0.9 * bound, name


def test_replica_equals_torchvision_where_torchvision_imports(replica):
    build = alexnet.torchvision_alexnet()
    if build is None:
        pytest.skip("torchvision does not import here (not installed, or built for another torch)")
    torch.manual_seed(0)
    theirs = build(weights=None)
    assert repr(theirs) == repr(replica)
    assert all(torch.equal(a, b) for a, b in zip(theirs.state_dict().values(), replica.state_dict().values()))


def test_uninitialised_alexnet_has_the_same_structure():
    model = alexnet.alexnet(initialised=False)
    assert repr(model) == TORCHVISION_REPR
    assert [(k, tuple(v.shape)) for k, v in model.state_dict().items()] == TORCHVISION_STATE
    assert all(p.device.type == "cpu" and p.requires_grad for p in model.parameters())


def test_slim_alexnet_keeps_names_layer_types_and_the_4096_inputs_of_classifier_6():
    """The step checks' model: what a student's code touches is AlexNet's, only the widths differ."""
    slim, full = alexnet.SlimAlexNet(), alexnet.alexnet(initialised=False)
    assert isinstance(slim, alexnet.AlexNet)
    assert [(n, type(m)) for n, m in slim.named_modules()][1:] == [(n, type(m)) for n, m in full.named_modules()][1:]
    assert [n for n, _ in slim.named_parameters()] == list(a3.PARAMETERS)
    assert slim.classifier[6].in_features == 4096
    assert sum(p.numel() for p in slim.parameters()) < 4_500_000  # 4.1 M of them in the 1000-class layer
    with torch.no_grad():
        assert slim(torch.zeros(2, 3, a3.SIZE, a3.SIZE)).shape == (2, 1000)


def test_weights_file_is_checked_against_the_hash_in_its_name(tmp_path):
    folder = tmp_path / WEIGHTS_DATASET
    folder.mkdir()
    (folder / WEIGHTS_FILE).write_bytes(b"not the weights")
    with pytest.raises(DataError, match="which should start with 7be5be79"):
        a3_inputs.weights_path(folder)
    _synthetic.mark(folder)  # the tests' stand-in: no hash, but it must still be AlexNet's state_dict
    torch.save({"weight": torch.zeros(2)}, folder / WEIGHTS_FILE)
    with pytest.raises(DataError, match="is not a state_dict of torchvision's AlexNet"):
        alexnet.pretrained_alexnet(a3_inputs.weights_path(folder))
    with pytest.raises(DataError, match=f"needs {WEIGHTS_FILE}"):
        a3_inputs.weights_path(tmp_path / "elsewhere")


# --- gradings ----------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def ref():
    return reference(FILE)


@pytest.fixture(scope="module")
def reference_grade(grade_a3, ref):  # noqa: F811
    return grade_a3(ref, data=True)


def test_reference_scores_full_marks_with_the_cifar10_checks(reference_grade):
    g = reference_grade
    assert {c.id for c in g.checks} == ALL
    assert all(c.outcome.value == "passed" for c in g.checks), [(c.id, c.feedback.summary) for c in g.checks]
    assert sum(c.score for c in g.checks) == 30.0
    assert by_id(g, "a3.extractor.pretrained_accuracy").score == by_id(g, "a3.fine_tune.pretrained_accuracy").score == 3
    accuracy = by_id(g, "a3.extractor.pretrained_accuracy")
    assert "Starting from the pretrained AlexNet, feature_extractor with make_optimizer reaches test accuracy" \
        in accuracy.feedback.summary
    assert "3 epochs over 80 CIFAR-10 training images in batches of 25, make_optimizer(model, lr=0.001)" \
        in text_of(accuracy)


def test_cifar10_bar_lies_far_above_chance(reference_grade):
    """The reference learns the fake CIFAR-10 within the budget, so a model that does not learn
    (zero_learning_rate) falls well short of the bar, not by a hair."""
    for check_id in OPTION:
        summary = by_id(reference_grade, check_id).feedback.summary
        assert float(re.search(r"at least ([\d.]+) needed", summary).group(1)) >= 0.4, summary  # chance: 0.1


def test_template_scores_zero_with_clear_messages(grade_a3):  # noqa: F811
    g = grade_a3(template(FILE), data=True)
    assert lost(g) == ALL and sum(c.score for c in g.checks) == 0
    for c in g.checks:
        assert "is not implemented yet: it raises NotImplementedError" in c.feedback.summary, c.id


def test_other_correct_readings_pass(grade_a3):  # noqa: F811
    """requires_grad_(False) on the module, in_features read from the old layer, no explicit unfreezing,
    and Adam with weight decay over all parameters (frozen ones have no gradient, so Adam skips them)."""
    g = grade_a3('''
import torch
from torch import nn

def feature_extractor(model, num_classes=10):
    model.requires_grad_(False)
    model.classifier[6] = nn.Linear(model.classifier[6].in_features, num_classes)
    return model

def fine_tune_model(model, num_classes=10):
    model.classifier[6] = nn.Linear(4096, num_classes)
    return model

def make_optimizer(model, lr):
    return torch.optim.Adam(model.parameters(), lr=lr, weight_decay=1e-4)
''')
    assert {c.id for c in g.checks if c.outcome.value != "left_out"} == WITHOUT_DATA
    assert lost(g) == set(), [(c.id, c.feedback.summary) for c in g.checks]
    assert any("a3.extractor.pretrained_accuracy" in m and "were left out of the total" in m for m in g.messages)


@pytest.mark.parametrize("name", sorted(FAULTS))
def test_fault_loses_exactly_its_checks(grade_a3, ref, name):  # noqa: F811
    fault = FAULTS[name]
    fault.assert_graded(grade_a3(fault.apply(ref), data=name in CIFAR10_FAULTS), "a3")
