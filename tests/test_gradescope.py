"""The Gradescope zip: built from the reference, it grades a submission the way Gradescope runs it,
and `gradescope test` tries it so before students see it."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import HW3, mutate, real_data_root, reference_text

from autograder import cli, gradescope, versions
from autograder.assignments import load_assignment
from autograder.config import REPO_ROOT, GradingConfig
from autograder.data import mnist
from autograder.gradescope import GRADESCOPE_RESIDENT_MB
from autograder.writers.templates import render

P1_FAULT = ('g["V5"] = -g["D"]', 'g["V5"] = g["D"]')
"""A sign error in P1's forward pass: three of its checks fail (2.25 of its 4.5 points)."""


@pytest.fixture(scope="module")
def autograder_zip(make_config, tmp_path_factory):
    out, _ = gradescope.build(load_assignment(HW3), tmp_path_factory.mktemp("zip") / "autograder.zip", make_config(),
                              leave_out_missing_data=True)
    return out


def test_zip_holds_the_scripts_engine_and_precomputed_expected_values(autograder_zip):
    names = zipfile.ZipFile(autograder_zip).namelist()
    assert {"setup.sh", "run_autograder", "pyproject.toml", "README.md", "autograder/cli.py",
            f"reference/{HW3}/hw3_p1.py", f"student_template/{HW3}/hw3_p1.py",
            "reports/templates/report.html.j2", f"cache/{HW3}/versions.json"} <= set(names)
    assert any(n.startswith("cache/") and n.endswith("manifest.json") for n in names)
    assert not [n for n in names if "__pycache__" in n or n.startswith("tests/")]
    script = zipfile.ZipFile(autograder_zip).read("run_autograder").decode()
    assert f"--assignment {HW3}" in script and "--resident-limit-mb 600" in script


def test_run_autograder_grades_a_submission_as_gradescope_would(autograder_zip, tmp_path):
    home = tmp_path / "autograder"
    gradescope.unpack(autograder_zip, home / "source")
    (home / "submission" / "nested").mkdir(parents=True)
    (home / "results").mkdir()
    faulty = mutate(reference_text(HW3, "hw3_p1.py"), *P1_FAULT)
    (home / "submission" / "nested" / "hw3_p1.py").write_text(faulty)
    done = subprocess.run([str(home / "source" / "run_autograder")], capture_output=True, text=True,
                          env={"PATH": "/usr/bin:/bin", "AUTOGRADER_HOME": str(home), "AUTOGRADER_PYTHON": sys.executable})
    assert done.returncode == 0, done.stderr
    results = json.loads((home / "results" / "results.json").read_text())
    assert results["score"] == 2.25
    p1_statuses = [t["status"] for t in results["tests"] if "p1" in t["tags"]]
    assert p1_statuses.count("failed") == 3 and len(p1_statuses) == 8


# --- what the zip carries -------------------------------------------------------------------------

@pytest.fixture(scope="module")
def real_data_zip(make_config, tmp_path_factory):
    """The zip built as an instructor builds it, with the real data sets (skipped without them)."""
    out, left_out = gradescope.build(load_assignment(HW3), tmp_path_factory.mktemp("zip") / "autograder.zip",
                                     make_config(data_root=real_data_root()))
    assert left_out == []
    return out


@pytest.mark.realdata
def test_zip_carries_every_data_set_its_checks_read_and_no_other(real_data_zip):
    names = zipfile.ZipFile(real_data_zip).namelist()
    declared = {name for check in load_assignment(HW3).checks for name in check.data}
    assert declared == {mnist.DATASET}  # P2's and P3's checkpoint checks
    folder = real_data_root() / mnist.DATASET
    expected = {f"data/{mnist.DATASET}/{p.relative_to(folder).as_posix()}" for p in folder.rglob("*") if p.is_file()}
    assert {n for n in names if n.startswith("data/")} == expected


@pytest.mark.realdata
def test_zip_records_the_versions_its_expected_values_were_computed_with(real_data_zip):
    recorded = json.loads(zipfile.ZipFile(real_data_zip).read(f"cache/{HW3}/versions.json"))
    assert recorded == versions.installed()
    setup = zipfile.ZipFile(real_data_zip).read("setup.sh").decode()
    assert f'pip install -q "torch=={versions.public(recorded["torch"])}"' in setup


def test_build_without_a_needed_data_set_exits_2_naming_it(tmp_path):
    (tmp_path / "data" / "cifar10").mkdir(parents=True)  # a data root, but without MNIST
    out = tmp_path / "ag.zip"
    args = ["gradescope", "build", "-a", HW3, "--data-root", str(tmp_path / "data"), "-o", str(out)]
    done = CliRunner().invoke(cli.main, args)
    assert done.exit_code == cli.EXIT_USAGE
    assert f"nothing was built: the data set 'mnist' is not under {tmp_path / 'data'}" in done.stderr
    assert "p2.checkpoint" in done.stderr and "Traceback" not in done.output
    assert not out.exists()


