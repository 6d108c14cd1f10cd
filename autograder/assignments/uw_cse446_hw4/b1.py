"""B1: MovieLens matrix completion (a 5, b 5, c 10, d 10, f extra credit 5), graded from `hw4_b1.py`.

Two kinds of checks. On small synthetic ratings (made here in numpy, so the judge rebuilds them):
the handout's split, item means, SVD errors, ALS properties (a half-step is a ridge solve, the
objective never increases, no m x n allocation), mse, SGD, and no recommender package. On the
real `u.data` (the `b1.real.*` checks): the handout's split is made by the grader's loader, the
student's estimators are fitted on its train part, and the judge computes the test MSE from the
test ratings of the trusted half; those ratings never reach the student's process.

Each check calls only the function it grades (the grader's own loader and split feed the
others), so a fault costs only its own checks. Expected values are the reference's (its loader and
split, its item means): nothing here implements a function the student writes, since this module
ships in the students' self-check bundle. ALS's half-step is judged by the optimality condition of
loss (4) (its gradient vanishes), not against a ridge solve made here. The handout's split of the
real u.data is made by the parent with the handout's own code (`b1_inputs.handout_split`): the test
ratings must never reach the student's process, and the parent runs no reference code.
"""

from __future__ import annotations

import ast
import sys
import tempfile
from pathlib import Path

import numpy as np

from autograder.assignments.uw_cse446_hw4 import b1_inputs as inputs
from autograder.assignments.uw_cse446_hw4 import peak_memory
from autograder.compare import Tolerance, compare_arrays
from autograder.data import movielens
from autograder.judges import values_match
from autograder.model import Check, Problem, Verdict, Visibility
from autograder.records import Record
from autograder.source import unwritten
from autograder.student import Subject, SubmissionError, to_array

MODULE = "hw4_b1"
FORBIDDEN = ("sklearn", "surprise", "implicit", "lightfm", "spotlight", "fastfm", "pyspark", "recbole",
             "libreco", "cornac", "tensorrec", "funk_svd", "funksvd", "scikit_surprise", "pymf")
"""Top-level packages of precooked recommenders or matrix factorisations (handout: 'not any precooked
algorithm from a package like scikit-learn')."""

SVD_DIMENSIONS = (1, 2, 5, 10, 20, 50)
ALS = dict(d=5, lam=10.0, sigma=1.0, iters=10, seed=0)
SGD = dict(d=5, lam=10.0, sigma=1.0, lr=0.2, batch_size=100, epochs=15, seed=0)
# Hyperparameters of the real-data checks (lr is for the mean gradient over a batch). The margins over
# the reference's test MSE (its run at the grader's seed: ALS 0.9245, SGD 0.9732) come from the test MSE
# of valid estimators over seeds 0-19 (benchmarks/uw_cse446_hw4_b1_test_mse.py; docs/uw-cse446-hw4.md):
#   ALS: U = sigma * rand, sigma * normal, V updated first, initialised from part b's SVD, torch float32:
#        0.909 to 0.938 (100 runs); faults 3.46 (Jacobi updates) and 6.9 or more (no ridge term).
#        Margin 0.10: the limit 1.025 is 0.086 above the worst valid run.
#   SGD: the conventions b1.sgd.follows_loss_4 accepts at this check's reading of lr (factor 2 or none,
#        batches drawn with replacement, V stepped from the new U, float32, torch autograd): 0.971 to
#        0.992; an initialisation sigma * normal(0, 1) instead of sigma * rand: 1.071 to 1.094 (140
#        runs). Faults: one epoch only 1.48, V never stepped 1.97, the regulariser per rating or in
#        full every batch 13.6, the batch summed NaN. Margin 0.20 (it was 0.10, which failed 18 of
#        the 20 normal initialisations): the limit 1.173 is 0.079 above the worst valid run and 0.31
#        below the nearest fault.
ALS_MARGIN = 0.10
SGD_MARGIN = 0.20
EXTRA_CREDIT_MSE = 0.9  # the handout's target for (f)
RELATIVE = Tolerance(atol=1e-6, rtol=1e-5)


def _split_small():
    train, test = inputs.small_split()
    return train, test, inputs.SMALL["num_items"], inputs.SMALL["num_users"]


def _factors(returned, what: str, num_items: int, num_users: int, d: int) -> tuple[np.ndarray, np.ndarray]:
    if not isinstance(returned, tuple | list) or len(returned) != 2:
        raise SubmissionError(f"{what} should return a tuple (U, V), but it returned {type(returned).__name__}.")
    U, V = (to_array(x, f"{what}'s {n}") for x, n in zip(returned, "UV"))
    for name, array, rows in (("U", U, num_items), ("V", V, num_users)):
        if array.shape != (rows, d):
            swap = " (U is one row per item, V one row per user)" if array.shape == (num_users + num_items - rows, d) else ""
            raise SubmissionError(f"{what} returned {name} of shape {array.shape}; expected ({rows}, {d}){swap}.")
    return U, V


# --- the real data: the handout's split of u.data -------------------------------------------------

REAL_DATA = {"data": (movielens.DATASET,), "inputs": (inputs.REAL_SPLIT,)}
"""What the b1.real.* checks read: u.data, through the input set of its handout split."""


def _real(subject: Subject):
    """(train rows, test (user, item) pairs, number of items, number of users) of the handout's split
    of u.data, from the input set: the test ratings stay with the parent."""
    split = subject.inputs(inputs.REAL_SPLIT.name)
    return split["train"], split["test pairs"], int(split["num_items"]), int(split["num_users"])


def _test_rows(subject: Subject) -> np.ndarray:
    """The test rows [user, item, rating] of the handout's split of u.data, for the trusted halves:
    the student's half never sees them."""
    data = movielens.load_ratings(subject.dataset(movielens.DATASET).parent)
    return inputs.handout_split(data)[1]


# --- (a) the item-mean estimator (with the handout's loading and split) ---------------------------

def _small_u_data() -> list[str]:
    data = inputs.ratings(num_users=30, num_items=40, num_ratings=301, seed=5)
    return [f"{u + 1}\t{i + 1}\t{r}\t{880000000 + k}\n" for k, (u, i, r) in enumerate(data)]


class Split(Record):
    data: np.ndarray
    """load_ratings of a 301-row u.data: rows [user, item, rating]."""
    train: np.ndarray
    test: np.ndarray
    """train_test_split of `data`."""


