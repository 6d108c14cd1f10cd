"""A check this machine cannot run (its data set is absent) is left out of the total, visibly, the
same way in every command; the reference never loses a point to the instructor's set-up."""

from __future__ import annotations

import csv
import json

from click.testing import CliRunner

from autograder import cli
from autograder.assignments import load_assignment
from autograder.batch import grade_class
from autograder.config import REPO_ROOT, GradingConfig
from autograder.runner import grade
from autograder.writers import write_gradescope
from conftest import HW3, by_id

P2_TOTAL = 4.5
ACCURACY = "p2.checkpoints.accuracy_98"  # reads MNIST, worth 1 point


def test_the_reference_keeps_full_marks_without_the_data_set(make_config, tmp_path):
    g = grade(REPO_ROOT / "reference" / HW3, load_assignment(HW3), make_config(problems=("p2",), data_root=None))
    accuracy = by_id(g, ACCURACY)
    assert accuracy.outcome.value == "left_out" and (accuracy.score, accuracy.max_score) == (0, 0)
    assert accuracy.feedback.summary.startswith("Not graded here: the data set 'mnist' is not here (no data root is set)")
    assert (g.score, g.max_score, g.full_marks) == (P2_TOTAL - 1, P2_TOTAL - 1, True)
    assert any("left out of the total" in m and ACCURACY in m for m in g.messages)
    write_gradescope(g, tmp_path / "results.json")
    shown = next(t for t in json.loads((tmp_path / "results.json").read_text())["tests"] if ACCURACY in t["name"])
    assert "status" not in shown and shown["max_score"] == 0 and "Not graded here" in shown["output"]


def test_a_batch_leaves_it_out_of_every_students_maximum(make_config, tmp_path):
    (tmp_path / "class" / "ada").mkdir(parents=True)
    for source in (REPO_ROOT / "reference" / HW3).iterdir():
        (tmp_path / "class" / "ada" / source.name).write_bytes(source.read_bytes())
    grade_class(tmp_path / "class", load_assignment(HW3), make_config(problems=("p2",), data_root=None), tmp_path / "out")
    row = next(csv.DictReader(open(tmp_path / "out" / "gradebook.csv")))
    assert (float(row["score"]), float(row["max_score"])) == (P2_TOTAL - 1, P2_TOTAL - 1)


def test_gradescope_build_refuses_a_zip_whose_data_sets_are_absent(monkeypatch, tmp_path):
    monkeypatch.delenv("AUTOGRADER_DATA_ROOT", raising=False)
    done = CliRunner().invoke(cli.main, ["gradescope", "build", "-a", HW3, "-o", str(tmp_path / "autograder.zip")])
    assert done.exit_code == cli.EXIT_USAGE
    assert "nothing was built: the data set 'mnist' is not here (no data root is set)" in done.output
    assert "--leave-out-missing-data" in done.output and ACCURACY in done.output
    assert not (tmp_path / "autograder.zip").exists()


def test_a_self_check_lists_it_as_running_at_submission_with_the_hidden_count(make_config):
    g = grade(REPO_ROOT / "reference" / HW3, load_assignment(HW3),
              make_config(problems=("p2",), data_root=None, visible_only=True))
    accuracy = by_id(g, ACCURACY)
    assert accuracy.outcome.value == "left_out" and accuracy.max_score == 0
    assert accuracy.feedback.summary.startswith("Runs when you submit: it needs the course's data set 'mnist'")
    assert g.full_marks and g.score == g.max_score
    assert f"1 visible checks run when you submit, not here: {ACCURACY} (needs the course's data set 'mnist')" \
        in g.messages[0]
    hidden = [c for c in load_assignment(HW3).checks if c.problem_id == "p2" and c.visibility.value != "visible"]
    assert any(m.startswith(f"{len(hidden)} hidden checks") for m in g.messages) == bool(hidden)


def test_a_self_check_without_the_reference_lists_checks_whose_values_were_not_shipped(make_config, tmp_path):
    config = GradingConfig(problems=("p1",), visible_only=True, reference_root=tmp_path / "no-reference",
                           cache_dir=tmp_path / "empty-cache")
    g = grade(REPO_ROOT / "reference" / HW3, load_assignment(HW3), config)
    assert {c.outcome.value for c in g.checks} == {"left_out"} and g.harness_error is None
    assert all(c.feedback.summary.startswith("Runs when you submit: its expected values are not part of this "
                                             "self-check") for c in g.checks)
