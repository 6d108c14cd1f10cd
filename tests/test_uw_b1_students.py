"""B1 of uw-cse446-hw4 on code written as students write it: the right grade and the right blame.

Each submission below is the reference with one function rewritten in a student's own way (torch
in its default float32, a dense torch matrix, a column mix-up, a regulariser divided by the batch
size twice, ...). Each is graded end to end in the sandbox (as root, under the grading's own uid)
and the test asserts the checks it loses and their messages. The fast lane judges the conventions of
SGD and the memory measurement's failure in-process.
"""

from __future__ import annotations

import os
import re
import types

import numpy as np
import pytest
from conftest import by_id, lost_in, mutate, real_data_root, reference, text_of

from autograder.assignments.uw_cse446_hw4 import b1, b1_inputs, peak_memory
from autograder.data import movielens
from autograder.results import Outcome
from autograder.runner import _judge
from autograder.session import Ran
from autograder.student import Subject

FILE = "hw4_b1.py"
SGD_CHECKS = {"b1.sgd.deterministic_factors", "b1.sgd.fits_train", "b1.sgd.follows_loss_4", "b1.real.sgd_test_mse"}


@pytest.fixture(scope="module")
def ref():
    return reference(FILE)


def with_function(text: str, source: str) -> str:
    """`text` with the top-level function that `source` defines replaced by `source`."""
    name = re.search(r"^def (\w+)\(", source, re.M).group(1)
    start = text.index(f"\ndef {name}(") + 1
    end = re.compile(r"^\S", re.M).search(text, text.index("\n", start) + 1).start()
    return text[:start] + source.strip() + "\n\n\n" + text[end:]


# --- ALS in torch's default float32 --------------------------------------------------------------

ALS_FLOAT32 = '''
def alternating_minimization(train, d, lam, sigma, num_items, num_users, iters, seed):
    import torch

    torch.manual_seed(seed)
    R = torch.as_tensor(train)
    U = sigma * torch.rand(num_items, d)
    V = sigma * torch.rand(num_users, d)
    by_item = [R[R[:, 1] == i] for i in range(num_items)]
    by_user = [R[R[:, 0] == j] for j in range(num_users)]
    ridge = lam * torch.eye(d)
    for _ in range(iters):
        for i, rows in enumerate(by_item):  # a movie nobody rated solves ridge @ u = 0
            Vi = V[rows[:, 0]]
            U[i] = torch.linalg.solve(Vi.T @ Vi + ridge, Vi.T @ rows[:, 2].float())
        for j, rows in enumerate(by_user):
            Uj = U[rows[:, 1]]
            V[j] = torch.linalg.solve(Uj.T @ Uj + ridge, Uj.T @ rows[:, 2].float())
    return U, V
'''


def test_exact_als_in_float32_passes_the_half_step(grade_hw4, ref):
    g = grade_hw4({FILE: with_function(ref, ALS_FLOAT32)})
    assert lost_in(g, "b1") == set()
    half_step = by_id(g, "b1.als.half_step_is_ridge")
    assert half_step.feedback.summary == "The last ALS half-step is the exact ridge solution of loss (4)."
    assert "float32 rounding is accepted up to 0.0001" in text_of(half_step)


# --- ALS that builds the rating matrix as a dense torch tensor ------------------------------------

ALS_DENSE_TORCH = '''
def alternating_minimization(train, d, lam, sigma, num_items, num_users, iters, seed):
    import torch

    torch.manual_seed(seed)
    R = torch.zeros(num_items, num_users)
    R[train[:, 1], train[:, 0]] = torch.as_tensor(train[:, 2], dtype=torch.float32)
    rated = R > 0
    U = sigma * torch.rand(num_items, d)
    V = sigma * torch.rand(num_users, d)
    eye = lam * torch.eye(d)
    for _ in range(iters):
        for i in range(num_items):
            Vi = V[rated[i]]
            U[i] = torch.linalg.solve(Vi.T @ Vi + eye, Vi.T @ R[i, rated[i]])
        for j in range(num_users):
            Uj = U[rated[:, j]]
            V[j] = torch.linalg.solve(Uj.T @ Uj + eye, Uj.T @ R[rated[:, j], j])
    return U, V
'''