def run_split(subject: Subject) -> Split:
    folder = Path(tempfile.mkdtemp(prefix="b1-"))
    (folder / "u.data").write_text("".join(_small_u_data()))
    data = to_array(subject.call(MODULE, "load_ratings", str(folder / "u.data")), "load_ratings(path)")
    returned = subject.call(MODULE, "train_test_split", data.copy())
    if not isinstance(returned, tuple | list) or len(returned) != 2:
        raise SubmissionError("train_test_split should return a tuple (train, test).")
    return Split(data=data, train=to_array(returned[0], "train"), test=to_array(returned[1], "test"))


def judge_split(got: Split, expected: Split, check: Check) -> Verdict:
    for name, mine, want, hint in (  # want: the reference's
            ("data", got.data, expected.data, "Rows are [user - 1, item - 1, rating], in file order."),
            ("train", got.train, expected.train, None), ("test", got.test, expected.test, None)):
        comparison = compare_arrays(f"{name}", mine, want, Tolerance(atol=0))
        if comparison.equal:
            continue
        if name != "data" and mine.shape == want.shape and _same_rows(mine, want):
            hint = "The same rows in another order: take perm[0:num_train] for train, in the permutation's order."
        elif name != "data":
            hint = ("Use the handout's code: np.random.seed(1), perm = np.random.permutation(len(data)), "
                    "train = data[perm[0:int(0.8 * n)]], test = the rest.")
        what = "load_ratings" if name == "data" else "train_test_split"
        return Verdict.failed(f"{what}: {name} differs from the handout's code on a 301-row u.data.",
                              details=tuple(comparison.lines()), hint=hint)
    return Verdict.passed("load_ratings and train_test_split give exactly the handout's arrays.")


def _same_rows(a: np.ndarray, b: np.ndarray) -> bool:
    return a.ndim == 2 and np.array_equal(np.unique(a, axis=0), np.unique(b, axis=0))


class ItemMeans(Record):
    mu: np.ndarray
    """item_mean_estimator's mean train rating of each item, (num_items,)."""


def run_item_means(subject: Subject) -> ItemMeans:
    train, _, num_items, _ = _split_small()
    mu = to_array(subject.call(MODULE, "item_mean_estimator", train.copy(), num_items), "item_mean_estimator")
    return ItemMeans(mu=mu.reshape(-1) if mu.size == num_items else mu)


def judge_item_means(got: ItemMeans, expected: ItemMeans, check: Check) -> Verdict:
    train, _, num_items, _ = _split_small()
    want, unseen = expected.mu, np.bincount(train[:, 1], minlength=num_items) == 0  # the reference's means
    mu = got.mu
    if mu.shape != want.shape:
        return Verdict.failed(f"item_mean_estimator returned shape {mu.shape}; expected ({num_items},), one mean "
                              f"per item.")
    return _item_means_verdict(mu, want, ~unseen, "item_mean_estimator", ())


def _item_means_verdict(mu: np.ndarray, want: np.ndarray, rated: np.ndarray, what: str,
                        figures: tuple[str, ...]) -> Verdict:
    """Rated items must get their mean train rating; the others the global mean, or 0 (accepted,
    since the handout does not say). `figures` are lines about the estimator's errors."""
    wrong = rated & ~np.isclose(mu, want, rtol=RELATIVE.rtol, atol=RELATIVE.atol)
    if wrong.any():
        zeros = int(np.sum(wrong & (mu == 0)))
        # Unrated items compared as right, so that an index is an item id.
        comparison = compare_arrays("item means", np.where(rated, mu, want), want, RELATIVE)
        return Verdict.failed(
            f"{what}: the mean train rating of some items is wrong ({wrong.sum()} of the {rated.sum()} items rated "
            f"in train).",
            details=(*figures, *comparison.lines(),
                     *([f"{zeros} of them get 0: only the {(~rated).sum()} items without a train rating may."]
                       if zeros else [])),
            hint="mu_i is the mean of column 2 over the train rows whose column 1 is i.")
    unrated = ~rated
    if np.allclose(mu[unrated], want[unrated], atol=1e-6):
        return Verdict.passed(f"{what} is right, including the {unrated.sum()} items with no train rating "
                              f"(global mean).", details=figures)
    if np.allclose(mu[unrated], 0.0):
        return Verdict.passed(
            f"{what} is right on rated items; the {unrated.sum()} items with no train rating get 0 "
            f"(0 is accepted).",
            details=(*figures, "Accepted, since the handout does not say what unrated items get; the global train "
                     "mean is the better guess (on the real split, test MSE 1.0551 instead of 1.0636)."))
    return Verdict.failed(f"{what}: the {unrated.sum()} items with no rating in train get "
                          f"{np.unique(mu[unrated])[:3].tolist()}; expected the global train mean (0 is accepted).",
                          details=figures)


def run_real_item_means(subject: Subject) -> ItemMeans:
    train, _, num_items, _ = _real(subject)
    mu = to_array(subject.call(MODULE, "item_mean_estimator", train, num_items), "item_mean_estimator")
    return ItemMeans(mu=mu.reshape(-1))


class TrustedItemMeans(ItemMeans):
    test_rows: np.ndarray
    """The test rows [user, item, rating] of the handout's split (`_test_rows`)."""
    train_ratings_per_item: np.ndarray
    """How many train ratings each item has, (num_items,)."""


def _expected_real_item_means(subject: Subject) -> TrustedItemMeans:
    """The trusted half, with how many train ratings each item has: only unrated items may get 0."""
    train, _, num_items, _ = _real(subject)
    return TrustedItemMeans(mu=run_real_item_means(subject).mu, test_rows=_test_rows(subject),
                            train_ratings_per_item=np.bincount(train[:, 1], minlength=num_items))


def judge_real_item_means(got: ItemMeans, expected: TrustedItemMeans, check: Check) -> Verdict:
    test = expected.test_rows
    mu = got.mu
    if mu.shape != expected.mu.shape:
        return Verdict.failed(f"item_mean_estimator returned shape {mu.shape} on u.data; expected "
                              f"{expected.mu.shape}.")
    got_mse = float(np.mean((mu[test[:, 1]] - test[:, 2]) ** 2))
    want = float(np.mean((expected.mu[test[:, 1]] - test[:, 2]) ** 2))
    figures = (f"The reference, with the global mean for unrated items, reaches test MSE {want:.4f}.",)
    return _item_means_verdict(mu, expected.mu, expected.train_ratings_per_item > 0,
                               f"item_mean_estimator on the handout's split (test MSE {got_mse:.4f})", figures)


# --- (b) the best rank-d approximation (SVD of the zero-filled matrix) ----------------------------

class RankErrors(Record):
    train_mse: float
    test_mse: float
    """The MSE of svd_estimator's R_hat on the train and the test rows."""


