"""B1: the distributions behind the thresholds of `b1.real.als_test_mse` and `b1.real.sgd_test_mse`
(test MSE on the handout's split of u.data), `b1.sgd.fits_train` (train MSE on the small synthetic
ratings) and `b1.sgd.follows_loss_4` (the regulariser's measured weight over the lam passed), and the
rounding tolerances of `b1.als.half_step_is_ridge` and `b1.als.objective_never_increases`; b1.py and
docs/uw-cse446-hw4.md quote what this prints.

Every run goes through the check's own student half (`b1.run_real_als`, `run_real_sgd`,
`run_sgd_small`, `run_sgd_step`, on the input set `b1_inputs.REAL_SPLIT` where the check reads u.data)
and is judged by the check's own judge against the reference's expected values. What varies is what a
valid student's code varies: the seed (seed 0 is the grader's own; seeds 1, 2, ... are passed in its
place), and what the handout leaves open: the initialisation
("entries drawn from np.random.rand() scaled by sigma ..., or using one of the solutions from part b"),
the order of the ALS half-steps, ALS in torch's float32; for SGD, the conventions
`b1.sgd.follows_loss_4` accepts (tests/test_uw_b1_students.py: the factor 2 or none, batches drawn
with replacement, a normal initialisation, V stepped from the new U, float32, torch's autograd). Two
conventions it accepts are not the real checks' reading of lr (the mean gradient over a batch) or
of loss (4)'s regulariser, and are shown apart: the batch summed, the regulariser per rating.
Faulty estimators give the floor.

    python benchmarks/uw_cse446_hw4_b1_test_mse.py [--data-root ../shared/data] [--seeds 20]
        [--faulty-seeds 3] [--only SGD]

ALS takes 0.3 s (torch float32: 0.8 s), SGD 0.6 s (torch autograd: 1.5 s) on the real split, each
on the small ratings 0.1 s or less: the defaults (819 runs) took about 6 minutes of one core.
"""

from __future__ import annotations

import sys

import numpy as np
from seed_spread import Grader, arguments, check_of, edited, module_of, sweep, with_seed_argument

from autograder.assignments.uw_cse446_hw4 import b1
from autograder.assignments.uw_cse446_hw4 import b1_inputs as inputs
from autograder.config import REPO_ROOT

sys.path.insert(0, str(REPO_ROOT / "tests"))
from test_uw_b1_students import (  # noqa: E402 - the conventions the judge is tested with
    ALS_FLOAT32,
    CONVENTIONS,
    FAULTY_CONVENTIONS,
    SGD_TORCH_AUTOGRAD,
    with_function,
)

REFERENCE = (REPO_ROOT / "reference" / "uw-cse446-hw4" / "hw4_b1.py").read_text()
ALS_INIT = ("    U = sigma * rng.random((num_items, d))\n    V = sigma * rng.random((num_users, d))\n"
            "    users, items, ratings = ")
ALS_STEPS = ("        U = _ridge_rows(items, users, ratings, V, lam, num_items)\n"
             "        V = _ridge_rows(users, items, ratings, U, lam, num_users)\n")
SVD_INIT = ("    u, s, vt = scipy.sparse.linalg.svds(scipy.sparse.csr_matrix((train[:, 2].astype(float), (train[:, 1], "
            "train[:, 0])), shape=(num_items, num_users)), k=d, random_state=seed)\n"
            "    U, V = u * np.sqrt(s), vt.T * np.sqrt(s)\n    users, items, ratings = ")
ALS_VALID = {
    "reference: U = sigma * rand, U then V": REFERENCE,
    "normal initialisation": edited(REFERENCE, [(ALS_INIT, ALS_INIT.replace("rng.random", "rng.standard_normal"))]),
    "V then U": edited(REFERENCE, [(ALS_STEPS, "".join(reversed(ALS_STEPS.splitlines(keepends=True))))]),
    "initialised from the zero-filled SVD (part b)": edited(REFERENCE, [(ALS_INIT, SVD_INIT)]),
    "torch float32, torch.rand initialisation": with_function(REFERENCE, ALS_FLOAT32),
}
ALS_FAULTY = {
    "faulty: Jacobi updates (V from the old U)": edited(REFERENCE, [(ALS_STEPS, (
        "        U, V = (_ridge_rows(items, users, ratings, V, lam, num_items),\n"
        "                _ridge_rows(users, items, ratings, U, lam, num_users))\n"))]),
    "faulty: no ridge term": edited(REFERENCE, [("    eye = lam * np.eye(d)\n", "    eye = 1e-9 * np.eye(d)\n")]),
}
OTHER_READINGS = ("batch_summed", "per_rating")
SGD_VALID = {**{name: edited(REFERENCE, edits) for name, (edits, _) in CONVENTIONS.items()
                if name not in OTHER_READINGS},
             "torch autograd, float32, batches drawn with replacement": with_function(REFERENCE, SGD_TORCH_AUTOGRAD)}
