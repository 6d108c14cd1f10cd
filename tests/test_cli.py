"""The command line: outputs, exit codes and messages as pytest and pip users expect."""

from __future__ import annotations

import json
import subprocess
import sys

from autograder.assignments import assignment_ids
from autograder.config import REPO_ROOT
from conftest import HW3


def autograder(*args: str, cache) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "autograder.cli", *args], capture_output=True, text=True,
                          env={"PATH": "/usr/bin:/bin", "AUTOGRADER_CACHE": str(cache)}, cwd=REPO_ROOT)


def test_grade_writes_the_three_reports_and_exits_0_for_full_marks(tmp_path, cache_dir):
    done = autograder("grade", f"reference/{HW3}", "-a", HW3, "-p", "p1", "-o", str(tmp_path), cache=cache_dir)
    assert done.returncode == 0, done.stderr
    assert json.loads((tmp_path / "results.json").read_text())["score"] == 4.5
    assert json.loads((tmp_path / "summary.json").read_text())["max_score"] == 4.5
    assert (tmp_path / "report.html").read_text().startswith("<!DOCTYPE html>")
    assert "[  8/8] passed" in done.stderr  # progress, one line per check
    assert "4.5 / 4.5 points (8 of 8 checks passed" in done.stdout


def test_check_runs_only_visible_checks_and_exits_1_when_points_are_lost(cache_dir):
    done = autograder("check", f"student_template/{HW3}", "-a", HW3, "-p", "p1", cache=cache_dir)
    assert done.returncode == 1
    assert "0 / 3 points (0 of 5 checks passed" in done.stdout
    assert "other_seeds" not in done.stdout + done.stderr
    assert "`forward` in hw3_p1.py is not implemented yet" in done.stdout


def test_unknown_assignment_is_a_usage_error_listing_the_valid_ones(cache_dir):
    done = autograder("grade", ".", "-a", "hw99", cache=cache_dir)
    assert done.returncode == 2
    assert f"Unknown assignment 'hw99'. Valid assignments are: {', '.join(assignment_ids())}." in done.stderr


def test_list_shows_checks_and_points(cache_dir):
    done = autograder("list", cache=cache_dir)
    assert done.returncode == 0
    assert "umn-csci5527-hw3" in done.stdout and "[hw3_p1.py]  (4.5 points)" in done.stdout
    assert "p1.backward.other_seeds" in done.stdout


def test_problem_option_grades_only_that_problem(cache_dir, tmp_path):
    done = autograder("grade", f"reference/{HW3}", "-a", HW3, "-p", "p1", "-o", str(tmp_path), cache=cache_dir)
    assert done.returncode == 0, done.stderr
    assert {t["tags"][0] for t in json.loads((tmp_path / "results.json").read_text())["tests"]} == {"p1"}
    bad = autograder("grade", f"reference/{HW3}", "-a", HW3, "-p", "p9", cache=cache_dir)
    assert bad.returncode == 2 and "unknown problem ['p9'] for umn-csci5527-hw3; valid problems are: p1" in bad.stderr