class SvdErrors(Record):
    ranks: dict[int, RankErrors]
    """Keyed by d in SVD_DIMENSIONS."""


def run_svd_errors(subject: Subject) -> SvdErrors:
    train, test, num_items, num_users = _split_small()
    ranks = {}
    for d in SVD_DIMENSIONS:
        r_hat = to_array(subject.call(MODULE, "svd_estimator", train.copy(), d, num_items, num_users),
                         f"svd_estimator(train, d={d}, ...)")
        if r_hat.shape != (num_items, num_users):
            raise SubmissionError(f"svd_estimator(d={d}) returned shape {r_hat.shape}; expected (num_items, "
                                  f"num_users) = {(num_items, num_users)}.")
        train_mse, test_mse = (float(np.mean((r_hat[rows[:, 1], rows[:, 0]] - rows[:, 2]) ** 2))
                               for rows in (train, test))
        ranks[d] = RankErrors(train_mse=train_mse, test_mse=test_mse)
    return SvdErrors(ranks=ranks)


SVD_ORDER = {f"{name} MSE, d={d}": at for d in SVD_DIMENSIONS
             for name, at in (("train", lambda r, d=d: r.ranks[d].train_mse),
                              ("test", lambda r, d=d: r.ranks[d].test_mse))}
"""The names the feedback shows ('train MSE, d=1', ...): d by d, train before test."""


REAL_SVD = (1, 5, 10, 50)


class RankFit(Record):
    train_mse: float
    test_predictions: np.ndarray
    """R_hat at the test rows' (item, user) positions: their ratings stay with the trusted half."""


class RealSvd(Record):
    fits: dict[int, RankFit]
    """svd_estimator on the handout's split, keyed by d in REAL_SVD."""


def run_real_svd(subject: Subject) -> RealSvd:
    train, test, num_items, num_users = _real(subject)
    fits = {}
    for d in REAL_SVD:
        r_hat = to_array(subject.call(MODULE, "svd_estimator", train, d, num_items, num_users),
                         f"svd_estimator(d={d})")
        if r_hat.shape != (num_items, num_users):
            raise SubmissionError(f"svd_estimator(d={d}) returned shape {r_hat.shape} on u.data; expected "
                                  f"{(num_items, num_users)}.")
        fits[d] = RankFit(train_mse=float(np.mean((r_hat[train[:, 1], train[:, 0]] - train[:, 2]) ** 2)),
                          test_predictions=r_hat[test[:, 1], test[:, 0]])  # positions only; ratings stay trusted
    return RealSvd(fits=fits)


class TrustedSvd(RealSvd):
    test_rows: np.ndarray
    """The test rows [user, item, rating] of the handout's split (`_test_rows`)."""


def _expected_real_svd(subject: Subject) -> TrustedSvd:
    """The trusted half: the reference's fits and the test rows, which the student's half never sees."""
    return TrustedSvd(fits=run_real_svd(subject).fits, test_rows=_test_rows(subject))


def judge_real_svd(got: RealSvd, expected: TrustedSvd, check: Check) -> Verdict:
    ratings = expected.test_rows[:, 2]
    lines, wrong = [], []
    for d in REAL_SVD:
        mine, want = got.fits[d], expected.fits[d]
        got_test = float(np.mean((mine.test_predictions - ratings) ** 2))
        want_test = float(np.mean((want.test_predictions - ratings) ** 2))
        ok = (np.isclose(got_test, want_test, rtol=1e-4)
              and np.isclose(mine.train_mse, want.train_mse, rtol=1e-4))
        lines.append(f"d={d}: train MSE {mine.train_mse:.4f}, test MSE {got_test:.4f}"
                     + ("" if ok else f" (expected {want.train_mse:.4f} and {want_test:.4f})"))
        if not ok:
            wrong.append(d)
    if not wrong:
        return Verdict.passed("Zero-filled SVD on the handout's split: train and test MSE as the reference.",
                              details=tuple(lines))
    return Verdict(fraction=1 - len(wrong) / len(REAL_SVD), feedback=Verdict.failed(
        f"Zero-filled SVD on the handout's split: wrong errors for d in {wrong}.", details=tuple(lines),
        hint="Fill the unrated cells with 0 and keep the d largest singular values.").feedback)


# --- (c) alternating minimization of loss (4) -----------------------------------------------------

SMALL_ALS = dict(d=3, lam=2.0, sigma=1.0, seed=4)


def _call_als(subject: Subject, train, num_items, num_users, iters, **params):
    p = {**SMALL_ALS, **params}
    return subject.call(MODULE, "alternating_minimization", train.copy(), p["d"], p["lam"], p["sigma"],
                        num_items, num_users, iters, p["seed"])


def _als(subject: Subject, train, num_items, num_users, iters, **params):
    returned = _call_als(subject, train, num_items, num_users, iters, **params)
    return _factors(returned, "alternating_minimization", num_items, num_users, {**SMALL_ALS, **params}["d"])


class Factors(Record):
    U: np.ndarray
    """One row per item, (num_items, d)."""
    V: np.ndarray
    """One row per user, (num_users, d)."""


def run_half_step(subject: Subject) -> Factors:
    train, _, num_items, num_users = _split_small()
    U, V = _als(subject, train, num_items, num_users, iters=3)
    return Factors(U=U, V=V)


HALF_STEP_RTOL = 1e-4
"""How far from stationary a half-step may be (`stationarity`: half the gradient of loss (4) with
respect to the factor just updated, relative to the normal equations' right side; 0 at the ridge
solution). An exact ALS in torch's default float32 reaches 1.8e-7 to 3.4e-7 on this check's inputs
(about 3 eps), float64 ones 6e-16 or less; 1e-4 leaves 290 times the worst of them, and is still 44
times below the nearest fault: the same steps without the ridge term are 4.4e-3 to 5.9e-3 away,
Jacobi updates (both halves from the old factors) 1.7 to 1.9. Over seeds 0-19 of each valid ALS
(benchmarks/uw_cse446_hw4_b1_test_mse.py: the reference, a normal initialisation, V first,
initialised from the SVD, torch in float32) and seeds 0-2 of the faults. (Measured before as the
distance from a float64 ridge solve made here, which put an ALS into this module: float32 up to
5.7e-6, no ridge term 3.6e-2.)"""