@pytest.mark.slow
def test_dense_torch_matrix_in_als_fails_under_the_sandbox_uid(grade_hw4, ref):
    g = grade_hw4({FILE: with_function(ref, ALS_DENSE_TORCH)}, sandbox=True)
    if os.geteuid() == 0:  # as root, the worker ran as the grading's own unprivileged uid
        assert next(p for p in g.protections if p.name == "unprivileged user").active
    assert lost_in(g, "b1") == {"b1.als.no_full_matrix"}
    memory = by_id(g, "b1.als.no_full_matrix")
    assert memory.outcome is Outcome.failed
    assert "MB at its peak, as much as an m x n matrix" in memory.feedback.summary
    peak = float(memory.feedback.summary.split("allocated ")[1].split(" MB")[0])
    assert peak >= 46, memory.feedback.summary  # the float32 matrix alone is 46 MiB
    assert "resident growth" in text_of(memory) and "never build the dense rating matrix" in text_of(memory)


def test_an_unmeasured_peak_is_an_autograder_error_never_a_pass():
    check = next(c for c in b1.PROBLEM.checks if c.id == "b1.als.no_full_matrix")
    got = b1.PeakMemory(measured=False, why="the resident high-water mark could not be reset (Permission denied)")
    with pytest.raises(peak_memory.Unmeasured, match="Permission denied"):
        b1.judge_memory(got, None, check)
    result = _judge(check, lambda: check.judge(got, None, check), Ran({}, 0.0, ""))
    assert result.outcome is Outcome.harness_error and result.score == 0
    assert "Permission denied" in result.debug


def test_measure_says_why_and_skips_the_call_when_the_peak_cannot_be_reset(monkeypatch):
    def refused():
        raise peak_memory.Unmeasured("the resident high-water mark could not be reset (refused)")

    called = []
    monkeypatch.setattr(peak_memory, "_reset_resident_peak", refused)
    assert peak_memory.measure(lambda: called.append(1), "als") == {
        "measured": False, "why": "the resident high-water mark could not be reset (refused)"}
    assert called == []


