"""Shared fixtures: a private expected-value cache, and grading of small in-memory submissions."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from autograder.assignments import load_assignment
from autograder.config import REPO_ROOT, GradingConfig
from autograder.isolation import identity_unavailable
from autograder.results import Grade
from autograder.runner import grade

HW3 = "umn-csci5527-hw3"


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory) -> Path:
    """One cache for the whole run: expected values are computed once, as in real use."""
    return tmp_path_factory.mktemp("expected-cache")


@pytest.fixture(scope="session")
def make_config(cache_dir) -> Callable[..., GradingConfig]:
    def make(**overrides) -> GradingConfig:
        return GradingConfig(cache_dir=cache_dir, **overrides)
    return make


def reference_text(assignment: str, file: str) -> str:
    return (REPO_ROOT / "reference" / assignment / file).read_text()


def mutate(text: str, old: str, new: str) -> str:
    """The reference with one deliberate fault; fails loudly if the reference changed under it."""
    assert text.count(old) == 1, f"expected exactly one {old!r} in the reference"
    return text.replace(old, new)


@pytest.fixture(scope="session")
def grade_files(make_config, tmp_path_factory) -> Callable[..., Grade]:
    """Grade a submission given as {file name: source text}."""

    def run(files: dict[str, str], assignment: str = HW3, **overrides) -> Grade:
        folder = tmp_path_factory.mktemp("submission")
        for name, text in files.items():
            (folder / name).write_text(text)
        return grade(folder, load_assignment(assignment), make_config(**overrides))

    return run


@pytest.fixture(scope="session")
def grade_p1(grade_files) -> Callable[..., Grade]:
    """`grade_files` for problem P1 of umn-csci5527-hw3 alone: the engine's tests use P1."""
    return functools.partial(grade_files, problems=("p1",))


@pytest.fixture(scope="session")
def p1_config(make_config) -> Callable[..., GradingConfig]:
    return functools.partial(make_config, problems=("p1",))


def outcomes(g: Grade) -> dict[str, str]:
    return {c.id: c.outcome.value for c in g.checks}


def lost(g: Grade) -> set[str]:
    """Ids of the checks that did not earn full points."""
    return {c.id for c in g.checks if c.score < c.max_score}


def text_of(check) -> str:
    """Everything a student reads about a check, in one string."""
    f = check.feedback
    return " ".join([f.summary, *f.details, f.hint or ""])


def by_id(g: Grade, check_id: str):
    return next(c for c in g.checks if c.id == check_id)



needs_isolation = pytest.mark.skipif(identity_unavailable() is not None,
                                     reason=f"the unprivileged sandbox is unavailable: {identity_unavailable()}")


def grading_uid(g: Grade) -> int:
    """The user id this grading's student code ran as (from its report)."""
    user = next(p for p in g.protections if p.name == "unprivileged user")
    return int(re.search(r"uid (\d+)", user.detail).group(1))
