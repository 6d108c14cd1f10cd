"""Fixtures for the A2 and A6 tests of uw-cse446-hw4: grade one problem of an in-memory
submission on a synthetic data root (the fake files of autograder.data.agnews and
autograder.data.mnist, in the real layouts) or on the real one, each with its own expected-value
cache."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest
from conftest import by_id, lost, text_of  # noqa: F401 - shared helpers, imported from here by tests
from uw_fixtures import HW4, real_data_root, reference, template  # noqa: F401 - shared helpers

from autograder.assignments import load_assignment
from autograder.config import GradingConfig
from autograder.data import agnews, mnist
from autograder.results import Grade
from autograder.runner import grade


@pytest.fixture(scope="session")
def fake_root():
    root = Path(tempfile.mkdtemp(prefix="hw4-a6-data-"))
    agnews.write_fake_agnews(root)
    mnist.write_fake_mnist(root)
    for path in (root, *root.rglob("*")):  # readable by the worker's unprivileged user
        path.chmod(0o755 if path.is_dir() else 0o644)
    yield root
    shutil.rmtree(root)


@pytest.fixture(scope="session")
def grade_problem(tmp_path_factory, fake_root):
    """grade_problem(problem, {file: text}, real=False, artifacts={name: path}) -> Grade of that problem only."""
    caches = {False: tmp_path_factory.mktemp("a6-fake-cache"), True: tmp_path_factory.mktemp("a6-real-cache")}

    def run(problem: str, files: dict[str, str], real: bool = False, datasets: tuple[str, ...] = (),
            artifacts: dict[str, Path] | None = None) -> Grade:
        folder = tmp_path_factory.mktemp("submission")
        for name, text in files.items():
            (folder / name).write_text(text)
        for name, path in (artifacts or {}).items():
            shutil.copy(path, folder / name)
        root = real_data_root(*datasets) if real else fake_root
        config = GradingConfig(cache_dir=caches[real], data_root=root, problems=(problem,))
        return grade(folder, load_assignment(HW4), config)

    return run