def stationarity(factor: np.ndarray, fixed: np.ndarray, rows: np.ndarray, cols: np.ndarray, ratings: np.ndarray,
                 ridge: float) -> float:
    """How far `factor` is from minimising loss (4) given the other factor `fixed`: the largest entry
    of half the gradient, sum over row r's ratings of (<factor_r, fixed_c> - rating) fixed_c + ridge
    factor_r, relative to the largest entry of sum of rating * fixed_c. Loss (4) is a strictly convex
    quadratic in `factor`, so it is 0 exactly at the ridge solution."""
    errors = np.sum(factor[rows] * fixed[cols], axis=1) - ratings
    gradient, scale = ridge * factor, np.zeros_like(factor)
    np.add.at(gradient, rows, errors[:, None] * fixed[cols])
    np.add.at(scale, rows, ratings[:, None] * fixed[cols])
    return float(np.abs(gradient).max() / max(np.abs(scale).max(), 1e-300))


def half_step_gap(U: np.ndarray, V: np.ndarray, ridge: float = SMALL_ALS["lam"]) -> float:
    """How far the closer of the two halves is from the minimiser of loss (4) with `ridge`, given the
    other half (either update order): `stationarity`, 0 for an exact half-step."""
    train, *_ = _split_small()
    users, items, r = train[:, 0], train[:, 1], train[:, 2].astype(float)
    return min(stationarity(V, U, users, items, r, ridge), stationarity(U, V, items, users, r, ridge))


def judge_half_step(got: Factors, expected: Factors, check: Check) -> Verdict:
    U, V = got.U, got.V
    lam = SMALL_ALS["lam"]
    off = half_step_gap(U, V)
    if off <= HALF_STEP_RTOL:
        return Verdict.passed("The last ALS half-step is the exact ridge solution of loss (4).",
                              details=(f"Gradient of loss (4) with respect to the factor updated last: {off:.2g} of "
                                       f"the normal equations' scale (float32 rounding is accepted up to "
                                       f"{HALF_STEP_RTOL:g}).",))
    details = [f"After 3 iterations (d={SMALL_ALS['d']}, lam={lam}), neither V is argmin over V of loss (4) given "
               f"U, nor U given V: the gradient of loss (4) with respect to either is {off:.3g} of the normal "
               f"equations' scale, not 0 (at most {HALF_STEP_RTOL:g} is rounding)."]
    hint = ("Each half-step solves, for every item i, (sum_j v_j v_j^T + lam I) u_i = sum_j r_ij v_j over the "
            "users j who rated i (and the same for users).")
    if half_step_gap(U, V, 1e-12) <= HALF_STEP_RTOL:
        hint = "The update is the least-squares solution without the ridge term: add lam * I to the normal equations."
    return Verdict.failed("The last ALS half-step is not the ridge solution of loss (4).",
                          details=tuple(details), hint=hint)


ITERATIONS = (1, 2, 3, 4, 5, 6)
OBJECTIVE_RISE = 1e-5
"""A rise of loss (4) smaller than this, relative, is rounding: an exact ALS in float32 lands within
2.0e-7 of the float64 iterates' loss here (4 seeds, 1 to 6 iterations), while an exact ALS lowers the
loss at every iteration. Over seeds 0-19 (benchmarks/uw_cse446_hw4_b1_test_mse.py) the smallest fall
from one iteration to the next is 3.1 % for the reference, 0.2 % for a normal initialisation (the
closest to this bar, 200 times it), 1.5 % from the SVD, 1.8 % with V first, 3.2 % in float32; Jacobi
updates raise it by 450 % or more."""


class Iterates(Record):
    after: dict[int, Factors]
    """The factors of alternating_minimization with iters=t (same seed), keyed by t in ITERATIONS."""


def run_objective(subject: Subject) -> Iterates:
    train, _, num_items, num_users = _split_small()
    after = {}
    for iters in ITERATIONS:
        U, V = _als(subject, train, num_items, num_users, iters=iters)
        after[iters] = Factors(U=U, V=V)
    return Iterates(after=after)


def objective_losses(got: Iterates) -> list[float]:
    """Loss (4) after each number of iterations in ITERATIONS."""
    train, *_ = _split_small()
    return [inputs.objective(got.after[t].U, got.after[t].V, train, SMALL_ALS["lam"]) for t in ITERATIONS]


def judge_objective(got: Iterates, expected: Iterates, check: Check) -> Verdict:
    losses = objective_losses(got)
    rises = [(t, a, b) for t, a, b in zip(ITERATIONS[1:], losses, losses[1:]) if b > a * (1 + OBJECTIVE_RISE)]
    shown = ", ".join(f"{x:.6g}" for x in losses)
    if not rises:
        return Verdict.passed(f"Loss (4) never increases over {len(ITERATIONS)} ALS iterations: {shown}.")
    t, a, b = rises[0]
    return Verdict.failed(f"Loss (4) increased from {a:.6g} to {b:.6g} at iteration {t} of ALS.",
                          details=(f"Loss (4) after 1..{len(ITERATIONS)} iterations (same seed): {shown}.",),
                          hint="Each half-step must minimise loss (4) exactly, using the newest U when V is "
                               "updated; a reinitialisation, a step size or a normalisation breaks that.")


BIG = dict(num_users=3000, num_items=4000, num_ratings=30_000, seed=3)
FULL_MATRIX_BYTES = BIG["num_users"] * BIG["num_items"] * 8
MEMORY_LIMIT = FULL_MATRIX_BYTES // 4
"""A float64 m x n array is 92 MiB here, a float32 one 46 MiB; the factors, the ratings and any per-row
work are a few MB (the reference peaks at 1.6 MB; a first torch.linalg call adds about 11 MB of
library pages to the resident set)."""


class PeakMemory(Record):
    measured: bool
    """False where the worker could not measure itself (`why` says why; ALS was then not called)."""
    traced_peak: int | None = None
    """tracemalloc's peak during the call, in bytes (numpy's buffers, untouched ones included)."""
    resident_growth: int | None = None
    """The growth of the resident high-water mark during the call, in bytes (counts torch)."""
    why: str | None = None


def run_memory(subject: Subject) -> PeakMemory:
    data = inputs.ratings(**BIG)
    peak = peak_memory.measure(lambda: _als(subject, data, BIG["num_items"], BIG["num_users"], iters=1, d=2, lam=1.0),
                               "alternating_minimization")
    return PeakMemory(measured=peak["measured"], traced_peak=peak.get("traced peak"),
                      resident_growth=peak.get("resident growth"), why=peak.get("why"))


