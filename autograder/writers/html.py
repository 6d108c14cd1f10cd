"""The student's HTML report: one self-contained file, no network assets."""

from __future__ import annotations

from pathlib import Path

from autograder.results import Grade
from autograder.writers.templates import OUTCOME_LABELS, render, static


def render_html(grade: Grade) -> str:
    return render("report.html.j2", grade=grade, css=static("report.css"), outcome_labels=OUTCOME_LABELS,
                  submission_name=Path(grade.submission).name)


def write_html(grade: Grade, path: Path) -> None:
    path.write_text(render_html(grade), encoding="utf-8")
