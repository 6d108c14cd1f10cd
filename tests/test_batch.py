"""Grading a class: one report per student, a gradebook and a summary; one bad upload stops nothing."""

from __future__ import annotations

import csv
import json
import zipfile

from autograder.assignments import load_assignment
from autograder.batch import grade_class
from conftest import HW3, mutate, reference_text

FILE = "hw3_p1.py"


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
