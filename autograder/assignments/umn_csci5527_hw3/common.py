"""Helpers shared by the checks of umn-csci5527-hw3 that read MNIST or load checkpoints.

Student halves import torch lazily: this module is also imported by the parent, which never
imports torch.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from autograder.data import mnist
from autograder.student import Subject

BATCH = 1000
"""Images per forward pass on the test set: 10k at once would cost the worker hundreds of MB."""


def test_images(subject: Subject) -> np.ndarray:
    """MNIST's 10,000 test images as float32 (10000, 784) in [0, 1], from the input set
    `mnist.TEST_IMAGES` (the check must declare it). Never the labels."""
    images = subject.inputs(mnist.TEST_IMAGES.name)["images"]
    return images.reshape(len(images), -1).astype(np.float32) / 255.0


def batched(fn: Callable[[Any], Any], x: Any, size: int = BATCH) -> list[Any]:
    return [fn(x[start:start + size]) for start in range(0, len(x), size)]
