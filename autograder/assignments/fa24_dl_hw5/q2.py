"""Q2 [Backpropagation] of Homework 5, graded from `hw5_q2.py`: a 2-layer network with the sigmoid
phi(v) = 1 / (1 + exp(-a v)), a = 5, its hand-written backward pass, and SGD on the friend's data.

Shapes are the handout's column vectors: x (d, 1), W (k, d), b (k, 1), U (1, k), c (1, 1); a vector
returned flat, (k,) for (k, 1), is read as the same answer. Data: `friend.friend_dataset()`, X (2,
1000) one point per column, Y (1, 1000) (see friend.py for the network that made it).

Expected values: phi, forward and SGD from the reference, run once and cached; phi' and the four
gradients from torch's autograd in float64 (the `expected_*` halves, run in the trusted worker, never
in the parent). The judges diagnose the mistakes students make from the ratio of the student's
gradients to the true ones: the handout's solution writes phi' = 3 phi (1 - phi), which is wrong for
a = 5 (phi' = a phi (1 - phi)); that answer fails, and its feedback says why.

Points: the handout gives none for Homework 5. This project declares 2 points per bullet: (a) phi and
phi', (b) forward, (c) backward, (d) SGD, 2 each (code); (e) the decision-boundary plot and (f) the
"hacks", 2 each, written, graded by hand (tests/test_points.py, BY_HAND).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

from autograder import figures
from autograder.compare import Tolerance, compare_arrays
from autograder.judges import values_match
from autograder.model import Check, Problem, Verdict
from autograder.records import Record
from autograder.student import Subject, arrays_from_mapping, returned_tuple, to_array

MODULE = "hw5_q2"
A = 5
OTHER_A = 2
"""A second value of a, so that an `a` written as a number in the body does not pass."""
BOTH_A = (A, OTHER_A)
INPUT_SEED = 5_2024_2
CASES = ((2, 3), (4, 5), (3, 1))
"""(d, k) of the random networks of the forward and backward checks; (2, 3) is the handout's."""
FORWARD_NAMES = ("v_z", "z", "v_f", "f")
GRADIENTS = ("grad_c", "grad_U", "grad_b", "grad_W")
"""In the order backpropagation computes them: the first wrong one is where the chain breaks."""
PARAMS = ("W", "b", "U", "c")

EXACT = Tolerance(atol=1e-10, rtol=1e-8)
"""Same formula, other rounding: numpy and torch in float64 agree to about 1e-15."""
SGD = Tolerance(atol=1e-8, rtol=1e-6)
"""One epoch is 1,000 steps; rounding differences between correct implementations stay near 1e-13."""

INIT_K = 50
INIT_SIGMA = 0.1
INIT_STD = (0.08, 0.12)
INIT_MEAN = 0.03
"""Initialisation at k = 50, d = 2: 201 draws of N(0, 0.1^2). Their sample standard deviation has a
spread of 0.1 / sqrt(2 * 201) = 0.005 and their mean one of 0.1 / sqrt(201) = 0.007: the bounds are 4
spreads away, so that any random generator passes (a wrong sigma of 1 or 0.01 is far outside)."""
INIT_SHAPES = {"W": (INIT_K, 2), "b": (INIT_K, 1), "U": (1, INIT_K), "c": (1, 1)}
"""The handout's shapes at d = 2; a vector drawn flat ((k,) for b, a number for c) is read as the same answer."""

EPOCH_ETA = 0.05
"""The SGD value checks start from sigma = 0 (all weights 0, whatever generator a student draws with),
so that they compare the updates and the order of the points, not the random draws."""
MSE_EPOCHS = 3

FALL_EPOCHS = 20
FALL_SEED = 1
FALL_RATIO = 0.85
"""The MSE must fall: mse[-1] <= 0.85 * mse[0] after 20 epochs (k = 3, eta = 0.01, sigma = 0.1, seed 1).
The ratio mse[20] / mse[1] over the student's seeds 0-29 (benchmarks/fa24_dl_hw5_q2_mse.py): the
reference's default_rng draws min 0.142, median 0.295, max 0.715; the handout's np.random.seed + randn
draws min 0.148, median 0.376, max 0.730 (seeds on a plateau at MSE 0.149, left after about 40 epochs).
The margin is 0.12 above the worst valid run. phi' without a: 0.98-1.00; gradient ascent: 1.00 (its
MSE rises)."""


