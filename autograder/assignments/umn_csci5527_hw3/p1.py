"""P1: backpropagation at seed 55272022 (a 1, b 2.5, c 1 points), graded from `hw3_p1.py`.

Inputs are not made by the student's `make_data` and `forward`, so that a fault in one function
costs only that function's checks, and not here either, since this module ships in the students'
self-check bundle: the data and node values at the checks' seeds are the reference's, stored as
data (`fixtures`, see autograder/fixtures.py). Expected values come from the reference. Values are compared to 4 decimals, the handout's precision. The
`other_seeds` checks rerun each function on data the student never saw, so numbers hard-coded
from seed 55272022 do not pass them; they are hidden so that their values stay unknown.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import numpy as np

from autograder.compare import FOUR_DECIMALS, Tolerance, compare_arrays
from autograder.fixtures import decode
from autograder.judges import values_match
from autograder.model import Check, Problem, Verdict, Visibility
from autograder.records import Record
from autograder.student import Subject, arrays_from_mapping

MODULE = "hw3_p1"
HANDOUT_SEED = 55272022
OTHER_SEEDS = (1, 2022)
"""Seeds of the hidden checks; any seed but the handout's would do."""
MAKE_DATA_SEEDS = (HANDOUT_SEED, OTHER_SEEDS[0])
"""make_data is called with its default seed (the handout's) and with one other."""

DATA_SHAPES = {"Y": (2, 50), "X": (5, 50), "W1": (4, 5), "W2": (3, 4), "W3": (2, 3)}
FORWARD_ORDER = ("V1", "V2", "V3", "V4", "V5", "D", "z")
BACKWARD_KEYS = ("z", "D", "V5", "V4", "V3", "V2", "V1", "W3", "W2", "W1")
WEIGHTS = ("W3", "W2", "W1")
BACKWARD_ORDER = ("z", "D", "V5", "W3", "V4", "V3", "W2", "V2", "V1", "W1")
"""The order in which reverse mode computes the gradients: the first wrong one is where the chain breaks."""

CHAIN_RULE = {
    "z": "z.g = 1: f is z itself.",
    "D": "D.g = D.v: the gradient of 0.5 ||D||_F^2 with respect to D is D.",
    "V5": "V5.g = -D.g, because D = Y - V5.",
    "W3": "W3.g = V5.g V4^T, because V5 = W3 V4.",
    "V4": "V4.g = W3^T V5.g, because V5 = W3 V4.",
    "V3": "V3.g = V4.g * 1[V3 > 0] elementwise: the derivative of ReLU is 1 where its input is positive.",
    "W2": "W2.g = V3.g V2^T, because V3 = W2 V2.",
    "V2": "V2.g = W2^T V3.g, because V3 = W2 V2.",
    "V1": "V1.g = V2.g * 1[V1 > 0] elementwise: the derivative of ReLU is 1 where its input is positive.",
    "W1": "W1.g = V1.g X^T, because V1 = W1 X.",
}
FORWARD_RULE = {
    "V1": "V1 = W1 X.", "V2": "V2 = relu(V1) = max(V1, 0).", "V3": "V3 = W2 V2.",
    "V4": "V4 = relu(V3).", "V5": "V5 = W3 V4.", "D": "D = Y - V5 (not V5 - Y).",
    "z": "z = 0.5 * ||D||_F^2, the sum of squares halved.",
}
EXACT = Tolerance(atol=1e-12)


@functools.cache
def _stored() -> dict[str, np.ndarray]:
    from autograder.assignments.umn_csci5527_hw3 import fixtures

    return decode(fixtures.TABLE)


@functools.cache
def _stored_hidden() -> dict[str, np.ndarray]:
    """The other seeds' values, read only when a hidden check runs: no student bundle has them."""
    from autograder.assignments.umn_csci5527_hw3 import hidden_fixtures

    return decode(hidden_fixtures.TABLE)


def _stored_at(seed: int, name: str) -> np.ndarray:
    return (_stored_hidden() if seed in OTHER_SEEDS else _stored())[f"p1 {seed} {name}"]


