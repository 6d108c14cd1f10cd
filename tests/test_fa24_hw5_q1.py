"""Q1 of fa24-dl-hw5 (gradient descent): the reference passes, the template fails cleanly, each fault
of a real student loses exactly its checks with a message that names it, and the diverging run
(eta = 0.1) is graded without a crash or a flood of warnings, overflow or not."""

from __future__ import annotations

import functools
import warnings

import numpy as np
import pytest

from autograder.assignments.fa24_dl_hw5 import q1
from autograder.config import REPO_ROOT
from conftest import Fault, by_id, lost_in, mutate, outcomes, reference_text, text_of

AID = "fa24-dl-hw5"
FILE = "hw5_q1.py"
ALL = {c.id for c in q1.PROBLEM.checks}
DESCENT = {"q1.gradient_descent.eta_0_02", "q1.gradient_descent.eta_0_05",
           "q1.gradient_descent.eta_0_1_log_scale", "q1.gradient_descent.from_w0"}
LOG_SCALE = "q1.gradient_descent.eta_0_1_log_scale"


@pytest.fixture(scope="module")
def grade_q1(grade_files):
    return functools.partial(grade_files, assignment=AID, problems=("q1",))


@pytest.fixture(scope="module")
def reference():
    return reference_text(AID, FILE)


def test_reference_scores_full_marks(grade_q1, reference):
    g = grade_q1({FILE: reference})
    assert g.score == g.max_score == 4.0
    assert set(outcomes(g).values()) == {"passed"}


def test_template_scores_zero_with_not_implemented_on_every_check(grade_q1):
    g = grade_q1({FILE: (REPO_ROOT / "student_template" / AID / FILE).read_text()})
    assert g.score == 0 and {c.id for c in g.checks} == ALL
    for c in g.checks:
        assert c.outcome.value == "error"
        assert "is not implemented yet: it raises NotImplementedError" in c.feedback.summary


FAULTS = {  # each mistake, the checks it loses, and what their messages must say
    "R_cross_term_sign": Fault(
        [("- 10 * w1 * w2 + 4 * w1", "+ 10 * w1 * w2 + 4 * w1")],
        {"q1.r.values"}, ["R(w) differs from 13 w1^2 - 10 w1 w2"]),
    "gradient_without_the_factor_2": Fault(
        [("[26 * w1 - 10 * w2 + 4,", "[13 * w1 - 10 * w2 + 4,")],
        {"q1.grad_r.finite_differences"} | DESCENT, ["dR/dw1 differs from the finite differences", "factor 2"],
        read="q1.grad_r.finite_differences"),
    "gradient_of_a_wrong_R": Fault(  # grad_R consistent with a wrong R: the message says R is the culprit
        [("- 10 * w1 * w2 + 4 * w1", "- 10 * w1 * w2 + 2 * w1"), ("[26 * w1 - 10 * w2 + 4,", "[26 * w1 - 10 * w2 + 2,")],
        {"q1.r.values", "q1.grad_r.finite_differences"} | DESCENT, ["slope of your own R, so R itself is off"],
        read="q1.grad_r.finite_differences"),
    "optimum_sign_flipped": Fault(
        [("np.linalg.solve(HESSIAN, -LINEAR)", "np.linalg.solve(HESSIAN, LINEAR)")],
        {"q1.optimum.exact"} | DESCENT, ["optimum() is not the point where grad R(w) = 0", "both signs flipped"],
        read="q1.optimum.exact"),
    "gradient_ascent": Fault(  # the sign of the update flipped: every run runs away, eta = 0.1 overflows
        [("w = w - eta * grad_R(w)", "w = w + eta * grad_R(w)")],
        DESCENT, ["check the sign of the update, w <- w - eta * grad_R(w)"]),
    "distance_recorded_before_the_step": Fault(
        [("        w = w - eta * grad_R(w)\n        distances[i] = np.linalg.norm(w - w_star)\n",
          "        distances[i] = np.linalg.norm(w - w_star)\n        w = w - eta * grad_R(w)\n")],
        DESCENT, ["one step late", "Take the step first"]),
    "starting_distance_included": Fault(
        [("    return distances\n", "    return np.concatenate([[np.linalg.norm(np.zeros(2) - w_star)], distances])\n")],
        DESCENT, ["the starting distance (before any step) is included"]),
    "distances_in_float32": Fault(  # 1.99^500 does not fit in float32: inf from step 128, at eta = 0.1 only
        [("distances = np.zeros(iters)", "distances = np.zeros(iters, dtype=np.float32)")],
        {LOG_SCALE}, ["distances are inf or nan, the first after step", "your iterates overflowed", "float64"]),
    "iterates_in_float32": Fault(  # valid at eta = 0.02 and 0.05 (float32's precision is accepted); 0.1 overflows
        [("w = np.zeros(2) if w0 is None else np.array(w0, dtype=float)",
          "w = np.zeros(2, dtype=np.float32) if w0 is None else np.array(w0, dtype=np.float32)"),
         ("        w = w - eta * grad_R(w)\n", "        w = (w - eta * grad_R(w)).astype(np.float32)\n")],
        {LOG_SCALE}, ["your iterates overflowed", "Keep w in float64"]),
    "w0_ignored": Fault(
        [("w = np.zeros(2) if w0 is None else np.array(w0, dtype=float)", "w = np.zeros(2)")],
        {"q1.gradient_descent.from_w0"}, ["w0 is ignored"]),
    "w0_changed_in_place": Fault(
        [("w = np.zeros(2) if w0 is None else np.array(w0, dtype=float)", "w = np.zeros(2) if w0 is None else w0"),
         ("        w = w - eta * grad_R(w)\n", "        w -= eta * grad_R(w)\n")],
        {"q1.gradient_descent.from_w0"}, ["changed the caller's w0", "Start from a copy"]),
}


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_fault_loses_exactly_its_checks(grade_q1, reference, fault):
    FAULTS[fault].assert_graded(grade_q1({FILE: FAULTS[fault].apply(reference)}), "q1")


