"""Q1 [Gradient Descent] of Homework 5, graded from `hw5_q1.py`: R(w), its gradient, the optimum,
and gradient descent's distance to the optimum for eta = 0.02, 0.05 and 0.1.

Points: the handout gives none for Homework 5. This project declares 2 points per bullet of the
handout: (a) gradient and optimum, 2 (code); (b) gradient descent, 2 (code; the plot is the report's);
(c) "is even larger eta beneficial?", 2, written, graded by hand (tests/test_points.py, BY_HAND).

eta = 0.1 diverges: the Hessian [[26, -10], [-10, 4]] has eigenvalues 15 +- sqrt(221), about 29.87
and 0.134, and 0.1 > 2 / 29.87, so the distance grows by about 1.99 a step, to about 1.7e148 after
500 steps. That run is compared on a log scale (log10 of the distance). A run that overflows (a
float32 iterate, a gradient ascent that passes 1e308) is reported as such: the student half runs
the student's code with numpy's floating-point warnings off, so that an overflow does not print
hundreds of RuntimeWarnings into the report, and the judge names the first step that is not finite.
Expected values are the reference's, run once and cached.
"""

from __future__ import annotations

import numpy as np

from autograder import figures
from autograder.compare import Tolerance, compare_arrays, compare_own
from autograder.model import Check, Problem, Verdict
from autograder.records import Record
from autograder.student import Subject, SubmissionError, to_array

MODULE = "hw5_q1"
POINTS_SEED = 5_2024
"""Seed of the random points at which R and its gradient are evaluated."""
ITERS = 500
W0 = (2.0, -1.0)
"""The start of the `w0` check: any point but 0 would do."""
W0_ITERS = 50
FD_STEP = 1e-4
"""Central differences of a quadratic are exact up to rounding (about 1e-16 * |R| / h, below 1e-9 here)."""

VALUES = Tolerance(atol=1e-9, rtol=1e-9)
GRADIENT = Tolerance(atol=1e-6, rtol=1e-7)
OPTIMUM = Tolerance(atol=1e-9)
"""'Exactly [1, 3]': np.linalg.solve lands within 1e-15 of it; 1e-9 leaves room for any exact method."""
DISTANCES = Tolerance(atol=1e-5, rtol=1e-5)
"""Rounding differs between float64 implementations by about 1e-15 a step; iterates kept in float32 (the
handout does not forbid it) are off by up to 1e-6 (measured: 9.7e-7 at eta = 0.05, whose last distance is
0.11). Every mistake diagnosed below moves a distance by 1e-2 or more."""
LOG_DISTANCES = Tolerance(atol=1e-6)
"""log10 of a distance growing to 1e148: 1e-6 decades is a relative difference of 2.3e-6."""


def _points() -> np.ndarray:
    return np.random.default_rng(POINTS_SEED).normal(0.0, 3.0, size=(5, 2))


def _vector(value, what: str, size: int) -> np.ndarray:
    """The student's value as a flat float array of `size` numbers: a column or a list is the same answer."""
    array = to_array(value, what)
    if array.size != size:
        raise SubmissionError(f"{what} should hold {size} numbers, but it returned an array of shape {array.shape}.")
    return array.astype(np.float64).reshape(size)


# --- (a) R, its gradient, the optimum -------------------------------------------------------------

class Values(Record):
    R: np.ndarray
    """R(w) at the 5 points."""


def run_R(subject: Subject) -> Values:
    values = [_vector(subject.call(MODULE, "R", w.copy()), "R(w)", 1)[0] for w in _points()]
    return Values(R=np.array(values))


def judge_R(got: Values, expected: Values, check: Check) -> Verdict:
    comparison = compare_arrays("R(w) at 5 random points", got.R, expected.R, VALUES)
    if comparison.equal:
        return Verdict.passed("R(w) matches the handout's function at 5 random points.")
    return Verdict.failed("R(w) differs from 13 w1^2 - 10 w1 w2 + 4 w1 + 2 w2^2 - 2 w2 + 1 at random points.",
                          details=tuple(comparison.lines()), arrays=(comparison.report,),
                          hint="Copy each term's coefficient and sign from the handout; w1 is w[0], w2 is w[1].")


