"""The library versions that expected values depend on: recorded where they are computed, installed
exactly where they are graded, and compared before grading."""

from __future__ import annotations

import importlib.metadata
import json
from pathlib import Path

PINNED = ("torch", "torchvision", "numpy")
"""Distributions whose version can change a computed value (torchvision: A3's AlexNet)."""


def installed() -> dict[str, str | None]:
    """{distribution: version} of this environment; None where it is not installed."""
    found: dict[str, str | None] = {}
    for dist in PINNED:
        try:
            found[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            found[dist] = None
    return found


RECORD = "versions.json"
"""Written by `gradescope build` into the cache folder of the assignment (`cache/<assignment>/`):
the versions its expected values were computed with, which the container's `setup.sh` installs."""


def public(version: str | None) -> str | None:
    """The public part of a version (PEP 440): `2.13.0+cpu` and `2.13.0+cu121` are both `2.13.0`,
    the same release built for other hardware, computing the same values on a CPU."""
    return version.split("+", 1)[0] if version else version


def record(folder: Path) -> Path:
    """Write this environment's versions into `folder`; return the file."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / RECORD
    path.write_text(json.dumps(installed(), indent=2) + "\n")
    return path


def recorded(folder: Path) -> dict[str, str | None] | None:
    """The versions recorded in `folder`, or None where nothing (readable) is recorded."""
    try:
        found = json.loads((folder / RECORD).read_text())
    except (OSError, ValueError):
        return None
    return {str(k): (str(v) if v else None) for k, v in found.items()} if isinstance(found, dict) else None


def mismatch(folder: Path | str) -> str | None:
    """A message for the instructor when the versions recorded in `folder` differ from this
    environment's (public versions compared), or None where they agree or none are recorded."""
    expected = recorded(Path(folder))
    if expected is None:
        return None
    here = installed()
    differ = [d for d in expected if public(expected[d]) != public(here.get(d))]
    if not differ:
        return None
    said = ", ".join(f"{d} {_said(expected[d])} (here {_said(here.get(d))})" for d in differ)
    return (f"The expected values were computed with {said}. Scores near a threshold may differ from the "
            f"reference's: install exactly those versions (the Gradescope zip's setup.sh does), or rebuild the "
            f"zip on a machine with the versions you grade with.")


def _said(version: str | None) -> str:
    return public(version) or "not installed"
