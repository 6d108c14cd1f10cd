"""Helpers shared by the checks of umn-csci5527-hw3 that read MNIST or load checkpoints.

Student halves import torch lazily: this module is also imported by the parent, which never
imports torch.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from autograder.data import mnist
from autograder.student import Subject, SubmissionError

BATCH = 1000
"""Images per forward pass on the test set: 10k at once would cost the worker hundreds of MB."""


def test_images(subject: Subject) -> np.ndarray:
    """MNIST's 10,000 test images as float32 (10000, 784) in [0, 1]. Never the labels."""
    images = mnist.load_images(subject.dataset(mnist.DATASET), "test")
    return images.reshape(len(images), -1).astype(np.float32) / 255.0


def load_checkpoint(subject: Subject, file: str, model: Any, factory: str) -> str | None:
    """Load `file` into `model` (built by the student's `factory`); None, or what went wrong.

    `weights_only=True` refuses pickled code: a checkpoint must be a plain state_dict.
    """
    import torch

    try:
        state = torch.load(subject.path(file), map_location="cpu", weights_only=True)
    except SubmissionError:
        raise
    except Exception as exc:  # noqa: BLE001 - any failure to read is the file's fault; say so
        return (f"{file} could not be loaded with torch.load(..., weights_only=True): {_first_line(exc)}. "
                f"Save it with torch.save(model.state_dict(), {file!r}).")
    if not isinstance(state, dict):
        return f"{file} holds a {type(state).__name__}, not a state_dict; save model.state_dict()."
    try:
        model.load_state_dict(state)
    except Exception as exc:  # noqa: BLE001 - key or shape mismatch: torch's message lists them
        return (f"{file} does not fit the model built by {factory}: {_first_line(exc, 600)} "
                f"Save the state_dict of the model that {factory} builds, and keep that function unchanged.")
    return None


def batched(fn: Callable[[Any], Any], x: Any, size: int = BATCH) -> list[Any]:
    return [fn(x[start:start + size]) for start in range(0, len(x), size)]


def _first_line(exc: BaseException, limit: int = 300) -> str:
    text = " ".join(str(exc).split())
    return text if len(text) <= limit else text[:limit] + " ..."
