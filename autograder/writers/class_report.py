"""The class report: one self-contained HTML page an instructor reads at a glance after a batch.

The score distribution, per-problem means, every check's pass rate, the failure messages most
students got (an unclear handout or a wrong check shows here first), the slowest checks, and the
submissions the grader could not grade in full. Plots are drawn with matplotlib (Agg) as inline SVG:
the page loads nothing from the network.
"""

from __future__ import annotations

import collections
import io
import re
import statistics
from dataclasses import dataclass
from pathlib import Path

from markupsafe import Markup

from autograder.results import Grade, Outcome
from autograder.runner import UNREADABLE
from autograder.writers.templates import OUTCOME_LABELS, render, static

_NUMBER = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?(?:e[-+]?\d+)?(?!\w)")
"""A number standing alone ('2 of 10', '0.25', '1e-06'), not one inside a name ('W1.g', 'hw3_p1.py')."""
_TROUBLE = {Outcome.crashed, Outcome.timeout, Outcome.harness_error}


@dataclass(frozen=True)
class CommonFailure:
    check: str
    message: str  # with every number as `#`, so that the same mistake groups across students
    students: int
    example: str


@dataclass(frozen=True)
class CheckRow:
    id: str
    claim: str
    passed: int
    graded: int
    median_seconds: float

    @property
    def rate(self) -> float:
        return self.passed / self.graded if self.graded else 0.0


def common_failures(grades: dict[str, Grade], most: int = 15) -> list[CommonFailure]:
    """The failure messages most students got, numbers aside, with one example as a student read it."""
    seen: dict[tuple[str, str], set[str]] = collections.defaultdict(set)
    example: dict[tuple[str, str], str] = {}
    for student, grade in grades.items():
        for c in grade.checks:
            if c.outcome in (Outcome.passed, Outcome.left_out):
                continue
            key = (c.id, _NUMBER.sub("#", c.feedback.summary))
            seen[key].add(student)
            example.setdefault(key, c.feedback.summary)
    ranked = sorted(seen, key=lambda k: (-len(seen[k]), k))[:most]
    return [CommonFailure(check=k[0], message=k[1], students=len(seen[k]), example=example[k]) for k in ranked]


def check_rows(grades: dict[str, Grade]) -> list[CheckRow]:
    claims: dict[str, str] = {}
    passed: collections.Counter[str] = collections.Counter()
    graded: collections.Counter[str] = collections.Counter()
    seconds: dict[str, list[float]] = collections.defaultdict(list)
    for grade in grades.values():
        for c in grade.checks:
            if c.outcome is Outcome.left_out:
                continue
            claims[c.id] = c.claim
            graded[c.id] += 1
            passed[c.id] += c.outcome is Outcome.passed
            seconds[c.id].append(c.seconds)
    return [CheckRow(i, claims[i], passed[i], graded[i], statistics.median(seconds[i])) for i in claims]


def troubled(grades: dict[str, Grade]) -> list[tuple[str, str]]:
    """Submissions the grader could not grade in full: (student, what happened)."""
    rows = []
    for student, grade in grades.items():
        if grade.harness_error:
            rows.append((student, "the autograder failed on the whole submission"))
            continue
        counts = collections.Counter(OUTCOME_LABELS[c.outcome.value] for c in grade.checks if c.outcome in _TROUBLE)
        unread = [m for m in grade.messages if m.startswith(UNREADABLE)]
        what = [*unread, *(f"{label}: {n} check{'s' * (n > 1)}" for label, n in sorted(counts.items()))]
        if what:
            rows.append((student, "; ".join(what)))
    return rows


def score_histogram(grades: dict[str, Grade], max_score: float) -> Markup:
    """Inline SVG. A bare Figure, not pyplot: no backend is chosen and no global state touched, so the
    batch's threads and the caller's own plots are left alone."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(6, 2.6))
    axes = figure.subplots()
    axes.hist([g.score for g in grades.values()], bins=min(20, max(5, len(grades) // 3)),
              range=(0, max(max_score, 1e-9)), color="#3b6ea5", edgecolor="white")
    axes.set_xlabel("score")
    axes.set_ylabel("submissions")
    axes.spines[["top", "right"]].set_visible(False)
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight")
    text = buffer.getvalue()
    return Markup(text[text.index("<svg"):])  # noqa: S704 - drawn here from numbers and our own labels


def problem_means(grades: dict[str, Grade]) -> list[tuple[str, float, float]]:
    """(problem, mean score, maximum) in the assignment's order."""
    scores: dict[str, list[float]] = collections.defaultdict(list)
    maxima: dict[str, float] = {}
    for grade in grades.values():
        for p in grade.problems:
            scores[p.id].append(p.score)
            maxima[p.id] = max(maxima.get(p.id, 0.0), p.max_score)
    return [(p, statistics.fmean(s), maxima[p]) for p, s in scores.items()]


def render_class_report(title: str, assignment: str, grades: dict[str, Grade]) -> str:
    max_score = max((g.max_score for g in grades.values()), default=0.0)
    scores = [g.score for g in grades.values()] or [0.0]
    rows = check_rows(grades)
    return render("class_report.html.j2", title=title, assignment=assignment, count=len(grades),
                  max_score=max_score, mean=statistics.fmean(scores), median=statistics.median(scores),
                  histogram=score_histogram(grades, max_score) if grades else "", problems=problem_means(grades),
                  checks=sorted(rows, key=lambda r: (r.rate, r.id)),
                  slowest=sorted(rows, key=lambda r: -r.median_seconds)[:10],
                  failures=common_failures(grades), troubled=troubled(grades), css=static("report.css"))


def write_class_report(title: str, assignment: str, grades: dict[str, Grade], path: Path) -> None:
    path.write_text(render_class_report(title, assignment, grades), encoding="utf-8")
