"""Grading a class: one report per student, a gradebook and a summary; one bad upload stops nothing."""

from __future__ import annotations

import csv
import json
import os
import zipfile
from pathlib import Path

import pytest

from autograder.assignments import load_assignment
from autograder.batch import KEY_FILE, BatchInputError, grade_class
from conftest import HW3, mutate, reference_text

pytestmark = pytest.mark.slow  # whole classes, graded by the sandboxed worker

FILE = "hw3_p1.py"
SIGN_FAULT = ('g["V5"] = -g["D"]', 'g["V5"] = g["D"]')


def small_class(class_dir: Path) -> Path:
    reference = reference_text(HW3, FILE)
    for name, text in {"ada": reference, "bob": mutate(reference, *SIGN_FAULT), "dee": reference}.items():
        (class_dir / name).mkdir(parents=True)
        (class_dir / name / FILE).write_text(text)
    with zipfile.ZipFile(class_dir / "cy.zip", "w") as zf:
        zf.writestr("hw/hw3_p1.py", "def forward(:\n")
    return class_dir


def gradebook(out: Path) -> dict[str, dict[str, str]]:
    return {r["student"]: r for r in csv.DictReader(open(out / "gradebook.csv", encoding="utf-8"))}


def test_a_class_is_graded_into_a_gradebook(p1_config, tmp_path):
    reference = reference_text(HW3, FILE)
    class_dir = tmp_path / "class"
    (class_dir / "ada").mkdir(parents=True)
    (class_dir / "ada" / FILE).write_text(reference)
    (class_dir / "bob").mkdir()
    (class_dir / "bob" / FILE).write_text(mutate(reference, 'g["V5"] = -g["D"]', 'g["V5"] = g["D"]'))
    with zipfile.ZipFile(class_dir / "cy.zip", "w") as zf:
        zf.writestr("hw/hw3_p1.py", "def forward(:\n")
    (class_dir / "notes.txt").write_text("not a submission")

    summary = grade_class(class_dir, load_assignment(HW3), p1_config(), tmp_path / "out")

    rows = {r["student"]: r for r in csv.DictReader(open(tmp_path / "out" / "gradebook.csv"))}
    assert sorted(rows) == ["ada", "bob", "cy"]
    assert [float(rows[s]["score"]) for s in ("ada", "bob", "cy")] == [4.5, 2.25, 0.0]
    assert rows["bob"]["p1.backward.handout_seed"] == "0.3" and rows["bob"]["p1"] == "2.25"
    assert (summary.submissions, summary.full_marks, summary.median) == (3, 1, 2.25)
    assert summary.check_pass_rates["p1.forward.handout_seed"] == round(2 / 3, 4)
    assert json.loads((tmp_path / "out" / "cy" / "results.json").read_text())["score"] == 0
    assert (tmp_path / "out" / "ada" / "report.html").is_file()


def test_two_at_a_time_grade_exactly_as_one_after_another(p1_config, tmp_path):
    class_dir = small_class(tmp_path / "class")
    grade_class(class_dir, load_assignment(HW3), p1_config(), tmp_path / "serial", jobs=1)
    grade_class(class_dir, load_assignment(HW3), p1_config(), tmp_path / "parallel", jobs=2)
    assert (tmp_path / "parallel" / "gradebook.csv").read_text() == (tmp_path / "serial" / "gradebook.csv").read_text()
    assert [float(r["score"]) for r in gradebook(tmp_path / "parallel").values()] == [4.5, 2.25, 0.0, 4.5]


def test_a_batch_run_again_grades_only_what_changed(p1_config, tmp_path):
    """An interrupted batch, or one run again after a submission changed, picks up where it stopped."""
    class_dir, out = small_class(tmp_path / "class"), tmp_path / "out"
    assignment = load_assignment(HW3)

    def run(**overrides) -> set[str]:
        graded: set[str] = set()
        grade_class(class_dir, assignment, p1_config(**overrides), out, jobs=2,
                    progress=lambda student, grade, now: graded.add(student) if now else None)
        return graded

    assert run() == {"ada", "bob", "cy", "dee"}
    first = gradebook(out)
    assert run() == set()  # nothing changed
    assert gradebook(out) == first

    (class_dir / "bob" / FILE).write_text(reference_text(HW3, FILE))  # bob fixed his sign
    (out / "dee" / KEY_FILE).unlink()  # stopped while dee's reports were written
    assert run() == {"bob", "dee"}
    assert float(gradebook(out)["bob"]["score"]) == 4.5
    assert {s: r for s, r in gradebook(out).items() if s != "bob"} == {s: r for s, r in first.items() if s != "bob"}

    assert run(timeout_scale=2.0) == {"ada", "bob", "cy", "dee"}  # other settings: other grades, maybe


