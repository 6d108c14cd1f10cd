"""The marker that tells a loader a data folder holds synthetic test data, not the real files.

Tests write small files in the real formats under a temporary data root. Their checksums cannot
match the pinned ones, so the writers leave this marker beside them, and the loaders skip the
checksum of a folder that carries it (and only of such a folder): a real folder whose file was
edited or truncated still fails with a clear DataError.
"""

from __future__ import annotations

from pathlib import Path

MARKER = "SYNTHETIC.md"
_TEXT = "Synthetic test data written by the autograder's tests; not the real data set.\n"


def mark(folder: Path) -> None:
    (folder / MARKER).write_text(_TEXT)


def is_synthetic(folder: Path) -> bool:
    return (folder / MARKER).is_file()
