"""The library versions that expected values depend on: recorded where they are computed, installed
exactly where they are graded, and compared before grading."""

from __future__ import annotations

import importlib.metadata

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
