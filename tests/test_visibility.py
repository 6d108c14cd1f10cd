"""What a judge may reveal is decided by the check's visibility, not by the judge: every check of
every assignment, declared hidden and judged (in-process) on a wrong answer shaped like the
reference's, shows none of the reference's values in its feedback."""

from __future__ import annotations

import re

import numpy as np
import pytest

from autograder.assignments import assignment_ids, load_assignment
from autograder.expected import ExpectedValues, missing_data
from autograder.model import Visibility
from autograder.records import RecordError
from autograder.results import Outcome
from autograder.runner import _judge
from autograder.session import Ran


def _wrong(value):
    """A wrong answer of the same kind: every number moved, so none is the reference's."""
    if isinstance(value, np.ndarray) and value.dtype.kind == "f":
        return np.asarray(value * 1.37 + 0.291)  # a 0-d array stays an array (times a float, it is a scalar)
    if isinstance(value, float):
        return value * 1.37 + 0.291
    return value


def _shown(value) -> set[str]:
    """How a judge would print the reference's numbers: the precise ones only (no integers, which
    shapes and counts share), in the formats the judges use."""
    numbers = np.asarray(value, dtype=np.float64).ravel()[:50] if isinstance(value, np.ndarray | float) else []
    forms = set()
    for x in numbers:
        if np.isfinite(x) and x != round(x):
            forms |= {f"{x:.6g}", f"{x:.4f}", f"{x:.3f}", repr(float(x))}
    return {f for f in forms if len(f.lstrip("-")) >= 5}


def _judged(aid: str, make_config):
    assignment, config = load_assignment(aid), make_config()
    # A judge that never reads the reference has nothing of it to reveal (`Check.needs_expected`).
    checks = [c for c in assignment.checks if c.needs_expected and not missing_data(c, config)]
    values = ExpectedValues(assignment, config).get(checks)
    for check in checks:
        expected = values[check.id]
        assert isinstance(expected, dict), f"the reference failed {check.id}"
        hidden = check.model_copy(update={"visibility": Visibility.hidden})
        wrong = {k: _wrong(v) for k, v in expected.items()}
        try:  # the wrong answer in the student half's record: as a judge receives it
            got = check.read(wrong, "run")
        except RecordError:  # the trusted half's record has more fields: the student's, and others
            got = check.read(wrong, "expected")
        wanted = check.read(expected, "expected")
        yield check, expected, _judge(hidden, lambda: hidden.judge(got, wanted, hidden), Ran({}, 0.0, ""), expected)


@pytest.mark.parametrize("aid", assignment_ids())
def test_a_hidden_check_shows_no_reference_value_whatever_its_judge_does(aid, make_config):
    judged, total, leaks = 0, 0, []
    for check, expected, result in _judged(aid, make_config):
        total += 1
        if result.outcome is Outcome.harness_error:  # outputs this judge does not take (other fields)
            continue
        judged += 1
        printed = set(re.findall(r"-?\d+\.\d+(?:e[-+]?\d+)?", result.feedback.model_dump_json()))
        shown = set().union(*(_shown(v) for v in expected.values()))
        leaks += [(check.id, s) for s in sorted(shown & printed)]
    assert judged >= total / 2, f"only {judged} of {total} checks could be judged on the reference's keys"
    assert leaks == []