class Gradients(Record):
    grad: np.ndarray
    """grad_R(w) at the 5 points, one row each."""
    slope: np.ndarray
    """Central differences of the student's own R at the same points (for the diagnosis)."""


def run_grad_R(subject: Subject) -> Gradients:
    """The student's gradient, and central differences of the student's own R (for the diagnosis)."""
    grads, slopes = [], []
    for w in _points():
        grads.append(_vector(subject.call(MODULE, "grad_R", w.copy()), "grad_R(w)", 2))
        slope = []
        for i in range(2):
            step = np.zeros(2)
            step[i] = FD_STEP
            up = _vector(subject.call(MODULE, "R", w + step), "R(w)", 1)[0]
            down = _vector(subject.call(MODULE, "R", w - step), "R(w)", 1)[0]
            slope.append((up - down) / (2 * FD_STEP))
        slopes.append(slope)
    return Gradients(grad=np.array(grads), slope=np.array(slopes))


def judge_grad_R(got: Gradients, expected: Gradients, check: Check) -> Verdict:
    """grad_R against the central differences of the handout's R (the reference's, run once)."""
    comparison = compare_arrays("grad_R(w) at 5 random points", got.grad, expected.slope, GRADIENT)
    if comparison.equal:
        return Verdict.passed("grad_R(w) equals the finite differences of R at 5 random points.")
    consistent = compare_own("own", got.grad, got.slope, GRADIENT).equal
    wrong = [name for i, name in enumerate(("dR/dw1", "dR/dw2"))
             if not np.allclose(got.grad[:, i], expected.slope[:, i], atol=GRADIENT.atol, rtol=GRADIENT.rtol)]
    summary = (f"grad_R(w) is not the gradient of R: {' and '.join(wrong)} "
               f"{'differs' if len(wrong) == 1 else 'differ'} from the finite differences (R(w + h e_i) - "
               f"R(w - h e_i)) / 2h of the handout's R.")
    hint = ("Your grad_R is the slope of your own R, so R itself is off (see q1.r.values)." if consistent else
            "Differentiate R term by term, once in w1 and once in w2: a square a w^2 gives 2 a w (the factor 2 "
            "is easy to forget), a cross term gives its coefficient times the other variable, constants vanish.")
    return Verdict.failed(summary, details=tuple(comparison.lines()), arrays=(comparison.report,), hint=hint)


class Optimum(Record):
    optimum: np.ndarray


def run_optimum(subject: Subject) -> Optimum:
    return Optimum(optimum=_vector(subject.call(MODULE, "optimum"), "optimum()", 2))


def judge_optimum(got: Optimum, expected: Optimum, check: Check) -> Verdict:
    comparison = compare_arrays("optimum()", got.optimum, expected.optimum, OPTIMUM)
    if comparison.equal:
        return Verdict.passed(f"optimum() is the exact solution of grad R(w) = 0 (within {OPTIMUM.describe()}).")
    flipped = got.optimum.shape == (2,) and np.allclose(got.optimum, -expected.optimum, atol=OPTIMUM.atol)
    return Verdict.failed("optimum() is not the point where grad R(w) = 0.", details=tuple(comparison.lines()),
                          arrays=(comparison.report,),
                          hint="Your optimum is the true one with both signs flipped: the constant terms of grad R "
                               "change sign when they move to the other side of grad R(w) = 0." if flipped else
                               comparison.hint or "Set both components of the gradient to 0 and solve the 2 x 2 "
                                                  "linear system exactly (by hand, or np.linalg.solve); an "
                                                  "iterate of gradient descent is only close to it.")


# --- (b) gradient descent ---------------------------------------------------------------------------

def _descend(subject: Subject, eta: float, iters: int, what: str, **kwargs) -> np.ndarray:
    # An overflow is the student's result, judged and named by the judge; numpy's warnings about it
    # would only fill the report with one RuntimeWarning a step.
    with np.errstate(all="ignore"):
        distances = to_array(subject.call(MODULE, "gradient_descent", eta, iters, **kwargs), what)
    return distances.astype(np.float64).ravel() if distances.ndim > 1 and distances.size == iters else distances


class Descent(Record):
    distances: np.ndarray
    """||w - w*|| after each step."""