def judge_memory(got: PeakMemory, expected: PeakMemory, check: Check) -> Verdict:
    if not got.measured:  # an autograder error, never a pass: see peak_memory
        raise peak_memory.Unmeasured(f"the peak memory of alternating_minimization was not measured: {got.why}")
    peak = max(got.traced_peak, got.resident_growth)
    where = (f"{BIG['num_items']} items x {BIG['num_users']} users, {BIG['num_ratings']} ratings, d=2, 1 iteration: "
             f"a float64 m x n array would take {FULL_MATRIX_BYTES / 2**20:.0f} MB, a float32 one "
             f"{FULL_MATRIX_BYTES / 2**21:.0f} MB")
    if peak <= MEMORY_LIMIT:
        return Verdict.passed(f"alternating_minimization peaked at {peak / 2**20:.1f} MB ({where}).")
    return Verdict.failed(
        f"alternating_minimization allocated {peak / 2**20:.0f} MB at its peak, as much as an m x n matrix.",
        details=(where + f"; allowed {MEMORY_LIMIT / 2**20:.0f} MB (numpy's peak {got.traced_peak / 2**20:.0f} MB, "
                 f"resident growth {got.resident_growth / 2**20:.0f} MB, which counts torch).",),
        hint="Loop over the ratings of each item (and of each user), or use a scipy.sparse matrix; never "
             "build the dense rating matrix in ALS (the handout: 'You should never be allocating an m x n matrix').")


class MseValues(Record):
    train: float
    """mse(U, V, train) of fixed factors."""
    test: float
    """mse(U, V, test) of the same factors."""


def run_mse(subject: Subject) -> MseValues:
    rng = np.random.default_rng(8)
    train, test, num_items, num_users = _split_small()
    U, V = rng.normal(1, 0.5, (num_items, 4)), rng.normal(1, 0.5, (num_users, 4))
    train_mse, test_mse = (float(subject.call(MODULE, "mse", U.copy(), V.copy(), rows.copy()))
                           for rows in (train, test))
    return MseValues(train=train_mse, test=test_mse)


MSE_ORDER = {"mse on train": lambda r: r.train, "mse on test": lambda r: r.test}
"""The names the feedback shows."""


def run_real_als(subject: Subject) -> Factors:
    train, _, num_items, num_users = _real(subject)
    p = ALS
    returned = subject.call(MODULE, "alternating_minimization", train, p["d"], p["lam"], p["sigma"], num_items,
                            num_users, p["iters"], p["seed"])
    U, V = _factors(returned, "alternating_minimization", num_items, num_users, p["d"])
    return Factors(U=U, V=V)


class TrustedFactors(Factors):
    test_rows: np.ndarray
    """The test rows [user, item, rating] of the handout's split (`_test_rows`)."""


def _with_test_ratings(run):
    """The trusted half: the reference's outputs and the test rows, which the student's half never sees."""
    def expected(subject: Subject) -> TrustedFactors:
        factors = run(subject)
        return TrustedFactors(U=factors.U, V=factors.V, test_rows=_test_rows(subject))
    return expected


def judge_real_factors(name: str, params: dict, margin: float):
    def judge(got: Factors, expected: TrustedFactors, check: Check) -> Verdict:
        test = expected.test_rows

        def test_mse(U, V):
            return float(np.mean((np.sum(U[test[:, 1]] * V[test[:, 0]], axis=1) - test[:, 2]) ** 2))

        got_mse, want = test_mse(got.U, got.V), test_mse(expected.U, expected.V)
        limit = want + margin
        shown = ", ".join(f"{k}={v}" for k, v in params.items())
        line = (f"{name}({shown}) on the handout's split: test MSE {got_mse:.4f}; the reference reaches {want:.4f}, "
                f"so at most {limit:.4f} is needed.")
        if np.isfinite(got_mse) and got_mse <= limit:
            return Verdict.passed(f"{name} reaches test MSE {got_mse:.4f} on the handout's split.", details=(line,))
        return Verdict.failed(f"{name} reaches only test MSE {got_mse:.4f} on the handout's split.", details=(line,),
                              hint="Check the update on a tiny problem against a brute-force minimiser of loss (4).")
    return judge


# --- (d) batched SGD on loss (4), and the rule against recommender packages -----------------------

SMALL_SGD = dict(d=3, lam=1.0, sigma=0.5, lr=0.05, batch_size=32, epochs=20, seed=2)


def _call_sgd(subject: Subject, train, num_items, num_users, p):
    return subject.call(MODULE, "sgd", train.copy(), p["d"], p["lam"], p["sigma"], p["lr"], p["batch_size"],
                        p["epochs"], num_items, num_users, p["seed"])


def _sgd(subject: Subject, train, num_items, num_users, params):
    return _factors(_call_sgd(subject, train, num_items, num_users, params), "sgd", num_items, num_users, params["d"])


class SameSeedTwice(Record):
    first: Factors
    again: Factors
    """sgd's factors from two calls with the same arguments and seed."""


def run_sgd_small(subject: Subject) -> SameSeedTwice:
    train, _, num_items, num_users = _split_small()
    U, V = _sgd(subject, train, num_items, num_users, SMALL_SGD)
    U2, V2 = _sgd(subject, train, num_items, num_users, SMALL_SGD)
    return SameSeedTwice(first=Factors(U=U, V=V), again=Factors(U=U2, V=V2))


def judge_sgd_deterministic(got: SameSeedTwice, expected: SameSeedTwice, check: Check) -> Verdict:
    first, again = got.first, got.again
    if not (np.all(np.isfinite(first.U)) and np.all(np.isfinite(first.V))):
        return Verdict.failed("sgd returned NaN or inf factors.", hint="A learning rate too large for your gradient's "
                              "scale diverges: average the gradient over the batch.")
    if np.array_equal(first.U, again.U) and np.array_equal(first.V, again.V):
        return Verdict.passed("sgd returns finite (num_items, d) and (num_users, d) factors, the same for the same seed.")
    return Verdict.failed("sgd gave different factors in two calls with the same seed.",
                          hint="Draw every random number (initialisation and batches) from "
                               "np.random.default_rng(seed), not from the global generator.")