def handout_data(seed: int) -> dict[str, np.ndarray]:
    """The handout's draws (Fig. 2) at one of the checks' seeds: Y, X, W1, W2, W3 as the reference's
    make_data gives them (stored by scripts/make_fixtures.py), fresh copies."""
    return {name: np.array(_stored_at(seed, name)) for name in DATA_SHAPES}


def graph_values(seed: int) -> dict[str, np.ndarray | float]:
    """Node values at `seed`, as the reference's forward gives them, fed to the student's `backward`
    so that it is graded apart from `forward`."""
    values: dict[str, np.ndarray | float] = {name: np.array(_stored_at(seed, name)) for name in FORWARD_ORDER}
    values["z"] = float(values["z"])
    return values


def _at(seed: int, key: str) -> str:
    return key if seed == HANDOUT_SEED else f"{key} (seed {seed})"


def _args(d: dict[str, np.ndarray]) -> tuple[np.ndarray, ...]:
    return d["X"], d["Y"], d["W1"], d["W2"], d["W3"]


BySeed = dict[int, dict[str, np.ndarray]]
"""Arrays by seed, then by the handout's name (a node's, a matrix's)."""


def _order(seeds: tuple[int, ...], names: tuple[str, ...], field: Callable[[Record], BySeed],
           suffix: str = "") -> dict[str, Callable[[Record], np.ndarray]]:
    """For values_match: the name the student reads ("W3.g (seed 1)"), seed by seed, mapped to where
    that array is in the check's record."""
    return {_at(seed, f"{n}{suffix}"): (lambda r, seed=seed, n=n: field(r)[seed][n]) for seed in seeds for n in names}


def _rules(seeds: tuple[int, ...], rules: dict[str, str], suffix: str = "") -> dict[str, str]:
    return {_at(seed, f"{n}{suffix}"): rule for seed in seeds for n, rule in rules.items()}


# --- (a) Forward pass ---------------------------------------------------------------------------

class Draws(Record):
    draws: BySeed
    """make_data's Y, X, W1, W2, W3 at each of MAKE_DATA_SEEDS, by seed, then by name."""


def run_make_data(subject: Subject) -> Draws:
    draws = {}
    for seed in MAKE_DATA_SEEDS:
        kwargs = {} if seed == HANDOUT_SEED else {"seed": seed}
        returned = subject.call(MODULE, "make_data", **kwargs)
        what = "make_data()" if not kwargs else f"make_data(seed={seed})"
        draws[seed] = arrays_from_mapping(returned, DATA_SHAPES, what)
    return Draws(draws=draws)


judge_make_data = values_match(_order(MAKE_DATA_SEEDS, tuple(DATA_SHAPES), lambda r: r.draws), EXACT, noun="array",
                               hints={"Y": "Draw Y first, then X, W1, W2, W3, each with rng.standard_normal(shape)."})


class Forward(Record):
    values: BySeed
    """forward's node values V1..V5, D, z at each seed, by seed, then by node (z a 0-d array)."""


def run_forward(seeds: tuple[int, ...]):
    def run(subject: Subject) -> Forward:
        values = {}
        for seed in seeds:
            returned = subject.call(MODULE, "forward", *_args(handout_data(seed)))
            values[seed] = arrays_from_mapping(returned, FORWARD_ORDER, "forward(X, Y, W1, W2, W3)")
        return Forward(values=values)
    return run


def judge_forward(seeds: tuple[int, ...]):
    return values_match(_order(seeds, FORWARD_ORDER, lambda r: r.values), FOUR_DECIMALS, noun="node value",
                        hints=_rules(seeds, FORWARD_RULE))


# --- (b) Backward pass --------------------------------------------------------------------------

class Backward(Record):
    grads: BySeed
    """backward's .g of every node (BACKWARD_KEYS) at each seed, by seed, then by node."""


def run_backward(seeds: tuple[int, ...]):
    def run(subject: Subject) -> Backward:
        grads = {}
        for seed in seeds:
            returned = subject.call(MODULE, "backward", *_args(handout_data(seed)), graph_values(seed))
            arrays = arrays_from_mapping(returned, BACKWARD_KEYS, "backward(X, Y, W1, W2, W3, values)")
            grads[seed] = {k: arrays[k] for k in BACKWARD_ORDER}
        return Backward(grads=grads)
    return run


