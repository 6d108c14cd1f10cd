"""The machine-readable summary: the whole Grade as JSON."""

from __future__ import annotations

from pathlib import Path

from autograder.results import Grade


def write_summary(grade: Grade, path: Path) -> None:
    path.write_text(grade.model_dump_json(indent=2))
