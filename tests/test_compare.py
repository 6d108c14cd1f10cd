"""The array comparison that every value check relies on."""

from __future__ import annotations

import numpy as np
from hypothesis import given, strategies as st
from hypothesis.extra.numpy import array_shapes, arrays

from autograder.compare import FOUR_DECIMALS, compare_arrays, describe

finite = st.floats(-1e3, 1e3, allow_nan=False)


@given(arrays(np.float64, array_shapes(min_dims=0, max_dims=3, max_side=5), elements=finite))
def test_an_array_equals_itself_and_its_4_decimal_rounding(a):
    assert compare_arrays("A", a, a, FOUR_DECIMALS, reveal=True).equal
    assert compare_arrays("A", np.round(a, 4), a, FOUR_DECIMALS, reveal=True).equal


@given(arrays(np.float64, array_shapes(min_dims=1, max_dims=3, max_side=5), elements=finite), st.data())
def test_one_changed_element_is_reported_at_its_index(a, data):
    index = tuple(data.draw(st.integers(0, n - 1)) for n in a.shape)
    b = a.copy()
    b[index] += 0.01
    c = compare_arrays("A", b, a, FOUR_DECIMALS, reveal=True)
    assert not c.equal
    assert c.report.first_index == index and c.report.mismatched == 1
    assert abs(c.report.max_abs_diff - 0.01) < 1e-9
    assert describe(c.report)[1] == (
        f"1 of {a.size} elements differ; largest difference {c.report.max_abs_diff:.6g}, first at index {index} "
        f"(expected {a[index]:.6g}, got {b[index]:.6g}).")


def test_hidden_comparison_reveals_no_value():
    c = compare_arrays("A", np.zeros(3), np.ones(3), FOUR_DECIMALS, reveal=False)
    assert (c.report.expected_value, c.report.got_value, c.report.max_abs_diff) == (None, None, None)
    assert describe(c.report)[1] == "3 of 3 elements differ; first at index (0,)."


def test_transposed_and_negated_results_get_a_hint():
    a = np.arange(6.0).reshape(2, 3) + 1
    assert "transposed shape" in compare_arrays("W", a.T, a, FOUR_DECIMALS, reveal=True).hint
    assert "opposite sign" in compare_arrays("W", -a, a, FOUR_DECIMALS, reveal=True).hint
    assert "NaN or inf" in compare_arrays("W", a * np.nan, a, FOUR_DECIMALS, reveal=True).hint


def test_non_numeric_output_is_a_message():
    c = compare_arrays("z", "hello", np.float64(1.0), FOUR_DECIMALS, reveal=True)
    assert not c.equal and c.hint == "z should be a numeric array, not str."