def judge_backward(seeds: tuple[int, ...]):
    return values_match(_order(seeds, BACKWARD_ORDER, lambda r: r.grads, ".g"), FOUR_DECIMALS, noun="gradient",
                        hints=_rules(seeds, CHAIN_RULE, ".g"))


# --- (c) PyTorch autograd -----------------------------------------------------------------------

class Autograd(Record):
    grads: BySeed
    """autograd_gradients' W1.g, W2.g, W3.g at each seed, by seed, then by weight."""


def run_autograd(seeds: tuple[int, ...]):
    def run(subject: Subject) -> Autograd:
        grads = {}
        for seed in seeds:
            returned = subject.call(MODULE, "autograd_gradients", *_args(handout_data(seed)))
            grads[seed] = arrays_from_mapping(returned, ("W1", "W2", "W3"), "autograd_gradients(X, Y, W1, W2, W3)")
        return Autograd(grads=grads)
    return run


AUTOGRAD_HINTS = {"W3.g": "Use float64 tensors with requires_grad=True, call z.backward() and read .grad."}


def judge_autograd(seeds: tuple[int, ...], hints: dict[str, str] | None = None):
    return values_match(_order(seeds, WEIGHTS, lambda r: r.grads, ".g"), FOUR_DECIMALS, noun="gradient", hints=hints)


class Agreement(Record):
    backward: dict[str, np.ndarray]
    """backward's W3.g, W2.g, W1.g at the handout's seed, by weight."""
    autograd: dict[str, np.ndarray]
    """autograd_gradients' W3.g, W2.g, W1.g at the handout's seed, by weight."""


def run_backward_and_autograd(subject: Subject) -> Agreement:
    backward = run_backward((HANDOUT_SEED,))(subject).grads[HANDOUT_SEED]
    autograd = run_autograd((HANDOUT_SEED,))(subject).grads[HANDOUT_SEED]
    return Agreement(backward={k: backward[k] for k in WEIGHTS}, autograd={k: autograd[k] for k in WEIGHTS})


def judge_agreement(got: Agreement, expected: Agreement, check: Check) -> Verdict:
    """Part (c): does autograd confirm backward's W1.g, W2.g and W3.g?

    It earns when the two agree to 4 decimals *and* what they agree on is the gradient at the
    handout's seed: two answers that agree but are wrong (zeros from bodies not written yet,
    autograd_gradients returning backward's own numbers, one mistake made in both) confirm nothing,
    and confirming is what the comparison of part (c) is for. It requires nothing more: the node
    gradients and the other seeds are graded by the backward and autograd checks alone.
    """
    disagree = [(name, comparison) for name in WEIGHTS
                if not (comparison := _compare(name, got.backward[name], got.autograd[name])).equal]
    if disagree:
        return _disagreement(disagree, got, expected)
    wrong = [(name, comparison) for name in WEIGHTS
             if not (comparison := _compare(name, got.backward[name], expected.backward[name])).equal]
    if wrong:
        return _agreement_on_wrong_values(wrong, got)
    return Verdict.passed("backward and autograd_gradients agree on W1.g, W2.g and W3.g to 4 decimals, "
                          "and both give the gradient.")


def _compare(name: str, got: np.ndarray, expected: np.ndarray):
    return compare_arrays(f"{name}.g", got, expected, FOUR_DECIMALS)


def _disagreement(disagree: list, got: Agreement, expected: Agreement) -> Verdict:
    """Say which of the two is off, judged against the expected values."""
    name, comparison = disagree[0]
    right = {"backward": _compare(name, got.backward[name], expected.backward[name]).equal,
             "autograd": _compare(name, got.autograd[name], expected.autograd[name]).equal}
    culprit = ("backward is off; autograd_gradients matches the expected values" if right["autograd"]
               else "autograd_gradients is off; backward matches the expected values" if right["backward"]
               else "both differ from the expected values")
    return Verdict.failed(
        f"backward and autograd_gradients disagree on {', '.join(n + '.g' for n, _ in disagree)}: {culprit}.",
        details=tuple(comparison.lines()), hint="The two must agree: that is the point of part (c).")