# The limit: the better of predicting the global mean (train MSE 0.999 here) and the reference's train MSE
# (0.620 at the grader's seed 2) + 0.25, so 0.999. Over seeds 0-19 the valid conventions of
# b1.sgd.follows_loss_4 reach 0.617 to 0.825 (140 runs; a normal initialisation the highest, no factor 2
# 0.69-0.72); faults 1.65 (the regulariser per rating), 5.9 (the whole regulariser in every batch), 7.6 (V
# never stepped), 11.0 (one epoch only). The limit is 0.17 above the worst valid run
# (benchmarks/uw_cse446_hw4_b1_test_mse.py).
def judge_sgd_fits(got: SameSeedTwice, expected: SameSeedTwice, check: Check) -> Verdict:
    train, *_ = _split_small()
    mine, want = got.first, expected.first
    predictions = np.sum(mine.U[train[:, 1]] * mine.V[train[:, 0]], axis=1)
    mse = float(np.mean((predictions - train[:, 2]) ** 2))
    baseline = float(np.var(train[:, 2]))  # predicting the global mean
    reference = float(np.mean((np.sum(want.U[train[:, 1]] * want.V[train[:, 0]], axis=1)
                               - train[:, 2]) ** 2))
    limit = max(baseline, reference + 0.25)
    line = (f"Train MSE {mse:.4f} after {SMALL_SGD['epochs']} epochs (lr={SMALL_SGD['lr']}, batch "
            f"{SMALL_SGD['batch_size']}); predicting the global mean gives {baseline:.4f}.")
    if np.isfinite(mse) and mse <= limit:
        return Verdict.passed(f"sgd fits the training ratings (train MSE {mse:.4f}).", details=(line,))
    return Verdict.failed(f"sgd does not fit the training ratings: train MSE {mse:.4f}, needed at most {limit:.4f}.",
                          details=(line,),
                          hint="Step against the gradient of (<u_i, v_j> - r_ij)^2 averaged over the batch, for both "
                               "u_i and v_j, plus the ridge term.")


SGD_STEP = dict(d=16, lam=3.0, sigma=1.0, lr=1e-3, batch_size=6, epochs=1, seed=5)
"""One epoch of two batches on `inputs.one_rating_per_row()` (12 users, 12 items, one rating each).
A small lr keeps the epoch's two steps first-order (the weights below are then exact to 5%); d=16
keeps each row's two directions (its rating's pull, and itself) far from parallel."""
LAMBDA_RATIO = (0.8, 1.25)
"""Accepted range of the regulariser's measured weight over the lam passed. Over seeds 0-19
(benchmarks/uw_cse446_hw4_b1_test_mse.py; seed 5 is the grader's), the valid conventions measure 0.910
to 1.009 (140 runs: the reference; no factor 2; batches drawn with replacement; float32; a normal
initialisation; V stepped from the new U; torch autograd in float32 with batches drawn with
replacement, the lowest, 0.910, at seed 8), and the two conventions accepted but judged by the real
check (the batch summed, the largest steps, so the largest second-order error; the regulariser per
rating) 0.991 to 1.046; the faults measure 0.5 (the factor 2 on the data term only), 2 (the whole
regulariser in every batch), 1/6 (divided by the batch size twice: 100 times too weak at the real
check's batch of 100), 0.01, 0 and -1 (tests/test_uw_b1_students.py; all but 1/6 measured over seeds
0-2 too, each within 1.5 % of that). The range leaves 0.11 below the lowest valid run and 0.2 above the highest, and fails any
factor of 2."""
SGD_CONVENTIONS = (
    "Accepted: any step along a stochastic gradient of loss (4), however scaled: the batch's squared errors "
    "averaged or summed; the factor 2 on both terms or on neither; the regulariser's gradient lam * u_i applied "
    "with each rating of item i in the batch (per rating), or to every row with the batch's share b/N of loss "
    "(4)'s regulariser (per batch, or b/N summed over an epoch, once per epoch).")


class Epoch(Record):
    before: Factors
    """The factors sgd returns with lr=0: its initial factors for the seed."""
    after: Factors
    """The factors after one epoch of SGD_STEP, same seed."""


def run_sgd_step(subject: Subject) -> Epoch:
    train = inputs.one_rating_per_row()
    size = len(train)
    U0, V0 = _sgd(subject, train, size, size, {**SGD_STEP, "lr": 0.0})  # the initial factors, same seed
    U1, V1 = _sgd(subject, train, size, size, SGD_STEP)
    return Epoch(before=Factors(U=U0, V=V0), after=Factors(U=U1, V=V1))


STEP_UNEXPLAINED = 0.05
"""The share of a row's change that may be neither its rating's pull nor its own direction: the valid
conventions above leave 1e-13 (float64) to 3e-5 (float32); Adam, a normalisation or two different
initialisations for one seed leave far more, and then the weights mean nothing."""


def judge_sgd_step(got: Epoch, expected: Epoch, check: Check) -> Verdict:
    where = (f"One epoch of sgd (d={SGD_STEP['d']}, lam={SGD_STEP['lam']}, lr={SGD_STEP['lr']}, batch_size="
             f"{SGD_STEP['batch_size']}) on 12 ratings, one per user and per item, from the factors it returns "
             f"with lr=0.")
    if not all(np.all(np.isfinite(x)) for x in (got.before.U, got.before.V, got.after.U, got.after.V)):
        return Verdict.failed("sgd returned NaN or inf factors.", details=(where,))
    steps = _sgd_step_pulls(got)
    fits = {name: inputs.regulariser_weight(before, after, rows, pulls) for name, before, after, rows, pulls in steps}
    lines = tuple(f"{name}: the regulariser weighs {ratio:.4g} against the data term; {unexplained:.1e} of the "
                  f"change is neither." for name, (ratio, unexplained, _) in fits.items())
    for name, before, after, _, _ in steps:
        fault = _sgd_step_fault(name, *fits[name], unchanged=np.array_equal(before, after))
        if fault:
            return Verdict.failed(fault[0], details=(where, *lines, SGD_CONVENTIONS), hint=fault[1])
    return Verdict.passed("One epoch of sgd follows loss (4)'s gradient, its regulariser weighed with the lam passed.",
                          details=(where, *lines))


def _sgd_step_pulls(got: Epoch):
    """(factor, its value before and after the epoch, the rows its ratings change, their ratings' pulls:
    error times the partner's factor)."""
    train = inputs.one_rating_per_row()
    users, items = train[:, 0], train[:, 1]
    U0, V0 = got.before.U, got.before.V
    errors = (np.sum(U0[items] * V0[users], axis=1) - train[:, 2])[:, None]
    return (("U", U0, got.after.U, items, errors * V0[users]), ("V", V0, got.after.V, users, errors * U0[items]))