def test_the_diverging_run_of_the_reference_is_graded_without_warnings(grade_q1, reference):
    """eta = 0.1 diverges to about 1.7e148: compared on a log scale, passed, and nothing warned, in the
    student's output (what the report shows) or in the judge."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        g = grade_q1({FILE: reference})
    check = by_id(g, LOG_SCALE)
    assert check.outcome.value == "passed" and "on a log scale" in check.feedback.summary
    assert "Warning" not in check.student_output and "Warning" not in text_of(check)
    assert [w for w in caught if issubclass(w.category, RuntimeWarning)] == []


@pytest.mark.parametrize("fault", ["gradient_ascent", "distances_in_float32"])
def test_an_overflow_is_reported_not_crashed_on_nor_warned_about(grade_q1, reference, fault):
    """Both faults overflow at eta = 0.1 (to inf in the student's code, one RuntimeWarning a step if
    numpy's warnings were on): the check fails with a message, not an error, and nothing is printed."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        g = grade_q1({FILE: FAULTS[fault].apply(reference)})
    check = by_id(g, LOG_SCALE)
    assert check.outcome.value == "failed" and check.score == 0
    assert "are inf or nan" in check.feedback.summary
    assert "RuntimeWarning" not in check.student_output and "overflow encountered" not in check.student_output
    assert [w for w in caught if issubclass(w.category, RuntimeWarning)] == []


def test_the_log_scale_comparison_fails_a_slightly_wrong_rate(grade_q1, reference):
    """A wrong eta at the diverging step size (0.1 read as 0.1001) is caught on the log scale."""
    g = grade_q1({FILE: mutate(reference, "w = w - eta * grad_R(w)", "w = w - (eta + 1e-4 * (eta > 0.09)) * grad_R(w)")})
    assert lost_in(g, "q1") == {LOG_SCALE}
    assert "compared on a log scale" in by_id(g, LOG_SCALE).feedback.summary


def test_the_expected_diverging_run_is_finite_and_grows_by_the_largest_eigenvalue():
    """The spec's arithmetic, checked: eigenvalues 15 +- sqrt(221), and |1 - 0.1 * 29.87| = 1.99 a step."""
    hessian = np.array([[26.0, -10.0], [-10.0, 4.0]])
    low, high = np.linalg.eigvalsh(hessian)
    assert low == pytest.approx(15 - 221 ** 0.5) and high == pytest.approx(15 + 221 ** 0.5)
    assert 2 / high < 0.1 and 2 / high > 0.05
    rate = abs(1 - 0.1 * high)
    assert 1e147 < 3 * rate ** q1.ITERS < 1e150 < np.finfo(np.float64).max


@pytest.mark.slow
def test_in_the_sandbox_the_diverging_run_passes_and_an_overflow_prints_nothing(grade_q1, reference):
    """The same, through the sandboxed worker (whose stdout and stderr are the student's output)."""
    g = grade_q1({FILE: reference}, sandbox=True)
    assert by_id(g, LOG_SCALE).outcome.value == "passed" and "Warning" not in by_id(g, LOG_SCALE).student_output
    g = grade_q1({FILE: FAULTS["distances_in_float32"].apply(reference)}, sandbox=True)
    check = by_id(g, LOG_SCALE)
    assert check.outcome.value == "failed" and "are inf or nan" in check.feedback.summary
    assert "RuntimeWarning" not in check.student_output


def test_the_run_from_w0_is_not_said_to_start_at_zero(grade_q1, reference):
    """The w0 run's message names the start it was given, not (0, 0)."""
    g = grade_q1({FILE: FAULTS["gradient_of_a_wrong_R"].apply(reference)})
    hint = by_id(g, "q1.gradient_descent.from_w0").feedback.hint
    assert "w0 = (0, 0)" not in hint and "np.zeros(2) when w0 is None" in hint
