"""Q2 of the mock final: competitive (winner-take-all) learning with rounding, graded from
`competitive_learning` in final.py.

The rule (the handout's part (a)): the winner is i = argmax_i w_i^T x, its output y~ = w_i^T x, and only
the winner moves, w_i <- w_i + eta y~ (x - w_i); part (b) then rounds the weights to the nearest integer
after every update. Two things are left open, and every choice is accepted:

- a tie for the winner ("tie, break either way", the handwritten table at iteration 2, where
  w_1^T x = w_2^T x = 1): either tied unit may move;
- a coordinate that is exactly half-way between two integers (1/2 at that same iteration): both are
  nearest integers. The handwritten solution rounds 1/2 to 0 (round-half-to-even and round-half-down
  agree there; np.round, the reference's, is half-to-even), but "the nearest integer" does not pick one,
  and Python's round, np.round, floor(v + 1/2) and ceil(v - 1/2) each pick differently. Every neighbour
  of an exact half is accepted, coordinate by coordinate.

So the judge does not compare with one trajectory: it enumerates, in numpy, the tree of every choice
of tie-breaks (winner ties and exact halves) from the given start, and accepts the student's history
if it is a path of that tree: each step is one of the steps the rule allows from the student's own
previous weights, starting from the given ones. Each other step is refused with the reason (a unit
that is not the winner moved, more than one unit moved, weights left unrounded, y~ left out).

The handout's data: the fourth point is (-1, -1), as the problem states; the handwritten table
processes (-1, 1) instead (and writes (1/2, 1/2) and (1/2, -1/2) for the unrounded (1/2, 1) and
(1/2, -1) at iterations 6-8). On these data the table's rounded weights happen to be one of the
valid trajectories, so the mistake costs nothing here; the hidden check's data tell the points apart.

No expected values: the judge needs only the inputs, which are the problem's.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from autograder import figures
from autograder.assignments.fa24_dl_final.common import FILE, MODULE
from autograder.compare import reveals_expected
from autograder.model import Check, Problem, Verdict, Visibility
from autograder.records import Record
from autograder.student import Subject, returned_tuple, to_array

TIE = 1e-9
"""Two outputs within this are tied, and a coordinate within this of an exact half is a half: the
data below are small integers and eta a power of two, so the arithmetic is exact."""
SAME = 1e-9
"""A returned weight within this (absolute + relative) of an allowed one is that one."""


@dataclass(frozen=True)
class Case:
    points: np.ndarray
    weights: np.ndarray
    eta: float
    epochs: int
    round_weights: bool

    @property
    def steps(self) -> int:
        return self.epochs * len(self.points)

    def point(self, step: int) -> np.ndarray:
        return self.points[step % len(self.points)]

    def call(self) -> str:
        return (f"competitive_learning(points, weights, eta={self.eta:g}, epochs={self.epochs}, "
                f"round_weights={self.round_weights})")


HANDOUT = Case(points=np.array([[0.0, 1.0], [1.0, 1.0], [0.0, -1.0], [-1.0, -1.0]]),
               weights=np.array([[-1.0, 2.0], [2.0, -1.0]]), eta=0.5, epochs=2, round_weights=True)
"""Part (b): the problem's points in the given order, 2 epochs, eta = 1/2, weights (-1, 2) and (2, -1)."""


def _other() -> Case:
    """Three units and six integer points, eta = 1/4: updates land on quarters, so rounding is tested away
    from halves too (0.25 -> 0, 0.75 -> 1), and the fourth point is not the handout's."""
    rng = np.random.default_rng(48)  # 1066 histories; floor, trunc, the nearest unit and no y~ all fail here
    return Case(points=rng.integers(-2, 3, size=(6, 2)).astype(float),
                weights=rng.integers(-2, 3, size=(3, 2)).astype(float), eta=0.25, epochs=3, round_weights=True)


OTHER = _other()


def _unrounded() -> Case:
    """round_weights=False on real-valued data: no ties (almost surely), a single trajectory."""
    rng = np.random.default_rng(7)
    return Case(points=rng.normal(size=(5, 3)), weights=rng.normal(size=(3, 3)), eta=0.3, epochs=2,
                round_weights=False)


UNROUNDED = _unrounded()


# --- student half ------------------------------------------------------------------------------

class Trajectory(Record):
    """What competitive_learning returns, for any of the three cases."""

    weights: np.ndarray
    """The final weights, (K, d)."""
    history: np.ndarray
    """The weights after each presentation of a point, (epochs * N, K, d)."""


def run_case(case: Case):
    def run(subject: Subject) -> Trajectory:
        returned = subject.call(MODULE, "competitive_learning", case.points.copy(), case.weights.copy(),
                                eta=case.eta, epochs=case.epochs, round_weights=case.round_weights)
        weights, history = returned_tuple(returned, ("weights", "history"), "competitive_learning")
        return Trajectory(weights=to_array(weights, "the weights competitive_learning returned"),
                          history=to_array(history, "the history competitive_learning returned"))
    return run


