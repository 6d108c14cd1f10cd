"""P1 of umn-csci5527-hw3: the reference passes, the template fails cleanly, and each fault of a
real student loses exactly its checks with a message that names it."""

from __future__ import annotations

import numpy as np
import pytest

from autograder.assignments.umn_csci5527_hw3 import p1
from conftest import HW3, Fault, by_id, lost, mutate, outcomes, reference_text
from autograder.config import REPO_ROOT

FILE = "hw3_p1.py"
ALL = {c.id for c in p1.PROBLEM.checks}
BACKWARD = {"p1.backward.handout_seed", "p1.backward.other_seeds", "p1.autograd.agrees_with_backward"}
FORWARD = {"p1.forward.handout_seed", "p1.forward.other_seeds"}
AUTOGRAD = {"p1.autograd.handout_seed", "p1.autograd.other_seeds", "p1.autograd.agrees_with_backward"}


@pytest.fixture(scope="module")
def reference():
    return reference_text(HW3, FILE)


def test_reference_scores_full_marks(grade_p1, reference):
    g = grade_p1({FILE: reference})
    assert g.score == g.max_score == 4.5
    assert set(outcomes(g).values()) == {"passed"}


def test_template_scores_zero_with_not_implemented_on_every_check(grade_p1):
    g = grade_p1({FILE: (REPO_ROOT / "student_template" / HW3 / FILE).read_text()})
    assert g.score == 0 and len(g.checks) == len(ALL)
    for c in g.checks:
        assert c.outcome.value == "error"
        assert "is not implemented yet: it raises NotImplementedError" in c.feedback.summary
        assert c.debug == ""


def _hard_coded_backward(reference: str) -> str:
    """backward returning the handout seed's numbers as literals, as some students did."""
    data = p1.handout_data(p1.HANDOUT_SEED)
    namespace: dict = {}
    exec(compile(reference, FILE, "exec"), namespace)
    grads = namespace["backward"](*p1._args(data), p1.graph_values(p1.HANDOUT_SEED))
    literal = "{" + ", ".join(f"{k!r}: np.array({np.asarray(v).tolist()!r})" for k, v in grads.items()) + "}"
    return mutate(reference, "    g = {\"z\": 1.0}\n", f"    return {literal}\n    g = {{\"z\": 1.0}}\n")


FAULTS = {  # each mistake, the checks it loses, and what their messages must say
    "relu_derivative_wrong": Fault(
        [('g["V3"] = g["V4"] * (values["V3"] > 0)', 'g["V3"] = g["V4"] * np.maximum(values["V3"], 0)')],
        BACKWARD, ["V3.g is the first gradient that differs", "derivative of ReLU"]),
    "gradient_transposed": Fault(
        [('g["W3"] = g["V5"] @ values["V4"].T', 'g["W3"] = values["V4"] @ g["V5"].T')],
        BACKWARD, ["W3.g is the first gradient that differs", "expected shape (2, 3), got (3, 2)", "transposed"]),
    "sign_of_D_flipped": Fault(
        [("    D = Y - V5\n", "    D = V5 - Y\n")],
        FORWARD, ["D is the first node value that differs", "opposite sign"]),
    "sign_of_V5_gradient_flipped": Fault(
        [('g["V5"] = -g["D"]', 'g["V5"] = g["D"]')],
        BACKWARD, ["V5.g is the first gradient that differs", "opposite sign"]),
    "function_raises": Fault(
        [("    x, y = torch.from_numpy(X), torch.from_numpy(Y)\n", "    raise ValueError('shapes do not match')\n")],
        AUTOGRAD, ["`autograd_gradients` in hw3_p1.py raised ValueError: shapes do not match", "line"]),
    "function_missing": Fault(
        [("def backward(", "def backwards(")],
        BACKWARD, ["hw3_p1.py has no function `backward`. Did you mean `backwards`?"]),
    "make_data_in_the_wrong_order": Fault(
        [('{"Y": (2, 50), "X": (5, 50),', '{"X": (5, 50), "Y": (2, 50),')],
        {"p1.make_data.handout_draws"}, ["Y is the first array that differs"]),
}


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_fault_loses_exactly_its_checks(grade_p1, reference, fault):
    FAULTS[fault].assert_graded(grade_p1({FILE: FAULTS[fault].apply(reference)}), "p1")


def test_hard_coded_numbers_pass_the_handout_seed_but_not_the_other_seeds(grade_p1, reference):
    g = grade_p1({FILE: _hard_coded_backward(reference)})
    assert lost(g) == {"p1.backward.other_seeds"}
    hidden = by_id(g, "p1.backward.other_seeds")
    assert hidden.score == 0.1  # z.g = 1 is right at any seed: 2 of 20 gradients
    assert "(seed 1)" in hidden.feedback.summary


