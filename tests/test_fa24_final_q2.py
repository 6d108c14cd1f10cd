"""Q2 of fa24-dl-final (competitive learning with rounding): the judge accepts every history that some
choice of tie-breaks (winner ties, exact halves) gives, and only those; each fault loses exactly its
checks with a message that names it."""

from __future__ import annotations

import functools
import itertools
import math
from fractions import Fraction

import numpy as np
import pytest
from conftest import Fault, by_id, checks_of, lost_in, reference_text

from autograder.assignments import load_assignment
from autograder.assignments.fa24_dl_final import q2
from autograder.config import REPO_ROOT

FINAL, FILE = "fa24-dl-final", "final.py"
HANDOUT_CHECK = "q2.competitive_learning.handout_trajectory"
OTHER_CHECK = "q2.competitive_learning.other_inputs"
UNROUNDED_CHECK = "q2.competitive_learning.without_rounding"
ALL = {HANDOUT_CHECK, OTHER_CHECK, UNROUNDED_CHECK}


@pytest.fixture(scope="module")
def grade_q2(grade_files):
    return functools.partial(grade_files, assignment=FINAL, problems=("q2",))


@pytest.fixture(scope="module")
def reference():
    return reference_text(FINAL, FILE)


def test_reference_scores_full_marks(grade_q2, reference):
    g = grade_q2({FILE: reference})
    assert [(c.id, c.outcome.value, c.score) for c in checks_of(g, "q2")] == [
        (HANDOUT_CHECK, "passed", 2.5), (OTHER_CHECK, "passed", 1.0), (UNROUNDED_CHECK, "passed", 0.5)]
    assert "one of the 73 histories that the choices of tie-breaks allow" in by_id(g, HANDOUT_CHECK).feedback.summary


def test_template_scores_zero_with_not_implemented(grade_q2):
    g = grade_q2({FILE: (REPO_ROOT / "student_template" / FINAL / FILE).read_text()})
    assert g.score == 0 and {c.id for c in g.checks} == ALL
    for c in g.checks:
        assert c.outcome.value == "error"
        assert "`competitive_learning` in final.py is not implemented yet" in c.feedback.summary


UPDATE = "            weights[winner] = weights[winner] + eta * y * (x - weights[winner])\n"
ROUNDING = "                weights[winner] = np.round(weights[winner]) + 0.0  # + 0.0: no -0\n"

FAULTS = {  # each mistake, the checks it loses, and what their messages must say
    "every_unit_updated": Fault(
        [(UPDATE, "            weights = weights + eta * outputs[:, None] * (x - weights)\n"),
         (ROUNDING, "                weights = np.round(weights) + 0.0\n")],
        ALL, ["units 1, 2 all moved", "Only the winner moves"]),
    "no_rounding": Fault(
        [("            if round_weights:\n", "            if False:\n")],
        {HANDOUT_CHECK, OTHER_CHECK}, ["your weights are not integers", "Round the winner's weights"]),
    "always_rounds": Fault(
        [("            if round_weights:\n", "            if True:\n")],
        {UNROUNDED_CHECK}, ["the winner's new weights are not w_i + eta * y~ * (x - w_i)"]),
    "output_factor_left_out": Fault(
        [("eta * y * (x - weights[winner])", "eta * (x - weights[winner])")],
        ALL, ["the winner moved by eta (x - w), without the factor y~",
              "without the factor y~, its move eta (x - w) rounds back to where it was"]),  # the hidden check's step
    "nearest_unit_wins": Fault(
        [("winner = int(np.argmax(outputs))", "winner = int(np.argmin(((weights - x) ** 2).sum(axis=1)))")],
        ALL, ["but it is not the winner", "largest output w_i^T x (not the nearest one)"], read=HANDOUT_CHECK),
    "floor_instead_of_round": Fault(  # every half of the handout's data has two nearest integers: only 0.75 tells
        [("np.round(weights[winner])", "np.floor(weights[winner])")],
        {OTHER_CHECK}, ["rounded down (floor), not to the nearest integer"]),
    "history_with_the_initial_weights": Fault(
        [("    history = []\n", "    history = [weights.copy()]\n")],
        ALL, ["history has shape (9, 2, 2), expected (8, 2, 2)", "without the initial weights"], read=HANDOUT_CHECK),
}


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_fault_loses_exactly_its_checks(grade_q2, reference, fault):
    FAULTS[fault].assert_graded(grade_q2({FILE: FAULTS[fault].apply(reference)}), "q2")


@pytest.mark.parametrize("edits", [
    # the last of the tied units wins, and exact halves round up
    [("winner = int(np.argmax(outputs))", "winner = len(outputs) - 1 - int(np.argmax(outputs[::-1]))"),
     ("np.round(weights[winner])", "np.floor(weights[winner] + 0.5)")],
    # halves round down
    [("np.round(weights[winner])", "np.ceil(weights[winner] - 0.5)")],
], ids=["last_winner_half_up", "half_down"])
def test_other_valid_tie_breaks_score_full_marks(grade_q2, reference, edits):
    text = Fault(edits, set()).apply(reference)
    g = grade_q2({FILE: text})
    assert lost_in(g, "q2") == set()


