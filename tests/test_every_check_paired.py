"""Every check has a reference that passes it and a fault that fails it.

Passes: the pinned grades of the bundled references (tests/golden_grades.json, which
test_golden_grades.py keeps true, on the real data sets) show each check passed. A check no pinned
grading reaches here (it needs data the data root lacks) names the test whose reference passes it,
in its problem module's `PASSED_BY_TEST`.

Fails: each problem's test module declares the mistakes it grades in one table, `FAULTS`
(conftest.Fault), each graded by that module's parametrized test, which asserts exactly what it
loses. Together they fail every check. A check that only a file or a data set can fail (a
checkpoint below its target on the real test set) names its test in `FAILED_BY_TEST`.
"""

from __future__ import annotations

import importlib
import inspect
import json
from pathlib import Path

import pytest

from autograder.assignments import assignment_ids, load_assignment

GOLDEN = Path(__file__).parent / "golden_grades.json"
TEST_MODULE = {"umn-csci5527-hw3": "test_{problem}", "uw-cse446-hw4": "test_uw_{problem}",
               "fa24-dl-hw5": "test_fa24_hw5_{problem}",
               "fa24-dl-final": "test_fa24_final_{problem}",
               "fa24-dl-hw7": "test_fa24_hw7_{problem}",
               "ualberta-hw4": "test_ualberta_{problem}"}
PROBLEMS = [(aid, p.id) for aid in assignment_ids() for p in load_assignment(aid).problems]


def problem_tests(aid: str, problem: str):
    return importlib.import_module(TEST_MODULE[aid].format(problem=problem))


def named_by(module, check_id: str, test_name: str) -> bool:
    """`test_name` is a test of `module` whose source names the check (its id, or a constant holding it)."""
    test = getattr(module, test_name, None)
    if not (test_name.startswith("test_") and callable(test)):
        return False
    source = inspect.getsource(test)
    constants = [name for name, value in vars(module).items() if value == check_id and name.isupper()]
    return any(name in source for name in (check_id, *constants))


def declared(module, table: str) -> dict[str, str]:
    found = getattr(module, table, {})
    wrong = {c: t for c, t in found.items() if not named_by(module, c, t)}
    assert wrong == {}, f"{module.__name__}.{table} names tests that do not exist or do not name their check"
    return found


@pytest.mark.parametrize("aid, problem", PROBLEMS)
def test_every_check_has_a_fault_that_fails_it(aid, problem):
    module = problem_tests(aid, problem)
    failed = {check for fault in module.FAULTS.values() for check in fault.lost}
    checks = {c.id for c in load_assignment(aid).checks if c.problem_id == problem}
    assert failed <= checks, f"faults lose checks that {problem} does not have: {sorted(failed - checks)}"
    assert sorted(checks - failed - set(declared(module, "FAILED_BY_TEST"))) == []


@pytest.mark.parametrize("aid", assignment_ids())
def test_every_check_has_a_reference_that_passes_it(aid):
    pinned = json.loads(GOLDEN.read_text())[aid]["reference"]
    elsewhere = {c for p in load_assignment(aid).problems for c in declared(problem_tests(aid, p.id), "PASSED_BY_TEST")}
    not_passed = [c.id for c in load_assignment(aid).checks
                  if pinned.get(c.id, ("not graded",))[0] != "passed" and c.id not in elsewhere]
    assert not_passed == []
