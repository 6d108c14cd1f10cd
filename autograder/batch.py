"""Grading a whole class: every submission under a folder, a gradebook, a class summary.

Each entry of the folder (a sub-folder, a .zip, an .ipynb or a .py) is one student's submission,
named by the entry. Submissions are graded one after another, each with its own worker; a
failure of one never stops the others.
"""

from __future__ import annotations

import csv
import statistics
from collections.abc import Callable
from pathlib import Path

from pydantic import BaseModel

from autograder.config import GradingConfig
from autograder.isolation import keep_private
from autograder.model import Assignment
from autograder.results import Grade
from autograder.runner import grade_safely, selected_checks
from autograder.text import printable
from autograder.writers import printable_json, write_gradescope, write_html, write_summary

_SUBMISSION_SUFFIXES = {".zip", ".ipynb", ".py"}


class ClassSummary(BaseModel):
    assignment: str
    submissions: int
    max_score: float
    mean: float
    median: float
    full_marks: int
    harness_errors: list[str]
    check_pass_rates: dict[str, float]


_RESERVED = {"gradebook.csv", "class_summary.json"}
"""Names of the class-level outputs: no student's folder may take them."""


def submissions_in(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir()
                  if not p.name.startswith(".") and not p.is_symlink()
                  and (p.is_dir() or p.suffix in _SUBMISSION_SUFFIXES))


def student_names(submissions: list[Path]) -> dict[Path, str]:
    """A distinct, printable name per submission, also its report folder's name: `alice/` and
    `alice.zip` become `alice` and `alice.zip`; a name that is not valid UTF-8 keeps its readable
    part; no student takes the name of a class-level output."""
    names: dict[Path, str] = {}
    taken = set(_RESERVED)
    for submission in submissions:
        full = _safe(submission.name)
        short = _safe(submission.stem) if submission.is_file() else full
        name = next(n for n in (short, full, *(f"{full}-{i}" for i in range(2, len(submissions) + 2)))
                    if n not in taken)
        taken.add(name)
        names[submission] = name
    return names


def _safe(name: str) -> str:
    readable = name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    cleaned = "".join(c if c.isalnum() or c in "._-@+" else "_" for c in readable).strip(".")
    return cleaned or "submission"


def grade_class(folder: Path, assignment: Assignment, config: GradingConfig, out: Path,
                progress: Callable[[str, Grade], None] | None = None) -> ClassSummary:
    out.mkdir(parents=True, exist_ok=True)
    # As root, the class's uploads and reports are closed to every grading's uid: one student's
    # code must not read another's work.
    keep_private(folder, out)
    grades: dict[str, Grade] = {}
    for submission, student in student_names(submissions_in(folder)).items():
        grade = grade_safely(submission, assignment, config)
        target = out / student
        target.mkdir(exist_ok=True)
        write_gradescope(grade, target / "results.json")
        write_summary(grade, target / "summary.json")
        write_html(grade, target / "report.html")
        grades[student] = grade
        if progress:
            progress(student, grade)
    checks = selected_checks(assignment, config)
    problems = list(dict.fromkeys(c.problem_id for c in checks))
    _write_gradebook(grades, problems, [c.id for c in checks], out / "gradebook.csv")
    summary = _summarise(assignment, grades)
    (out / "class_summary.json").write_text(printable_json(summary), encoding="utf-8")
    return summary


def _write_gradebook(grades: dict[str, Grade], problems: list[str], checks: list[str], path: Path) -> None:
    """One row per student: the total, each problem, each check; a column says if grading failed.

    Student names are the names of the upload's entries: printable, so that a non-UTF-8 name cannot
    stop the gradebook from being written."""
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["student", "score", "max_score", *problems, *checks, "autograder_error"])
        for student, grade in grades.items():
            by_problem = {p.id: p.score for p in grade.problems}
            by_check = {c.id: c.score for c in grade.checks}
            writer.writerow([printable(student), grade.score, grade.max_score,
                             *(by_problem.get(p, "") for p in problems),
                             *(by_check.get(c, "") for c in checks),
                             "yes" if grade.harness_error or any(c.outcome.value == "harness_error" for c in grade.checks)
                             else ""])


def _summarise(assignment: Assignment, grades: dict[str, Grade]) -> ClassSummary:
    scores = [g.score for g in grades.values()] or [0.0]
    rates: dict[str, float] = {}
    for grade in grades.values():
        for c in grade.checks:
            rates[c.id] = rates.get(c.id, 0.0) + (c.outcome.value == "passed") / len(grades)
    return ClassSummary(
        assignment=assignment.id, submissions=len(grades),
        max_score=max((g.max_score for g in grades.values()), default=0.0),
        mean=round(statistics.fmean(scores), 4), median=statistics.median(scores),
        full_marks=sum(g.full_marks for g in grades.values()),
        harness_errors=[s for s, g in grades.items() if g.harness_error],
        check_pass_rates={k: round(v, 4) for k, v in rates.items()},
    )