def test_measure_sees_numpy_zeros_and_torch_tensors():
    """In a fresh process, as in the worker: a long-lived one (this test run) may hand torch pages
    that are resident already, which no high-water mark can see."""
    import json
    import subprocess
    import sys

    code = ("import json, numpy as np, torch\n"
            "from autograder.assignments.uw_cse446_hw4 import peak_memory\n"
            "print(json.dumps([peak_memory.measure(lambda: np.zeros((4000, 3000)), 'als'),\n"
            "                  peak_memory.measure(lambda: torch.zeros(4000, 3000), 'als')]))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    numpy_peak, torch_peak = json.loads(done.stdout.splitlines()[-1])  # np.zeros: calloc, never resident;
    assert numpy_peak["measured"] and numpy_peak["traced peak"] >= 4000 * 3000 * 8  # torch: untraced
    assert torch_peak["measured"] and torch_peak["resident growth"] >= 0.9 * 4000 * 3000 * 4


# --- the run-time import check is not the estimators' judge ----------------------------------------

SGD_COLUMNS_SWAPPED = '''
def sgd(train, d, lam, sigma, lr, batch_size, epochs, num_items, num_users, seed):
    gen = np.random.default_rng(seed)
    U, V = sigma * gen.random((num_items, d)), sigma * gen.random((num_users, d))
    for epoch in range(epochs):
        shuffled = train[gen.permutation(len(train))]
        for batch in np.array_split(shuffled, max(1, len(train) // batch_size)):
            i, j, r = batch.T  # movie, user, rating
            e = np.einsum("bk,bk->b", U[i], V[j]) - r
            gu, gv = np.zeros_like(U), np.zeros_like(V)
            np.add.at(gu, i, e[:, None] * V[j])
            np.add.at(gv, j, e[:, None] * U[i])
            U -= 2 * lr * (gu / len(batch) + lam * U / len(train))
            V -= 2 * lr * (gv / len(batch) + lam * V / len(train))
    return U, V
'''


def test_sgd_that_raises_costs_its_own_checks_not_the_import_check(grade_hw4, ref):
    g = grade_hw4({FILE: with_function(ref, SGD_COLUMNS_SWAPPED)})
    assert lost_in(g, "b1") == SGD_CHECKS
    assert "raised IndexError" in by_id(g, "b1.sgd.fits_train").feedback.summary
    imports = by_id(g, "b1.imports.none_loaded_at_run_time")
    assert imports.outcome is Outcome.passed
    assert imports.feedback.details == ("sgd raised IndexError before it finished: the packages were watched up to "
                                        "that point (the error itself costs the checks of sgd).",)


# --- item means: only items without a train rating may be 0 -----------------------------------------

ITEM_MEANS_OVER_USER_IDS = '''
def item_mean_estimator(train, num_items):
    means = np.zeros(num_items)
    for i in np.unique(train[:, 0]):
        ratings = train[train[:, 1] == i, 2]
        if len(ratings):
            means[i] = ratings.mean()
    return means
'''


def _left_at_zero(train: np.ndarray, num_items: int) -> tuple[int, int, int]:
    """(rated items the faulty loop leaves at 0, items rated in train, items without a train rating)."""
    rated = np.bincount(train[:, 1], minlength=num_items) > 0
    covered = np.isin(np.arange(num_items), train[:, 0])
    return int(np.sum(rated & ~covered)), int(rated.sum()), int((~rated).sum())


def test_item_means_that_leave_rated_items_at_zero_fail(grade_hw4, ref):
    g = grade_hw4({FILE: with_function(ref, ITEM_MEANS_OVER_USER_IDS)})
    assert lost_in(g, "b1") == {"b1.item_mean.values", "b1.real.item_mean_test_mse"}
    train, _ = b1_inputs.small_split()
    wrong, rated, unrated = _left_at_zero(train, b1_inputs.SMALL["num_items"])
    small = by_id(g, "b1.item_mean.values")
    assert small.feedback.summary == (f"item_mean_estimator: the mean train rating of some items is wrong ({wrong} "
                                      f"of the {rated} items rated in train).")
    assert f"{wrong} of them get 0: only the {unrated} items without a train rating may." in small.feedback.details


@pytest.mark.realdata
def test_real_split_item_means_left_at_zero_fail_with_true_counts(grade_hw4, ref):
    g = grade_hw4({FILE: with_function(ref, ITEM_MEANS_OVER_USER_IDS)}, real=True)
    assert {"b1.item_mean.values", "b1.real.item_mean_test_mse"} <= lost_in(g, "b1")
    data = movielens.load_ratings(real_data_root("ml-100k"))
    train, _ = b1_inputs.handout_split(data)
    wrong, rated, unrated = _left_at_zero(train, data[:, 1].max() + 1)
    assert unrated == 34
    real = by_id(g, "b1.real.item_mean_test_mse")
    assert f"the mean train rating of some items is wrong ({wrong} of the {rated} items rated in train)" in (
        real.feedback.summary)
    assert f"{wrong} of them get 0: only the 34 items without a train rating may." in real.feedback.details


@pytest.mark.realdata
def test_real_split_item_means_at_zero_for_unrated_items_are_counted_truly():
    data = movielens.load_ratings(real_data_root("ml-100k"))
    train, test = b1_inputs.handout_split(data)
    num_items = data[:, 1].max() + 1
    namespace: dict = {}  # the reference's item means (the checks hold none of their own)
    exec(compile(reference("hw4_b1.py"), "hw4_b1.py", "exec"), namespace)
    want = namespace["item_mean_estimator"](train, num_items)
    unrated = np.bincount(train[:, 1], minlength=num_items) == 0
    expected = b1.TrustedItemMeans(mu=want, test_rows=test,
                                   train_ratings_per_item=np.bincount(train[:, 1], minlength=num_items))
    verdict = b1.judge_real_item_means(b1.ItemMeans(mu=np.where(unrated, 0.0, want)), expected, None)
    assert verdict.fraction == 1.0
    assert verdict.feedback.summary == ("item_mean_estimator on the handout's split (test MSE 1.0636) is right on "
                                        "rated items; the 34 items with no train rating get 0 (0 is accepted).")


# --- SGD: the regulariser must weigh lam against the data term, as loss (4) does ---------------------

SGD_REGULARISER_DIVIDED_TWICE = '''
def sgd(train, d, lam, sigma, lr, batch_size, epochs, num_items, num_users, seed):
    rng = np.random.default_rng(seed)
    U = rng.uniform(0, sigma, size=(num_items, d))
    V = rng.uniform(0, sigma, size=(num_users, d))
    n = train.shape[0]
    for epoch in range(epochs):
        todo = rng.permutation(n)
        while todo.size:
            rows, todo = train[todo[:batch_size]], todo[batch_size:]
            users, items, ratings = rows.T
            err = (U[items] * V[users]).sum(axis=1) - ratings
            grad_U, grad_V = np.zeros_like(U), np.zeros_like(V)
            np.add.at(grad_U, items, err[:, None] * V[users])
            np.add.at(grad_V, users, err[:, None] * U[items])
            weight = lam / n / len(rows)  # the ridge, averaged over the batch like the errors
            U -= lr * 2 * (grad_U / len(rows) + weight * U)
            V -= lr * 2 * (grad_V / len(rows) + weight * V)
    return U, V
'''

SGD_TORCH_AUTOGRAD = '''
def sgd(train, d, lam, sigma, lr, batch_size, epochs, num_items, num_users, seed):
    import torch

    g = torch.Generator().manual_seed(seed)
    U = (sigma * torch.rand(num_items, d, generator=g)).requires_grad_()
    V = (sigma * torch.rand(num_users, d, generator=g)).requires_grad_()
    data = torch.as_tensor(train)
    n = len(data)
    for _ in range(epochs):
        for _ in range(-(-n // batch_size)):
            batch = data[torch.randint(n, (batch_size,), generator=g)]
            j, i, r = batch[:, 0], batch[:, 1], batch[:, 2].float()
            loss = ((U[i] * V[j]).sum(1) - r).pow(2).mean() + lam / n * (U.pow(2).sum() + V.pow(2).sum())
            loss.backward()
            with torch.no_grad():
                U -= lr * U.grad
                V -= lr * V.grad
            U.grad = V.grad = None
    return U.detach(), V.detach()
'''


def test_sgd_regulariser_divided_by_the_batch_twice_fails_naming_the_conventions(grade_hw4, ref):
    g = grade_hw4({FILE: with_function(ref, SGD_REGULARISER_DIVIDED_TWICE)})
    assert lost_in(g, "b1") == {"b1.sgd.follows_loss_4"}
    step = by_id(g, "b1.sgd.follows_loss_4")
    assert step.feedback.summary == ("sgd's regulariser on U weighs as if lam were 0.5, not the lam=3.0 passed (6 "
                                     "times too weak).")
    assert b1.SGD_CONVENTIONS in step.feedback.details
    for convention in ("averaged or summed", "the factor 2 on both terms or on neither", "(per rating)",
                       "(per batch, or b/N summed over an epoch, once per epoch)"):
        assert convention in b1.SGD_CONVENTIONS


def test_sgd_by_torch_autograd_in_float32_with_batches_drawn_with_replacement_passes(grade_hw4, ref):
    g = grade_hw4({FILE: with_function(ref, SGD_TORCH_AUTOGRAD)})
    assert lost_in(g, "b1") == set()
    step = by_id(g, "b1.sgd.follows_loss_4")
    assert step.feedback.summary.startswith("One epoch of sgd follows loss (4)'s gradient")


V_GRADIENT = "            np.add.at(grad_v, users, errors[:, None] * U[items])\n"
REFERENCE_STEP = ("            U -= lr * (2 * grad_u / len(batch) + 2 * lam * share * U / len(batch))\n"
                  "            V -= lr * (2 * grad_v / len(batch) + 2 * lam * share * V / len(batch))\n")


def _step(u: str, v: str) -> list[tuple[str, str]]:
    return [(REFERENCE_STEP, f"            U -= lr * ({u})\n            V -= lr * ({v})\n")]


def _after_init(line: str) -> list[tuple[str, str]]:
    """The reference's sgd with `line` run right after its initialisation."""
    loop = "    n = len(train)\n    for _ in range(epochs):\n"
    return [(loop, f"    {line}\n{loop}")]


def _both(term: str) -> list[tuple[str, str]]:
    """The reference's step with `term` (written for U) on U and on V."""
    return _step(term, term.replace("grad_u", "grad_v").replace("U", "V"))


CONVENTIONS = {
    # name: (edits of the reference, the lam measured over the lam passed, to 5 %: b1.LAMBDA_RATIO)
    "reference": ([], 1.0),
    "no_factor_2": (_both("grad_u / len(batch) + lam * share * U / len(batch)"), 1.0),
    "batch_summed": (_both("2 * grad_u + 2 * lam * share * U"), 1.0),
    "float32": (_after_init("U, V = U.astype(np.float32), V.astype(np.float32)"), 1.0),
    "drawn_with_replacement": ([("            batch = shuffled[start:start + batch_size]\n",
                                "            batch = train[rng.integers(0, n, len(shuffled[start:start + "
                                "batch_size]))]\n")], 1.0),
    "normal_initialisation": (_after_init("U, V = sigma * rng.standard_normal(U.shape), "
                                          "sigma * rng.standard_normal(V.shape)"), 1.0),
    "v_from_the_new_u": ([(V_GRADIENT, ""), ("            V -= lr * (", V_GRADIENT + "            V -= lr * (")], 1.0),
    "per_rating": ([("np.add.at(grad_u, items, errors[:, None] * V[users])",
                     "np.add.at(grad_u, items, errors[:, None] * V[users] + lam * U[items])"),
                    ("np.add.at(grad_v, users, errors[:, None] * U[items])",
                     "np.add.at(grad_v, users, errors[:, None] * U[items] + lam * V[users])"),
                    *_both("2 * grad_u / len(batch)")], 1.0),
}
FAULTY_CONVENTIONS = {
    "factor_2_on_the_data_term_only": (_both("2 * grad_u / len(batch) + lam * share * U / len(batch)"),
                                       "2 times too weak"),
    "whole_regulariser_every_batch": (_both("2 * grad_u / len(batch) + 2 * lam * U / len(batch)"),
                                      "2 times too strong"),
    "hundred_times_too_weak": (_both("2 * grad_u / len(batch) + 2 * lam * share * U / len(batch) / 100"),
                               "100 times too weak"),
    "no_regulariser": (_both("2 * grad_u / len(batch)"), "sgd applies no regulariser to U"),
    "regulariser_sign_flipped": (_both("2 * grad_u / len(batch) - 2 * lam * share * U / len(batch)"),
                                 "sgd's regulariser pushes U away from 0"),
}


def _with_edits(ref: str, edits: list[tuple[str, str]]) -> str:
    for old, new in edits:
        ref = mutate(ref, old, new)
    return ref


def _judge_sgd_of(ref: str, edits: list[tuple[str, str]]):
    module = types.ModuleType("hw4_b1")
    exec(compile(_with_edits(ref, edits), FILE, "exec"), module.__dict__)  # noqa: S102 - the reference, edited here
    return b1.judge_sgd_step(b1.run_sgd_step(Subject({"hw4_b1": module})), None, None)


@pytest.mark.parametrize("convention", sorted(CONVENTIONS))
def test_sgd_conventions_consistent_with_loss_4_are_accepted(ref, convention):
    edits, ratio = CONVENTIONS[convention]
    verdict = _judge_sgd_of(ref, edits)
    assert verdict.fraction == 1.0, verdict.feedback
    for line in verdict.feedback.details[1:]:
        measured = float(line.split("the regulariser weighs ")[1].split(" ")[0])
        assert measured == pytest.approx(ratio * b1.SGD_STEP["lam"], rel=0.05), line


@pytest.mark.parametrize("fault", sorted(FAULTY_CONVENTIONS))
def test_sgd_regulariser_off_by_a_factor_fails(ref, fault):
    edits, words = FAULTY_CONVENTIONS[fault]
    verdict = _judge_sgd_of(ref, edits)
    assert verdict.fraction == 0.0
    assert words in verdict.feedback.summary and b1.SGD_CONVENTIONS in verdict.feedback.details


# The worst of the 140 valid SGD runs measured for b1.SGD_MARGIN (benchmarks/uw_cse446_hw4_b1_test_mse.py):
# an initialisation sigma * normal(0, 1), drawn with seed 6 instead of the grader's 0.
SGD_RNG = ('    """Mini-batch SGD on loss (4), scaled by 1/|train| (so lr does not depend on the data size)."""\n'
           "    rng = np.random.default_rng(seed)\n")


@pytest.mark.realdata
def test_real_data_worst_measured_sgd_run_passes(grade_hw4, ref):
    edits = [*CONVENTIONS["normal_initialisation"][0], (SGD_RNG, SGD_RNG.replace("(seed)", "(6)"))]
    g = grade_hw4({FILE: _with_edits(ref, edits)}, real=True)
    sgd = by_id(g, "b1.real.sgd_test_mse")
    assert lost_in(g, "b1") == set(), sgd.feedback.summary
    assert sgd.feedback.summary == "sgd reaches test MSE 1.0940 on the handout's split."