def test_hidden_check_feedback_never_shows_expected_values(grade_p1, reference):
    g = grade_p1({FILE: mutate(reference, 'g["V5"] = -g["D"]', 'g["V5"] = g["D"]')})
    hidden = by_id(g, "p1.backward.other_seeds")
    assert hidden.feedback.arrays and all(
        a.expected_value is None and a.max_abs_diff is None for a in hidden.feedback.arrays)
    visible = by_id(g, "p1.backward.handout_seed")
    assert visible.feedback.arrays[0].expected_value is not None


def test_agreement_check_says_which_side_is_wrong(grade_p1, reference):
    g = grade_p1({FILE: mutate(reference, 'g["W1"] = g["V1"] @ X.T', 'g["W1"] = 2 * g["V1"] @ X.T')})
    agree = by_id(g, "p1.autograd.agrees_with_backward")
    assert agree.outcome.value == "failed"
    assert "backward is off; autograd_gradients matches the expected values" in agree.feedback.summary


ZEROS_EVERYWHERE = (  # placeholders of the right shapes, left in both functions
    ('g["W3"] = g["V5"] @ values["V4"].T', 'g["W3"] = np.zeros_like(W3)'),
    ('g["W2"] = g["V3"] @ values["V2"].T', 'g["W2"] = np.zeros_like(W2)'),
    ('g["W1"] = g["V1"] @ X.T', 'g["W1"] = np.zeros_like(W1)'),
    ("    return {name: w.grad.numpy() for name, w in weights.items()}\n",
     "    return {name: np.zeros_like(w.detach().numpy()) for name, w in weights.items()}\n"),
)
AUTOGRAD_COPIES_BACKWARD = (  # a wrong W3.g, which autograd_gradients "confirms" by returning backward's numbers
    ('g["W3"] = g["V5"] @ values["V4"].T', 'g["W3"] = 2 * g["V5"] @ values["V4"].T'),
    ("    x, y = torch.from_numpy(X), torch.from_numpy(Y)\n",
     "    grads = backward(X, Y, W1, W2, W3, forward(X, Y, W1, W2, W3))\n"
     "    return {name: grads[name] for name in ('W1', 'W2', 'W3')}\n"
     "    x, y = torch.from_numpy(X), torch.from_numpy(Y)\n"),
)
SAME_WRONG_OBJECTIVE = (  # both forget the 1/2 of z, consistently: every gradient doubled
    ('g["D"] = values["D"] * g["z"]', 'g["D"] = 2 * values["D"] * g["z"]'),
    ("    z = 0.5 * torch.sum((y - out) ** 2)\n", "    z = torch.sum((y - out) ** 2)\n"),
)


@pytest.mark.parametrize("edits, words", [
    (ZEROS_EVERYWHERE, "backward and autograd_gradients agree only because both return zeros for W1.g, W2.g and "
                       "W3.g, which are not the gradients: agreement of two wrong answers confirms nothing."),
    (AUTOGRAD_COPIES_BACKWARD, "backward and autograd_gradients agree, but on wrong values: W3.g differs from the "
                               "expected gradients, and agreement of two wrong answers confirms nothing."),
    (SAME_WRONG_OBJECTIVE, "backward and autograd_gradients agree, but on wrong values: W3.g, W2.g, W1.g differ "
                           "from the expected gradients"),
], ids=["zeros", "autograd_copies_backward", "same_wrong_objective"])
def test_agreement_of_two_wrong_answers_earns_nothing(grade_p1, reference, edits, words):
    text = reference
    for old, new in edits:
        text = mutate(text, old, new)
    g = grade_p1({FILE: text})
    assert lost(g) == BACKWARD | AUTOGRAD
    agree = by_id(g, "p1.autograd.agrees_with_backward")
    assert agree.outcome.value == "failed"
    assert agree.feedback.summary.startswith(words)
    assert agree.feedback.details[0].startswith("W3.g: shape (2, 3) as expected; dtype float64.")


def test_the_stored_inputs_are_the_references(reference):
    """p1's stored data and node values are the reference's make_data and forward at the checks' seeds
    (scripts/make_fixtures.py writes them): run the script again if this fails."""
    namespace: dict = {}
    exec(compile(reference, FILE, "exec"), namespace)
    for seed in (p1.HANDOUT_SEED, *p1.OTHER_SEEDS):
        data = namespace["make_data"](seed)
        values = namespace["forward"](**data)
        stored = {**p1.handout_data(seed), **p1.graph_values(seed)}
        assert set(stored) == set(data) | set(values)
        for name, value in {**data, **values}.items():
            assert np.array_equal(stored[name], value), (seed, name)
