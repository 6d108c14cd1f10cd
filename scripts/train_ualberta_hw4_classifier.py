"""Train the reference MNIST classifier of ualberta-hw4 (a 784-64-10 MLP) and store its weights.

The judge of `q5.generate.digits_of_the_class_asked` reads digits the student's CVAE generates
and asks this classifier which digit each one is. The judge runs in the trusted parent, which never
imports torch: the weights are stored as a compressed .npz (float32, about 190 KB) beside the check,
and `autograder/assignments/ualberta_hw4/classifier.py` evaluates them in numpy.

The classifier reads binarised images (pixel > 0.5, as the notebook's data), like the generated
digits the judge binarises; it is trained on the 60,000 binarised MNIST training images (Adam 1e-3,
batches of 128, 15 epochs, torch seed 0) and its accuracy on the 10,000 binarised test images is
printed (docs/ualberta-hw4.md quotes it).

    AUTOGRADER_DATA_ROOT=../shared/data python scripts/train_ualberta_hw4_classifier.py
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

from autograder.assignments.ualberta_hw4 import classifier
from autograder.config import REPO_ROOT
from autograder.data import mnist

EPOCHS, LR, BATCH, HIDDEN, SEED = 15, 1e-3, 128, 64, 0


def binarised(images: np.ndarray) -> np.ndarray:
    return (images.reshape(len(images), -1) > 127).astype(np.float32)


def main() -> None:
    root = Path(os.environ.get("AUTOGRADER_DATA_ROOT") or REPO_ROOT.parent / "shared" / "data")
    train_x, train_y = mnist.load(root / mnist.DATASET, "train")
    test_x, test_y = mnist.load(root / mnist.DATASET, "test")
    x, y = torch.from_numpy(binarised(train_x)), torch.from_numpy(train_y.astype(np.int64))
    torch.manual_seed(SEED)
    model = nn.Sequential(nn.Linear(784, HIDDEN), nn.ReLU(), nn.Linear(HIDDEN, 10))
    optimizer = torch.optim.Adam(model.parameters(), lr=LR)
    start = time.perf_counter()
    for epoch in range(EPOCHS):
        for rows in torch.randperm(len(x)).split(BATCH):
            loss = nn.functional.cross_entropy(model(x[rows]), y[rows])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        print(f"epoch {epoch + 1}: last batch loss {loss.item():.4f}", flush=True)
    weights = {"W1": model[0].weight.detach().numpy().T.copy(), "b1": model[0].bias.detach().numpy().copy(),
               "W2": model[2].weight.detach().numpy().T.copy(), "b2": model[2].bias.detach().numpy().copy()}
    np.savez_compressed(classifier.WEIGHTS, **{k: v.astype(np.float32) for k, v in weights.items()})
    classifier.weights.cache_clear()
    accuracy = float(np.mean(classifier.predict(binarised(test_x)) == test_y))
    print(f"trained in {time.perf_counter() - start:.0f} s; wrote {classifier.WEIGHTS} "
          f"({classifier.WEIGHTS.stat().st_size // 1024} KB); accuracy on the binarised test set {accuracy:.4f}")


if __name__ == "__main__":
    main()
