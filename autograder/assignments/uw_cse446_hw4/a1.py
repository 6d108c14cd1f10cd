"""A1: conceptual true/false questions (a to e, 2 points each), graded from `ANSWERS` in `hw4_a1.py`.

The answers and their explanations live in the reference (`ANSWERS` and `WHY` of its `hw4_a1.py`),
never here: this module ships in the students' self-check bundle. They reach the judge as the
expected values, read from the reference by the trusted half; the student half only reports what
the student wrote. A template marks an unanswered question with `None`, which scores 0 with "not
answered". The checks are shown after the due date, so the answers are not revealed before it.
"""

from __future__ import annotations

from typing import Literal

from autograder.model import Check, Problem, Verdict, Visibility
from autograder.records import Record
from autograder.student import Subject, SubmissionError

MODULE = "hw4_a1"


# --- (a) to (e) True or False: five conceptual questions ------------------------------------------

class Written(Record):
    """What the student wrote for one question."""

    status: Literal["answered", "missing", "unanswered", "not_bool"]
    """'missing': ANSWERS has no such key; 'unanswered': its value is None; 'not_bool': something else
    than True or False (see `type_name`, `text`); 'answered': a bool (see `answer`)."""
    answer: bool | None = None
    """The student's answer, where `status` is 'answered'."""
    type_name: str | None = None
    """The type of what is there instead of a bool, where `status` is 'not_bool'."""
    text: str | None = None
    """Its repr, cut to 40 characters, where `status` is 'not_bool'."""


def run_answer(question: str):
    """What the student wrote for `question`: the bool, or a description of what is there instead."""

    def run(subject: Subject) -> Written:
        module = subject.module(MODULE)
        answers = getattr(module, "ANSWERS", None)
        if not isinstance(answers, dict):
            found = "is missing" if answers is None else f"is a {type(answers).__name__}"
            raise SubmissionError(f"hw4_a1.py should define ANSWERS, a dict from 'a'..'e' to True or False; "
                                  f"ANSWERS {found}.")
        if question not in answers:
            return Written(status="missing")
        value = answers[question]
        if value is None:
            return Written(status="unanswered")
        if not isinstance(value, bool):
            return Written(status="not_bool", type_name=type(value).__name__, text=repr(value)[:40])
        return Written(status="answered", answer=value)

    return run


class Solution(Record):
    """The reference's answer to one question and why."""

    answer: bool
    why: str
    """The explanation shown with a wrong answer (the reference's WHY)."""


def expected_answer(question: str):
    """The reference's answer to `question` and why (trusted half: it runs on the reference only)."""

    def expected(subject: Subject) -> Solution:
        module = subject.module(MODULE)
        return Solution(answer=bool(module.ANSWERS[question]), why=str(module.WHY[question]))

    return expected


def judge_answer(question: str):
    def judge(got: Written, expected: Solution, check: Check) -> Verdict:
        status = got.status
        if status == "missing":
            return Verdict.failed(f"ANSWERS has no key {question!r}, so question A1.{question} scores 0.",
                                  hint=f'Add "{question}": True or "{question}": False to ANSWERS.')
        if status == "unanswered":
            return Verdict.failed(f"A1.{question} is not answered: ANSWERS[{question!r}] is None.",
                                  hint="Replace None with True or False.")
        if status == "not_bool":
            return Verdict.failed(
                f"ANSWERS[{question!r}] should be True or False, but it is the {got.type_name} {got.text}.",
                hint='Write the bool itself (True, not "True" or 1).')
        if got.answer is expected.answer:
            return Verdict.passed(f"A1.{question}: {got.answer} is correct.")
        return Verdict.failed(f"A1.{question}: {got.answer} is not correct.",
                              details=(f"The answer is {expected.answer}: {expected.why}.",))

    return judge


PROBLEM = Problem(
    id="a1",
    title="Conceptual questions",
    files=("hw4_a1.py",),
    # Handout ../shared/seeds/000_2b7f888c5a23a7ac.txt, A1 a-e: [2 points] each (lines 18-22); the
    # justification is written, the spec gives the points to the True/False answer.
    parts=dict.fromkeys("abcde", 2.0),
    checks=tuple(
        Check(id=f"a1.answer.{q}", part=q, points=2.0, visibility=Visibility.after_due_date,
              claim=f"ANSWERS[{q!r}] is the right True/False answer to A1.{q}",
              run=run_answer(q), judge=judge_answer(q), expected=expected_answer(q))
        for q in "abcde"
    ),
)
