"""Q1 of fa24-dl-final (Lloyd's algorithm): the reference passes, the template fails cleanly, and each
fault loses exactly its checks with a message that names it, the handwritten solution's sum among them."""

from __future__ import annotations

import functools

import pytest
from conftest import Fault, by_id, checks_of, lost_in, reference_text

from autograder.config import REPO_ROOT

FINAL, FILE = "fa24-dl-final", "final.py"
ALL = {"q1.lloyd.handout_centers", "q1.lloyd.handout_assignments", "q1.lloyd.other_points"}


@pytest.fixture(scope="module")
def grade_q1(grade_files):
    return functools.partial(grade_files, assignment=FINAL, problems=("q1",))


@pytest.fixture(scope="module")
def reference():
    return reference_text(FINAL, FILE)


def test_reference_scores_full_marks(grade_q1, reference):
    g = grade_q1({FILE: reference})
    assert [(c.id, c.outcome.value, c.score) for c in checks_of(g, "q1")] == [
        ("q1.lloyd.handout_centers", "passed", 1.5), ("q1.lloyd.handout_assignments", "passed", 0.5),
        ("q1.lloyd.other_points", "passed", 1.0)]
    assert "(0.495, 1) and (-0.495, -1)" in by_id(g, "q1.lloyd.handout_centers").feedback.summary


def test_template_scores_zero_with_not_implemented(grade_q1):
    g = grade_q1({FILE: (REPO_ROOT / "student_template" / FINAL / FILE).read_text()})
    assert g.score == 0 and {c.id for c in g.checks} == ALL
    for c in g.checks:
        assert c.outcome.value == "error"
        assert "`lloyd` in final.py is not implemented yet: it raises NotImplementedError" in c.feedback.summary


FAULTS = {  # each mistake, the checks it loses, and what their messages must say
    "sum_instead_of_mean": Fault(  # the handwritten solution's (0.99, 2)
        [("centers[i] = cell.mean(axis=0)", "centers[i] = cell.sum(axis=0)")],
        {"q1.lloyd.handout_centers", "q1.lloyd.other_points"},
        ["sums of the points of each cell, not their means", "(0.99, 2)"]),
    "n_iter_counts_only_the_moves": Fault(
        [("    return centers, assignments, n_iter\n", "    return centers, assignments, n_iter - 1\n")],
        {"q1.lloyd.handout_assignments"}, ["n_iter is 1, not 2", "n_iter counts the assignment steps done"]),
    "two_steps_as_in_the_handout": Fault(
        [("for n_iter in range(1, max_iter + 1):", "for n_iter in range(1, 3):")],
        {"q1.lloyd.other_points"}, ["does not converge to the expected centers and cells", "Repeat assign-then-update"]),
    "never_moves_the_centers": Fault(
        [("            if len(cell):\n", "            if False:\n")],
        {"q1.lloyd.handout_centers", "q1.lloyd.other_points"}, ["Your centers are the initial ones"]),
    "farthest_center": Fault(  # on Q1's points it swings between two states, ending at the right one after 100
        [("new = distances.argmin(axis=1)", "new = distances.argmax(axis=1)")],
        {"q1.lloyd.handout_assignments", "q1.lloyd.other_points"}, ["n_iter is 100, not 2", "without converging",
                                                                     "not the argmax"]),
}


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_fault_loses_exactly_its_checks(grade_q1, reference, fault):
    FAULTS[fault].assert_graded(grade_q1({FILE: FAULTS[fault].apply(reference)}), "q1")


def test_hidden_check_shows_no_expected_centers(grade_q1, reference):
    g = grade_q1({FILE: FAULTS["sum_instead_of_mean"].apply(reference)})
    hidden = by_id(g, "q1.lloyd.other_points")
    assert hidden.feedback.arrays and all(a.expected_value is None and a.max_abs_diff is None
                                          for a in hidden.feedback.arrays)


def test_a_tuple_of_the_wrong_length_is_named(grade_q1, reference):
    text = reference.replace("    return centers, assignments, n_iter\n", "    return centers, assignments\n")
    g = grade_q1({FILE: text})
    assert lost_in(g, "q1") == ALL
    assert "should return a tuple (centers, assignments, n_iter), but it returned a tuple of length 2" in \
        by_id(g, "q1.lloyd.handout_centers").feedback.summary
