"""Quality and speed of the umn-csci5527-hw3 P2 and P3 references (run on demand, not in CI).

    nice python benchmarks/bench_umn_csci5527_hw3.py --data-root ../shared/data [--epochs 3]

P2: the reference's hand-written Adagrad, RMSprop and Adam against torch.optim's, side by side in
one run: same model (make_model), data, seed, batches and epochs; test accuracy of each, and the
median time of one optimizer.step() call and of one whole training step (forward, backward,
step), with the ratio hand-written / torch. torch.optim runs with its defaults (the foreach
implementation on CPU). P3: the reconstruction error per test image of the reference checkpoint
and of 30-component PCA, and the subspace distances of PCA's and the robust basis at the check's
seeds. Grading time and peak memory of a whole submission: benchmarks/bench_grading.py.
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional as F

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from autograder.assignments.umn_csci5527_hw3 import p3 as p3_checks
from autograder.data import mnist

REFERENCE = REPO / "reference" / "umn-csci5527-hw3"
HYPERPARAMETERS = {"Adagrad": {"lr": 0.02}, "RMSprop": {"lr": 5e-4}, "Adam": {"lr": 1e-3}}
"""The training script's recipes (scripts/train_umn_csci5527_hw3.py)."""


def module(name: str):
    spec = importlib.util.spec_from_file_location(name, REFERENCE / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def mnist_tensors(root: Path, split: str):
    images, labels = mnist.load(root / "mnist", split)
    return torch.from_numpy(images.astype(np.float32) / 255.0).unsqueeze(1), torch.from_numpy(labels.astype(np.int64))


def run_p2(root: Path, epochs: int, seed: int = 5527) -> None:
    p2 = module("hw3_p2")
    x, y = mnist_tensors(root, "train")
    xt, yt = mnist_tensors(root, "test")
    print(f"P2: {epochs} epochs, batch 128, seed {seed}, torch {torch.__version__}, {torch.get_num_threads()} threads")
    print(f"  {'optimiser':<9} {'accuracy mine':>13} {'torch':>7}   {'step() ms mine':>14} {'torch':>7} {'ratio':>6}"
          f"   {'iteration ms mine':>17} {'torch':>7} {'ratio':>6}")
    for name, hyper in HYPERPARAMETERS.items():
        row = {}
        for side, factory in (("mine", getattr(p2, name)), ("torch", getattr(torch.optim, name))):
            torch.manual_seed(seed)
            model = p2.make_model()
            optimizer = factory(model.parameters(), **hyper)
            order = torch.Generator().manual_seed(seed)
            steps, iterations = [], []
            for _ in range(epochs):
                model.train()
                for index in torch.randperm(len(x), generator=order).split(128):
                    start = time.perf_counter()
                    optimizer.zero_grad()
                    F.cross_entropy(model(x[index]), y[index]).backward()
                    middle = time.perf_counter()
                    optimizer.step()
                    end = time.perf_counter()
                    steps.append(end - middle)
                    iterations.append(end - start)
            model.eval()
            with torch.no_grad():
                accuracy = float((model(xt).argmax(1) == yt).float().mean())
            row[side] = (accuracy, 1e3 * statistics.median(steps), 1e3 * statistics.median(iterations))
        (a, s, i), (ta, ts, ti) = row["mine"], row["torch"]
        print(f"  {name:<9} {a:>13.4f} {ta:>7.4f}   {s:>14.3f} {ts:>7.3f} {s / ts:>6.2f}   {i:>17.3f} {ti:>7.3f} {i / ti:>6.2f}")


def run_p3(root: Path) -> None:
    p3 = module("hw3_p3")
    train = mnist.load_images(root / "mnist", "train").reshape(-1, 784).astype(np.float64) / 255.0
    test = mnist.load_images(root / "mnist", "test").reshape(-1, 784).astype(np.float64) / 255.0
    model = p3.DeepAutoencoder(30)
    model.load_state_dict(torch.load(REFERENCE / "p3_autoencoder.pt", weights_only=True))
    model.eval()
    with torch.no_grad():
        reconstructions = np.concatenate([model(torch.from_numpy(test[i:i + 1000]).float()).numpy()
                                          for i in range(0, len(test), 1000)])
    print("P3: average squared reconstruction error per MNIST test image (the paper: 3.00 and 13.87)")
    print(f"  autoencoder p3_autoencoder.pt (float16 weights, float32 model): "
          f"{np.mean(np.sum((reconstructions - test) ** 2, axis=1)):.3f}")
    for centred in (True, False):
        mean = train.mean(axis=0) if centred else np.zeros(784)
        V = np.linalg.eigh((train - mean).T @ (train - mean))[1][:, ::-1][:, :30]
        error = np.mean(np.sum(((test - mean) @ V @ V.T + mean - test) ** 2, axis=1))
        print(f"  PCA, 30 components, fitted on the training set, {'centred' if centred else 'uncentred'}: {error:.3f}")
    print("P3: subspace distance ||B B^+ - A A^+||_F to the true basis B (check's data)")
    for seed in (*p3_checks.SEEDS, 0, 1):
        B, X = p3.make_subspace_data(seed)  # the reference's: the checks store seeds 5527 and 2022 only
        start = time.perf_counter()
        robust = p3.robust_basis(X, 20)
        seconds = time.perf_counter() - start
        print(f"  seed {seed}: PCA {p3.subspace_distance(B, p3.pca_basis(X, 20)):.4f}, robust "
              f"{p3.subspace_distance(B, robust):.2e} ({seconds:.2f} s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-root", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--only", choices=("p2", "p3"))
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if args.only in (None, "p2"):
        run_p2(args.data_root, args.epochs)
    if args.only in (None, "p3"):
        run_p3(args.data_root)


if __name__ == "__main__":
    main()
