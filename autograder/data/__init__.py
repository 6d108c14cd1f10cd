"""Loaders of the real data sets, read from a data root; never downloaded while grading.

Each data set is described by a manifest of (file name, sha256) in its own module, and loaded in
the same order every time: locate, verify, load. A missing or corrupt file raises `DataError`,
whose message names the file and says what to do.
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path


class DataError(Exception):
    """A data file is missing or does not match its checksum."""


FOLDERS = {"glove": ("glove", "glove-6B-50d", "glove-6B-50d-10k")}
"""Data sets that courses keep under one of several folder names (in the order looked for; GloVe's
are those of `glove.LOCATIONS`). Every other data set is the folder of its own name."""


def dataset_folder(root: Path | None, name: str) -> Path | None:
    """The folder of the data set `name` under `root`, or None where it is absent: what a check's
    `data` declares, what `gradescope build` copies, what keys its cached values."""
    if root is None:
        return None
    return next((Path(root) / f for f in FOLDERS.get(name, (name,)) if (Path(root) / f).is_dir()), None)


@functools.lru_cache(maxsize=64)
def _sha256(path: Path, size: int, mtime: float) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def sha256(path: Path) -> str:
    """The file's sha256, computed once per process for an unchanged file."""
    stat = path.stat()
    return _sha256(path, stat.st_size, stat.st_mtime)


def locate(root: Path | None, dataset: str, file: str) -> Path:
    """`root/dataset/file`, or a DataError that names what is missing and how to point at it."""
    if root is None:
        raise DataError(f"no data root is set; pass --data-root or set AUTOGRADER_DATA_ROOT to the folder "
                        f"that holds {dataset}/{file}")
    path = Path(root) / dataset / file
    if not path.is_file():
        raise DataError(f"{path} is missing: the data set {dataset!r} needs {file} in {Path(root) / dataset}")
    return path


def verify(path: Path, expected_sha256: str | None) -> Path:
    """`path` itself when its checksum matches (or none is pinned), else a DataError."""
    if expected_sha256 is not None and sha256(path) != expected_sha256:
        raise DataError(f"{path} is corrupt or a different version: its sha256 is {sha256(path)}, "
                        f"expected {expected_sha256}")
    return path
