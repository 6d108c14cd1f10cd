"""MovieLens 100K ratings (`u.data`): locate, verify, load; and a writer of small fake files.

`u.data` is tab-separated `user_id item_id rating timestamp`, ids 1-based, no header. The loader
returns the handout's array: rows `[user, item, rating]` with 0-based ids, in file order.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from autograder.data import DataError, locate, verify
from autograder.data._synthetic import is_synthetic, mark

DATASET = "ml-100k"
RESOURCES = [("u.data", "06416e597f82b7342361e41163890c81036900f418ad91315590814211dca490")]
NUM_USERS, NUM_ITEMS, NUM_RATINGS = 943, 1682, 100_000


def ratings_path(root: Path | None) -> Path:
    """The verified `u.data` under `root/ml-100k/`."""
    (file, digest), = RESOURCES
    path = locate(root, DATASET, file)
    return verify(path, None if is_synthetic(path.parent) else digest)


def read_ratings(path: Path) -> np.ndarray:
    """`[user, item, rating]` rows, 0-based ids, int64, exactly as the handout's csv loop builds them."""
    try:
        table = np.loadtxt(path, delimiter="\t", dtype=np.int64, ndmin=2)
    except ValueError as exc:
        raise DataError(f"{path} is not in the u.data format (user<TAB>item<TAB>rating<TAB>timestamp): {exc}") from None
    if table.shape[1] < 3:
        raise DataError(f"{path} has {table.shape[1]} columns; u.data has user, item, rating, timestamp")
    return np.column_stack([table[:, 0] - 1, table[:, 1] - 1, table[:, 2]])


def load_ratings(root: Path | None) -> np.ndarray:
    return read_ratings(ratings_path(root))


def handout_split(data: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The handout's 80/20 split: `np.random.seed(1)` then one permutation of the rows.

    The global numpy generator is reseeded, as in the handout; callers that care restore it.
    """
    np.random.seed(1)
    num_train = int(0.8 * len(data))
    perm = np.random.permutation(data.shape[0])
    return data[perm[:num_train]], data[perm[num_train:]]


def write_fake_ratings(root: Path, *, num_users: int = 60, num_items: int = 90, num_ratings: int = 2400,
                       rank: int = 3, noise: float = 0.6, seed: int = 0) -> Path:
    """A small `u.data` in the real format under `root/ml-100k/`, from a biased low-rank model.

    Ratings are rounded to 1..5 as real ones are, and each (user, item) pair occurs once. The
    last item id appears in no rating's train part with high probability only by chance, so the
    writer leaves some items unrated on purpose: ids in the last 5% are never drawn.
    """
    rng = np.random.default_rng(seed)
    folder = root / DATASET
    folder.mkdir(parents=True, exist_ok=True)
    rated_items = int(num_items * 0.95)
    cells = rng.choice(num_users * rated_items, size=num_ratings, replace=False)
    users, items = cells // rated_items, cells % rated_items
    # Make sure the largest ids occur, so that max(id)+1 gives the sizes the writer was asked for.
    users[0], items[0] = num_users - 1, num_items - 1
    u = rng.normal(0, 0.6, (num_users, rank))
    v = rng.normal(0, 0.6, (num_items, rank))
    score = 3.5 + rng.normal(0, 0.4, num_users)[users] + rng.normal(0, 0.5, num_items)[items]
    score += np.sum(u[users] * v[items], axis=1) + rng.normal(0, noise, num_ratings)
    ratings = np.clip(np.rint(score), 1, 5).astype(int)
    stamps = 880_000_000 + rng.integers(0, 10_000_000, num_ratings)
    lines = [f"{a + 1}\t{b + 1}\t{r}\t{t}\n" for a, b, r, t in zip(users, items, ratings, stamps)]
    path = folder / "u.data"
    path.write_text("".join(lines))
    mark(folder)
    return path