def run_descent(eta: float):
    def run(subject: Subject) -> Descent:
        return Descent(distances=_descend(subject, eta, ITERS, f"gradient_descent({eta}, {ITERS})"))
    return run


def judge_descent(eta: float):
    log_scale = eta == 0.1

    def judge(got: Descent, expected: Descent, check: Check) -> Verdict:
        with np.errstate(all="ignore"):
            return _judge_distances(f"gradient_descent({eta})", got.distances, expected.distances, log_scale)
    return judge


def _judge_distances(what: str, got: np.ndarray, expected: np.ndarray, log_scale: bool) -> Verdict:
    picture = _table(got, expected)
    n = expected.size
    if got.shape != expected.shape:
        hint = (f"It returned {got.size} distances: {n + 1} means the starting distance (before any step) is "
                f"included; return the distance after each of the {n} steps only." if got.size == n + 1 else
                f"Return one distance per step: an array of shape ({n},).")
        comparison = compare_arrays(f"{what} distances", got, expected, DISTANCES)
        return Verdict.failed(f"{what} returned an array of shape {got.shape}, not ({n},).",
                              details=tuple(comparison.lines()), hint=hint, figures=picture)
    bad = ~np.isfinite(got)
    if bad.any():
        first = int(np.argmax(bad))
        return Verdict.failed(
            f"{what}: {int(bad.sum())} of {n} distances are inf or nan, the first after step {first + 1}: your "
            f"iterates overflowed. The expected distances stay finite (the largest is {expected.max():.3g}).",
            details=(f"Distance after step {first}: {got[first - 1]:.4g}." if first else
                     "The very first distance is not finite.",),
            hint=_runaway_hint(got, expected) or "Keep w in float64 (np.zeros(2), not float32), and compute "
                 "the distance with np.linalg.norm(w - w_star).", figures=picture)
    if log_scale:
        # Two finite positive arrays: log10 of each, compared in decades.
        comparison = compare_arrays(f"log10 of the {what} distances", np.log10(np.maximum(got, 1e-300)),
                                    np.log10(expected), LOG_DISTANCES)
    else:
        comparison = compare_arrays(f"{what} distances", got, expected, DISTANCES)
    if comparison.equal:
        scale = "on a log scale, " if log_scale else ""
        return Verdict.passed(f"{what}: all {n} distances to the optimum match {scale}within "
                              f"{(LOG_DISTANCES if log_scale else DISTANCES).describe()}"
                              + (" (this step size diverges, as it should)." if log_scale else "."),
                              figures=picture)
    hint = _runaway_hint(got, expected)
    if hint is None and n > 1 and np.allclose(got[1:], expected[:-1], rtol=1e-6, atol=1e-9):
        hint = ("Your distances are one step late: the first one is the distance from w0, before any step. "
                "Take the step first, then record ||w - w*||.")
    if hint is None and n > 1 and np.allclose(got[:-1], expected[1:], rtol=1e-6, atol=1e-9):
        hint = "Your distances are one step early: record ||w - w*|| after each step, starting with the first."
    return Verdict.failed(f"{what}: {comparison.report.mismatched} of {n} distances to the optimum differ from "
                          f"gradient descent's" + (" (compared on a log scale)." if log_scale else "."),
                          details=tuple(comparison.lines()), arrays=(comparison.report,),
                          hint=hint or comparison.hint or "Check the update w <- w - eta * grad_R(w) from "
                                       "w0 (np.zeros(2) when w0 is None), and that the distance is to optimum().",
                          figures=picture)


def _runaway_hint(got: np.ndarray, expected: np.ndarray) -> str | None:
    """Gradient ascent runs away faster than descent does, whatever eta: the sign of the update."""
    finite = got[np.isfinite(got)]
    if finite.size < 2 or not np.isfinite(got[0]):
        return None
    far = finite[-1] > 10 * max(expected[min(finite.size, expected.size) - 1], finite[0])
    if far:
        return ("Your iterates run away from the optimum much faster than gradient descent's would: check the "
                "sign of the update, w <- w - eta * grad_R(w) (minus: downhill), and grad_R itself if "
                "q1.grad_r.finite_differences fails.")
    return None


