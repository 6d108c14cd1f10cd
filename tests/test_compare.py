"""The array comparison that every value check relies on."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, strategies as st
from hypothesis.extra.numpy import array_shapes, arrays

from autograder.compare import FOUR_DECIMALS, compare_arrays, compare_own, describe, revealing

finite = st.floats(-1e3, 1e3, allow_nan=False)


@pytest.fixture(autouse=True)
def visible_check():
    """As when the runner judges a visible check (test_hidden_comparison... narrows it)."""
    with revealing(True):
        yield


@given(arrays(np.float64, array_shapes(min_dims=0, max_dims=3, max_side=5), elements=finite))
def test_an_array_equals_itself_and_its_4_decimal_rounding(a):
    assert compare_arrays("A", a, a, FOUR_DECIMALS).equal
    assert compare_arrays("A", np.round(a, 4), a, FOUR_DECIMALS).equal


@given(arrays(np.float64, array_shapes(min_dims=1, max_dims=3, max_side=5), elements=finite), st.data())
def test_one_changed_element_is_reported_at_its_index(a, data):
    index = tuple(data.draw(st.integers(0, n - 1)) for n in a.shape)
    b = a.copy()
    b[index] += 0.01
    c = compare_arrays("A", b, a, FOUR_DECIMALS)
    assert not c.equal
    assert c.report.first_index == index and c.report.mismatched == 1
    assert abs(c.report.max_abs_diff - 0.01) < 1e-9
    assert describe(c.report)[1] == (
        f"1 of {a.size} elements differ; largest difference {c.report.max_abs_diff:.6g}, first at index {index} "
        f"(expected {a[index]:.6g}, got {b[index]:.6g}).")


def test_hidden_comparison_reveals_no_value():
    with revealing(False):
        c = compare_arrays("A", np.zeros(3), np.ones(3), FOUR_DECIMALS)
    assert (c.report.expected_value, c.report.got_value, c.report.max_abs_diff) == (None, None, None)
    assert describe(c.report)[1] == "3 of 3 elements differ; first at index (0,)."


def test_a_hidden_check_reveals_no_expected_value_but_the_students_own_values_always_show():
    with revealing(False):
        assert compare_arrays("A", np.zeros(3), np.ones(3), FOUR_DECIMALS).report.expected_value is None
        assert compare_own("A", np.zeros(3), np.ones(3), FOUR_DECIMALS).report.expected_value == 1.0


def test_transposed_and_negated_results_get_a_hint():
    a = np.arange(6.0).reshape(2, 3) + 1
    assert "transposed shape" in compare_arrays("W", a.T, a, FOUR_DECIMALS).hint
    assert "opposite sign" in compare_arrays("W", -a, a, FOUR_DECIMALS).hint
    assert "NaN or inf" in compare_arrays("W", a * np.nan, a, FOUR_DECIMALS).hint


def test_non_numeric_output_is_a_message():
    c = compare_arrays("z", "hello", np.float64(1.0), FOUR_DECIMALS)
    assert not c.equal and c.hint == "z should be a numeric array, not str."


def test_redaction_hides_every_expected_number_at_the_precision_printed_and_nothing_else():
    from autograder.compare import redact
    from autograder.results import Feedback

    feedback = Feedback(summary="returned 0.710625; the reference's is 0.306296.", hint="Shape (3, 4); lr 0.003.",
                        details=("4 of 12 elements differ, expected 1.5e-05 near index 2.",))
    hidden = redact(feedback, {"error": np.array(0.30629593), "tiny": 1.5012e-05, "shape": [3, 4]})
    assert hidden.summary == "returned 0.710625; the reference's is (hidden)."
    assert hidden.details == ("4 of 12 elements differ, expected (hidden) near index 2.",)
    assert hidden.hint == "Shape (3, 4); lr 0.003."
