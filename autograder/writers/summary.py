"""The machine-readable summary: the whole Grade as JSON, its pictures aside."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from autograder.results import Grade
from autograder.text import printable_data

WITHOUT_FIGURES = {"problems": {"__all__": {"checks": {"__all__": {"feedback": {"figures"}}}}}}
"""The figures' PNGs are for report.html; in the summary they would only weigh on the tools reading it."""


def printable_json(model: BaseModel, exclude: Any = None) -> str:
    """`model` as indented JSON, every string passed through `printable`: tools print these fields,
    and a lone surrogate (from a non-UTF-8 file name) would not even encode."""
    return json.dumps(printable_data(model.model_dump(mode="json", exclude=exclude)), indent=2, ensure_ascii=False)


def write_summary(grade: Grade, path: Path) -> None:
    path.write_text(printable_json(grade, exclude=WITHOUT_FIGURES), encoding="utf-8")
