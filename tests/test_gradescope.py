"""The Gradescope zip: built from the reference, it grades a submission the way Gradescope runs it."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile

import pytest

from autograder import gradescope
from autograder.assignments import load_assignment
from conftest import HW3, mutate, reference_text


@pytest.fixture(scope="module")
def autograder_zip(make_config, tmp_path_factory):
    out, _ = gradescope.build(load_assignment(HW3), tmp_path_factory.mktemp("zip") / "autograder.zip", make_config(),
                              leave_out_missing_data=True)
    return out


def test_zip_holds_the_scripts_engine_and_precomputed_expected_values(autograder_zip):
    names = zipfile.ZipFile(autograder_zip).namelist()
    assert {"setup.sh", "run_autograder", "pyproject.toml", "autograder/cli.py",
            f"reference/{HW3}/hw3_p1.py", "reports/templates/report.html.j2"} <= set(names)
    assert any(n.startswith("cache/") and n.endswith("manifest.json") for n in names)
    assert not [n for n in names if "__pycache__" in n or n.startswith("tests/")]
    script = zipfile.ZipFile(autograder_zip).read("run_autograder").decode()
    assert f"--assignment {HW3}" in script and "--resident-limit-mb 600" in script


def test_run_autograder_grades_a_submission_as_gradescope_would(autograder_zip, tmp_path):
    home = tmp_path / "autograder"
    gradescope.unpack(autograder_zip, home / "source")
    (home / "submission" / "nested").mkdir(parents=True)
    (home / "results").mkdir()
    faulty = mutate(reference_text(HW3, "hw3_p1.py"), 'g["V5"] = -g["D"]', 'g["V5"] = g["D"]')
    (home / "submission" / "nested" / "hw3_p1.py").write_text(faulty)
    done = subprocess.run([str(home / "source" / "run_autograder")], capture_output=True, text=True,
                          env={"PATH": "/usr/bin:/bin", "AUTOGRADER_HOME": str(home), "AUTOGRADER_PYTHON": sys.executable})
    assert done.returncode == 0, done.stderr
    results = json.loads((home / "results" / "results.json").read_text())
    assert results["score"] == 2.25
    p1_statuses = [t["status"] for t in results["tests"] if "p1" in t["tags"]]
    assert p1_statuses.count("failed") == 3 and len(p1_statuses) == 8
