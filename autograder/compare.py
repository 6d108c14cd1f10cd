"""Comparing returned arrays with expected ones, and saying how they differ.

Runs in the trusted parent on plain numpy arrays (loaded without pickle). The message always
takes one shape: shape, then dtype, then "k of n elements differ, largest difference d at index i",
then a hint when the difference has a recognisable cause (a transpose, a flipped sign).
"""

from __future__ import annotations

import contextlib
import contextvars
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from autograder.results import ArrayReport, Feedback


@dataclass(frozen=True)
class Tolerance:
    """Elementwise |got - expected| <= atol + rtol * |expected|, as numpy.isclose."""

    atol: float
    rtol: float = 0.0

    def describe(self) -> str:
        parts = [f"absolute {self.atol:g}"] + ([f"relative {self.rtol:g}"] if self.rtol else [])
        return " + ".join(parts)


FOUR_DECIMALS = Tolerance(atol=1e-4, rtol=1e-6)
"""The handout asks for values 'to 4 digits after the decimal point'."""


@dataclass(frozen=True)
class ArrayComparison:
    report: ArrayReport
    equal: bool
    hint: str | None

    def lines(self) -> list[str]:
        return describe(self.report)


def _numeric(value: Any) -> np.ndarray | None:
    if isinstance(value, np.ndarray) and value.dtype.kind in "biuf":
        return value
    if isinstance(value, bool | int | float):
        return np.asarray(value, dtype=np.float64)
    return None


_REVEALING = contextvars.ContextVar("revealing", default=False)
"""Whether the check being judged may show expected values: set by the runner around each judge
from the check's visibility, never by a judge. Outside a judging, nothing is revealed."""


@contextlib.contextmanager
def revealing(allowed: bool) -> Iterator[None]:
    token = _REVEALING.set(allowed)
    try:
        yield
    finally:
        _REVEALING.reset(token)


def reveals_expected() -> bool:
    """For a judge's own wording (a threshold, say): whether this check's feedback may show it."""
    return _REVEALING.get()


_QUOTABLE = 16
"""The most values of one expected output that a judge's sentence could quote."""

_DECIMAL = re.compile(r"(?<![\w.])-?\d+\.(\d+)(?:e([-+]?\d+))?(?![\w]|\.\d)")
"""A decimal number in running text (a sentence's final period is not part of it)."""


def redact(feedback: Feedback, expected: Mapping[str, Any]) -> Feedback:
    """For a check whose visibility hides its expected values: the feedback without figures, and with
    every decimal number that is one of them, at the precision printed, replaced by "(hidden)". The
    runner applies it under every such judge, whatever the judge wrote in its own words.

    Only scalars and small arrays (a few values a sentence could quote) are looked for: among the
    thousands of values of a large array, any number the student's own code produced would match one
    at three decimals, and be hidden for nothing. Large arrays reach the feedback through
    `compare_arrays`, which reveals nothing of them in such a check.

    Figures go too, whatever they draw: pictures of inputs and outputs are a visible check's alone."""
    feedback = feedback.model_copy(update={"figures": ()})
    numbers = [np.asarray(v, dtype=np.float64).ravel() for v in expected.values()
               if (_numeric(v) is not None or isinstance(v, list | tuple) and _all_numbers(v))
               and np.size(v) <= _QUOTABLE]
    pool = np.concatenate(numbers) if numbers else np.empty(0)
    pool = pool[np.isfinite(pool)]
    if pool.size == 0:
        return feedback

    def hide(match: re.Match) -> str:
        decimals, exponent = len(match.group(1)), int(match.group(2) or 0)
        half_unit = 0.5 * 10.0 ** (exponent - decimals)
        return "(hidden)" if np.any(np.abs(pool - float(match.group(0))) <= half_unit * (1 + 1e-9)) else match.group(0)

    def clean(text: str | None) -> str | None:
        return None if text is None else _DECIMAL.sub(hide, text)

    return feedback.model_copy(update={"summary": clean(feedback.summary), "hint": clean(feedback.hint),
                                       "details": tuple(clean(d) for d in feedback.details)})