def _table(got: np.ndarray, expected: np.ndarray):
    steps = [s for s in (1, 2, 10, 50, 100, 200, 500) if s <= expected.size]
    yours = [f"{got[s - 1]:.6g}" if got.ndim == 1 and s <= got.size else "" for s in steps]
    return figures.table("Distance to the optimum after some steps",
                         {"step": steps, "yours": yours, "expected": [f"{expected[s - 1]:.6g}" for s in steps]})


class FromW0(Record):
    distances: np.ndarray
    """The run from W0."""
    from_zero: np.ndarray
    """The run from (0, 0): what a `w0` ignored gives."""
    w0_after: np.ndarray
    """The caller's w0 after the call."""


def run_from_w0(subject: Subject) -> FromW0:
    w0 = np.array(W0)
    distances = _descend(subject, 0.05, W0_ITERS, f"gradient_descent(0.05, {W0_ITERS}, w0={list(W0)})", w0=w0)
    from_zero = _descend(subject, 0.05, W0_ITERS, f"gradient_descent(0.05, {W0_ITERS})")
    return FromW0(distances=distances, from_zero=from_zero, w0_after=w0)


def judge_from_w0(got: FromW0, expected: FromW0, check: Check) -> Verdict:
    what = f"gradient_descent(0.05, {W0_ITERS}, w0={list(W0)})"
    if not np.array_equal(got.w0_after, np.array(W0)):
        return Verdict.failed(f"{what} changed the caller's w0 to {got.w0_after.tolist()}.",
                              hint="Start from a copy, w = np.array(w0, dtype=float): `w -= ...` on w0 itself "
                                   "changes the array the caller passed.")
    with np.errstate(all="ignore"):
        verdict = _judge_distances(what, got.distances, expected.distances, log_scale=False)
        ignored = (got.distances.shape == expected.from_zero.shape
                   and np.allclose(got.distances, expected.from_zero, rtol=1e-6, atol=1e-9))
    if ignored:
        return Verdict.failed(f"{what} returned the distances of the run from (0, 0): w0 is ignored.",
                              hint="Start from w0 when it is given, and from np.zeros(2) only when w0 is None.")
    return verdict


PROBLEM = Problem(
    id="q1",
    title="Gradient Descent",
    files=("hw5_q1.py",),
    # Handout ../shared/seeds/003_e3b0b6e208b34aec.txt, Homework 5, "1. [Gradient Descent]" (line 395):
    # no points given. Declared here: 2 per bullet; (a) line 401 and (b) line 402 are code, (c) line 403
    # is written (tests/test_points.py BY_HAND).
    parts={"a": 2.0, "b": 2.0},
    checks=(
        Check(id="q1.r.values", part="a", points=0.5,
              claim="R(w) equals the handout's function at random points",
              run=run_R, judge=judge_R),
        Check(id="q1.grad_r.finite_differences", part="a", points=1.0,
              claim="grad_R(w) equals the central finite differences of R at random points",
              run=run_grad_R, judge=judge_grad_R),
        Check(id="q1.optimum.exact", part="a", points=0.5,
              claim="optimum() is the exact solution of grad R(w) = 0",
              run=run_optimum, judge=judge_optimum),
        Check(id="q1.gradient_descent.eta_0_02", part="b", points=0.5,
              claim="gradient_descent(0.02) gives the distance to the optimum after each of 500 steps",
              run=run_descent(0.02), judge=judge_descent(0.02)),
        Check(id="q1.gradient_descent.eta_0_05", part="b", points=0.5,
              claim="gradient_descent(0.05) gives the distance to the optimum after each of 500 steps",
              run=run_descent(0.05), judge=judge_descent(0.05)),
        Check(id="q1.gradient_descent.eta_0_1_log_scale", part="b", points=0.5,
              claim="gradient_descent(0.1) diverges as gradient descent does, compared on a log scale, "
                    "with no overflow",
              run=run_descent(0.1), judge=judge_descent(0.1)),
        Check(id="q1.gradient_descent.from_w0", part="b", points=0.5,
              claim="gradient_descent starts from the w0 it is given, without changing it",
              run=run_from_w0, judge=judge_from_w0),
    ),
)
