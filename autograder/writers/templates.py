"""The Jinja2 environment over `reports/`, shared by the writers."""

from __future__ import annotations

import functools
from pathlib import Path

import jinja2

from autograder.config import REPO_ROOT

REPORTS = REPO_ROOT / "reports"

OUTCOME_LABELS = {
    "passed": "Passed", "partial": "Partly right", "failed": "Failed", "error": "Error",
    "timeout": "Timed out", "crashed": "Crashed", "harness_error": "Autograder error",
}


@functools.cache
def environment(autoescape: bool) -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(REPORTS / "templates"),
        autoescape=autoescape, undefined=jinja2.StrictUndefined, keep_trailing_newline=True,
    )


def render(name: str, **context: object) -> str:
    return environment(name.endswith(".html.j2")).get_template(name).render(**context)


def static(name: str) -> str:
    return Path(REPORTS / "static" / name).read_text()
