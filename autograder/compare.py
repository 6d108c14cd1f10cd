"""Comparing returned arrays with expected ones, and saying how they differ.

Runs in the trusted parent on plain numpy arrays (loaded without pickle). The message always
takes one shape: shape, then dtype, then "k of n elements differ, largest difference d at index i",
then a hint when the difference has a recognisable cause (a transpose, a flipped sign).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from autograder.results import ArrayReport


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


def compare_arrays(
    name: str, got: Any, expected: np.ndarray, tolerance: Tolerance, *, reveal: bool
) -> ArrayComparison:
    """Compare one returned array with the expected one.

    `reveal` is False for hidden checks: then no expected value, and no difference from which
    it could be recovered, appears in the report.
    """
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