def test_project_files_outside_a_checkout_come_from_the_installed_metadata(tmp_path):
    """Built from an installed wheel (no pyproject.toml beside the engine), the zip still has what
    `pip install .` needs: the same dependencies as the checkout's."""
    written = gradescope.project_files(checkout=tmp_path)
    project = tomllib.loads(written["pyproject.toml"])["project"]
    checkout = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    assert project["name"] == "dl-autograder" and project["dependencies"] == checkout["dependencies"]
    assert written["README.md"].startswith("# dl-autograder")


# --- setup.sh -------------------------------------------------------------------------------------

def _setup_sh(**recorded) -> str:
    return render("gradescope/setup.sh.j2", assignment=HW3, resident_mb=GRADESCOPE_RESIDENT_MB, versions=recorded)


def test_setup_sh_installs_the_recorded_torch_release_in_its_cpu_build():
    script = _setup_sh(torch="2.5.1", torchvision=None, numpy="1.26.4")
    assert 'torch_index="${AUTOGRADER_TORCH_INDEX-https://download.pytorch.org/whl/cpu}"' in script
    assert '"$python" -m pip install -q "torch==2.5.1" "${index[@]}"\n' in script
    assert "torchvision==" not in script and 'pip install -q . "numpy==1.26.4"' in script
    with_vision = _setup_sh(torch="2.5.1", torchvision="0.20.1", numpy="1.26.4")
    assert '"$python" -m pip install -q "torch==2.5.1" "torchvision==0.20.1" "${index[@]}"\n' in with_vision
    assert subprocess.run(["bash", "-n"], input=script, text=True).returncode == 0


def test_setup_sh_makes_its_venv_from_an_explicit_interpreter_never_from_path():
    script = _setup_sh(torch="2.5.1", torchvision=None, numpy="1.26.4")
    assert '"$base" -m venv --clear "$root/venv"' in script
    assert "base=/usr/bin/python3.11" in script and 'base="$AUTOGRADER_BASE_PYTHON"' in script
    # apt runs only where no interpreter is given: the container, never a machine trying the zip.
    apt = script.index("apt-get install")
    assert script.rindex('if [ -n "${AUTOGRADER_BASE_PYTHON:-}" ]', 0, apt) < script.rindex("else", 0, apt)
    assert not re.search(r"^\s*python3(\.11)? ", script, re.MULTILINE)
    assert "pip install -q -e" not in script  # a plain install: the engine does not depend on the source folder


# --- versions -------------------------------------------------------------------------------------

def test_versions_differing_only_in_their_local_label_agree(monkeypatch, tmp_path):
    monkeypatch.setattr(versions, "installed", lambda: {"torch": "2.13.0+cpu", "torchvision": None, "numpy": "2.4.6"})
    (tmp_path / versions.RECORD).write_text(json.dumps({"torch": "2.13.0+cu121", "torchvision": None,
                                                        "numpy": "2.4.6"}))
    assert versions.mismatch(tmp_path) is None
    (tmp_path / versions.RECORD).write_text(json.dumps({"torch": "2.12.1", "torchvision": "0.27.0",
                                                        "numpy": "2.4.6"}))
    said = versions.mismatch(tmp_path)
    assert "torch 2.12.1 (here 2.13.0)" in said and "torchvision 0.27.0 (here not installed)" in said
    assert "numpy" not in said and "install exactly those versions" in said


@pytest.mark.slow
def test_a_version_mismatch_is_reported_before_grading(tmp_path):
    """A recorded torch release that is not this one: the CLI says so before the progress lines,
    and the grade's messages (results.json, the report) carry it."""
    cache = tmp_path / "cache"
    versions.record(cache / HW3)
    recorded = json.loads((cache / HW3 / versions.RECORD).read_text())
    (cache / HW3 / versions.RECORD).write_text(json.dumps({**recorded, "torch": "1.13.1+cpu"}))
    here = versions.public(versions.installed()["torch"])
    template = REPO_ROOT / "student_template" / HW3
    done = CliRunner().invoke(cli.main, ["grade", str(template), "-a", HW3, "-p", "p1", "--cache-dir", str(cache),
                                         "-o", str(tmp_path / "out")])
    assert done.exit_code == cli.EXIT_POINTS_LOST, done.output
    warning = f"Warning: The expected values were computed with torch 1.13.1 (here {here})."
    assert done.stderr.startswith(warning)
    assert done.stderr.index(warning) < done.stderr.index("[  1/8]")
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert any(m.startswith("The expected values were computed with torch 1.13.1") for m in summary["messages"])


# --- gradescope test ------------------------------------------------------------------------------

