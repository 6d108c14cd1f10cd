"""Q3 of the mock final: the backward pass of a width-1 convolution, graded from `conv1x1_backward`.

The layer (the handout's Q3): a 2x2 image x, two output channels f^c_ij = g(w_c x_ij + b_c), c = 1, 2,
one weight and one bias per channel. Part (b) asks for the gradients of the loss with respect to the
parameters, given dl/df^c_ij at every output: the handout names them dl/dw_1, dl/dw_2, dl/db_1, dl/db_2,
the keys "w1", "w2", "b1", "b2" of the returned dict. (Its first line for dl/dw_1 sums over j alone;
the sum is over i and j, as its own next lines write.)

The student's function is called with the grader's g' (a numpy function of an array): tanh' for the
visible checks, sigmoid' and softplus' (the sigmoid) in the hidden one, on draws the student never saw.
Expected values are the reference's. The feedback names the classic slips, recognised by numpy here:
g' left out, g' taken at x instead of w x + b, the channels swapped, the factor x left out of dl/dw.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

from autograder.assignments.fa24_dl_final.common import FILE, MODULE
from autograder.compare import Tolerance, compare_arrays
from autograder.model import Check, Problem, Verdict, Visibility
from autograder.records import Record
from autograder.student import Subject, arrays_from_mapping

CLOSE = Tolerance(atol=1e-9, rtol=1e-9)
"""Sums of four products: any order of summation agrees to ~1e-15."""


def tanh_prime(v):
    return 1.0 - np.tanh(v) ** 2


def sigmoid_prime(v):
    s = 1.0 / (1.0 + np.exp(-v))
    return s * (1.0 - s)


def softplus_prime(v):
    return 1.0 / (1.0 + np.exp(-v))


ACTIVATIONS: dict[str, Callable] = {"tanh": tanh_prime, "sigmoid": sigmoid_prime, "softplus": softplus_prime}


def draw(seed: int) -> dict[str, np.ndarray]:
    """x (2, 2), w (2,), b (2,) and dl_df (2, 2, 2), dl_df[c - 1, i, j] = dl/df^c_ij."""
    rng = np.random.default_rng(seed)
    return {"x": rng.normal(size=(2, 2)), "w": rng.normal(size=2), "b": rng.normal(size=2),
            "dl_df": rng.normal(size=(2, 2, 2))}


VISIBLE = (("tanh", 311),)
HIDDEN = (("sigmoid", 312), ("softplus", 313))


def _name(activation: str, seed: int, key: str) -> str:
    """How the feedback names one gradient of one draw (read by the student, never parsed)."""
    return f"dl/d{key} (g = {activation}, draw {seed})"


# --- student half ------------------------------------------------------------------------------

class ConvGradients(Record):
    """The dict conv1x1_backward returns on one draw, its keys the handout's names (each a number,
    read as an array)."""

    w1: np.ndarray
    """dl/dw_1."""
    w2: np.ndarray
    """dl/dw_2."""
    b1: np.ndarray
    """dl/db_1."""
    b2: np.ndarray
    """dl/db_2."""


KEYS = tuple(ConvGradients.model_fields)
"""The keys of the returned dict: "w1", "w2", "b1", "b2"."""
WEIGHTS: dict[str, Callable[[ConvGradients], np.ndarray]] = {"w1": lambda g: g.w1, "w2": lambda g: g.w2}
BIASES: dict[str, Callable[[ConvGradients], np.ndarray]] = {"b1": lambda g: g.b1, "b2": lambda g: g.b2}
"""What a judge compares, by the key the feedback names (dl/d<key>)."""


class Backward(Record):
    draws: dict[int, ConvGradients]
    """The gradients on each draw of the check's cases, by the draw's seed."""


def run_cases(cases: tuple[tuple[str, int], ...]):
    def run(subject: Subject) -> Backward:
        draws = {}
        for activation, seed in cases:
            d = draw(seed)
            returned = subject.call(MODULE, "conv1x1_backward", d["x"].copy(), d["w"].copy(), d["b"].copy(),
                                    d["dl_df"].copy(), ACTIVATIONS[activation])
            got = arrays_from_mapping(returned, KEYS, "conv1x1_backward(x, w, b, dl_df, g_prime)")
            draws[seed] = ConvGradients(**got)
        return Backward(draws=draws)
    return run


# --- judge -------------------------------------------------------------------------------------

def _slips(activation: str, seed: int) -> dict[str, ConvGradients]:
    """The gradients as the classic slips compute them (a diagnosis from the inputs, not the answer)."""
    d, g_prime = draw(seed), ACTIVATIONS[activation]
    x, w, b, up = d["x"], d["w"], d["b"], d["dl_df"]
    slips = {}
    for slip in ("no g'", "g' at x", "channels swapped", "no x"):
        dw, db = [], []
        for c in range(2):
            upstream = up[1 - c] if slip == "channels swapped" else up[c]
            local = 1.0 if slip == "no g'" else g_prime(x) if slip == "g' at x" else g_prime(w[c] * x + b[c])
            dw.append(np.array(float(np.sum(upstream * local * (1.0 if slip == "no x" else x)))))
            db.append(np.array(float(np.sum(upstream * local))))
        slips[slip] = ConvGradients(w1=dw[0], w2=dw[1], b1=db[0], b2=db[1])
    return slips


HINTS = {
    "no g'": "Your gradients leave out g': f^c_ij = g(w_c x_ij + b_c), so the chain rule multiplies dl/df^c_ij by "
             "g'(w_c x_ij + b_c) before summing.",
    "g' at x": "You take g' at x_ij; it is taken at the pre-activation w_c x_ij + b_c.",
    "channels swapped": "dl/dw_1 and dl/db_1 use channel 1's dl_df[0]; channel 2's are dl/dw_2 and dl/db_2.",
    "no x": "dl/dw_c needs the factor x_ij: d(w_c x_ij + b_c)/dw_c = x_ij (dl/db_c is the one without it).",
}
RULE = ("dl/dw_c = sum_ij dl/df^c_ij x_ij g'(w_c x_ij + b_c) and dl/db_c = sum_ij dl/df^c_ij g'(w_c x_ij + b_c), "
        "summed over all four pixels.")


def judge_gradients(cases: tuple[tuple[str, int], ...], keys: Mapping[str, Callable[[ConvGradients], np.ndarray]]):
    """Compares the gradients `keys` picks (by the key the feedback names) on every draw of `cases`."""

    def judge(got: Backward, expected: Backward, check: Check) -> Verdict:
        names = [_name(a, s, k) for a, s in cases for k in keys]
        comparisons = [compare_arrays(_name(a, s, k), at(got.draws[s]), at(expected.draws[s]), CLOSE)
                       for a, s in cases for k, at in keys.items()]
        wrong = [c for c in comparisons if not c.equal]
        if not wrong:
            return Verdict.passed(f"All {len(names)} gradients ({', '.join('dl/d' + k for k in keys)}) match within "
                                  f"{CLOSE.describe()}.")
        # The first slip (case by case, in HINTS' order) whose gradients are the student's names the mistake.
        hint = next((HINTS[slip] for activation, seed in cases for slip, grads in _slips(activation, seed).items()
                     if all(np.allclose(at(got.draws[seed]), at(grads), atol=1e-9, rtol=1e-9)
                            for at in keys.values())), RULE)
        return Verdict.failed(
            f"{wrong[0].report.name} is the first gradient that differs ({len(wrong)} of {len(names)} wrong).",
            details=tuple(line for c in wrong[:2] for line in c.lines()), arrays=tuple(c.report for c in wrong),
            hint=hint)
    return judge


PROBLEM = Problem(
    id="q3",
    title="Q3: backpropagation through a width-1 convolution with two channels",
    files=(FILE,),
    # Handout ../shared/seeds/003_e3b0b6e208b34aec.txt, question 3: "(b) (3 pts) Write the backpropagation
    # equations for this CNN layer" (line 93). Part (a) and its points are missing from the handout.
    parts={"b": 3.0},
    checks=(
        Check(id="q3.conv1x1_backward.weight_gradients", part="b", points=1.5,
              claim="conv1x1_backward gives dl/dw1 and dl/dw2 with g = tanh",
              run=run_cases(VISIBLE), judge=judge_gradients(VISIBLE, WEIGHTS)),
        Check(id="q3.conv1x1_backward.bias_gradients", part="b", points=1.0,
              claim="conv1x1_backward gives dl/db1 and dl/db2 with g = tanh",
              run=run_cases(VISIBLE), judge=judge_gradients(VISIBLE, BIASES)),
        Check(id="q3.conv1x1_backward.other_activations", part="b", points=0.5, visibility=Visibility.hidden,
              claim="conv1x1_backward gives all four gradients with g = sigmoid and softplus, on other draws",
              run=run_cases(HIDDEN), judge=judge_gradients(HIDDEN, WEIGHTS | BIASES)),
    ),
)
