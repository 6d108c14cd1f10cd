"""Inputs that the trusted parent hands to a check's student half: data the student may see.

The worker never reads the data root: held-out labels (MNIST's test labels, CIFAR-10's test
folders, SST-2's dev labels, MovieLens' test ratings) would be one `open()` away from a student's
model. Instead a check declares the input sets it needs; the parent loads each one with the
trusted loaders (numpy only), strips what the student may not see, and writes it once per grading
as an `.npz` into a folder of its own that the worker may read but not change. The student half
reads it with `subject.inputs(name)`; the judge compares against labels that never left the parent.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class InputSet:
    """A named set of arrays built from one data set by a trusted loader."""

    name: str
    dataset: str
    load: Callable[[Path], dict[str, np.ndarray]]
    """Given the data root, the arrays a student may see (no held-out labels)."""


def path_of(folder: Path, name: str) -> Path:
    return folder / f"{name}.npz"


def prepare(input_sets: Iterable[InputSet], data_root: Path, folder: Path) -> None:
    """Write each input set not yet in `folder` (parent side, trusted, before the check runs)."""
    folder.mkdir(mode=0o755, exist_ok=True)
    for input_set in input_sets:
        target = path_of(folder, input_set.name)
        if target.exists():
            continue
        arrays = input_set.load(data_root)
        partial = target.with_suffix(".partial.npz")
        np.savez(partial, **arrays)
        os.chmod(partial, 0o644)
        partial.rename(target)


def read(folder: Path, name: str) -> dict[str, np.ndarray]:
    """Worker side: the arrays of one input set, loaded without pickle."""
    with np.load(path_of(folder, name), allow_pickle=False) as data:
        return {key: data[key] for key in data.files}
