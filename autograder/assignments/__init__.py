"""The assignments the autograder knows: one line each, the id and the package that declares it."""

from __future__ import annotations

import functools
import importlib
import importlib.util
from pathlib import Path

from autograder.model import Assignment

_PACKAGES = {
    "umn-csci5527-hw3": "autograder.assignments.umn_csci5527_hw3",
    "uw-cse446-hw4": "autograder.assignments.uw_cse446_hw4",
}


class UnknownAssignment(KeyError):
    def __str__(self) -> str:
        return f"Unknown assignment {self.args[0]!r}. Valid assignments are: {', '.join(assignment_ids())}."


def assignment_ids() -> list[str]:
    """The assignments installed here: a student's self-check bundle carries only its own."""
    return sorted(aid for aid, package in _PACKAGES.items() if importlib.util.find_spec(package) is not None)


@functools.cache
def load_assignment(assignment_id: str) -> Assignment:
    if assignment_id not in assignment_ids():
        raise UnknownAssignment(assignment_id)
    package = _PACKAGES[assignment_id]
    return importlib.import_module(package).ASSIGNMENT


HIDDEN_PREFIX = "hidden_"
"""Modules of an assignment package named `hidden_*.py` hold what only its hidden checks use (their
inputs, which can be their expected values): no student bundle ships them."""


def shipped_to_students(path: Path) -> bool:
    """Whether a file of an assignment package goes into a student's self-check bundle."""
    return not path.name.startswith(HIDDEN_PREFIX)


def package_dir(assignment_id: str) -> Path:
    """The folder of the package that declares the assignment's checks."""
    load_assignment(assignment_id)
    return Path(importlib.import_module(_PACKAGES[assignment_id]).__file__).parent
