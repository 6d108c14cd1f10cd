"""The machine-readable summary: the whole Grade as JSON."""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel

from autograder.results import Grade
from autograder.text import printable_data


def printable_json(model: BaseModel) -> str:
    """`model` as indented JSON, every string passed through `printable`: tools print these fields,
    and a lone surrogate (from a non-UTF-8 file name) would not even encode."""
    return json.dumps(printable_data(model.model_dump(mode="json")), indent=2, ensure_ascii=False)


def write_summary(grade: Grade, path: Path) -> None:
    path.write_text(printable_json(grade), encoding="utf-8")