def _all_numbers(values: list | tuple) -> bool:
    return all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)


def compare_arrays(name: str, got: Any, expected: Any, tolerance: Tolerance) -> ArrayComparison:
    """Compare one returned array with the expected one (the reference's, or derived from it).

    For a check whose visibility hides its expected values, no expected value, and no difference
    from which it could be recovered, appears in the report: the runner decides, by the check's
    visibility, whatever the judge does.
    """
    return _compare(name, got, expected, tolerance, reveal=_REVEALING.get())


def compare_own(name: str, got: Any, other: Any, tolerance: Tolerance) -> ArrayComparison:
    """Compare two of the student's own outputs (e.g. autograd against their backward): nothing
    of the reference is in either, so the values are always shown."""
    return _compare(name, got, other, tolerance, reveal=True)


def _compare(name: str, got: Any, expected: Any, tolerance: Tolerance, *, reveal: bool) -> ArrayComparison:
    expected = np.asarray(expected)
    array = _numeric(got)
    base = dict(name=name, expected_shape=expected.shape, expected_dtype=str(expected.dtype))
    if array is None:
        report = ArrayReport(**base, got_shape=(), got_dtype=type(got).__name__)
        return ArrayComparison(report, False, f"{name} should be a numeric array, not {type(got).__name__}.")
    base.update(got_shape=array.shape, got_dtype=str(array.dtype), total=int(expected.size))
    if array.shape != expected.shape:
        hint = None
        if array.ndim == 2 and array.shape == expected.shape[::-1]:
            hint = f"{name} has the transposed shape: check the order of the matrix product or a missing .T."
        return ArrayComparison(ArrayReport(**base, mismatched=int(expected.size)), False, hint)

    close = np.isclose(array, expected, atol=tolerance.atol, rtol=tolerance.rtol, equal_nan=False)
    bad = ~close
    mismatched = int(bad.sum())
    if mismatched == 0:
        return ArrayComparison(ArrayReport(**base), True, None)

    first = tuple(int(i) for i in np.argwhere(bad)[0])
    diff = np.abs(array.astype(np.float64) - expected.astype(np.float64))
    finite = np.where(np.isfinite(diff), diff, np.inf)
    report = ArrayReport(
        **base,
        mismatched=mismatched,
        first_index=first,
        max_abs_diff=float(finite.max()) if reveal else None,
        got_value=float(array[first]) if reveal else None,
        expected_value=float(expected[first]) if reveal else None,
    )
    return ArrayComparison(report, False, _hint(name, array, expected, tolerance))


def _hint(name: str, got: np.ndarray, expected: np.ndarray, tolerance: Tolerance) -> str | None:
    if not np.all(np.isfinite(got)):
        return f"{name} contains NaN or inf: look for a division by zero or an overflow."
    if np.allclose(got, -expected, atol=tolerance.atol, rtol=tolerance.rtol):
        return f"{name} has the right magnitude but the opposite sign: check a sign in the chain rule."
    if got.ndim == 2 and got.shape[0] == got.shape[1] and np.allclose(got.T, expected, atol=tolerance.atol):
        return f"{name} is the transpose of the expected matrix."
    return None


def describe(report: ArrayReport) -> list[str]:
    """Lines in the fixed order: shape, dtype, elements, where."""
    if report.got_shape != report.expected_shape:
        return [f"{report.name}: expected shape {report.expected_shape}, got {report.got_shape} ({report.got_dtype})."]
    lines = [f"{report.name}: shape {report.got_shape} as expected; dtype {report.got_dtype}."]
    if report.mismatched:
        where = f"first at index {report.first_index}"
        if report.max_abs_diff is not None:
            where = f"largest difference {report.max_abs_diff:.6g}, {where}"
            where += f" (expected {report.expected_value:.6g}, got {report.got_value:.6g})"
        lines.append(f"{report.mismatched} of {report.total} elements differ; {where}.")
    return lines