def test_gradescope_test_refuses_a_file_that_is_not_an_autograder_zip(tmp_path):
    (tmp_path / "notes.zip").write_text("not a zip")
    done = CliRunner().invoke(cli.main, ["gradescope", "test", str(tmp_path / "notes.zip"), str(tmp_path),
                                         "--workdir", str(tmp_path)])
    assert done.exit_code == cli.EXIT_USAGE
    assert "is not a readable zip" in done.stderr and "Traceback" not in done.output
    missing = CliRunner().invoke(cli.main, ["gradescope", "test", str(tmp_path / "absent.zip"), str(tmp_path)])
    assert missing.exit_code == cli.EXIT_USAGE and "does not exist" in missing.output


def _blocks(stdout: str) -> dict[str, str]:
    """`gradescope test`'s report: {submission as given: its lines}."""
    return {block.splitlines()[0]: block for block in stdout.strip().split("\n\n")}


@pytest.mark.slow
@pytest.mark.realdata
def test_gradescope_test_runs_setup_once_then_grades_each_submission_as_gradescope_would(real_data_zip, tmp_path):
    """The zip as uploaded: setup.sh makes a real venv and installs torch (pip's configured indexes:
    this machine has no route to PyTorch's), then the reference scores full marks, the template 0,
    and a reference with P1's sign error loses exactly P1's three checks (2.25 points)."""
    reference = REPO_ROOT / "reference" / HW3
    faulty = tmp_path / "faulty"
    shutil.copytree(reference, faulty)
    (faulty / "hw3_p1.py").write_text(mutate(reference_text(HW3, "hw3_p1.py"), *P1_FAULT))
    template = Path(shutil.make_archive(str(tmp_path / "template"), "zip", REPO_ROOT / "student_template" / HW3))
    # Outside /tmp, as /autograder is, and traversable for the grading's unprivileged uid.
    workdir = Path(tempfile.mkdtemp(prefix="gradescope-test-", dir=Path.home()))
    workdir.chmod(0o755)
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    env.setdefault("AUTOGRADER_TORCH_INDEX", "")
    try:
        done = subprocess.run([sys.executable, "-m", "autograder.cli", "gradescope", "test", str(real_data_zip),
                               str(reference), str(template), str(faulty), "--workdir", str(workdir)],
                              capture_output=True, text=True, env=env, timeout=1500)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    assert done.returncode == cli.EXIT_FULL_MARKS, done.stdout + done.stderr
    assert done.stderr.count("setup.sh done in") == 1
    shown = _blocks(done.stdout)
    assert "score        15 / 15" in shown[str(reference)]
    assert "score        0 / 15" in shown[str(template)]
    assert "score        12.75 / 15" in shown[str(faulty)]
    assert "autograder error" not in done.stdout
    for block in shown.values():
        assert re.search(r"wall time    \d+\.\d s, pinned to CPU \d+", block)
        assert re.search(r"peak memory  \d+ MiB: the (memory cgroup's peak|process tree's resident memory)", block)


def test_the_zip_of_uw_cse446_hw4_carries_glove_under_whichever_folder_holds_it(tmp_path):
    """A5's budgeted training reads GloVe (declared as 'glove', kept under one of several usual
    folder names): the zip carries the folder that holds it, else the reference scores 10 points
    short in the container."""
    for name in ("sst2", "glove-6B-50d-10k", "mnist"):
        (tmp_path / name).mkdir()
    shipped = gradescope.shipped_data(load_assignment("uw-cse446-hw4"), GradingConfig(data_root=tmp_path))
    assert [f.name for f in shipped] == ["glove-6B-50d-10k", "mnist", "sst2"]


def test_a_trial_reads_the_graders_own_summary(tmp_path):
    """`gradescope test` reports the grade as the grader wrote it: score, maximum, the worker's largest
    check, and each check the autograder itself failed on."""
    from autograder import container, trial
    from autograder.results import CheckResult, Feedback, Grade, ProblemResult
    from autograder.writers import write_gradescope, write_summary

    def result(cid, outcome, score, peak):
        return CheckResult(id=cid, problem="p1", part="a", claim="c", visibility="visible", outcome=outcome,
                           score=score, max_score=1, feedback=Feedback(summary=f"{cid} said"), peak_mb=peak)

    grade = Grade(assignment=HW3, title="t", submission="s", problems=[ProblemResult(
        id="p1", title="P1", files=("hw3_p1.py",),
        checks=[result("p1.a.b", "passed", 1, 250.0), result("p1.c.d", "harness_error", 0, 300.5)])])
    write_gradescope(grade, tmp_path / "results.json")
    write_summary(grade, tmp_path / "summary.json")
    run = container.Confined(returncode=0, seconds=1.0, cpu=0, tree_peak=1)
    got = trial._read_results(tmp_path, tmp_path / "sub", run)
    assert (got.score, got.max_score, got.worker_peak_mb) == (1, 2, 300.5)
    assert got.autograder_errors == (("p1.c.d", "p1.c.d said"),)
