"""Fixtures shared by the P2 and P3 tests of umn-csci5527-hw3: submissions with checkpoints, graded
on a small synthetic MNIST or on the real one. Imported by those test modules."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest
from conftest import HW3

from autograder.assignments import load_assignment
from autograder.config import REPO_ROOT, GradingConfig
from autograder.data import mnist
from autograder.runner import grade


def real_data_root() -> Path:
    root = Path(os.environ.get("AUTOGRADER_DATA_ROOT") or REPO_ROOT.parent / "shared" / "data")
    if not (root / mnist.DATASET).is_dir():
        pytest.skip(f"real MNIST not found under {root / mnist.DATASET} (set AUTOGRADER_DATA_ROOT)")
    return root


@pytest.fixture
def real_root() -> Path:
    """The data root holding the real MNIST; the test is skipped, saying where it looked, without it."""
    return real_data_root()


@pytest.fixture(scope="module")
def synthetic_root():
    """A small fake MNIST that the worker's unprivileged user can read (pytest's tmp is root's alone)."""
    root = Path(tempfile.mkdtemp(prefix="hw3-mnist-"))
    mnist.write_fake_mnist(root, n_train=50, n_test=40)
    for path in (root, *root.rglob("*")):
        path.chmod(0o755 if path.is_dir() else 0o644)
    yield root
    shutil.rmtree(root)


@pytest.fixture(scope="module")
def grade_hw3(make_config, tmp_path_factory, synthetic_root):
    """Grade {file name: source text, bytes, or a path to copy} on the synthetic MNIST, or the real one.

    The synthetic gradings keep their own expected-value cache: expected values computed from
    one data root must never be reused for another.
    """
    synthetic_cache = tmp_path_factory.mktemp("synthetic-cache")

    def run(files: dict, real: bool = False):
        folder = tmp_path_factory.mktemp("submission")
        for name, content in files.items():
            if isinstance(content, str):
                (folder / name).write_text(content)
            elif isinstance(content, bytes):
                (folder / name).write_bytes(content)
            else:
                shutil.copyfile(content, folder / name)
        config = (make_config(data_root=real_data_root()) if real
                  else GradingConfig(cache_dir=synthetic_cache, data_root=synthetic_root))
        return grade(folder, load_assignment(HW3), config)

    return run
