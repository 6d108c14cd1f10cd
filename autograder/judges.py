"""Reusable judge halves. Each returns a function `(got, expected, check) -> Verdict`.

Judges run in the trusted parent and see only plain numpy arrays and JSON values: a check's record
(whose fields they name) or, for a check that returns a plain dict, its keys.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from autograder.compare import ArrayComparison, Tolerance, compare_arrays, compare_own
from autograder.model import Check, Judge, Outputs, Verdict
from autograder.records import Record
from autograder.results import Feedback


def _verdict(order: Sequence[str], comparisons: list[ArrayComparison], tolerance: Tolerance,
             noun: str, hints: Mapping[str, str]) -> Verdict:
    wrong = [c for c in comparisons if not c.equal]
    if not wrong:
        return Verdict.passed(f"All {len(order)} {noun}s match within {tolerance.describe()}.")
    first = wrong[0]
    name = first.report.name
    summary = f"{name} is the first {noun} that differs ({len(wrong)} of {len(order)} wrong)."
    details = first.lines()
    if len(wrong) > 1:
        details.append("Also wrong: " + ", ".join(c.report.name for c in wrong[1:]) + ".")
    return Verdict(
        fraction=(len(order) - len(wrong)) / len(order),
        feedback=Feedback(
            summary=summary,
            details=tuple(details),
            arrays=tuple(c.report for c in wrong),
            hint=first.hint or hints.get(name),
        ),
    )


def values_match(order: Sequence[str] | Mapping[str, Callable[[Record], Any]], tolerance: Tolerance, *,
                 noun: str = "value", hints: Mapping[str, str] | None = None) -> Judge:
    """Every named output equals the expected one; partial credit per name, in `order`.

    `order` names fields of the check's record (a plain dict's keys, for a check without one), or
    maps the names the student reads to where each value is in the record
    (`{"V1.g": lambda r: r.grads.V1}`). The first wrong name leads the feedback, so `order` should
    be the order in which a student computes them (for backward: the backward order), to show where
    a chain breaks.
    """
    read = dict(order) if isinstance(order, Mapping) else {k: functools.partial(_field, name=k) for k in order}

    def judge(got: Outputs, expected: Outputs, check: Check) -> Verdict:
        comparisons = [compare_arrays(k, _read(at, got), at(expected), tolerance) for k, at in read.items()]
        return _verdict(list(read), comparisons, tolerance, noun, hints or {})

    return judge


def outputs_agree(pairs: Mapping[str, tuple[str, str]], tolerance: Tolerance, *, noun: str,
                  explain: str) -> Judge:
    """Two of the student's own outputs agree with each other (no expected values involved).

    `pairs` maps a display name to the two output keys compared; `explain` says what the
    disagreement means, for the hint.
    """

    def judge(got: Outputs, expected: Outputs, check: Check) -> Verdict:
        comparisons = [compare_own(name, _field(got, a), _field(got, b), tolerance) for name, (a, b) in pairs.items()]
        verdict = _verdict(list(pairs), comparisons, tolerance, noun, {})
        if verdict.fraction == 1.0:
            return verdict
        return Verdict(fraction=verdict.fraction,
                       feedback=verdict.feedback.model_copy(update={"hint": explain}))

    return judge



def _field(outputs: Outputs | Record, name: str):
    """A record's field, or a plain dict's entry; None where absent (compared as missing)."""
    return getattr(outputs, name, None) if isinstance(outputs, Record) else outputs.get(name)


def _read(at: Callable[[Record], Any], got: Outputs | Record):
    """The student's value where `at` points; None (compared as missing) where a plain dict lacks it."""
    try:
        return at(got)
    except (KeyError, AttributeError, IndexError):
        return None