SGD_FAULTY = {
    "V never stepped": [("            V -= lr * (2 * grad_v / len(batch) + 2 * lam * share * V / len(batch))\n", "")],
    "one epoch only": [("    for _ in range(epochs):\n        shuffled", "    for _ in range(1):\n        shuffled")],
    **{name: edits for name, (edits, _) in FAULTY_CONVENTIONS.items()},
}
SGD_OTHER = {**{f"other reading: {name}": edited(REFERENCE, CONVENTIONS[name][0]) for name in OTHER_READINGS},
             **{f"faulty: {name}": edited(REFERENCE, edits) for name, edits in SGD_FAULTY.items()}}


def estimator_module(source: str, function: str, seed: int):
    """hw4_b1 from `source`, its `function` called with `seed` (0: the seed the grader passes)."""
    module = module_of(source, "hw4_b1")
    if seed:
        setattr(module, function, with_seed_argument(getattr(module, function), seed))
    return {"hw4_b1": module}


def checked(grader: Grader, check_id: str, function: str, metric):
    """run(name, source, seed) for `sweep`: `metric(got, expected)` of the check's run, and its verdict."""
    check = check_of(b1.PROBLEM, check_id)
    expected = grader.expected(check, {"hw4_b1": module_of(REFERENCE, "hw4_b1")})

    def run(name, source, seed):
        got = grader.student_half(check, estimator_module(source, function, seed))
        return metric(got, expected), grader.passes(check, got, expected)
    return run


def test_mse(got, expected) -> float:
    test = expected.test_rows
    return float(np.mean((np.sum(got.U[test[:, 1]] * got.V[test[:, 0]], axis=1) - test[:, 2]) ** 2))


def train_mse(got, expected) -> float:
    train, *_ = inputs.small_split()
    first = got.first  # the two runs under one seed agree, or the check fails
    return float(np.mean((np.sum(first.U[train[:, 1]] * first.V[train[:, 0]], axis=1) - train[:, 2]) ** 2))


def regulariser_weight(got, expected) -> float:
    """The measured weight of the regulariser over the lam passed, for U or V, whichever is farther from 1."""
    ratios = [inputs.regulariser_weight(before, after, rows, pulls)[0] / b1.SGD_STEP["lam"]
              for _, before, after, rows, pulls in b1._sgd_step_pulls(got)]
    return max(ratios, key=lambda r: abs(r - 1))


def half_step(got, expected) -> float:
    return b1.half_step_gap(got.U, got.V)


def largest_rise(got, expected) -> float:
    """The largest relative change of loss (4) from one iteration to the next (negative: it always fell)."""
    losses = b1.objective_losses(got)
    return max(after / before - 1 for before, after in zip(losses, losses[1:]))


SWEEPS = (  # the check, the function it grades, the figure its threshold judges, its format
    ("b1.real.als_test_mse", "alternating_minimization", test_mse, "test MSE", ".4f"),
    ("b1.als.half_step_is_ridge", "alternating_minimization", half_step, "stationarity of loss (4)", ".2g"),
    ("b1.als.objective_never_increases", "alternating_minimization", largest_rise,
     "largest relative change of loss (4)", ".2g"),
    ("b1.real.sgd_test_mse", "sgd", test_mse, "test MSE", ".4f"),
    ("b1.sgd.fits_train", "sgd", train_mse, "train MSE, small synthetic ratings", ".4f"),
    ("b1.sgd.follows_loss_4", "sgd", regulariser_weight, "measured lam / lam passed", ".3f"),
)


def main() -> None:
    args = arguments(__doc__).parse_args()
    grader = Grader(args.data_root, [inputs.REAL_SPLIT])
    print(f"ALS {b1.ALS}, margin {b1.ALS_MARGIN}; SGD {b1.SGD}, margin {b1.SGD_MARGIN}: over the reference's run")
    for check_id, function, metric, figure, fmt in SWEEPS:
        valid, other = (ALS_VALID, ALS_FAULTY) if function == "alternating_minimization" else (SGD_VALID, SGD_OTHER)
        sweep(f"{check_id} ({figure})", {**valid, **other}, other, args, checked(grader, check_id, function, metric),
              fmt=fmt)


if __name__ == "__main__":
    main()
