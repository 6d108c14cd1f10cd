"""Fixed inputs of the B1 checks, and the numpy arithmetic the judge needs (loss (4), the split of the
real data by the handout's own code).

Everything here is plain numpy, so that the judge (parent process) can rebuild the inputs and
evaluate a student's factors without running any of the student's code.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from autograder.data import movielens
from autograder.inputs import InputSet

SMALL = dict(num_users=60, num_items=90, num_ratings=2400, seed=11)
"""A synthetic MovieLens in the handout's row format; the last 5% of items have no rating."""


def ratings(num_users: int, num_items: int, num_ratings: int, seed: int) -> np.ndarray:
    """Rows [user, item, rating] with 0-based ids, from a biased rank-3 model, each pair once."""
    rng = np.random.default_rng(seed)
    rated_items = int(num_items * 0.95)
    cells = rng.choice(num_users * rated_items, size=num_ratings, replace=False)
    users, items = cells // rated_items, cells % rated_items
    u, v = rng.normal(0, 0.6, (num_users, 3)), rng.normal(0, 0.6, (num_items, 3))
    score = 3.5 + rng.normal(0, 0.4, num_users)[users] + rng.normal(0, 0.5, num_items)[items]
    score += np.sum(u[users] * v[items], axis=1) + rng.normal(0, 0.6, num_ratings)
    return np.column_stack([users, items, np.clip(np.rint(score), 1, 5)]).astype(np.int64)


def small_split() -> tuple[np.ndarray, np.ndarray]:
    data = ratings(**SMALL)
    cut = int(0.8 * len(data))
    return data[:cut], data[cut:]


def objective(U: np.ndarray, V: np.ndarray, train: np.ndarray, lam: float) -> float:
    """Loss (4) of the handout."""
    residual = np.sum(U[train[:, 1]] * V[train[:, 0]], axis=1) - train[:, 2]
    return float(residual @ residual + lam * (np.sum(U * U) + np.sum(V * V)))


def handout_split(data: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The handout's split, in the handout's own code (printed in it, for students to use as it is):
    the parent needs the real split to hand the student's process the train rows alone."""
    state = np.random.get_state()
    try:
        np.random.seed(1)
        num_train = int(0.8 * len(data))
        perm = np.random.permutation(data.shape[0])
    finally:
        np.random.set_state(state)
    return data[perm[:num_train]], data[perm[num_train:]]


def _handout_split_of_u_data(root: Path) -> dict[str, np.ndarray]:
    data = movielens.load_ratings(root)
    train, test = handout_split(data)
    return {"train": train, "test pairs": test[:, :2].copy(),
            "num_items": np.array(data[:, 1].max() + 1), "num_users": np.array(data[:, 0].max() + 1)}


REAL_SPLIT = InputSet("ml-100k-handout-split", movielens.DATASET, _handout_split_of_u_data)
"""The handout's split of the real `u.data` (seed 1, 80/20): the train rows [user, item, rating],
the test rows' (user, item) pairs without their ratings, and the numbers of items and users."""


def one_rating_per_row(size: int = 12, seed: int = 13) -> np.ndarray:
    """Rows [user, item, rating] in which every user and every item has exactly one rating: each
    row's change in a step of SGD is then its one rating's pull plus the regulariser's."""
    users = np.arange(size)
    ratings = np.random.default_rng(seed).integers(1, 6, size)
    return np.column_stack([users, (5 * users + 1) % size, ratings]).astype(np.int64)


def regulariser_weight(before: np.ndarray, after: np.ndarray, rows: np.ndarray, pulls: np.ndarray
                       ) -> tuple[float, float, float]:
    """Split each row's change `before[row] - after[row]` into a * pull + s * before[row] by least
    squares, where `pull` is its rating's data gradient (error times the partner's factor).

    Returns (sum of s / sum of a, the share of the change neither direction explains, sum of a):
    the ratio is the weight the step gave the regulariser against the data term, lambda for any
    positive scaling of loss (4)'s gradient, whatever the batches drawn (one rating per row).
    """
    data = shrink = unexplained = change = 0.0
    for row, pull in zip(rows, pulls, strict=True):
        delta = before[row] - after[row]
        directions = np.column_stack([pull, before[row]])
        (a, s), *_ = np.linalg.lstsq(directions, delta, rcond=None)
        data, shrink = data + a, shrink + s
        unexplained += float(np.sum((directions @ (a, s) - delta) ** 2))
        change += float(delta @ delta)
    return shrink / data if data else float("inf"), float(np.sqrt(unexplained / max(change, 1e-300))), data
