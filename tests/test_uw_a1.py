"""A1 of uw-cse446-hw4: the reference scores 10, the template 0 with "not answered", and each kind
of wrong ANSWERS loses exactly its questions with a message that says why."""

from __future__ import annotations

import pytest
from conftest import Fault, by_id, checks_of, lost_in, reference, template

FILE = "hw4_a1.py"
ALL = {f"a1.answer.{q}" for q in "abcde"}


@pytest.fixture(scope="module")
def ref():
    return reference(FILE)


def test_reference_scores_full_marks(grade_hw4, ref):
    g = grade_hw4({FILE: ref})
    assert [c.score for c in checks_of(g, "a1")] == [2.0] * 5
    assert all(c.visibility == "after_due_date" for c in checks_of(g, "a1"))


def test_template_scores_zero_with_not_answered(grade_hw4):
    g = grade_hw4({FILE: template(FILE)})
    assert lost_in(g, "a1") == ALL
    for c in checks_of(g, "a1"):
        assert c.score == 0 and "is not answered: ANSWERS" in c.feedback.summary
        assert "Replace None with True or False" in c.feedback.hint


FAULTS = {  # each mistake, the checks it loses, and what the message of `read` must say
    "wrong_answer": Fault([('"b": False,', '"b": True,')], {"a1.answer.b"}, ["A1.b: True is not correct", "identical"]),
    "string_not_bool": Fault([('"c": True,', '"c": "True",')], {"a1.answer.c"}, ["should be True or False, but it is the str 'True'"]),
    "wrong_false": Fault([('"d": False,', '"d": True,')], {"a1.answer.d"}, ["A1.d: True is not correct"]),
    "missing_key": Fault([('    "e": True,', "")], {"a1.answer.e"}, ["ANSWERS has no key 'e'"]),
    "int_not_bool": Fault([('"a": True,', '"a": 1,')], {"a1.answer.a"}, ["but it is the int 1"]),
}


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_fault_loses_exactly_its_question(grade_hw4, ref, fault):
    FAULTS[fault].assert_graded(grade_hw4({FILE: FAULTS[fault].apply(ref)}), "a1")


def test_answers_missing_altogether(grade_hw4):
    g = grade_hw4({FILE: "ANSWER = {'a': True}\n"})
    assert lost_in(g, "a1") == ALL
    assert "hw4_a1.py should define ANSWERS" in by_id(g, "a1.answer.a").feedback.summary
    assert "ANSWERS is missing" in by_id(g, "a1.answer.a").feedback.summary
