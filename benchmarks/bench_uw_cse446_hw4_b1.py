"""B1 of uw-cse446-hw4: quality and fit time of the reference estimators on the handout's split,
side by side with scikit-surprise's SVD and SVD++ when it is installed (run on demand, not in CI).

    OMP_NUM_THREADS=2 python benchmarks/bench_uw_cse446_hw4_b1.py --data-root ../shared/data

scikit-surprise is a benchmark-only extra, never a dependency of the project (B1 forbids it in
submissions): install it in a separate environment, for example
`python -m venv --system-site-packages /tmp/surprise-venv && /tmp/surprise-venv/bin/pip install
scikit-surprise`, and run this script with that interpreter. Surprise is given the same train and
test rows (the handout's split of u.data, seed 1), with its default hyperparameters and seed 0.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from autograder.assignments.uw_cse446_hw4 import b1 as checks
from autograder.data import movielens


def reference_module():
    spec = importlib.util.spec_from_file_location("hw4_b1", REPO / "reference" / "uw-cse446-hw4" / "hw4_b1.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def timed(fit):
    start = time.perf_counter()
    result = fit()
    return result, time.perf_counter() - start


def reference_rows(train, test, num_items, num_users):
    hw = reference_module()
    rows = []
    mu, seconds = timed(lambda: hw.item_mean_estimator(train, num_items))
    rows.append(("reference item mean (a)", float(np.mean((mu[test[:, 1]] - test[:, 2]) ** 2)), seconds))
    p = checks.ALS
    (U, V), seconds = timed(lambda: hw.alternating_minimization(train, p["d"], p["lam"], p["sigma"], num_items,
                                                                 num_users, p["iters"], p["seed"]))
    rows.append((f"reference ALS (c), d={p['d']}, lam={p['lam']}", hw.mse(U, V, test), seconds))
    p = checks.SGD
    (U, V), seconds = timed(lambda: hw.sgd(train, p["d"], p["lam"], p["sigma"], p["lr"], p["batch_size"],
                                           p["epochs"], num_items, num_users, p["seed"]))
    rows.append((f"reference SGD (d), d={p['d']}, lr={p['lr']}", hw.mse(U, V, test), seconds))
    predict, seconds = timed(lambda: hw.best_estimator(train, num_users, num_items))
    error = float(np.mean((predict(test[:, 0], test[:, 1]) - test[:, 2]) ** 2))
    rows.append(("reference best_estimator (f): 4 biased ALS averaged", error, seconds))
    return rows


def surprise_rows(train, test):
    try:
        import surprise
    except ImportError:
        return [("scikit-surprise not installed: see this script's docstring", float("nan"), float("nan"))]
    with tempfile.TemporaryDirectory() as tmp:  # surprise reads a file (or pandas, not a dependency here)
        path = Path(tmp) / "train.tsv"
        np.savetxt(path, train, fmt="%d", delimiter="\t")
        reader = surprise.Reader(line_format="user item rating", sep="\t", rating_scale=(1, 5))
        trainset = surprise.Dataset.load_from_file(str(path), reader).build_full_trainset()
    # Surprise keys users and items by their raw string ids.
    testset = [(str(u), str(i), float(r)) for u, i, r in test]
    rows = []
    for name, algo in (("surprise SVD (defaults)", surprise.SVD(random_state=0)),
                       ("surprise SVD++ (defaults)", surprise.SVDpp(random_state=0))):
        _, seconds = timed(lambda algo=algo: algo.fit(trainset))
        predictions = algo.test(testset)
        error = float(np.mean([(p.est - p.r_ui) ** 2 for p in predictions]))
        rows.append((f"{name} {surprise.__version__}", error, seconds))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-root", type=Path,
                        default=Path(os.environ.get("AUTOGRADER_DATA_ROOT") or REPO.parent / "shared" / "data"))
    args = parser.parse_args()
    data = movielens.load_ratings(args.data_root)
    train, test = movielens.handout_split(data)
    num_users, num_items = int(data[:, 0].max()) + 1, int(data[:, 1].max()) + 1
    print(f"MovieLens 100K, handout split: {len(train)} train, {len(test)} test rows; "
          f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}")
    print(f"  {'estimator':<56} {'test MSE':>9} {'fit (s)':>8}")
    for name, error, seconds in reference_rows(train, test, num_items, num_users) + surprise_rows(train, test):
        print(f"  {name:<56} {error:9.4f} {seconds:8.2f}")


if __name__ == "__main__":
    main()