def _sgd_step_fault(name: str, ratio: float, unexplained: float, data: float, unchanged: bool
                    ) -> tuple[str, str] | None:
    """(summary, hint) of what is wrong with the epoch's change of U or V, or None."""
    lam = SGD_STEP["lam"]
    if unchanged:
        return f"sgd left {name} unchanged in one epoch.", "Update both U and V in every step."
    if not np.isfinite(ratio) or unexplained > STEP_UNEXPLAINED:
        return (f"sgd's step on {name} is not along loss (4)'s gradient: {unexplained:.0%} of the change of {name} "
                f"is neither its rating's pull nor the regulariser's.",
                "Step against the gradient of loss (4) on the batch, from the same initial factors for the same "
                "seed (no momentum, no Adam, no normalisation).")
    if data <= 0:
        return f"sgd moves {name} up loss (4)'s gradient, not down.", "Subtract lr times the gradient."
    if LAMBDA_RATIO[0] <= ratio / lam <= LAMBDA_RATIO[1]:
        return None
    if abs(ratio) < 1e-3 * lam:
        summary = f"sgd applies no regulariser to {name} (lam={lam} was passed)."
    elif ratio < 0:
        summary = f"sgd's regulariser pushes {name} away from 0, as if lam were {ratio:.3g} (lam={lam} was passed)."
    else:
        weaker = f"{lam / ratio:.3g} times too weak" if ratio < lam else f"{ratio / lam:.3g} times too strong"
        summary = f"sgd's regulariser on {name} weighs as if lam were {ratio:.3g}, not the lam={lam} passed ({weaker})."
    return summary, ("Loss (4) adds lam (||u_i||^2 + ||v_j||^2) once for the whole training set: a step must weigh "
                     "its gradient with lam against the data term's, as the batch's share of it.")


def run_real_sgd(subject: Subject) -> Factors:
    train, _, num_items, num_users = _real(subject)
    U, V = _sgd(subject, train, num_items, num_users, SGD)
    return Factors(U=U, V=V)


def _imported_roots(tree: ast.AST) -> list[tuple[str, int]]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name.split(".")[0], node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.module.split(".")[0], node.lineno))
        elif (isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant)
              and isinstance(node.args[0].value, str)
              and getattr(node.func, "attr", getattr(node.func, "id", "")) in ("import_module", "__import__")):
            found.append((node.args[0].value.split(".")[0], node.lineno))
    return found


def static_no_recommender(sources: dict[str, str], check: Check) -> Verdict:
    try:
        tree = ast.parse(sources["hw4_b1.py"])
    except SyntaxError as exc:
        return Verdict.failed(f"hw4_b1.py could not be parsed (line {exc.lineno}: {exc.msg}), so its imports "
                              "could not be checked.")
    banned = [(name, line) for name, line in _imported_roots(tree) if name.lower() in FORBIDDEN]
    estimators = ("item_mean_estimator", "svd_estimator", "alternating_minimization", "sgd")
    if not banned and len(unwritten(tree, estimators)) == len(estimators):
        return Verdict.failed("Not graded yet: none of the estimators is implemented, and the ban on recommender "
                              "packages is worth points only in a file whose estimators are written.")
    if not banned:
        return Verdict.passed("hw4_b1.py imports no recommender or matrix-factorisation package.")
    name, line = banned[0]
    return Verdict.failed(f"hw4_b1.py imports {name} (line {line}); the handout forbids precooked algorithms from "
                          "packages like scikit-learn in B1.",
                          hint="Implement the estimators with numpy, scipy.sparse.linalg.svds or torch.")


class Watched(Record):
    referenced: list[str]
    """Forbidden packages that names in hw4_b1 come from."""
    loaded_while_running: list[str]
    """Forbidden packages in sys.modules once ALS and SGD have run."""
    raised: dict[str, str]
    """The estimators that raised, by name: the exception's type."""


def run_no_recommender_loaded(subject: Subject) -> Watched:
    """What hw4_b1 holds, and what is in sys.modules once ALS and SGD have run, or raised: an
    estimator's error is its own checks' business, so the packages are watched up to it."""
    module = subject.module(MODULE)
    referenced = sorted({root for value in vars(module).values()
                         if (root := _package_of(value)) in FORBIDDEN})
    train, _, num_items, num_users = _split_small()
    raised = {}
    for name, call in (("alternating_minimization", lambda: _call_als(subject, train, num_items, num_users, 1)),
                       ("sgd", lambda: _call_sgd(subject, train, num_items, num_users, {**SMALL_SGD, "epochs": 1}))):
        try:
            call()
        except (Exception, SystemExit) as exc:  # noqa: BLE001 - judged by the estimators' own checks
            raised[name] = exc
    # The worker itself never imports these, so any of them in sys.modules came from the submission
    # (an import inside a function, importlib, or another of the student's files).
    loaded = sorted({name.split(".")[0].lower() for name in sys.modules} & set(FORBIDDEN))
    never_ran = [exc for exc in raised.values() if isinstance(exc, NotImplementedError | SubmissionError)]
    if not (referenced or loaded) and len(never_ran) == 2:
        raise never_ran[0]  # nothing ran: nothing to credit, and the usual "not implemented" says why
    return Watched(referenced=referenced, loaded_while_running=loaded,
                   raised={name: type(exc).__name__ for name, exc in raised.items()})


def _package_of(value) -> str:
    name = getattr(value, "__name__", "") if isinstance(value, type(sys)) else getattr(value, "__module__", "") or ""
    return name.split(".")[0].lower() if isinstance(name, str) else ""


def judge_no_recommender_loaded(got: Watched, expected: Watched, check: Check) -> Verdict:
    found = got.referenced + got.loaded_while_running
    watched = tuple(f"{name} raised {error} before it finished: the packages were watched up to that point (the "
                    f"error itself costs the checks of {name})." for name, error in got.raised.items())
    if not found:
        return Verdict.passed("hw4_b1 neither holds nor loads a recommender package while it runs.", details=watched)
    if got.referenced:
        summary = f"hw4_b1 holds a name from {found[0]}, a package the handout forbids in B1."
    else:
        summary = (f"{found[0]} was imported while the submission ran (by hw4_b1 or another of its files); "
                   "the handout forbids it in B1.")
    return Verdict.failed(summary, details=watched,
                          hint="Implement the estimators with numpy, scipy.sparse.linalg.svds or torch.")


# --- (f) extra credit: an estimator of test MSE at most 0.9 ---------------------------------------

class Predictions(Record):
    test_predictions: np.ndarray
    """predict(users, items) at the test rows' pairs: their ratings stay with the trusted half."""


def run_real_best(subject: Subject) -> Predictions:
    train, test, num_items, num_users = _real(subject)
    predict = subject.call(MODULE, "best_estimator", train, num_users, num_items)
    if not callable(predict):
        raise SubmissionError(f"best_estimator should return a function predict(users, items); it returned "
                              f"{type(predict).__name__}.")
    predictions = to_array(predict(test[:, 0].copy(), test[:, 1].copy()), "predict(users, items)").reshape(-1)
    return Predictions(test_predictions=predictions)


