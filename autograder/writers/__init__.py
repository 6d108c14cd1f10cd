"""Writers: each takes a Grade and writes one file. Markup lives in `reports/templates`."""

from autograder.writers.gradescope import gradescope_results, write_gradescope
from autograder.writers.html import render_html, write_html
from autograder.writers.summary import printable_json, write_summary

__all__ = ["gradescope_results", "write_gradescope", "render_html", "write_html", "write_summary",
           "printable_json"]
