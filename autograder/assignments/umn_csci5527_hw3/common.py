"""Helpers shared by the checks of umn-csci5527-hw3 that read MNIST or load checkpoints.

Student halves import torch lazily: this module is also imported by the parent, which never
imports torch.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterable, Iterator
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


@contextlib.contextmanager
def calls_seen(targets: Iterable[tuple[Any, str, Callable[..., None]]]) -> Iterator[None]:
    """While the block runs, every call of `owner.attr` first calls `seen` with the same arguments.

    The observation runs inside the student's process, which could patch it away: a check that
    relies on it says so (README, "What stays possible by design") and has a value check beside it.
    """
    patched: list[tuple[Any, str, Any]] = []
    try:
        for owner, attr, seen in targets:
            original = owner.__dict__[attr]
            patched.append((owner, attr, original))
            setattr(owner, attr, _seen_first(original, seen))
        yield
    finally:
        for owner, attr, original in reversed(patched):
            setattr(owner, attr, original)


def _seen_first(original: Callable[..., Any], seen: Callable[..., None]) -> Callable[..., Any]:
    @functools.wraps(original)
    def observed(*args, **kwargs):
        seen(*args, **kwargs)
        return original(*args, **kwargs)
    return observed
