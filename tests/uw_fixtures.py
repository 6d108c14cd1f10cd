"""Fixtures shared by the uw-cse446-hw4 tests: a synthetic data root (MovieLens, SST-2, GloVe in
their real formats), the real one when present, and grading of in-memory submissions on either.
Imported by test_uw_a1.py, test_uw_a5.py and test_uw_b1.py."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest
from conftest import text_of  # noqa: F401 - shared helper, imported from here by tests

from autograder.assignments import load_assignment
from autograder.config import REPO_ROOT, GradingConfig
from autograder.data import glove, movielens, sst2
from autograder.results import Grade
from autograder.runner import grade

HW4 = "uw-cse446-hw4"
REAL_DATASETS = ("ml-100k", "sst2", "glove-6B-50d-10k")


def reference(file: str) -> str:
    return (REPO_ROOT / "reference" / HW4 / file).read_text()


def template(file: str) -> str:
    return (REPO_ROOT / "student_template" / HW4 / file).read_text()


def real_data_root(*datasets: str) -> Path:
    root = Path(os.environ.get("AUTOGRADER_DATA_ROOT") or REPO_ROOT.parent / "shared" / "data")
    for name in datasets:
        if not (root / name).is_dir():
            pytest.skip(f"real data set {name} not found under {root} (set AUTOGRADER_DATA_ROOT)")
    return root


def write_synthetic_root(root: Path) -> Path:
    movielens.write_fake_ratings(root)
    sst2.write_fake_sst2(root)
    words = sorted({w for w in sst2.POSITIVE + sst2.NEGATIVE + sst2.NEUTRAL} - {"zzyzx"})
    glove.write_fake_glove(root, words)
    for path in (root, *root.rglob("*")):  # readable by the worker's unprivileged user
        path.chmod(0o755 if path.is_dir() else 0o644)
    return root


@pytest.fixture(scope="session")
def synthetic_root():
    root = write_synthetic_root(Path(tempfile.mkdtemp(prefix="hw4-data-")))
    yield root
    shutil.rmtree(root)


@pytest.fixture(scope="session")
def grade_hw4(make_config, tmp_path_factory, synthetic_root):
    """Grade {file name: source text} on the synthetic data root, or on the real one (`real=True`).

    Each data root has its own expected-value cache: values computed on one must never be
    reused for the other.
    """
    synthetic_cache = tmp_path_factory.mktemp("hw4-synthetic-cache")

    def run(files: dict[str, str], real: bool = False) -> Grade:
        folder = tmp_path_factory.mktemp("submission")
        for name, text in files.items():
            (folder / name).write_text(text)
        assignment = load_assignment(HW4)
        # Only the problems whose files are given: the others would only cost time.
        problems = tuple(p.id for p in assignment.problems if set(p.files) & set(files))
        config = (make_config(data_root=real_data_root(*REAL_DATASETS), problems=problems) if real
                  else GradingConfig(cache_dir=synthetic_cache, data_root=synthetic_root, problems=problems))
        return grade(folder, assignment, config)

    return run


def checks_of(g: Grade, problem: str):
    return [c for c in g.checks if c.problem == problem]


def lost_in(g: Grade, problem: str) -> set[str]:
    return {c.id for c in checks_of(g, problem) if c.score < c.max_score}