# --- the tree of allowed steps (trusted, numpy) ------------------------------------------------

@dataclass(frozen=True)
class Step:
    """One step the rule allows: the unit that won, and the weights after it."""

    winner: int
    weights: np.ndarray


def _roundings(values: np.ndarray) -> list[np.ndarray]:
    """Every vector of nearest integers to `values`: both neighbours of each exact half."""
    options = []
    for v in values:
        low = np.floor(v)
        options.append((low, low + 1.0) if abs(v - low - 0.5) <= TIE else (float(np.round(v)),))
    return [np.array(choice) + 0.0 for choice in itertools.product(*options)]


def allowed_steps(weights: np.ndarray, x: np.ndarray, eta: float, round_weights: bool,
                  with_output: bool = True) -> list[Step]:
    """The steps the rule allows from `weights` on the point x: every tied winner, every rounding.
    With `with_output` False, the same without y~ (a diagnosis of the fault, not a rule)."""
    outputs = weights @ x
    steps = []
    for i in np.flatnonzero(outputs >= outputs.max() - TIE):
        gain = eta * outputs[i] if with_output else eta
        moved = weights[i] + gain * (x - weights[i])
        for new in (_roundings(moved) if round_weights else [moved]):
            after = weights.copy()
            after[i] = new
            steps.append(Step(int(i), after))
    return steps


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and bool(np.allclose(a, b, atol=SAME, rtol=SAME))


def _key(weights: np.ndarray) -> tuple[float, ...]:
    return tuple(float(v) + 0.0 for v in np.round(weights, 9).ravel())


def count_trajectories(case: Case) -> int:
    """How many different histories the tie-breaks allow (paths of the tree, identical ones merged)."""
    layer = {_key(case.weights): (case.weights, 1)}
    for step in range(case.steps):
        following: dict[tuple[float, ...], tuple[np.ndarray, int]] = {}
        for weights, paths in layer.values():
            reached = {_key(s.weights): s.weights for s in
                       allowed_steps(weights, case.point(step), case.eta, case.round_weights)}
            for key, after in reached.items():
                following[key] = (after, following.get(key, (after, 0))[1] + paths)
        layer = following
    return sum(paths for _, paths in layer.values())


# --- judge -------------------------------------------------------------------------------------

def _fmt(weights: np.ndarray) -> str:
    return "[" + ", ".join("(" + ", ".join(f"{v + 0.0:g}" for v in row) + ")" for row in weights) + "]"


def _where(case: Case, step: int) -> str:
    epoch, n = divmod(step, len(case.points))
    return f"step {step + 1} (epoch {epoch + 1}, point {n + 1}, x = ({', '.join(f'{v:g}' for v in case.point(step))}))"


def _departure(case: Case, step: int, before: np.ndarray, got: np.ndarray) -> tuple[str, str]:
    """Why `got` is not a step the rule allows from `before`: (what happened, what to do)."""
    x = case.point(step)
    outputs = before @ x
    winners = np.flatnonzero(outputs >= outputs.max() - TIE)
    moved = [i for i in range(len(before)) if not np.allclose(got[i], before[i], atol=SAME, rtol=SAME)]
    scores = ", ".join(f"w_{i + 1}^T x = {v:g}" for i, v in enumerate(outputs))
    if not np.all(np.isfinite(got)):
        return "your weights are not finite", "Look for an overflow or a division by zero."
    if len(moved) > 1:
        return (f"units {', '.join(str(i + 1) for i in moved)} all moved",
                "Only the winner moves: update w_i for i = argmax_i w_i^T x alone, and leave every other unit as it is.")
    if case.round_weights and not np.allclose(got, np.round(got), atol=SAME):
        return ("your weights are not integers",
                "Round the winner's weights to the nearest integer after every update (part (b)), not only at the end.")
    if moved and moved[0] not in winners:
        return (f"unit {moved[0] + 1} moved, but it is not the winner ({scores})",
                "The winner is the unit with the largest output w_i^T x (not the nearest one).")
    if case.round_weights:
        for i in winners:
            exact = before[i] + case.eta * outputs[i] * (x - before[i])
            for name, rounded in (("down (floor)", np.floor(exact)), ("toward zero (int)", np.trunc(exact)),
                                  ("up (ceil)", np.ceil(exact))):
                after = before.copy()
                after[i] = rounded
                if _same(got, after):
                    return (f"unit {i + 1} moved to w_i + eta * y~ * (x - w_i) rounded {name}, not to the nearest integer",
                            "Round to the nearest integer (np.round): only an exact half may go either way.")
    without_output = any(_same(got, s.weights)
                         for s in allowed_steps(before, x, case.eta, case.round_weights, with_output=False))
    if not moved and any(not np.allclose(s.weights, before) for s in
                         allowed_steps(before, x, case.eta, case.round_weights)):
        if without_output:  # eta (x - w) alone rounds back to w here: the missing y~ is what kept it still
            return (f"no unit moved, but the winner unit {winners[0] + 1} should ({scores}): without the factor y~, "
                    f"its move eta (x - w) rounds back to where it was",
                    "The handout's rule is w_i <- w_i + eta * y~ * (x - w_i): multiply by the winner's output "
                    "y~ = w_i^T x.")
        return (f"no unit moved, but the winner unit {winners[0] + 1} should ({scores})",
                "Move the winner: w_i <- w_i + eta * y~ * (x - w_i), with y~ = w_i^T x.")
    if without_output:
        return ("the winner moved by eta (x - w), without the factor y~",
                "The handout's rule is w_i <- w_i + eta * y~ * (x - w_i): multiply by the winner's output y~ = w_i^T x.")
    return ("the winner's new weights are not w_i + eta * y~ * (x - w_i)" +
            (", rounded" if case.round_weights else ""),
            "Compute y~ = w_i^T x with the weights before the update, then w_i + eta * y~ * (x - w_i)" +
            (", then round each coordinate to the nearest integer." if case.round_weights else "."))