def _rng(salt: int) -> np.random.Generator:
    return np.random.default_rng([INPUT_SEED, salt])


def _v() -> np.ndarray:
    return _rng(0).normal(0.0, 0.6, size=(4, 6))


def network(case: int) -> dict[str, np.ndarray]:
    """x, y, W, b, U, c of one random network: weights of the scale where phi is neither flat nor saturated."""
    d, k = CASES[case]
    rng = _rng(1 + case)
    return {"x": rng.normal(0, 1, (d, 1)), "y": np.array([[float(case % 2)]]),
            "W": rng.normal(0, 0.5, (k, d)), "b": rng.normal(0, 0.3, (k, 1)),
            "U": rng.normal(0, 0.5, (1, k)), "c": rng.normal(0, 0.3, (1, 1))}


def _shape_of(name: str, case: int) -> tuple[int, int]:
    d, k = CASES[case]
    return {"v_z": (k, 1), "z": (k, 1), "v_f": (1, 1), "f": (1, 1), "grad_b": (k, 1), "grad_U": (1, k),
            "grad_c": (1, 1), "W": (k, d), "b": (k, 1), "U": (1, k), "c": (1, 1), "grad_W": (k, d)}[name]


def _as_column(array: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """A vector returned with its numbers in another vector shape ((k,), (k, 1), (1, k)) is the same
    answer; a matrix keeps its shape, so that a transposed W is reported as one."""
    if min(shape) == 1 and array.size == shape[0] * shape[1] and (array.ndim < 2 or min(array.shape) == 1):
        return array.reshape(shape)
    return array


def _key(case: int, name: str) -> str:
    """How the feedback names one value of one network of CASES (read by the student, never parsed)."""
    d, k = CASES[case]
    return f"{name} (d={d}, k={k})"


def _per_case(values: Mapping[str, Callable]) -> dict[str, Callable]:
    """`values` (name -> where it is in one network's record) on every network of CASES, as
    `values_match` reads them: by the name the feedback gives ("v_z (d=2, k=3)"), network by network."""
    return {_key(case, name): (lambda record, case=case, at=at: at(record.cases[case]))
            for case in range(len(CASES)) for name, at in values.items()}


def _friend():
    from autograder.assignments.fa24_dl_hw5.friend import friend_dataset

    return friend_dataset()


# --- (a) phi and phi' -------------------------------------------------------------------------------

class ByA(Record):
    at: dict[int, np.ndarray]
    """phi (or phi') at the fixed v (4, 6), by a: A (left at its default) and OTHER_A."""


def _at_both_a(subject: Subject, function: str) -> ByA:
    """`function(v)` (a left at its default, A) and `function(v, OTHER_A)`."""
    return ByA(at={a: to_array(subject.call(MODULE, function, _v(), *args),
                               f"{function}(v{', a=' + str(a) if args else ''})")
                   for a, args in ((A, ()), (OTHER_A, (OTHER_A,)))})


def _both_a(key: str) -> dict[str, Callable[[ByA], np.ndarray]]:
    """The values at each a, as `values_match` reads them: by the name the feedback gives, "{key}(v, a=...)"."""
    return {f"{key}(v, a={a})": (lambda record, a=a: record.at[a]) for a in BOTH_A}


def _with(verdict: Verdict, **update: str) -> Verdict:
    """`verdict` (a failed one of `values_match`) with its feedback's summary or hint replaced."""
    return Verdict(fraction=verdict.fraction, feedback=verdict.feedback.model_copy(update=update))


def run_phi(subject: Subject) -> ByA:
    return _at_both_a(subject, "phi")


def judge_phi(got: ByA, expected: ByA, check: Check) -> Verdict:
    verdict = values_match(_both_a("phi"), EXACT, noun="output")(got, expected, check)
    if verdict.fraction == 1.0:
        return Verdict.passed(f"phi matches 1 / (1 + exp(-a v)) elementwise for a = {A} and a = {OTHER_A}.")
    same = got.at[A].shape == got.at[OTHER_A].shape and np.allclose(got.at[A], got.at[OTHER_A])
    hint = ("phi gives the same values for a = 5 and a = 2: it ignores its parameter a. Use it: "
            "1 / (1 + np.exp(-a * v))." if same else
            "phi(v) = 1 / (1 + exp(-a v)), elementwise on the array v (np.exp, not math.exp).")
    return _with(verdict, hint=hint)


def run_phi_prime(subject: Subject) -> ByA:
    return _at_both_a(subject, "phi_prime")


def expected_phi_prime(subject: Subject) -> ByA:
    """phi' by torch's autograd of sigmoid(a v): the derivative itself, not a formula for it."""
    import torch

    at = {}
    for a in BOTH_A:
        v = torch.tensor(_v(), dtype=torch.float64, requires_grad=True)
        torch.sigmoid(a * v).sum().backward()
        at[a] = v.grad.numpy().copy()
    return ByA(at=at)


def judge_phi_prime(got: ByA, expected: ByA, check: Check) -> Verdict:
    verdict = values_match(_both_a("phi'"), EXACT, noun="derivative")(got, expected, check)
    if verdict.fraction == 1.0:
        return Verdict.passed(f"phi_prime equals torch autograd's derivative of phi for a = {A} and a = {OTHER_A}.")
    hint = _factor_hint(got, expected)
    return _with(verdict, hint=hint)


def _ratio(got: np.ndarray, expected: np.ndarray) -> float | None:
    """r when got = r * expected everywhere (a constant factor), else None."""
    if got.shape != expected.shape or not np.all(np.isfinite(got)):
        return None
    with np.errstate(all="ignore"):
        r = float(np.sum(got * expected) / np.sum(expected * expected))
    return r if np.allclose(got, r * expected, rtol=1e-6, atol=1e-12) else None


def _factor_hint(got: ByA, expected: ByA) -> str:
    ratios = [_ratio(got.at[a], expected.at[a]) for a in BOTH_A]
    if all(r is not None and np.isclose(r, 1 / a) for r, a in zip(ratios, BOTH_A)):
        return ("Your phi' is phi (1 - phi) without the factor a: the chain rule through exp(-a v) brings "
                "out a, so phi'(v) = a phi(v) (1 - phi(v)).")
    if all(r is not None and np.isclose(r, 3 / a) for r, a in zip(ratios, BOTH_A)):
        return ("Your phi' is 3 phi (1 - phi), as the handout's handwritten solution writes, but that 3 is a "
                "mistake: phi'(v) = a phi(v) (1 - phi(v)), with the function's own a (5 by default).")
    if ratios[0] is not None and np.isclose(ratios[0], 1.0):
        return f"phi_prime is right for a = {A} only: use its parameter a instead of the number 5."
    return "phi'(v) = a phi(v) (1 - phi(v)), elementwise, with phi computed at the same a."


# --- (b) forward ---------------------------------------------------------------------------------

class Forward(Record):
    """forward's four values on one network, each a column (a flat vector is read as one)."""

    v_z: np.ndarray
    """W x + b, (k, 1)."""
    z: np.ndarray
    """phi(v_z), (k, 1)."""
    v_f: np.ndarray
    """U z + c, (1, 1)."""
    f: np.ndarray
    """phi(v_f), (1, 1)."""


class Forwards(Record):
    cases: list[Forward]
    """One per network of CASES, in its order."""


def run_forward(subject: Subject) -> Forwards:
    cases = []
    for case in range(len(CASES)):
        net = network(case)
        returned = subject.call(MODULE, "forward", net["x"], net["W"], net["b"], net["U"], net["c"])
        v_z, z, v_f, f = (_as_column(to_array(value, f"forward(...)'s {name}"), _shape_of(name, case)) for name, value
                          in zip(FORWARD_NAMES, returned_tuple(returned, FORWARD_NAMES, "forward(x, W, b, U, c)")))
        cases.append(Forward(v_z=v_z, z=z, v_f=v_f, f=f))
    return Forwards(cases=cases)


FORWARD_VALUES: dict[str, Callable[[Forward], np.ndarray]] = {
    "v_z": lambda out: out.v_z, "z": lambda out: out.z, "v_f": lambda out: out.v_f, "f": lambda out: out.f}
"""What the forward check compares, by the name the feedback gives, in the order forward computes them."""
FORWARD_RULES = {"v_z": "v_z = W x + b (a matrix product, W @ x).", "z": "z = phi(v_z), with a = 5.",
                 "v_f": "v_f = U z + c.", "f": "f = phi(v_f)."}


# --- (c) backward --------------------------------------------------------------------------------

class Gradients(Record):
    """backward's dict on one network, by the handout's keys, each in its parameter's shape (a flat
    vector is read as the column)."""

    grad_W: np.ndarray
    """(k, d)."""
    grad_b: np.ndarray
    """(k, 1)."""
    grad_U: np.ndarray
    """(1, k)."""
    grad_c: np.ndarray
    """(1, 1)."""


class Backward(Record):
    cases: list[Gradients]
    """One per network of CASES, in its order."""


def run_backward(subject: Subject) -> Backward:
    cases = []
    for case in range(len(CASES)):
        net = network(case)
        returned = subject.call(MODULE, "backward", net["x"], net["y"], net["W"], net["b"], net["U"], net["c"])
        arrays = arrays_from_mapping(returned, GRADIENTS, "backward(x, y, W, b, U, c)")
        cases.append(Gradients(**{n: _as_column(arrays[n], _shape_of(n, case)) for n in GRADIENTS}))
    return Backward(cases=cases)


class TrueGradients(Gradients):
    """The gradients of one network by torch's autograd, with phi' at its pre-activations (for the diagnosis)."""

    phi_prime_v_f: np.ndarray
    """phi'(v_f), (1, 1)."""
    phi_prime_v_z: np.ndarray
    """phi'(v_z), (k, 1)."""


class Autograd(Record):
    cases: list[TrueGradients]
    """One per network of CASES, in its order."""


def expected_backward(subject: Subject) -> Autograd:
    """The gradients of (f - y)^2 by torch's autograd, and phi'(v_f), phi'(v_z) for the diagnosis."""
    import torch

    cases = []
    for case in range(len(CASES)):
        net = {n: torch.tensor(v, dtype=torch.float64) for n, v in network(case).items()}
        params = {n: net[n].clone().requires_grad_(True) for n in PARAMS}
        v_z = params["W"] @ net["x"] + params["b"]
        v_f = params["U"] @ torch.sigmoid(A * v_z) + params["c"]
        f = torch.sigmoid(A * v_f)
        ((f - net["y"]) ** 2).sum().backward()
        grad = {n: params[n].grad.numpy().copy() for n in PARAMS}
        slope = lambda v: (A * torch.sigmoid(A * v) * (1 - torch.sigmoid(A * v))).detach().numpy().copy()  # noqa: E731
        cases.append(TrueGradients(grad_W=grad["W"], grad_b=grad["b"], grad_U=grad["U"], grad_c=grad["c"],
                                   phi_prime_v_f=slope(v_f), phi_prime_v_z=slope(v_z)))
    return Autograd(cases=cases)


GRADIENT_VALUES: dict[str, Callable[[Gradients], np.ndarray]] = {
    "grad_c": lambda g: g.grad_c, "grad_U": lambda g: g.grad_U, "grad_b": lambda g: g.grad_b,
    "grad_W": lambda g: g.grad_W}
"""What the backward check compares, by the name the feedback gives, in GRADIENTS' order (backpropagation's)."""
BACKWARD_VALUES = _per_case(GRADIENT_VALUES)


def judge_backward(got: Backward, expected: Autograd, check: Check) -> Verdict:
    verdict = values_match(BACKWARD_VALUES, EXACT, noun="gradient")(got, expected, check)
    if verdict.fraction == 1.0:
        return Verdict.passed(f"All {len(BACKWARD_VALUES)} gradients of (f - y)^2 equal torch autograd's, on "
                              f"{len(CASES)} random networks.")
    misshapen = any(at(got).shape != at(expected).shape for at in BACKWARD_VALUES.values())
    # A shape's own hint comes first; else the diagnosed mistake, else the comparison's, else the rule.
    hint = (misshapen and verdict.feedback.hint) or _backward_hint(got, expected) or verdict.feedback.hint or (
        "Go backward one step at a time: grad_f l = 2 (f - y), delta_f = grad_f l * phi'(v_f), "
        "delta_z = (U^T delta_f) * phi'(v_z); then grad_U = delta_f z^T, grad_c = delta_f, "
        "grad_W = delta_z x^T, grad_b = delta_z (if q2.forward.values fails, fix forward first: backward's values "
        "come from it).")
    return _with(verdict, hint=hint)


def _backward_hint(got: Backward, expected: Autograd) -> str | None:
    """Name the mistake from the factor between the student's gradients and the true ones: the output
    layer's (grad_U, grad_c) and the hidden layer's (grad_W, grad_b), case by case."""
    def factor(yours: list[np.ndarray], true: list[np.ndarray]) -> float | None:
        if any(y.shape != t.shape for y, t in zip(yours, true)):
            return None
        return _ratio(np.concatenate([y.ravel() for y in yours]), np.concatenate([t.ravel() for t in true]))

    pairs = [(got.cases[case], expected.cases[case]) for case in range(len(CASES))]
    outer = [factor([g.grad_U, g.grad_c], [e.grad_U, e.grad_c]) for g, e in pairs]
    inner = [factor([g.grad_W, g.grad_b], [e.grad_W, e.grad_b]) for g, e in pairs]

    def all_close(values, targets) -> bool:
        return all(v is not None and np.isclose(v, t, rtol=1e-5) for v, t in zip(values, targets))

    one = [1.0] * len(CASES)
    slope_f = [float(e.phi_prime_v_f.item()) for _, e in pairs]
    if all_close(outer, [-1.0] * len(CASES)) and all_close(inner, [-1.0] * len(CASES)):
        return "Every gradient has the opposite sign: grad_f l = 2 (f - y), the derivative of (f - y)^2 in f."
    if all_close(outer, [0.5] * len(CASES)) and all_close(inner, [0.5] * len(CASES)):
        return "Every gradient is half the true one: the derivative of (f - y)^2 is 2 (f - y), with the 2."
    if all_close(outer, [1 / s for s in slope_f]) and all_close(inner, [1 / s for s in slope_f]):
        return ("Every gradient lacks the factor phi'(v_f): delta_f = grad_f l * phi'(v_f), because f = phi(v_f) "
                "(the backward pass goes through the output's sigmoid too).")
    if all_close(outer, [1 / A] * len(CASES)) and all_close(inner, [1 / A**2] * len(CASES)):
        return ("The gradients are 1/5 (output layer) and 1/25 (hidden layer) of the true ones: your phi' lacks the "
                "factor a; phi'(v) = a phi(v) (1 - phi(v)).")
    if all_close(outer, [3 / A] * len(CASES)) and all_close(inner, [9 / A**2] * len(CASES)):
        return ("The gradients are 3/5 (output layer) and 9/25 (hidden layer) of the true ones: your phi' uses the "
                "handout's 3, a mistake of its solution; phi'(v) = a phi(v) (1 - phi(v)) with a = 5.")
    if all_close(outer, one) and not all_close(inner, one):
        without = all(g.grad_b.shape == e.phi_prime_v_z.shape and np.allclose(
            g.grad_b * e.phi_prime_v_z, e.grad_b, rtol=1e-6, atol=1e-12) for g, e in pairs)
        if without:
            return ("grad_U and grad_c are right, but grad_W and grad_b lack the factor phi'(v_z): "
                    "delta_z = (U^T delta_f) * phi'(v_z), elementwise.")
        return ("grad_U and grad_c are right, so the mistake is in the hidden layer: delta_z = (U^T delta_f) * "
                "phi'(v_z) elementwise, then grad_W = delta_z x^T and grad_b = delta_z.")
    return None


# --- (d) SGD -------------------------------------------------------------------------------------

def _train(subject: Subject, what: str, **kwargs):
    X, Y = _friend()
    with np.errstate(all="ignore"):  # an overflowing exp is judged from the values, not printed a step at a time
        returned = subject.call(MODULE, "train_sgd", X, Y, **kwargs)
    params, mse = returned_tuple(returned, ("params", "mse"), what)
    return arrays_from_mapping(params, PARAMS, f"{what}'s params"), to_array(mse, f"{what}'s mse").astype(np.float64)


class Params(Record):
    """train_sgd's params, by the handout's keys."""

    W: np.ndarray
    """(k, d)."""
    b: np.ndarray
    """(k, 1)."""
    U: np.ndarray
    """(1, k)."""
    c: np.ndarray
    """(1, 1)."""


PARAM_VALUES: dict[str, Callable[[Params], np.ndarray]] = {
    "W": lambda p: p.W, "b": lambda p: p.b, "U": lambda p: p.U, "c": lambda p: p.c}
"""Each parameter by its name, in PARAMS' order."""


class Initial(Record):
    params: Params
    """The weights of train_sgd(..., epochs=0, seed=3), untrained, each in its INIT_SHAPES (a flat
    vector is read as the column)."""
    same_seed_same_weights: bool
    """Whether a second call with seed=3 gave the same weights."""
    other_seed_other_weights: bool
    """Whether seed=4 gave other weights."""


def run_initialisation(subject: Subject) -> Initial:
    call = f"train_sgd(X, Y, k={INIT_K}, epochs=0, sigma={INIT_SIGMA}, seed=3)"
    first, _ = _train(subject, call, k=INIT_K, epochs=0, sigma=INIT_SIGMA, seed=3)
    again, _ = _train(subject, call, k=INIT_K, epochs=0, sigma=INIT_SIGMA, seed=3)
    other, _ = _train(subject, call.replace("seed=3", "seed=4"), k=INIT_K, epochs=0, sigma=INIT_SIGMA, seed=4)
    same = all(first[n].shape == again[n].shape and np.array_equal(first[n], again[n]) for n in PARAMS)
    differs = any(first[n].shape != other[n].shape or not np.array_equal(first[n], other[n]) for n in PARAMS)
    return Initial(params=Params(**{n: _as_column(first[n], INIT_SHAPES[n]) for n in PARAMS}),
                   same_seed_same_weights=same, other_seed_other_weights=differs)


def judge_initialisation(got: Initial, _expected: None, check: Check) -> Verdict:
    what = f"train_sgd(X, Y, k={INIT_K}, epochs=0, sigma={INIT_SIGMA})"
    shapes = {n: at(got.params).shape for n, at in PARAM_VALUES.items()}
    wrong = [f"{n} {tuple(shape)} (expected {INIT_SHAPES[n]})" for n, shape in shapes.items()
             if shape != INIT_SHAPES[n]]
    if wrong:
        return Verdict.failed(f"{what} returned parameters of the wrong shapes: {', '.join(wrong)}.",
                              hint="W is (k, d), b (k, 1), U (1, k), c (1, 1), with d = X.shape[0], the number "
                                   "of inputs (X holds one point per column).")
    draws = np.concatenate([at(got.params).ravel() for at in PARAM_VALUES.values()])
    std, mean = float(np.std(draws)), float(np.mean(draws))
    if not np.isfinite(draws).all() or not INIT_STD[0] <= std <= INIT_STD[1] or abs(mean) > INIT_MEAN:
        return Verdict.failed(
            f"{what}: the {draws.size} initial weights and biases have mean {mean:.3g} and standard deviation "
            f"{std:.3g}; i.i.d. N(0, sigma^2) draws with sigma = {INIT_SIGMA} have mean near 0 (within "
            f"{INIT_MEAN}) and standard deviation near {INIT_SIGMA} (between {INIT_STD[0]} and {INIT_STD[1]}).",
            hint="Draw every weight and bias from a standard normal and multiply by sigma (the argument, "
                 "not a number); epochs=0 must return them untrained.")
    if not got.same_seed_same_weights:
        return Verdict.failed(f"{what}: two calls with seed=3 gave different weights: the seed is not used.",
                              hint="Seed the generator with the argument: rng = np.random.default_rng(seed) "
                                   "(or np.random.seed(seed)) before drawing.")
    if not got.other_seed_other_weights:
        return Verdict.failed(f"{what}: seed=3 and seed=4 gave the same weights: the seed is fixed in the code.",
                              hint="Seed with the argument `seed`, not a constant.")
    return Verdict.passed(f"{what} draws W, b, U, c of the right shapes with scale sigma, reproducibly per seed "
                          f"(mean {mean:.3f}, standard deviation {std:.3f} over {draws.size} draws).")


def run_one_epoch(subject: Subject) -> Params:
    params, _ = _train(subject, f"train_sgd(X, Y, k=3, eta={EPOCH_ETA}, epochs=1, sigma=0)",
                       k=3, eta=EPOCH_ETA, epochs=1, sigma=0.0, seed=0)
    return Params(**{n: _as_column(params[n], _shape_of(n, 0)) for n in PARAMS})


def judge_one_epoch(got: Params, expected: Params, check: Check) -> Verdict:
    verdict = values_match(PARAMS, SGD, noun="parameter")(got, expected, check)
    if verdict.fraction == 1.0:
        return Verdict.passed("After one epoch of SGD from all-zero weights, W, b, U and c equal the reference's "
                              f"within {SGD.describe()}.")
    W = got.W
    if W.ndim == 2 and W.shape[0] > 1 and np.isfinite(W).all() and not np.allclose(W, W[:1], atol=1e-12):
        hint = ("With sigma=0 every weight starts at 0, so the three hidden units get the same updates and stay "
                "equal; your W's rows differ, so your initialisation does not scale the draws by sigma.")
    else:
        hint = ("Start from sigma * N(0, 1) draws (all 0 here), then for i = 0, 1, ..., N-1 in this order: forward "
                "and backward on the point X[:, i:i+1], Y[:, i:i+1], then W -= eta * grad_W (and b, U, c) before "
                "the next point. No shuffling, no summing over the epoch. If q2.backward.autograd fails, fix it "
                "first.")
    return _with(verdict, summary=f"After one epoch of SGD (eta={EPOCH_ETA}, sigma=0): {verdict.feedback.summary}",
                 hint=hint)


class Curve(Record):
    mse: np.ndarray
    """The MSE after each epoch, (epochs,) (a column of them is read as the vector)."""


class Training(Curve):
    params: Params
    """The params after the last epoch, as returned."""


def run_mse(subject: Subject) -> Training:
    params, mse = _train(subject, f"train_sgd(X, Y, k=3, eta={EPOCH_ETA}, epochs={MSE_EPOCHS}, sigma=0)",
                         k=3, eta=EPOCH_ETA, epochs=MSE_EPOCHS, sigma=0.0, seed=0)
    return Training(mse=mse.ravel() if mse.size == MSE_EPOCHS else mse, params=Params(**params))


def judge_mse(got: Training, expected: Training, check: Check) -> Verdict:
    comparison = compare_arrays(f"mse after each of {MSE_EPOCHS} epochs", got.mse, expected.mse, SGD)
    if comparison.equal:
        return Verdict.passed(f"mse holds the MSE over all N points after each of the {MSE_EPOCHS} epochs.")
    mse, want = got.mse, expected.mse
    pairs = [(at(got.params), at(expected.params)) for at in PARAM_VALUES.values()]
    params_right = all(yours.size == true.size and np.allclose(yours.ravel(), true.ravel(), atol=SGD.atol,
                                                               rtol=SGD.rtol) for yours, true in pairs)
    hint = None
    if mse.shape == want.shape and np.allclose(mse, want * 1000, rtol=1e-6):
        hint = "Your mse is N = 1000 times too large: the mean of (f - y)^2 over the points, not the sum."
    elif params_right and mse.shape == want.shape:
        hint = ("Your parameters are right, so the MSE is computed otherwise: after the epoch's last step, "
                "mean((f(x_i) - y_i)^2) over all N points with the weights at the end of the epoch (not the "
                "losses summed during the epoch, when the weights were still changing).")
    elif not params_right:
        hint = "Your parameters differ too (see q2.train_sgd.one_epoch): the MSE follows from them."
    elif mse.shape != want.shape:
        hint = (f"Your parameters are right, but mse has shape {mse.shape}: return one MSE per epoch, an array of "
                f"shape ({MSE_EPOCHS},) for epochs={MSE_EPOCHS}.")
    return Verdict.failed(f"mse differs from the MSE after each epoch (eta={EPOCH_ETA}, sigma=0, "
                          f"{MSE_EPOCHS} epochs).", details=tuple(comparison.lines()), arrays=(comparison.report,),
                          hint=hint or comparison.hint)


def run_mse_falls(subject: Subject) -> Curve:
    _, mse = _train(subject, f"train_sgd(X, Y, epochs={FALL_EPOCHS}, seed={FALL_SEED})",
                    epochs=FALL_EPOCHS, seed=FALL_SEED)
    return Curve(mse=mse.ravel() if mse.size == FALL_EPOCHS else mse)  # a column of MSEs is the same answer


def judge_mse_falls(got: Curve, _expected: None, check: Check) -> Verdict:
    mse = got.mse
    what = f"train_sgd(X, Y, epochs={FALL_EPOCHS}, seed={FALL_SEED})"
    if mse.shape != (FALL_EPOCHS,):
        return Verdict.failed(f"{what} returned an mse of shape {mse.shape}, not ({FALL_EPOCHS},): one MSE per epoch.")
    picture = figures.table("MSE after each epoch", {"epoch": list(range(1, FALL_EPOCHS + 1)),
                                                     "MSE": [f"{m:.4f}" for m in mse]})
    if not np.isfinite(mse).all():
        return Verdict.failed(f"{what}: the MSE is not finite from epoch {int(np.argmax(~np.isfinite(mse))) + 1}.",
                              hint="The weights blew up: check the sign of the update (W -= eta * grad_W).",
                              figures=picture)
    if mse[-1] <= FALL_RATIO * mse[0]:
        return Verdict.passed(f"{what}: the MSE fell from {mse[0]:.4f} after the first epoch to {mse[-1]:.4f} after "
                              f"the last (at most {FALL_RATIO} times the first was required).", figures=picture)
    rises = mse[-1] > mse[0]
    return Verdict.failed(
        f"{what}: the MSE went from {mse[0]:.4f} after the first epoch to {mse[-1]:.4f} after the last; "
        f"it should fall to at most {FALL_RATIO} times the first ({FALL_RATIO * mse[0]:.4f}). Every seed of the "
        f"reference gets there in {FALL_EPOCHS} epochs.",
        hint=("The MSE rises: the updates climb the loss. Subtract the gradient, W <- W - eta * grad_W, and check "
              "backward's gradients (q2.backward.autograd) and forward (q2.forward.values)." if rises else
              "Training barely moves: check that every parameter is updated after every point, with eta as given, "
              "and that backward's gradients are right (q2.backward.autograd)."),
        figures=picture)


PROBLEM = Problem(
    id="q2",
    title="Backpropagation",
    files=("hw5_q2.py",),
    # Handout ../shared/seeds/003_e3b0b6e208b34aec.txt, Homework 5, "2. [Backpropagation]" (line 403): no
    # points given. Declared here: 2 per bullet; (a) line 407, (b) line 408, (c) line 410 and (d) line 411
    # are code; (e) line 412 and (f) line 425 are written (tests/test_points.py BY_HAND).
    parts={"a": 2.0, "b": 2.0, "c": 2.0, "d": 2.0},
    checks=(
        Check(id="q2.phi.values", part="a", points=0.5,
              claim="phi(v, a) = 1 / (1 + exp(-a v)) elementwise, for a = 5 and a = 2",
              run=run_phi, judge=judge_phi),
        Check(id="q2.phi_prime.autograd", part="a", points=1.5,
              claim="phi_prime(v, a) equals torch autograd's derivative of phi, for a = 5 and a = 2",
              run=run_phi_prime, expected=expected_phi_prime, judge=judge_phi_prime),
        Check(id="q2.forward.values", part="b", points=2.0,
              claim="forward gives v_z, z, v_f, f on random networks of three shapes",
              run=run_forward,
              judge=values_match(_per_case(FORWARD_VALUES), EXACT, noun="value",
                                 hints={_key(case, n): rule for case in range(len(CASES))
                                        for n, rule in FORWARD_RULES.items()})),
        Check(id="q2.backward.autograd", part="c", points=2.0,
              claim="backward's grad_W, grad_b, grad_U, grad_c equal torch autograd's on random networks of "
                    "three shapes",
              run=run_backward, expected=expected_backward, judge=judge_backward),
        Check(id="q2.train_sgd.initialisation", part="d", points=0.5,
              claim="train_sgd starts from N(0, sigma^2) weights of the right shapes, reproducible per seed",
              run=run_initialisation, judge=judge_initialisation),
        Check(id="q2.train_sgd.one_epoch", part="d", points=0.5,
              claim="one epoch of SGD from all-zero weights, point by point in order, equals the reference's",
              run=run_one_epoch, judge=judge_one_epoch),
        Check(id="q2.train_sgd.mse_per_epoch", part="d", points=0.5,
              claim="mse holds the MSE over all points after each epoch",
              run=run_mse, judge=judge_mse),
        Check(id="q2.train_sgd.mse_falls", part="d", points=0.5,
              claim=f"the MSE falls to at most {FALL_RATIO} of its first value within {FALL_EPOCHS} epochs",
              run=run_mse_falls, judge=judge_mse_falls),
    ),
)
