"""Q7 of fa24-dl-final (graph self-attention): the reference passes, the template fails cleanly, and each
fault loses exactly its checks with a message that names it."""

from __future__ import annotations

import functools

import pytest
from conftest import Fault, by_id, checks_of, reference_text

from autograder.config import REPO_ROOT

FINAL, FILE = "fa24-dl-final", "final.py"
VALUES = "q7.graph_self_attention.values"
ROWS = "q7.graph_self_attention.rows_sum_to_one"
NEIGHBOURS = "q7.graph_self_attention.neighbours_only"
SELF = "q7.graph_self_attention.self_only_if_in_e"
ALL = {VALUES, ROWS, NEIGHBOURS, SELF}


@pytest.fixture(scope="module")
def grade_q7(grade_files):
    return functools.partial(grade_files, assignment=FINAL, problems=("q7",))


@pytest.fixture(scope="module")
def reference():
    return reference_text(FINAL, FILE)


def test_reference_scores_full_marks(grade_q7, reference):
    g = grade_q7({FILE: reference})
    assert [(c.id, c.outcome.value, c.score) for c in checks_of(g, "q7")] == [
        (VALUES, "passed", 0.75), (ROWS, "passed", 0.5), (NEIGHBOURS, "passed", 0.5), (SELF, "passed", 0.25)]


def test_template_scores_zero_with_not_implemented(grade_q7):
    g = grade_q7({FILE: (REPO_ROOT / "student_template" / FINAL / FILE).read_text()})
    assert g.score == 0 and {c.id for c in g.checks} == ALL
    for c in g.checks:
        assert c.outcome.value == "error"
        assert "`graph_self_attention` in final.py is not implemented yet" in c.feedback.summary


FAULTS = {  # each mistake, the checks it loses, and what their messages must say
    "softmax_over_the_wrong_dimension": Fault(
        [("scores = scores - scores.max(axis=1, keepdims=True)", "scores = scores - scores.max(axis=0, keepdims=True)"),
         ("alpha = alpha / alpha.sum(axis=1, keepdims=True)", "alpha = alpha / alpha.sum(axis=0, keepdims=True)")],
        {VALUES, ROWS}, ["Your columns sum to 1 instead of your rows: the softmax runs over the wrong dimension",
                         "Your softmax runs over the wrong dimension"]),
    "attention_over_all_nodes": Fault(
        [("    scores = np.where(mask, scores, -np.inf)\n", "")],
        {VALUES, NEIGHBOURS, SELF}, ["attends outside E", "a softmax over all nodes attends to everyone",
                                     "Your nodes attend to nodes that are not their neighbours"]),
    "always_attends_to_itself": Fault(
        [("mask = np.asarray(adjacency) != 0", "mask = (np.asarray(adjacency) != 0) | np.eye(len(X), dtype=bool)")],
        {SELF}, ["attends outside E (a graph without self-loops)", "(0, 0)",
                 "a node attends to itself only when the adjacency has (v, v)"]),
    "scores_not_scaled": Fault(  # as the handwritten case formula writes them
        [("scores = Q @ K.T / np.sqrt(Wq.shape[0])", "scores = Q @ K.T")],
        {VALUES}, ["Your scores are not divided by sqrt(k)"]),
    "values_from_the_queries": Fault(
        [("Q, K, V = X @ Wq.T, X @ Wk.T, X @ Wv.T", "Q, K, V = X @ Wq.T, X @ Wk.T, X @ Wq.T")],
        {VALUES, ROWS, NEIGHBOURS, SELF}, ["S: expected shape (6, 2), got (6, 3)"], read=VALUES),
}


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_fault_loses_exactly_its_checks(grade_q7, reference, fault):
    FAULTS[fault].assert_graded(grade_q7({FILE: FAULTS[fault].apply(reference)}), "q7")


def test_a_wrong_shape_of_alpha_is_explained(grade_q7, reference):
    g = grade_q7({FILE: reference.replace("    return alpha @ V\n", "    return (alpha @ V)[:, :2]\n")})
    assert "should return the 6 x 6 attention matrix" in by_id(g, ROWS).feedback.summary