def test_hidden_check_shows_no_weights(grade_q2, reference):
    g = grade_q2({FILE: FAULTS["floor_instead_of_round"].apply(reference)})
    hidden = by_id(g, OTHER_CHECK)
    assert hidden.feedback.details == () and hidden.feedback.figures == ()
    visible = by_id(grade_q2({FILE: FAULTS["no_rounding"].apply(reference)}), HANDOUT_CHECK)
    assert visible.feedback.details[0].startswith("Before the step: [(0, 1), (2, -1)]; yours after it: "
                                                  "[(0.5, 1), (2, -1)].")
    assert visible.feedback.figures and visible.feedback.figures[0].rows[1][-1] == "no"


# --- the judge against an independent enumeration of every tie-break ---------------------------------

def all_histories(case: q2.Case) -> set[tuple]:
    """Every history of the rule, by brute force over the tree of choices, in exact rational arithmetic:
    each tied winner, and both nearest integers of each exact half."""
    points = [[Fraction(v) for v in p] for p in case.points.tolist()]
    start = tuple(tuple(Fraction(v) for v in w) for w in case.weights.tolist())
    eta = Fraction(case.eta)
    found = set()

    def nearest(v: Fraction) -> list[Fraction]:
        low = Fraction(math.floor(v))
        return [low, low + 1] if v - low == Fraction(1, 2) else [Fraction(round(v))]

    def walk(t: int, weights: tuple, history: tuple) -> None:
        if t == case.steps:
            found.add(history)
            return
        x = points[t % len(points)]
        outputs = [sum(a * b for a, b in zip(w, x)) for w in weights]
        for i in (i for i, o in enumerate(outputs) if o == max(outputs)):
            moved = [w + eta * outputs[i] * (xj - w) for w, xj in zip(weights[i], x)]
            for row in itertools.product(*map(nearest, moved)):
                after = weights[:i] + (tuple(row),) + weights[i + 1:]
                walk(t + 1, after, history + (after,))

    walk(0, start, ())
    return found


def as_outputs(history: tuple) -> q2.Trajectory:
    h = np.array([[[float(v) for v in w] for w in step] for step in history])
    return q2.Trajectory(history=h, weights=h[-1])


@pytest.fixture(scope="module")
def handout_histories():
    return all_histories(q2.HANDOUT)


def _judge(case: q2.Case, outputs: q2.Trajectory) -> float:
    check = load_assignment(FINAL).check(HANDOUT_CHECK)
    return q2.judge_trajectory(case)(outputs, None, check).fraction


def test_the_count_is_the_number_of_histories(handout_histories):
    assert len(handout_histories) == q2.count_trajectories(q2.HANDOUT) == 73
    assert len(all_histories(q2.OTHER)) == q2.count_trajectories(q2.OTHER) == 1066


def test_every_history_some_tie_break_gives_passes(handout_histories):
    assert all(_judge(q2.HANDOUT, as_outputs(h)) == 1.0 for h in handout_histories)


def test_every_history_no_tie_break_gives_fails(handout_histories):
    """Each valid history moved by one unit in one coordinate at one step: it passes exactly when the
    enumeration holds it."""
    as_keys = {tuple(tuple(tuple(float(v) for v in w) for w in step) for step in h) for h in handout_histories}
    tried = 0
    for history in sorted(handout_histories)[:20]:
        base = as_outputs(history).history
        for t, unit, coordinate, delta in itertools.product(range(q2.HANDOUT.steps), range(2), range(2), (-1, 1)):
            changed = base.copy()
            changed[t, unit, coordinate] += delta
            key = tuple(tuple(tuple(float(v) for v in w) for w in step) for step in changed)
            assert _judge(q2.HANDOUT, q2.Trajectory(history=changed, weights=changed[-1])) == float(key in as_keys)
            tried += 1
    assert tried == 20 * 8 * 2 * 2 * 2


def test_the_handwritten_table_is_not_what_makes_a_history_pass():
    """The handwritten table processes (-1, 1) as the fourth point. Its rounded weights happen to be an
    allowed history of the right data (a winner with y~ = 0 moves nowhere); but the rule run on (-1, 1)
    with halves rounded down moves unit 1 at step 4, which the right data do not allow."""
    table = [[[0, 1], [2, -1]], [[0, 1], [2, -1]], [[0, 1], [1, -1]], [[0, 1], [1, -1]],
             [[0, 1], [1, -1]], [[0, 1], [1, -1]], [[0, 1], [0, -1]], [[0, 1], [0, -1]]]
    h = np.array(table, dtype=float)
    assert _judge(q2.HANDOUT, q2.Trajectory(history=h, weights=h[-1])) == 1.0
    wrong_point = q2.Case(points=np.array([[0.0, 1.0], [1.0, 1.0], [0.0, -1.0], [-1.0, 1.0]]),
                          weights=q2.HANDOUT.weights, eta=0.5, epochs=2, round_weights=True)
    histories = all_histories(wrong_point)
    rejected = [h for h in histories if _judge(q2.HANDOUT, as_outputs(h)) == 0.0]
    assert rejected and len(rejected) < len(histories)
