"""The wheel on its own: built from this checkout, installed with torch into a fresh virtual
environment and run from an empty folder, the engine finds its reports, references and templates as
package data (`autograder/_content/`), not in a checkout."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import pytest

from autograder.assignments import assignment_ids
from autograder.config import CONTENT, REPO_ROOT, engine_files
from conftest import HW3, needs_isolation

pytestmark = pytest.mark.slow

TORCH = "torch==2.13.0"
"""The README's pin (on this project's machines, the local CPU wheel)."""

_NOT_SOURCE = shutil.ignore_patterns(".git", "build", "dist", "*.egg-info", "__pycache__", "*.pyc", ".pytest_cache",
                                     ".hypothesis", "autograder-results", ".venv", "cache")
"""What .gitignore ignores: a checkout's copy without it is what a clean clone holds."""


def _run(args: list, timeout: float, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=timeout, **kwargs)


def _succeeds(args: list, timeout: float, **kwargs) -> subprocess.CompletedProcess:
    done = _run(args, timeout, **kwargs)
    assert done.returncode == 0, f"{args}: exit {done.returncode}\n{done.stdout}\n{done.stderr}"
    return done


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """Built from a copy of the checkout: an in-tree build writes build/ into the checkout, and
    setuptools reuses a stale build/lib/, which can carry files deleted since into the wheel."""
    source = tmp_path_factory.mktemp("wheel-source") / "dl-autograder"
    shutil.copytree(REPO_ROOT, source, ignore=_NOT_SOURCE)
    out = tmp_path_factory.mktemp("wheel")
    _succeeds([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", out, source], timeout=300)
    (built,) = out.glob("*.whl")
    return built


@pytest.fixture(scope="module")
def venv(wheel) -> Path:
    """A fresh environment (no system site-packages) holding the wheel and torch. Not under pytest's
    tmp_path, which is closed to other users: as root, graded code runs as an unprivileged user, which
    must reach the environment's python and packages (isolation.identity_unavailable)."""
    root = Path(tempfile.mkdtemp(prefix="test-wheel-venv-"))  # not autograder-*, where the attack tests hunt
    try:
        root.chmod(0o755)
        _succeeds([sys.executable, "-m", "venv", root], timeout=120)
        _succeeds([root / "bin" / "python", "-m", "pip", "install", "-q", wheel, TORCH], timeout=600)
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def elsewhere(tmp_path_factory, venv) -> tuple[Path, dict[str, str]]:
    """An empty folder away from the checkout, and an environment that reaches no checkout either:
    no PYTHONPATH, no data root, a cache of its own."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "AUTOGRADER_", "VIRTUAL_ENV"))}
    env.update(AUTOGRADER_CACHE=str(tmp_path_factory.mktemp("wheel-cache")),
               PATH=f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '/usr/bin:/bin')}")
    return tmp_path_factory.mktemp("elsewhere"), env


def _autograder(venv: Path, elsewhere, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    folder, env = elsewhere
    return _run([venv / "bin" / "autograder", *args], timeout, cwd=folder, env=env)


@pytest.fixture(scope="module")
def demo(venv, elsewhere) -> subprocess.CompletedProcess:
    return _autograder(venv, elsewhere, "demo")


def _checkout_files(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*")
            if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"}


def test_wheel_holds_every_engine_file_and_the_content_folders_and_no_bytecode(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    engine = {n for n in names if n.startswith("autograder/") and not n.startswith("autograder/_content/")}
    assert engine == {f"autograder/{p.as_posix()}" for p in engine_files()}
    assert "autograder/assignments/uw_cse446_hw4/starter/util.py" in engine  # a folder without __init__.py
    content = {n for n in names if n.startswith("autograder/_content/")}
    assert content == {f"autograder/_content/{name}/{f}" for name in CONTENT for f in _checkout_files(REPO_ROOT / name)}
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]


def test_the_engine_is_the_environments_own_with_its_content(venv, elsewhere):
    folder, env = elsewhere
    done = _succeeds([venv / "bin" / "python", "-c", "import autograder, autograder.config as c; "
                      "print(autograder.__file__); print(c.content_dir('reference'))"], timeout=60, cwd=folder, env=env)
    engine, reference = map(Path, done.stdout.split())
    site_packages = venv / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}" / "site-packages"
    assert engine == site_packages / "autograder" / "__init__.py"
    assert reference == site_packages / "autograder" / "_content" / "reference"


def test_demo_scores_every_reference_full_and_every_template_zero(demo, elsewhere):
    assert demo.returncode == 0, demo.stdout + demo.stderr
    folder, _ = elsewhere
    for aid in assignment_ids():
        reference = re.search(rf"^{re.escape(aid)} +reference +(\S+) / (\S+) +ok ", demo.stdout, re.M)
        template = re.search(rf"^{re.escape(aid)} +student_template +0 / \S+ +ok ", demo.stdout, re.M)
        assert reference and reference[1] == reference[2] and float(reference[1]) > 0, demo.stdout
        assert template, demo.stdout
        for kind in ("reference", "student_template"):
            assert (folder / "autograder-results" / aid / kind / "report.html").is_file()


@needs_isolation
def test_demo_grades_as_the_unprivileged_user(demo, elsewhere):
    folder, _ = elsewhere
    for summary in (folder / "autograder-results").glob("*/*/summary.json"):
        user = next(p for p in json.loads(summary.read_text())["protections"] if p["name"] == "unprivileged user")
        assert user["active"], f"{summary}: {user['detail']}"


def test_list_names_every_assignment(venv, elsewhere):
    done = _autograder(venv, elsewhere, "list", timeout=60)
    assert done.returncode == 0, done.stderr
    assert [line.split()[0] for line in done.stdout.splitlines() if not line.startswith(" ")] == assignment_ids()


def test_student_bundle_ships_no_reference_and_checks_the_template(venv, elsewhere, tmp_path):
    folder, env = elsewhere
    done = _autograder(venv, elsewhere, "student-bundle", "-a", HW3, "-o", "self-check.zip")
    assert done.returncode == 0, done.stdout + done.stderr
    names = zipfile.ZipFile(folder / "self-check.zip").namelist()
    assert "engine/autograder/cli.py" in names and "self_check.py" in names and "homework/hw3_p1.py" in names
    assert "engine/autograder/_content/reports/templates/report.html.j2" in names
    assert not [n for n in names if "reference" in n.split("/")[:3] or n.endswith(".pyc")]
    assert not [n for n in names if "_content/" in n and "_content/reports/" not in n]
    shutil.unpack_archive(folder / "self-check.zip", tmp_path)
    # As a student runs it: the bundle's own engine (first on the path) and its shipped cache/, with
    # the environment's packages.
    check = _run([venv / "bin" / "python", tmp_path / "self_check.py", "-p", "p1"], timeout=300, cwd=tmp_path,
                 env=env)
    assert check.returncode == 1, check.stdout + check.stderr
    assert "`backward` in hw3_p1.py is not implemented yet" in check.stdout
