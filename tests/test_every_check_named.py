"""Every check of every assignment is named by a test beside its reference-passes test (the
references are graded whole, with full marks, in each problem's tests): a check that no test names
has no fault shown to fail it. Ids written as patterns (f"a1.answer.{q}") do not count."""

from __future__ import annotations

from pathlib import Path

import pytest

from autograder.assignments import assignment_ids, load_assignment

TESTS = Path(__file__).parent


@pytest.mark.parametrize("aid", assignment_ids())
def test_every_check_is_named_by_a_test(aid):
    text = "\n".join(p.read_text() for p in sorted(TESTS.glob("test_*.py")) if p.name != Path(__file__).name)
    assert [c.id for c in load_assignment(aid).checks if c.id not in text] == []
