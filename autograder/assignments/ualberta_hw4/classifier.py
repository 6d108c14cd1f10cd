"""The reference MNIST classifier that tells the judge which digit a generated image is, in numpy.

A 784-64-10 MLP (ReLU) trained on binarised MNIST by scripts/train_ualberta_hw4_classifier.py,
which stores its weights here as `classifier.npz` (float32). It runs in the trusted parent, which
never imports torch. Its accuracy on the 10,000 binarised MNIST test images: docs/ualberta-hw4.md.
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np

WEIGHTS = Path(__file__).with_name("classifier.npz")


@functools.cache
def weights() -> dict[str, np.ndarray]:
    with np.load(WEIGHTS, allow_pickle=False) as stored:
        return {name: stored[name].astype(np.float64) for name in ("W1", "b1", "W2", "b2")}


def logits(images: np.ndarray) -> np.ndarray:
    """(n, 10) class scores of images (n, 784) with pixels in {0, 1} (or [0, 1])."""
    w = weights()
    hidden = np.maximum(images.reshape(len(images), -1).astype(np.float64) @ w["W1"] + w["b1"], 0.0)
    return hidden @ w["W2"] + w["b2"]


def predict(images: np.ndarray) -> np.ndarray:
    """The digit each image is read as, (n,) int."""
    return np.argmax(logits(images), axis=1)
