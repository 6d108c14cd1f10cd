"""The Jinja2 environment over `reports/`, shared by the writers."""

from __future__ import annotations

import functools
from pathlib import Path

import jinja2
from markupsafe import Markup

from autograder.config import content_dir
from autograder.packages import COURSE_PACKAGES
from autograder.text import markdown_code_block, markdown_text, printable

REPORTS = content_dir("reports")

OUTCOME_LABELS = {
    "passed": "Passed", "partial": "Partly right", "failed": "Failed", "error": "Error",
    "timeout": "Timed out", "crashed": "Crashed", "harness_error": "Autograder error",
    "left_out": "Not graded here",
}


def _printable_value(value: object) -> object:
    """Applied to every value a template prints (before HTML escaping): no control character
    reaches a page or a markdown output, whichever variable a template author forgets to filter.
    Markup is ours, already escaped, and passes as it is."""
    return printable(value) if isinstance(value, str) and not isinstance(value, Markup) else value


@functools.cache
def environment(autoescape: bool) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(REPORTS / "templates"), finalize=_printable_value,
        autoescape=autoescape, undefined=jinja2.StrictUndefined, keep_trailing_newline=True,
    )
    # Markdown templates escape each student string where it lands; markup stays in the template.
    env.filters.update(markdown_text=markdown_text, markdown_code_block=markdown_code_block)
    env.globals.update(course_packages=COURSE_PACKAGES)  # setup.sh and the bundle's README name them
    return env


def render(name: str, **context: object) -> str:
    return environment(name.endswith(".html.j2")).get_template(name).render(**context)


def static(name: str) -> str:
    return Path(REPORTS / "static" / name).read_text()