def _agreement_on_wrong_values(wrong: list, got: Agreement) -> Verdict:
    names = ", ".join(n + ".g" for n, _ in wrong)
    if not any(np.any(got.backward[n]) for n in WEIGHTS):
        return Verdict.failed(
            "backward and autograd_gradients agree only because both return zeros for W1.g, W2.g and W3.g, "
            "which are not the gradients: agreement of two wrong answers confirms nothing.",
            details=tuple(wrong[0][1].lines()),
            hint="Write the chain rule in backward, and compute autograd_gradients with torch: tensors with "
                 "requires_grad=True, z.backward(), then read .grad.")
    return Verdict.failed(
        f"backward and autograd_gradients agree, but on wrong values: {names} "
        f"{'differs' if len(wrong) == 1 else 'differ'} from the expected gradients, and agreement of two wrong "
        f"answers confirms nothing.",
        details=tuple(wrong[0][1].lines()),
        hint="autograd_gradients must get its numbers from torch's autograd alone (requires_grad=True, "
             "z.backward(), .grad), never from backward; if it does, both share one mistake: compare your "
             "objective with z = 0.5 ||Y - W3 relu(W2 relu(W1 X))||_F^2.")


PROBLEM = Problem(
    id="p1",
    title="Automatic differentiation in DNNs (backpropagation at seed 55272022)",
    files=("hw3_p1.py",),
    # Handout ../shared/seeds/002_7a7f64a6864d9a9d.txt, Problem 1 (4.5/15): (a) 1/15 (line 32), (b) 2.5/15
    # (line 52), (c) 1/15 (line 58; its "do they agree?" is written, the spec gives the part to the code).
    parts={"a": 1.0, "b": 2.5, "c": 1.0},
    checks=(
        Check(id="p1.make_data.handout_draws", part="a", points=0.25,
              claim="make_data draws Y, X, W1, W2, W3 from default_rng(seed) in the handout's order",
              run=run_make_data, judge=judge_make_data),
        Check(id="p1.forward.handout_seed", part="a", points=0.5,
              claim="forward gives every node's value at seed 55272022 to 4 decimals",
              run=run_forward((HANDOUT_SEED,)), judge=judge_forward((HANDOUT_SEED,))),
        Check(id="p1.forward.other_seeds", part="a", points=0.25, visibility=Visibility.hidden,
              claim="forward gives every node's value on data from two other seeds",
              run=run_forward(OTHER_SEEDS), judge=judge_forward(OTHER_SEEDS)),
        Check(id="p1.backward.handout_seed", part="b", points=1.5,
              claim="backward gives every node's gradient at seed 55272022 to 4 decimals",
              run=run_backward((HANDOUT_SEED,)), judge=judge_backward((HANDOUT_SEED,))),
        Check(id="p1.backward.other_seeds", part="b", points=1.0, visibility=Visibility.hidden,
              claim="backward gives every node's gradient on data from two other seeds (no hard-coded numbers)",
              run=run_backward(OTHER_SEEDS), judge=judge_backward(OTHER_SEEDS)),
        Check(id="p1.autograd.handout_seed", part="c", points=0.5,
              claim="autograd_gradients gives W1.g, W2.g, W3.g at seed 55272022 to 4 decimals",
              run=run_autograd((HANDOUT_SEED,)),
              judge=judge_autograd((HANDOUT_SEED,), hints=AUTOGRAD_HINTS)),
        Check(id="p1.autograd.other_seeds", part="c", points=0.25, visibility=Visibility.hidden,
              claim="autograd_gradients gives W1.g, W2.g, W3.g on data from two other seeds",
              run=run_autograd(OTHER_SEEDS), judge=judge_autograd(OTHER_SEEDS)),
        Check(id="p1.autograd.agrees_with_backward", part="c", points=0.25,
              claim="backward and autograd_gradients give the same W1.g, W2.g and W3.g, and it is the gradient",
              run=run_backward_and_autograd, judge=judge_agreement),
    ),
)
