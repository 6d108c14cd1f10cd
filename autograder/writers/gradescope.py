"""results.json as Gradescope's autograder specification defines it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from autograder.results import Grade, Outcome
from autograder.text import printable
from autograder.writers.templates import OUTCOME_LABELS, render


def _test(number: str, result, name: str) -> dict[str, Any]:
    test = {
        "name": name,
        "number": number,
        "score": result.score,
        "max_score": 0.0 if result.extra_credit else result.max_score,  # Gradescope's way of extra credit
        "output": render("check_output.md.j2", feedback=result.feedback,
                         outcome_label=OUTCOME_LABELS[result.outcome.value], printed=result.student_output),
        "output_format": "md",
        "visibility": result.visibility,
        "tags": [result.problem, f"{result.problem}{result.part}", result.outcome.value],
    }
    if result.outcome is not Outcome.left_out:  # without a status Gradescope shows neither pass nor fail
        test["status"] = "passed" if result.outcome is Outcome.passed else "failed"
    return test


def gradescope_results(grade: Grade) -> dict[str, Any]:
    tests = []
    for i, problem in enumerate(grade.problems, start=1):
        for j, check in enumerate(problem.checks, start=1):
            extra = " (extra credit)" if check.extra_credit else ""
            tests.append(_test(f"{i}.{j}", check, f"{problem.id}({check.part}){extra} {check.claim} [{check.id}]"))
            if check.debug:  # instructors see the traceback; students never do
                tests.append({"name": f"Details for the instructor [{check.id}]", "number": f"{i}.{j}.1",
                              "score": 0.0, "max_score": 0.0, "status": "failed",
                              "output": printable(check.debug)[-20_000:], "output_format": "text",
                              "visibility": "hidden", "tags": ["debug"]})
    if grade.harness_error:
        tests.append({"name": "The autograder failed", "number": "0", "score": 0.0, "max_score": 0.0,
                      "status": "failed", "visibility": "visible", "output_format": "text", "tags": [],
                      "output": "The autograder failed while grading this submission. This is not your "
                                "fault: tell your instructor, who will regrade it."})
        tests.append({"name": "Autograder failure, details for the instructor", "number": "0.1",
                      "score": 0.0, "max_score": 0.0, "status": "failed", "visibility": "hidden",
                      "output_format": "text", "tags": ["debug"],
                      "output": printable(grade.harness_error)[-20_000:]})
    return {
        "score": grade.score,
        "execution_time": max(0, round(grade.timing.total)),
        "output": render("summary.md.j2", title=grade.title, score=grade.score, max_score=grade.max_score,
                         messages=grade.messages, harness_error=grade.harness_error),
        "output_format": "md",
        "test_output_format": "md",
        "stdout_visibility": "hidden",
        "tests": tests,
    }


def write_gradescope(grade: Grade, path: Path) -> None:
    path.write_text(json.dumps(gradescope_results(grade), indent=2))
