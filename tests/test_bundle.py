"""The students' self-check bundle runs the visible checks with no reference code in it."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile

import pytest

from autograder.assignments import load_assignment
from autograder.bundle import build_bundle, shippable
from conftest import HW3, reference_text


@pytest.fixture(scope="module")
def bundle(make_config, tmp_path_factory):
    out = tmp_path_factory.mktemp("bundle")
    archive = build_bundle(load_assignment(HW3), out / "self-check.zip", make_config())
    shutil.unpack_archive(archive, out / "unpacked")
    return archive, out / "unpacked"


def test_bundle_ships_no_reference_and_no_hidden_values(bundle):
    archive, _ = bundle
    names = zipfile.ZipFile(archive).namelist()
    assert not [n for n in names if n.startswith("reference/")]
    shipped = {n.split("/")[3] for n in names if n.startswith("cache/") and n.endswith("manifest.json")}
    assert shipped == {c.id for c in shippable(load_assignment(HW3))}
    assert "p1.backward.other_seeds" not in shipped and "p1.backward.handout_seed" in shipped
    assert "homework/hw3_p1.py" in names and "README.md" in names


def _check(root, *args):
    return subprocess.run([sys.executable, "-m", "autograder.cli", "check", "-a", HW3, "-p", "p1", *args],
                          cwd=root / "homework", capture_output=True, text=True,
                          env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(root), "HOME": str(root)})


def test_self_check_passes_a_correct_solution_without_the_reference(bundle):
    _, root = bundle
    (root / "homework" / "hw3_p1.py").write_text(reference_text(HW3, "hw3_p1.py"))
    done = _check(root)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "3 / 3 points (5 of 5 checks passed" in done.stdout


def test_self_check_of_the_template_says_not_implemented(bundle):
    _, root = bundle
    (root / "homework" / "hw3_p1.py").write_text(_template())
    done = _check(root)
    assert done.returncode == 1
    assert "`backward` in hw3_p1.py is not implemented yet" in done.stdout


def _template() -> str:
    from autograder.config import REPO_ROOT

    return (REPO_ROOT / "student_template" / HW3 / "hw3_p1.py").read_text()
