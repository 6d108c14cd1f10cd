"""Q1 of the mock final: Lloyd's algorithm for k-means, graded from `lloyd` in final.py.

The handout's points are (-0.01, 1), (1, 1), (0.01, -1), (-1, -1), started from the second and third
points: step 1 makes the cells {x1, x2} and {x3, x4}, whose means are (0.495, 1) and (-0.495, -1);
step 2 finds the same cells and stops. The handwritten solution writes (0.99, 2) and (-0.99, 2): the
first is the cells' sum, not their mean, and the second is neither. The checks follow the mean, and
name the sum when they see it.

Expected values are the reference's. A hidden check reruns `lloyd` on point sets the student never
saw (three blobs, in 2-D and 3-D), so that numbers hard-coded from the handout do not pass it.
"""

from __future__ import annotations

import numpy as np

from autograder.assignments.fa24_dl_final.common import FILE, MODULE
from autograder.compare import Tolerance, compare_arrays
from autograder.model import Check, Problem, Verdict, Visibility
from autograder.records import Record
from autograder.student import Subject, returned_tuple, to_array

HANDOUT_POINTS = np.array([[-0.01, 1.0], [1.0, 1.0], [0.01, -1.0], [-1.0, -1.0]])
MAX_ITER = 100
"""lloyd's default max_iter, which the checks use: an n_iter of 100 is a run that never converged."""
HANDOUT_START = (1, 2)
"""The second and third points are the initial centers."""
CLOSE = Tolerance(atol=1e-9, rtol=1e-9)
"""Means of a few points: any order of summation agrees to ~1e-15."""
EXACT = Tolerance(atol=0)
"""Assignments are center indices: equal or wrong."""


def _other_sets() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Two point sets with three blobs each (2-D and 3-D), started from three points of one blob so that
    Lloyd's takes several steps; no cell is ever empty, and no point is ever equidistant to two centers."""
    rng = np.random.default_rng(2024)
    sets = {}
    for name, dim in (("2-D", 2), ("3-D", 3)):
        means = rng.normal(0.0, 4.0, size=(3, dim))
        points = np.concatenate([m + rng.normal(0.0, 1.0, size=(12, dim)) for m in means])
        points = points[rng.permutation(len(points))]
        sets[name] = (points, points[np.argsort(np.linalg.norm(points - points[0], axis=1))[:3]])
    return sets


OTHER_SETS = _other_sets()


class Cells(Record):
    centers: np.ndarray
    """The final centers, one row per center."""
    assignments: np.ndarray
    """The index of each point's center at the end, one per point."""


class Lloyd(Cells):
    """What lloyd returns: its centers and assignments, and n_iter."""

    n_iter: np.ndarray
    """The number of assignment steps done, as returned (a number, read as an array)."""


class OtherSets(Record):
    runs: dict[str, Cells]
    """lloyd's centers and assignments on each set of `OTHER_SETS`, by its name ("2-D", "3-D")."""


def _lloyd(subject: Subject, points: np.ndarray, centers: np.ndarray, what: str) -> Lloyd:
    returned = subject.call(MODULE, "lloyd", points.copy(), centers.copy())
    centers_out, assignments, n_iter = returned_tuple(returned, ("centers", "assignments", "n_iter"), what)
    return Lloyd(centers=to_array(centers_out, f"the centers {what} returned"),
                 assignments=to_array(assignments, f"the assignments {what} returned"),
                 n_iter=to_array(n_iter, f"the n_iter {what} returned"))


# --- student halves ---------------------------------------------------------------------------

def run_handout(subject: Subject) -> Lloyd:
    return _lloyd(subject, HANDOUT_POINTS, HANDOUT_POINTS[list(HANDOUT_START)], "lloyd(points, centers)")


def run_other_sets(subject: Subject) -> OtherSets:
    runs = {}
    for name, (points, centers) in OTHER_SETS.items():
        got = _lloyd(subject, points, centers, f"lloyd on the {name} points")
        runs[name] = Cells(centers=got.centers, assignments=got.assignments)
    return OtherSets(runs=runs)


# --- judges -----------------------------------------------------------------------------------

def _cell_sums(points: np.ndarray, assignments: np.ndarray, k: int) -> np.ndarray:
    return np.array([points[assignments == i].sum(axis=0) for i in range(k)])


def _centers_hint(got: np.ndarray, expected: np.ndarray, points: np.ndarray, assignments: np.ndarray,
                  start: np.ndarray) -> str | None:
    """Name the mistake when the returned centers are a recognisable wrong answer."""
    if got.shape != expected.shape or not np.all(np.isfinite(got)):
        return None
    if np.allclose(got, _cell_sums(points, assignments, len(expected)), atol=1e-6):
        return ("Your centers are the sums of the points of each cell, not their means: divide by the number of "
                "points in the cell (the handwritten solution's (0.99, 2) makes the same slip).")
    if np.allclose(got, start, atol=1e-9):
        return "Your centers are the initial ones: move each center to the mean of its cell after assigning."
    if np.allclose(np.sort(got, axis=0), np.sort(expected, axis=0), atol=1e-6):
        return "Your centers are right but in another order: center i must start at centers[i] and stay at index i."
    return None