def test_a_regrade_after_the_reference_changed_lists_whose_scores_moved(p1_config, tmp_path):
    """The instructor's reference gets V5.g's sign wrong, then the batch is run again: whoever the
    regrade moved is listed with the checks that moved, and only they."""
    class_dir, out = small_class(tmp_path / "class"), tmp_path / "out"
    grade_class(class_dir, load_assignment(HW3), p1_config(), out, jobs=2)
    wrong_reference = tmp_path / "reference"
    (wrong_reference / HW3).mkdir(parents=True)
    (wrong_reference / HW3 / FILE).write_text(mutate(reference_text(HW3, FILE), *SIGN_FAULT))

    summary = grade_class(class_dir, load_assignment(HW3), p1_config(reference_root=wrong_reference), out, jobs=2)

    changes = {c.student: c for c in summary.changed}
    assert sorted(changes) == ["ada", "bob", "dee"]  # cy's syntax error scores 0 either way
    assert (changes["bob"].before, changes["bob"].after) == (2.25, 4.25)
    assert changes["bob"].checks["p1.backward.handout_seed"] == (0.3, 1.5)
    # bob's autograd still disagrees with his backward; ada's two now agree on what the reference calls wrong
    assert set(changes["bob"].checks) == {"p1.backward.handout_seed", "p1.backward.other_seeds"}
    assert set(changes["ada"].checks) == {"p1.backward.handout_seed", "p1.backward.other_seeds",
                                          "p1.autograd.agrees_with_backward"}
    assert json.loads((out / "class_summary.json").read_text())["changed"][0]["student"] == "ada"


def test_gradescope_export_names_each_submitter_in_the_gradebook(p1_config, tmp_path):
    """Gradescope's "Export Submissions": submission_<id>/ folders and submission_metadata.yml; a
    group of two gets a row each, and a name that a spreadsheet would run as a formula stays text."""
    export = tmp_path / "assignment_1_export"
    reference = reference_text(HW3, FILE)
    for folder, text in {"submission_11": reference, "submission_12": mutate(reference, *SIGN_FAULT)}.items():
        (export / folder).mkdir(parents=True)
        (export / folder / FILE).write_text(text)
    (export / "submission_metadata.yml").write_text(
        "submission_11:\n  :submitters:\n  - :name: Ada Lovelace\n    :sid: '101'\n    :email: ada@uni.edu\n"
        "  :created_at: 2026-11-30 10:00:00.000000000 -08:00\n  :score: 0.0\n"
        "submission_12:\n  :submitters:\n  - :name: Bob Byte\n    :sid: '102'\n    :email: bob@uni.edu\n"
        "  - :name: =HYPERLINK(\"http://x\")\n    :sid: '103'\n    :email: cy@uni.edu\n")
    grade_class(export, load_assignment(HW3), p1_config(), tmp_path / "out", jobs=2)
    rows = list(csv.DictReader(open(tmp_path / "out" / "gradebook.csv", encoding="utf-8")))
    assert [(r["student"], r["name"], r["email"], r["sid"], float(r["score"])) for r in rows] == [
        ("submission_11", "Ada Lovelace", "ada@uni.edu", "101", 4.5),
        ("submission_12", "Bob Byte", "bob@uni.edu", "102", 2.25),
        ("submission_12", "'=HYPERLINK(\"http://x\")", "cy@uni.edu", "103", 2.25)]


@pytest.mark.parametrize("text, words", [
    ("submission_11: [\n", "is not readable YAML"),
    ("- submission_11\n", "should map each submission folder to its submitters"),
    ("submission_11:\n  :score: 1\n", "submission_11 has no list of ':submitters'"),
])
def test_a_broken_gradescope_export_is_named_before_anything_is_graded(p1_config, tmp_path, text, words):
    export = tmp_path / "export"
    (export / "submission_11").mkdir(parents=True)
    (export / "submission_metadata.yml").write_text(text)
    with pytest.raises(BatchInputError, match=words):
        grade_class(export, load_assignment(HW3), p1_config(), tmp_path / "out")
    assert not (tmp_path / "out" / "gradebook.csv").exists()


