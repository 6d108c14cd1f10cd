"""Train the A2 reference autoencoders on MNIST; write the h = 128 checkpoints and print the
figures of docs/uw-cse446-hw4-a2-a6.md (final training error and test reconstruction error
for F1 and F2 at h in {32, 64, 128}).

    python scripts/train_uw_cse446_hw4_a2.py [--data-root ../shared/data] [--epochs 10]

Writes reference/uw-cse446-hw4/a2_f1_h128.pt and a2_f2_h128.pt (state_dicts).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

from autograder.config import REPO_ROOT
from autograder.data import mnist

REFERENCE = REPO_ROOT / "reference" / "uw-cse446-hw4"
EPOCHS, LR, BATCH_SIZE, SEED = 10, 1e-3, 128, 0


def images(root: Path, split: str) -> torch.Tensor:
    return torch.from_numpy(mnist.load_images(root / mnist.DATASET, split).reshape(-1, 784)).float() / 255.0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-root", type=Path, default=REPO_ROOT.parent / "shared" / "data")
    parser.add_argument("--epochs", type=int, default=EPOCHS)
    parser.add_argument("--hs", type=int, nargs="+", default=[32, 64, 128])
    args = parser.parse_args()
    torch.set_num_threads(1)
    sys.path.insert(0, str(REFERENCE))
    import hw4_a2

    train, test = images(args.data_root, "train"), images(args.data_root, "test")
    for name, build in (("f1", hw4_a2.linear_autoencoder), ("f2", hw4_a2.relu_autoencoder)):
        for h in args.hs:
            torch.manual_seed(SEED)
            model = build(784, h)
            start = time.perf_counter()
            losses = hw4_a2.train_autoencoder(model, train, args.epochs, LR, BATCH_SIZE)
            seconds = time.perf_counter() - start
            error = hw4_a2.reconstruction_error(model, test)
            print(f"{name.upper()} h={h}: final training error {losses[-1]:.5f}, test reconstruction error "
                  f"{error:.5f} ({args.epochs} epochs, Adam {LR}, batch {BATCH_SIZE}, {seconds:.0f} s)", flush=True)
            if h == 128:
                torch.save(model.state_dict(), REFERENCE / f"a2_{name}_h128.pt")


if __name__ == "__main__":
    main()
