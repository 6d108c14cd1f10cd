"""A synthetic MNIST for ualberta-hw4's training checks in the fast lane: ten binary prototypes, one a
class, that the reference classifier reads as their class, each image one of them with a few pixels
flipped. A VAE learns it within the checks' budget, and a CVAE generates digits the classifier reads,
so that the training checks' faults (a trainer that never steps, a decoder blind to the class) are
graded without the real data; their thresholds are the reference's own, on the same data."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from autograder.assignments.ualberta_hw4 import classifier
from autograder.data import _synthetic, mnist

FLIPPED = 0.03


def prototypes(steps: int = 100, rate: float = 0.02) -> np.ndarray:
    """(10, 784) binary images, each read by the classifier as its index: projected gradient ascent on
    the classifier's log-probability of the class, from a blank image, then binarised."""
    w = classifier.weights()
    x = np.full((10, 784), 0.1)
    target = np.eye(10)
    for _ in range(steps):
        pre = x @ w["W1"] + w["b1"]
        logits = np.maximum(pre, 0) @ w["W2"] + w["b2"]
        p = np.exp(logits - logits.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        grad = ((target - p) @ w["W2"].T * (pre > 0)) @ w["W1"].T
        x = np.clip(x + rate * np.sign(grad), 0, 1)
    return (x > 0.5).astype(np.uint8)


def write(root: Path, n_train: int = 6000, n_test: int = 100, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    protos = prototypes()
    folder = Path(root) / mnist.DATASET
    folder.mkdir(parents=True, exist_ok=True)
    for split, n in (("train", n_train), ("test", n_test)):
        labels = rng.integers(0, 10, n)
        flips = rng.random((n, 784)) < FLIPPED
        images = (protos[labels] ^ flips).astype(np.uint8) * 255
        image_file, label_file = mnist.SPLITS[split]
        mnist.write_idx(folder / image_file, images.reshape(n, 28, 28))
        mnist.write_idx(folder / label_file, labels)
    _synthetic.mark(folder)
    return root
