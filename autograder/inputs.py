"""Inputs that the trusted parent hands to a check's student half: data the student may see.

The worker never reads the data root: held-out labels (MNIST's test labels, CIFAR-10's test
folders, SST-2's dev labels, MovieLens' test ratings) would be one `open()` away from a student's
model. Instead a check declares the input sets it needs; the parent loads each one with the
trusted loaders (numpy only), strips what the student may not see, and writes it once per grading
into a folder of its own that the worker may read but not change. The student half reads it with
`subject.inputs(name)`; the judge compares against labels that never left the parent.

An input set holds arrays (written as one `.npz`, read without pickle) and, where the parent cannot
load a file without torch, whole files that hold nothing held out (pretrained weights, word vectors),
verified by the parent and handed over as they are: hard-linked where the file is readable by
anyone already (free, whatever its size), copied otherwise. Text travels as UTF-8 bytes
(`pack_texts`): a numpy unicode array pads every string to the longest, four bytes a character.
"""

from __future__ import annotations

import hashlib
import inspect
import os
import re
import shutil
import stat
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

Value = np.ndarray | Path
"""An array, or the path of a verified file under the data root to hand over whole."""

ARRAYS = "arrays.npz"
_FILE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")
"""Names of handed-over files: plain words, so that none is ARRAYS and none leaves its folder."""


@dataclass(frozen=True)
class InputSet:
    """A named set of arrays (and whole public files) built from one data set by a trusted loader."""

    name: str
    dataset: str
    load: Callable[[Path], dict[str, Value]]
    """Given the data root, what a student may see (no held-out labels)."""


def prepare(input_sets: Iterable[InputSet], data_root: Path, folder: Path, cache: Path | None = None) -> None:
    """Put each input set not yet in `folder` there (parent side, trusted, before the check runs).

    With a `cache` (root's own, like the expected values), each set is built once per content of
    its data set and of the code that builds it, then linked (or copied) into `folder`: decoding
    CIFAR-10's JPEGs again for every student would cost seconds each time."""
    folder.mkdir(mode=0o755, exist_ok=True)
    for input_set in input_sets:
        target = folder / input_set.name
        if target.is_dir():
            continue
        if cache is None:
            _build(input_set, data_root, folder)
            continue
        built = cache / f"{input_set.name}-{_key(input_set, data_root)}"
        if not built.is_dir():
            cache.mkdir(parents=True, exist_ok=True)
            _build(input_set, data_root, cache, built.name)
        target.mkdir(mode=0o755)
        for path in built.iterdir():
            hand_over(path, target / path.name)


def _build(input_set: InputSet, data_root: Path, folder: Path, name: str | None = None) -> None:
    partial = folder / f"{name or input_set.name}.partial-{os.getpid()}"
    shutil.rmtree(partial, ignore_errors=True)  # left by a load that failed earlier
    partial.mkdir()
    os.chmod(partial, 0o755)
    write(input_set.load(data_root), partial, input_set.name)
    try:
        partial.rename(folder / (name or input_set.name))
    except OSError:  # built meanwhile by a concurrent grading: theirs is the same
        shutil.rmtree(partial, ignore_errors=True)


def _key(input_set: InputSet, data_root: Path) -> str:
    """What the set's content depends on: its data files (names, sizes, times) and the code that
    loads them (the loader's module, the data loaders, this module)."""
    digest = hashlib.sha256(input_set.name.encode())
    base = data_root / input_set.dataset
    for path in sorted(base.rglob("*")) if base.is_dir() else ():
        if path.is_file():
            info = path.stat()
            digest.update(f"{path.relative_to(base)}\0{info.st_size}\0{info.st_mtime_ns}\0".encode())
    code = {Path(inspect.getsourcefile(input_set.load) or __file__), Path(__file__),
            *Path(__file__).with_name("data").glob("*.py")}
    for path in sorted(code):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def write(values: dict[str, Value], folder: Path, name: str) -> None:
    arrays = {key: value for key, value in values.items() if isinstance(value, np.ndarray)}
    files = {key: value for key, value in values.items() if key not in arrays}
    for key, value in values.items():  # the worker reads without pickle: fail here, as the grader's fault
        if key in arrays and value.dtype.hasobject:
            raise TypeError(f"input set {name!r}: {key!r} is an object array; use numeric or unicode dtypes")
        if key in files and not (isinstance(value, Path) and _FILE_KEY.match(key)):
            raise TypeError(f"input set {name!r}: {key!r} must be an array, or a Path under a plain name")
    np.savez(folder / ARRAYS, **arrays)
    os.chmod(folder / ARRAYS, 0o644)
    for key, source in files.items():
        hand_over(source, folder / key)


def hand_over(source: Path, target: Path) -> None:
    """`source` at `target`, readable by the worker and writable by no one but root: a hard link when
    the file is readable by others and writable by its owner alone (the link shares its inode, so
    its mode), a copy otherwise (a data root closed file by file, or another file system)."""
    mode = source.stat().st_mode
    if mode & stat.S_IROTH and not mode & (stat.S_IWGRP | stat.S_IWOTH):
        try:
            os.link(source, target)
            return
        except OSError:
            pass
    shutil.copyfile(source, target)
    os.chmod(target, 0o644)


def read(folder: Path, name: str) -> dict[str, Value]:
    """Worker side: the arrays of one input set, loaded without pickle, and the paths of its files."""
    where = folder / name
    with np.load(where / ARRAYS, allow_pickle=False) as data:
        values: dict[str, Value] = {key: data[key] for key in data.files}
    values.update({path.name: path for path in sorted(where.iterdir()) if path.name != ARRAYS})
    return values


def pack_texts(name: str, texts: list[str]) -> dict[str, np.ndarray]:
    """Strings as `<name> bytes`, their UTF-8 bytes end to end (uint8), and `<name> ends`, where each
    one ends (int64)."""
    encoded = [text.encode("utf-8") for text in texts]
    return {f"{name} bytes": np.frombuffer(b"".join(encoded), dtype=np.uint8),
            f"{name} ends": np.cumsum([len(e) for e in encoded], dtype=np.int64)}


def unpack_texts(values: dict[str, Value], name: str) -> list[str]:
    """The strings that `pack_texts(name, ...)` packed into `values`."""
    data, ends = bytes(values[f"{name} bytes"]), values[f"{name} ends"].tolist()
    return [data[start:end].decode("utf-8") for start, end in zip([0, *ends[:-1]], ends)]
