"""The students' self-check bundle: nothing in it to copy, and it runs the visible checks, listing
the rest as running at submission, from any environment, beside other assignments' bundles."""

from __future__ import annotations

import ast
import base64
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from autograder import versions
from autograder.assignments import assignment_ids, load_assignment
from autograder.bundle import build_bundle, shippable
from autograder.config import REPO_ROOT
from autograder.expected import ExpectedValues, missing_data
from autograder.isolation import acquire_identity
from autograder.model import Visibility
from conftest import HW3, needs_isolation, reference_text

HW4 = "uw-cse446-hw4"


@pytest.fixture(scope="module")
def bundles(make_config, tmp_path_factory) -> dict[str, tuple[Path, Path]]:
    """Each assignment's bundle: {id: (the zip, where it is unpacked)}."""
    built = {}
    for aid in assignment_ids():
        out = tmp_path_factory.mktemp(f"bundle-{aid}")
        archive = build_bundle(load_assignment(aid), out / "self-check.zip", make_config())
        shutil.unpack_archive(archive, out / "unpacked")
        built[aid] = archive, out / "unpacked"
    return built


def _files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()]


@pytest.mark.parametrize("aid", assignment_ids())
def test_bundle_holds_the_homework_the_self_check_and_only_this_assignments_engine(bundles, aid):
    archive, _ = bundles[aid]
    names = set(zipfile.ZipFile(archive).namelist())
    assert {"README.md", "requirements.txt", "self_check.py", "engine/autograder/cli.py",
            "engine/autograder/_content/reports/templates/report.html.j2"} <= names
    assert {f"homework/{f}" for p in load_assignment(aid).problems for f in p.files if f.endswith(".py")} <= names
    others = [other.replace("-", "_") for other in assignment_ids() if other != aid]
    leaks = [n for n in names if n.startswith("reference/") or "__pycache__" in n or any(o in n for o in others)
             or n.endswith(("/gradescope.py", "/batch.py", "/bundle.py")) and "writers" not in n
             or "templates/gradescope/" in n or "templates/bundle/" in n]
    assert leaks == []


@pytest.mark.parametrize("aid", assignment_ids())
def test_bundle_ships_expected_values_of_the_visible_checks_without_data_and_nothing_else(bundles, aid):
    archive, root = bundles[aid]
    shipped = {p.parent.name for p in (root / "engine" / "cache").rglob("manifest.json")}
    assert shipped == {c.id for c in shippable(load_assignment(aid)) if c.needs_expected}
    assert all(load_assignment(aid).check(c).visibility is Visibility.visible for c in shipped)


ECHOED_INPUTS = {("a5.collate_fn.random_batches", ("labels", "labels_after"))}
"""Hidden outputs that only hand back an input the shipped module builds (collate_fn returns the
batch's own labels, in order): the same arrays are, rightly, among the visible checks' values."""


WITH_SECRETS = [aid for aid in assignment_ids()
                if any(c.visibility is not Visibility.visible for c in load_assignment(aid).checks)]
"""Assignments with a check students do not see; one whose checks are all visible has nothing to hide."""


@pytest.mark.parametrize("aid", WITH_SECRETS)
def test_bundle_has_no_hidden_or_after_due_date_expected_value(bundles, aid, make_config):
    """Every array of more than three numbers, every precise float and every sentence among the
    values of the checks students do not see is searched for, as bytes, in every file of the bundle."""
    _, root = bundles[aid]
    assignment, config = load_assignment(aid), make_config()
    secret = [c for c in assignment.checks if c.visibility is not Visibility.visible and c.static is None
              and not missing_data(c, config)]
    needles = []
    for check_id, values in ExpectedValues(assignment, config).get(secret).items():
        assert isinstance(values, dict), f"the reference failed {check_id}"
        needles += [(check_id, name, n) for name, value in values.items() for n in _needles(value)
                    if not any(check_id == cid and json.loads(name)[-1] in fields for cid, fields in ECHOED_INPUTS)]
    assert needles, "nothing to search for: the test would prove nothing"
    haystack = {p: p.read_bytes() + b"\0" + _decoded_strings(p) for p in _files(root)}
    found = [(cid, name, str(path.relative_to(root))) for cid, name, needle in needles
             for path, text in haystack.items() if needle in text]
    assert found == []


def _decoded_strings(path: Path) -> bytes:
    """Every long base64 string constant of a Python file, decoded: arrays stored as data
    (autograder/fixtures.py) are searched as the bytes they stand for."""
    if path.suffix != ".py":
        return b""
    decoded = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and len(node.value) >= 64:
            try:
                decoded.append(base64.b64decode(node.value, validate=True))
            except ValueError:
                continue
    return b"\0".join(decoded)


def _needles(value) -> list[bytes]:
    if isinstance(value, np.ndarray) and value.size > 3 and np.unique(value).size > 1:
        return [np.ascontiguousarray(value).tobytes()]
    if isinstance(value, float) and len(repr(value)) >= 8:
        return [repr(value).encode()]
    if isinstance(value, str) and len(value) >= 20:
        return [value.encode(), json.dumps(value).encode()]
    if isinstance(value, (list, tuple)):
        return [n for v in value for n in _needles(v)]
    if isinstance(value, dict):
        return [n for v in value.values() for n in _needles(v)]
    return []


def test_requirements_pin_the_torch_of_the_expected_values(bundles):
    _, root = bundles[HW3]
    torch = versions.public(versions.installed()["torch"])
    lines = (root / "requirements.txt").read_text().splitlines()
    assert f"torch=={torch}" in lines and not [x for x in lines if x.startswith("torch") and x != f"torch=={torch}"]
    assert f'"torch=={torch}" --index-url https://download.pytorch.org/whl/cpu' in (root / "README.md").read_text()


