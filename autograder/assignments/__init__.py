"""The assignments the autograder knows: one line each, the id and the package that declares it."""

from __future__ import annotations

import functools
import importlib
import importlib.util
from pathlib import Path

from autograder.config import PACKAGE_DIR, engine_files
from autograder.model import Assignment

_PACKAGES = {
    "fa24-dl-final": "autograder.assignments.fa24_dl_final",
    "fa24-dl-hw5": "autograder.assignments.fa24_dl_hw5",
    "fa24-dl-hw7": "autograder.assignments.fa24_dl_hw7",
    "umn-csci5527-hw3": "autograder.assignments.umn_csci5527_hw3",
    "uw-cse446-hw4": "autograder.assignments.uw_cse446_hw4",
    "ualberta-hw4": "autograder.assignments.ualberta_hw4",
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


INSTRUCTOR_TOOLS = ("batch.py", "bundle.py", "gradescope.py", "container.py", "trial.py")
"""Engine modules a student's self-check never uses (the CLI imports them only in their commands)."""


def shipped_to_students(path: Path) -> bool:
    """Whether a file of an assignment package goes into a student's self-check bundle."""
    return not path.name.startswith(HIDDEN_PREFIX)


def student_engine_files(assignment_id: str) -> list[Path]:
    """The engine's files, relative to its package, that a student's bundle of the assignment holds:
    no instructor tools, no other assignment, nothing only hidden checks use. Also what the bundle's
    cache key covers, so that the bundle computes the same key from what it holds."""
    own = package_dir(assignment_id).relative_to(PACKAGE_DIR)
    return [name for name in engine_files()  # never PACKAGE_DIR whole: installed, it holds every reference
            if str(name) not in INSTRUCTOR_TOOLS and shipped_to_students(name)
            and not (name.parts[0] == "assignments" and len(name.parts) > 2 and name.parents[-3] != own)]


def package_dir(assignment_id: str) -> Path:
    """The folder of the package that declares the assignment's checks."""
    load_assignment(assignment_id)
    return Path(importlib.import_module(_PACKAGES[assignment_id]).__file__).parent