def test_the_cli_batch_shows_progress_and_keeps_what_did_not_change(tmp_path, cache_dir):
    from click.testing import CliRunner

    from autograder.cli import main

    class_dir = small_class(tmp_path / "class")
    args = ["batch", str(class_dir), "-a", HW3, "-p", "p1", "-j", "2", "-o", str(tmp_path / "out"),
            "--cache-dir", str(cache_dir)]
    first = CliRunner().invoke(main, args)
    assert first.exit_code == 0, first.output
    assert "[4/4] " in first.stderr and "4 submissions: mean 2.8125" in first.stdout
    again = CliRunner().invoke(main, args)
    assert again.stderr.count("(unchanged: kept)") == 4


def test_a_dask_cluster_grades_the_class_as_this_machine_does(p1_config, tmp_path, cache_dir, monkeypatch):
    """A scheduler and two workers on loopback, started here: each task carries one submission to a
    worker, which grades it in its own sandbox; the reports are written here."""
    from distributed import LocalCluster

    class_dir = small_class(tmp_path / "class")
    grade_class(class_dir, load_assignment(HW3), p1_config(), tmp_path / "here", jobs=2)
    monkeypatch.setenv("AUTOGRADER_CACHE", str(cache_dir))  # the workers' own cache, warm
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None) as cluster:
        summary = grade_class(class_dir, load_assignment(HW3), p1_config(), tmp_path / "cluster",
                              scheduler=cluster.scheduler_address)
    assert (tmp_path / "cluster" / "gradebook.csv").read_text() == (tmp_path / "here" / "gradebook.csv").read_text()
    assert summary.submissions == 4 and not summary.harness_errors
    reported = json.loads((tmp_path / "cluster" / "ada" / "summary.json").read_text())
    assert reported["submission"] == "ada.zip"  # the folder, packed for the worker
    protections = {p["name"]: p["active"] for p in reported["protections"]}
    assert protections["unprivileged user"] == (os.geteuid() == 0)


def test_no_scheduler_at_the_address_is_said_plainly(p1_config, tmp_path):
    with pytest.raises(BatchInputError, match="no Dask scheduler answered at tcp://127.0.0.1:9 within 10 s"):
        grade_class(small_class(tmp_path / "class"), load_assignment(HW3), p1_config(), tmp_path / "out",
                    scheduler="tcp://127.0.0.1:9")


def test_a_task_lost_on_the_cluster_costs_that_submission_a_regrade_not_the_batch(p1_config, tmp_path, monkeypatch):
    from distributed import LocalCluster

    from autograder import batch

    def worker_lost(*task):
        raise RuntimeError("worker lost")

    monkeypatch.setattr(batch, "grade_packed", worker_lost)
    class_dir, out = small_class(tmp_path / "class"), tmp_path / "out"
    with LocalCluster(n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None) as cluster:
        summary = grade_class(class_dir, load_assignment(HW3), p1_config(), out, scheduler=cluster.scheduler_address)
    assert summary.harness_errors == ["ada", "bob", "cy", "dee"]
    assert {r["autograder_error"] for r in gradebook(out).values()} == {"yes"}
    failed = json.loads((out / "bob" / "summary.json").read_text())["harness_error"]
    assert failed == "its Dask task failed (RuntimeError: worker lost); run the batch again to regrade it"
    assert not list(out.glob(f"*/{KEY_FILE}"))  # nothing kept: the next run grades them all


def test_a_check_the_grader_failed_on_is_the_batchs_error_and_regraded(p1_config, tmp_path, monkeypatch):
    """A judge that raises fails one check for everyone: not the students' grade yet. It is counted
    as the grader's failure (exit code 3, the gradebook's column), and no report of it is kept."""
    check = load_assignment(HW3).check("p1.forward.handout_seed")

    def broken_judge(got, expected, check):
        raise KeyError("a key the judge expected")

    monkeypatch.setitem(check.__dict__, "judge", broken_judge)
    class_dir, out = tmp_path / "class", tmp_path / "out"
    (class_dir / "ada").mkdir(parents=True)
    (class_dir / "ada" / FILE).write_text(reference_text(HW3, FILE))

    summary = grade_class(class_dir, load_assignment(HW3), p1_config(), out)

    assert summary.harness_errors == ["ada"]
    assert gradebook(out)["ada"]["autograder_error"] == "yes"
    assert not (out / "ada" / KEY_FILE).exists()