def test_readme_counts_what_the_self_check_runs_and_what_runs_at_submission(bundles):
    _, root = bundles[HW4]
    readme = (root / "README.md").read_text()
    assignment = load_assignment(HW4)
    hidden = [c for c in assignment.checks if c.visibility is not Visibility.visible]
    with_data = [c for c in assignment.checks if c.visibility is Visibility.visible and c.data]
    assert f"runs {len(shippable(assignment))} visible checks" in readme
    assert f"{len(with_data)} visible checks that need the course's data sets" in readme
    assert f"{len(hidden)} hidden checks ({sum(c.points for c in hidden):g} points)" in readme


def _self_check(root: Path, *args: str, python: str = sys.executable, user: int | None = None):
    return subprocess.run([python, str(root / "self_check.py"), *args], cwd=root.parent, capture_output=True,
                          text=True, timeout=900, user=user, group=user, extra_groups=[] if user else None,
                          env={"PATH": "/usr/bin:/bin", "HOME": str(root)})


def test_self_check_of_a_correct_solution_runs_the_visible_checks_and_lists_the_rest(bundles, tmp_path):
    _, unpacked = bundles[HW3]
    root = tmp_path / "self-check"
    shutil.copytree(unpacked, root)
    (root / "homework" / "hw3_p1.py").write_text(reference_text(HW3, "hw3_p1.py"))
    done = _self_check(root, "-p", "p1")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "3 / 3 points (5 of 5 checks passed, in" in done.stdout
    assert "3 hidden checks (1.5 points) also run when you submit" in done.stdout


def test_self_check_of_the_template_says_not_implemented(bundles, tmp_path):
    _, unpacked = bundles[HW3]
    root = tmp_path / "self-check"
    shutil.copytree(unpacked, root)
    done = _self_check(root, "-p", "p1")
    assert done.returncode == 1
    assert "`backward` in hw3_p1.py is not implemented yet" in done.stdout


@pytest.fixture(scope="module")
def student_venv(bundles, tmp_path_factory) -> Path:
    """A fresh environment with what a student installs by the bundle's README: torch, then the
    bundle's requirements (torch==2.13.0 resolves to the local CPU build here). Open to others, so that
    an unprivileged student can run it."""
    venv = tmp_path_factory.mktemp("student-venv", numbered=True) / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q"]
    torch = versions.public(versions.installed()["torch"]) or "2.13.0"
    subprocess.run([*pip, f"torch=={torch}"], check=True, capture_output=True)
    subprocess.run([*pip, "-r", str(bundles[HW3][1] / "requirements.txt")], check=True, capture_output=True)
    open_to_others(venv)
    return venv


def open_to_others(folder: Path) -> None:
    """Let other users read `folder` and pass through the folders above it (pytest's are 0700)."""
    for path in [folder, *folder.parents][:-1]:
        path.chmod(path.stat().st_mode | 0o005)


@pytest.mark.slow
@needs_isolation
def test_bundles_side_by_side_in_a_fresh_environment_as_a_student_give_full_marks(bundles, student_venv,
                                                                                   tmp_path):
    """Every assignment's bundle, run by an unprivileged user from one fresh environment with none
    installed: each grades a copy of its reference with full marks on every check it ran (every visible
    check without data: the two hand-counted ones pin that rule), and lists the checks it could not run
    as running when the student submits."""
    identity, why = acquire_identity()
    assert identity is not None, why
    home = tmp_path / "student"
    home.mkdir()
    try:
        for aid in assignment_ids():
            expected_ran = len([c for c in load_assignment(aid).checks
                                if c.visibility is Visibility.visible and not c.data])
            assert expected_ran == {HW3: 21, HW4: 69}.get(aid, expected_ran)
            root = home / aid
            shutil.copytree(bundles[aid][1], root)
            for source in (REPO_ROOT / "reference" / aid).glob("*"):
                shutil.copy(source, root / "homework" / source.name)
            for path in [root, *root.rglob("*")]:
                os.chown(path, identity.uid, identity.uid)
            open_to_others(home)
            done = _self_check(root, python=str(student_venv / "bin" / "python"), user=identity.uid)
            assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
            assert f"({expected_ran} of {expected_ran} checks passed" in done.stdout
            at_submission = len([c for c in load_assignment(aid).checks
                                 if c.visibility is Visibility.visible and c.data])
            assert (f"{at_submission} visible checks run when you submit, not here" in done.stdout) == bool(at_submission)
            assert "harness_error" not in done.stdout and "Autograder error" not in done.stdout
    finally:
        identity.release()


@pytest.mark.parametrize("aid", assignment_ids())
def test_bundle_has_no_reference_function_body_and_no_answer(bundles, aid):
    """The AST search of tests/test_nothing_to_copy.py, run on what each built bundle holds."""
    from test_nothing_to_copy import (answer_literals, copies, functions, reference_answers,
                                      reference_explanations, written_in_the_reference)

    _, root = bundles[aid]
    shipped = [p for p in _files(root) if p.suffix == ".py"]
    assert len(shipped) > 20
    found = copies(written_in_the_reference(aid), [f for file in shipped for f in functions(file)])
    found += [line for file in shipped for line in answer_literals(file, reference_answers())]
    texts = [p.read_text(errors="replace") for p in _files(root) if p.suffix in (".py", ".json", ".md", ".txt")]
    found += [why for why in reference_explanations() if any(why in text for text in texts)]
    assert found == []