class TrustedPredictions(Predictions):
    test_rows: np.ndarray
    """The test rows [user, item, rating] of the handout's split (`_test_rows`)."""


def _expected_real_best(subject: Subject) -> TrustedPredictions:
    """The trusted half: the reference's predictions and the test rows, which the student's half never sees."""
    return TrustedPredictions(test_predictions=run_real_best(subject).test_predictions, test_rows=_test_rows(subject))


def judge_real_best(got: Predictions, expected: TrustedPredictions, check: Check) -> Verdict:
    ratings = expected.test_rows[:, 2]
    predictions = got.test_predictions
    if predictions.shape != ratings.shape:
        return Verdict.failed(f"predict returned {predictions.size} ratings for {ratings.size} (user, item) pairs.")
    value = float(np.mean((predictions - ratings) ** 2))
    if np.isfinite(value) and value <= EXTRA_CREDIT_MSE:
        return Verdict.passed(f"best_estimator reaches test MSE {value:.4f} (target {EXTRA_CREDIT_MSE}).")
    return Verdict.failed(f"best_estimator reaches test MSE {value:.4f}; the extra credit needs at most "
                          f"{EXTRA_CREDIT_MSE}.", hint="User and item biases plus a low-rank term, fitted by ALS "
                                                         "with a ridge penalty, reach about 0.83.")


PROBLEM = Problem(
    id="b1",
    title="Matrix completion and recommendation on MovieLens 100K",
    files=("hw4_b1.py",),
    # Handout ../shared/seeds/000_2b7f888c5a23a7ac.txt, B1 (35 points): a [5] (line 329), b [5] (330),
    # c [10] (336), d [10] (350); e [5] (line 360) is written; f is extra credit [5] (line 361), on top: 0 here.
    parts={"a": 5.0, "b": 5.0, "c": 10.0, "d": 10.0, "f": 0.0},
    checks=(
        Check(id="b1.load_and_split.handout_split", part="a", points=2.0,
              claim="load_ratings and train_test_split give exactly the handout's arrays (seed 1, 80/20)",
              run=run_split, judge=judge_split),
        Check(id="b1.item_mean.values", part="a", points=2.0,
              claim="item_mean_estimator gives each item's mean train rating (unrated items: the global mean)",
              run=run_item_means, judge=judge_item_means),
        Check(id="b1.real.item_mean_test_mse", part="a", points=1.0, **REAL_DATA, timeout=60.0,
              claim="on the handout's split of u.data, the item-mean estimator has the reference's test MSE",
              run=run_real_item_means, expected=_expected_real_item_means, judge=judge_real_item_means),
        Check(id="b1.svd.rank_d_errors", part="b", points=3.0,
              claim="svd_estimator's train and test MSE equal the best rank-d approximation's, d in 1..50",
              run=run_svd_errors, judge=values_match(
                  SVD_ORDER, RELATIVE, noun="error",
                  hints={next(iter(SVD_ORDER)): "Fill unrated cells with 0 and keep the top d singular values "
                                                "(scipy.sparse.linalg.svds(k=d))."})),
        Check(id="b1.real.svd_test_mse", part="b", points=2.0, **REAL_DATA, timeout=120.0,
              claim="on the handout's split of u.data, the zero-filled SVD has the reference's train and test MSE",
              run=run_real_svd, expected=_expected_real_svd, judge=judge_real_svd),
        Check(id="b1.als.half_step_is_ridge", part="c", points=3.0,
              claim="alternating_minimization's last half-step is the exact ridge solution of loss (4)",
              run=run_half_step, judge=judge_half_step),
        Check(id="b1.als.objective_never_increases", part="c", points=2.0,
              claim="loss (4) never increases from one ALS iteration to the next",
              run=run_objective, judge=judge_objective),
        Check(id="b1.als.no_full_matrix", part="c", points=2.0, timeout=60.0,
              claim="alternating_minimization never allocates an m x n array (peak memory measured)",
              run=run_memory, judge=judge_memory),
        Check(id="b1.mse.values", part="c", points=1.0,
              claim="mse(U, V, data) is the mean squared error of <u_item, v_user> on the rows of data",
              run=run_mse, judge=values_match(MSE_ORDER, RELATIVE, noun="value",
                                              hints={"mse on train": "Rows are [user, item, rating]: predict "
                                                     "U[item] . V[user]."})),
        Check(id="b1.real.als_test_mse", part="c", points=2.0, **REAL_DATA, timeout=120.0,
              claim=f"on the handout's split, ALS (d=5, lam=10) reaches the reference's test MSE plus {ALS_MARGIN}",
              run=run_real_als, expected=_with_test_ratings(run_real_als),
              judge=judge_real_factors("alternating_minimization", ALS, ALS_MARGIN)),
        Check(id="b1.sgd.deterministic_factors", part="d", points=2.0,
              claim="sgd returns finite factors of the right shapes, the same for the same seed",
              run=run_sgd_small, judge=judge_sgd_deterministic),
        Check(id="b1.sgd.fits_train", part="d", points=2.0,
              claim="sgd fits the training ratings better than the global mean",
              run=run_sgd_small, judge=judge_sgd_fits),
        Check(id="b1.sgd.follows_loss_4", part="d", points=2.0,
              claim="an epoch of sgd steps along loss (4)'s gradient, the regulariser weighed with the lam passed",
              run=run_sgd_step, judge=judge_sgd_step),
        Check(id="b1.real.sgd_test_mse", part="d", points=3.0, **REAL_DATA, timeout=120.0,
              claim=f"on the handout's split, SGD (d=5, lam=10, lr=0.2) reaches the reference's test MSE plus "
                    f"{SGD_MARGIN}",
              run=run_real_sgd, expected=_with_test_ratings(run_real_sgd),
              judge=judge_real_factors("sgd", SGD, SGD_MARGIN)),
        Check(id="b1.imports.no_recommender_package", part="d", points=0.5,
              claim="hw4_b1.py imports no scikit-learn, Surprise or other recommender package",
              static=static_no_recommender),
        Check(id="b1.imports.none_loaded_at_run_time", part="d", points=0.5,
              claim="no recommender package is held by hw4_b1 or loaded while its estimators run",
              run=run_no_recommender_loaded, judge=judge_no_recommender_loaded),
        Check(id="b1.real.best_estimator", part="f", points=5.0, **REAL_DATA, timeout=120.0,
              visibility=Visibility.visible, extra_credit=True,
              claim="extra credit: best_estimator reaches test MSE at most 0.9 on the handout's split",
              run=run_real_best, expected=_expected_real_best, judge=judge_real_best),
    ),
)