def judge_handout_centers(got: Lloyd, expected: Lloyd, check: Check) -> Verdict:
    comparison = compare_arrays("centers", got.centers, expected.centers, CLOSE)
    if comparison.equal:
        return Verdict.passed("lloyd converges to the means of the cells {x1, x2} and {x3, x4}: "
                              "(0.495, 1) and (-0.495, -1).")
    hint = _centers_hint(got.centers, expected.centers, HANDOUT_POINTS, expected.assignments,
                         HANDOUT_POINTS[list(HANDOUT_START)])
    return Verdict.failed(
        "lloyd's final centers on Q1's points (started from the 2nd and 3rd points) are not the means of their "
        "cells.", details=tuple(comparison.lines()), arrays=(comparison.report,),
        hint=hint or comparison.hint or "Each step: assign every point to its nearest center (squared Euclidean "
                                        "distance), then move each center to the mean of its cell.")


def judge_handout_assignments(got: Lloyd, expected: Lloyd, check: Check) -> Verdict:
    comparison = compare_arrays("assignments", got.assignments, expected.assignments, EXACT)
    if not comparison.equal:
        return Verdict.failed(
            "lloyd's assignments on Q1's points are not the final cells: x1, x2 with center 0 and x3, x4 with "
            "center 1.", details=tuple(comparison.lines()), arrays=(comparison.report,),
            hint="assignments[n] is the index (0 or 1) of the center nearest to points[n] at the end.")
    n_iter = got.n_iter
    if n_iter.shape == () and n_iter == MAX_ITER:
        return Verdict.failed(
            f"lloyd's assignments are right, but n_iter is {n_iter.tolist()}, not {int(expected.n_iter)}: it ran "
            f"to max_iter = {MAX_ITER} without converging.",
            hint="Your loop never found an assignment step that changed nothing: the cells keep changing (each point "
                 "goes to its nearest center, the argmin of the distances, not the argmax) or the stop test never "
                 "compares the new assignment with the previous one.")
    if n_iter.shape != () or n_iter != expected.n_iter:
        return Verdict.failed(
            f"lloyd's assignments are right, but n_iter is {n_iter.tolist()}, not {int(expected.n_iter)}.",
            hint="n_iter counts the assignment steps done, the last being the one that changed nothing: on Q1's "
                 "points step 1 moves the centers and step 2 finds the same cells and stops, so n_iter = 2.")
    return Verdict.passed("lloyd assigns x1, x2 to center 0 and x3, x4 to center 1, and stops at step 2.")


def judge_other_sets(got: OtherSets, expected: OtherSets, check: Check) -> Verdict:
    for name, (points, start) in OTHER_SETS.items():
        yours, wanted = got.runs[name], expected.runs[name]
        assignments = compare_arrays(f"assignments ({name})", yours.assignments, wanted.assignments, EXACT)
        centers = compare_arrays(f"centers ({name})", yours.centers, wanted.centers, CLOSE)
        wrong = [c for c in (centers, assignments) if not c.equal]
        if wrong:
            hint = _centers_hint(yours.centers, wanted.centers, points, wanted.assignments, start)
            return Verdict.failed(
                f"lloyd does not converge to the expected centers and cells on {len(points)} {name} points in "
                f"three blobs (k = 3), which take several steps.",
                details=tuple(line for c in wrong for line in c.lines()), arrays=tuple(c.report for c in wrong),
                hint=hint or "Repeat assign-then-update until an assignment step changes nothing (or max_iter), "
                             "with squared Euclidean distances, for any number of points, dimensions and centers.")
    return Verdict.passed(f"lloyd converges to the expected centers and cells on {len(OTHER_SETS)} other point sets.")


PROBLEM = Problem(
    id="q1",
    title="Q1: Lloyd's algorithm for k-means",
    files=(FILE,),
    # Handout ../shared/seeds/003_e3b0b6e208b34aec.txt, question 1: "(a) (3 pts) Perform, step by step,
    # Lloyd's algorithm" (line 22; its Voronoi drawing is not graded here); "(b) (2 pts) Suggest a different
    # initialization" (line 36) is written, graded by hand (tests/test_points.py, BY_HAND).
    parts={"a": 3.0},
    checks=(
        Check(id="q1.lloyd.handout_centers", part="a", points=1.5,
              claim="lloyd converges to (0.495, 1) and (-0.495, -1) on Q1's points, from the 2nd and 3rd points",
              run=run_handout, judge=judge_handout_centers),
        Check(id="q1.lloyd.handout_assignments", part="a", points=0.5,
              claim="lloyd's final cells on Q1's points are {x1, x2} and {x3, x4}, after n_iter = 2 steps",
              run=run_handout, judge=judge_handout_assignments),
        Check(id="q1.lloyd.other_points", part="a", points=1.0, visibility=Visibility.hidden,
              claim="lloyd converges to the expected centers and cells on two other point sets",
              run=run_other_sets, judge=judge_other_sets),
    ),
)