def _table(case: Case, history: np.ndarray, valid_until: int) -> tuple:
    steps = range(min(len(history), case.steps))
    return figures.table("Your weights after each step", {
        "Step": [f"step {t + 1}" for t in steps],
        "x": [", ".join(f"{v:g}" for v in case.point(t)) for t in steps],
        "Your weights": [_fmt(history[t]) for t in steps],
        "Allowed?": ["yes" if t < valid_until else "no" if t == valid_until else "" for t in steps],
    })


def judge_trajectory(case: Case):
    def judge(got: Trajectory, expected: None, check: Check) -> Verdict:
        history, weights = got.history, got.weights
        k, d = case.weights.shape
        shape = (case.steps, k, d)
        if history.shape != shape:
            hint = ("history should hold the weights after each presentation, without the initial weights."
                    if history.shape == (case.steps + 1, k, d) else
                    f"history[t] is all the weights (K = {k} units, d = {d}) after the t-th presentation of a point, "
                    f"for every point of every epoch: {case.epochs} x {len(case.points)} = {case.steps} presentations.")
            return Verdict.failed(f"history has shape {history.shape}, expected {shape}.", hint=hint)
        show = reveals_expected()
        before = case.weights
        for step in range(case.steps):
            steps = allowed_steps(before, case.point(step), case.eta, case.round_weights)
            if not any(_same(history[step], s.weights) for s in steps):
                what, hint = _departure(case, step, before, history[step])
                details = (f"Before the step: {_fmt(before)}; yours after it: {_fmt(history[step])}.",) if show else ()
                if show:
                    details += ("Allowed after it: " + " or ".join(
                        sorted({f"{_fmt(s.weights)} (unit {s.winner + 1} wins)" for s in steps})) + ".",)
                return Verdict.failed(
                    f"{case.call()}: at {_where(case, step)}, {what}; no choice of tie-breaks gives your history "
                    f"from there.", details=details, hint=hint,
                    figures=_table(case, history, step) if show else ())
            before = history[step]
        if not _same(weights, history[-1]):
            return Verdict.failed(f"{case.call()}: your history is allowed, but the weights returned are not its last "
                                  f"entry.", hint="Return the final weights, the same as history[-1].")
        count = count_trajectories(case)
        return Verdict.passed(
            f"{case.call()}: your {case.steps} steps follow the rule, with one of the {count} histories that the "
            f"choices of tie-breaks allow" + (f"; final weights {_fmt(weights)}." if show else "."),
            figures=_table(case, history, case.steps) if show else ())
    return judge


PROBLEM = Problem(
    id="q2",
    title="Q2: competitive (winner-take-all) learning",
    files=(FILE,),
    # Handout ../shared/seeds/003_e3b0b6e208b34aec.txt, question 2: "(a) (1 pt) State the competitive
    # (winner-take-all) learning rule" (line 49) is written, graded by hand (tests/test_points.py, BY_HAND);
    # "(b) (4 pts) Perform this learning rule, ... round weights to the nearest integer" (line 64) is the
    # code's (its clustering interpretation, written, shares the part).
    parts={"b": 4.0},
    checks=(
        Check(id="q2.competitive_learning.handout_trajectory", part="b", points=2.5,
              claim="on Q2's points and weights, every step of the history is one the rule allows, "
                    "with any tie-breaks (winner ties, exact halves)",
              run=run_case(HANDOUT), judge=judge_trajectory(HANDOUT)),
        Check(id="q2.competitive_learning.other_inputs", part="b", points=1.0, visibility=Visibility.hidden,
              claim="on three units, six other points and eta = 1/4, every step is one the rule allows",
              run=run_case(OTHER), judge=judge_trajectory(OTHER)),
        Check(id="q2.competitive_learning.without_rounding", part="b", points=0.5,
              claim="with round_weights=False, the weights follow w_i + eta y~ (x - w_i) unrounded",
              run=run_case(UNROUNDED), judge=judge_trajectory(UNROUNDED)),
    ),
)
