"""Q3 of fa24-dl-final (backward pass of a width-1 convolution): the reference passes, the template fails
cleanly, and each slip loses exactly its checks with a message that names it."""

from __future__ import annotations

import functools

import pytest
from conftest import Fault, by_id, checks_of, reference_text

from autograder.config import REPO_ROOT

FINAL, FILE = "fa24-dl-final", "final.py"
WEIGHTS = "q3.conv1x1_backward.weight_gradients"
BIASES = "q3.conv1x1_backward.bias_gradients"
OTHER = "q3.conv1x1_backward.other_activations"
ALL = {WEIGHTS, BIASES, OTHER}


@pytest.fixture(scope="module")
def grade_q3(grade_files):
    return functools.partial(grade_files, assignment=FINAL, problems=("q3",))


@pytest.fixture(scope="module")
def reference():
    return reference_text(FINAL, FILE)


def test_reference_scores_full_marks(grade_q3, reference):
    g = grade_q3({FILE: reference})
    assert [(c.id, c.outcome.value, c.score) for c in checks_of(g, "q3")] == [
        (WEIGHTS, "passed", 1.5), (BIASES, "passed", 1.0), (OTHER, "passed", 0.5)]


def test_template_scores_zero_with_not_implemented(grade_q3):
    g = grade_q3({FILE: (REPO_ROOT / "student_template" / FINAL / FILE).read_text()})
    assert g.score == 0 and {c.id for c in g.checks} == ALL
    for c in g.checks:
        assert c.outcome.value == "error"
        assert "`conv1x1_backward` in final.py is not implemented yet" in c.feedback.summary


DELTA = "delta = dl_df[c] * g_prime(w[c] * x + b[c])"

FAULTS = {  # each mistake, the checks it loses, and what their messages must say
    "g_prime_left_out": Fault([(DELTA, "delta = dl_df[c]")], ALL, ["Your gradients leave out g'"]),
    "g_prime_at_x": Fault([(DELTA, "delta = dl_df[c] * g_prime(x)")], ALL, ["You take g' at x_ij"]),
    "channels_swapped": Fault([(DELTA, "delta = dl_df[1 - c] * g_prime(w[c] * x + b[c])")], ALL,
                              ["channel 2's are dl/dw_2 and dl/db_2"]),
    "x_left_out_of_dw": Fault([("float(np.sum(delta * x))", "float(np.sum(delta))")], {WEIGHTS, OTHER},
                              ["dl/dw_c needs the factor x_ij"]),
    "x_in_db": Fault([('grads[f"b{c + 1}"] = float(np.sum(delta))', 'grads[f"b{c + 1}"] = float(np.sum(delta * x))')],
                     {BIASES, OTHER}, ["dl/db1 (g = tanh, draw 311) is the first gradient that differs"]),
}


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_fault_loses_exactly_its_checks(grade_q3, reference, fault):
    FAULTS[fault].assert_graded(grade_q3({FILE: FAULTS[fault].apply(reference)}), "q3")


def test_missing_key_is_named(grade_q3, reference):
    g = grade_q3({FILE: reference.replace('grads[f"b{c + 1}"]', 'grads[f"bias{c + 1}"]')})
    assert "returned a dict without the keys 'b1', 'b2'" in by_id(g, BIASES).feedback.summary


def test_hidden_check_shows_no_expected_gradients(grade_q3, reference):
    g = grade_q3({FILE: FAULTS["g_prime_left_out"].apply(reference)})
    hidden = by_id(g, OTHER)
    assert all(a.expected_value is None for a in hidden.feedback.arrays)
    assert by_id(g, WEIGHTS).feedback.arrays[0].expected_value is not None
