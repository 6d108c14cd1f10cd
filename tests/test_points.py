"""The handout's points, in one place: every problem declares the handout's points for each part of
the code it grades (`Problem.parts`, which the model holds its checks to); here those parts, with the
written parts graded by hand, add up to the handout's points for the problem, and the problems to
the handout's total."""

from __future__ import annotations

import pytest

from autograder.assignments import assignment_ids, load_assignment
from autograder.model import Check, Problem, Verdict

HANDOUT: dict[str, dict[str, float]] = {
    # ../shared/seeds/003_e3b0b6e208b34aec.txt, "## Homework 5" (line 385): no points given. Declared by this
    # project: 2 per bullet, Q1 (a)-(c) (lines 401-403), Q2 (a)-(f) (lines 407-425).
    "fa24-dl-hw5": {"q1": 6, "q2": 12},
    # ../shared/seeds/003_e3b0b6e208b34aec.txt, the mock final's questions with numeric parts (each part's
    # "(n pts)"): Q1 3 + 2 (lines 22, 36), Q2 1 + 4 (lines 49, 64), Q3 3 (line 93; its part (a) is missing
    # from the handout), Q5 2.5 + 2.5 (lines 164, 178), Q7 2 + 3 (lines 232, 240). Q4 and Q6 have no
    # numeric part and are not declared.
    "fa24-dl-final": {"q1": 5, "q2": 5, "q3": 3, "q5": 5, "q7": 5},
    # ../shared/seeds/002_7a7f64a6864d9a9d.txt: "Problem 1 (...; 4.5/15)" (line 11), "Problem 2 (...;
    # 4.5/15)" (line 60), "Problem 3 (...; 6/15)" (line 74).
    "umn-csci5527-hw3": {"p1": 4.5, "p2": 4.5, "p3": 6.0},
    # ../shared/seeds/000_2b7f888c5a23a7ac.txt: the sum of each problem's "[n points]", extra credit aside:
    # A1 5 x 2, A2 10+10+5+5, A3 15+15, A4 15+15+15+5+10, A5 10+15+5+15+5+5+5, A6 20+5+10+5+10+10,
    # B1 5+5+10+10+5.
    "uw-cse446-hw4": {"a1": 10, "a2": 30, "a3": 30, "a4": 60, "a5": 60, "a6": 60, "b1": 35},
    # ../shared/seeds/003_e3b0b6e208b34aec.txt, Homework 7 (line 264) gives no points: the autograder's own
    # split, 15 a question (Q1 line 272, Q2 line 307), 10 of them for the code it grades.
    "fa24-dl-hw7": {"q1": 15, "q2": 15},
    # ../shared/seeds/004_24d4f9546b553845.txt: "Question 4. [25 MARKS]" (line 86), "Question 5. [30 MARKS]"
    # (line 94). Questions 1-3 (45 marks) are written and have no code: not here.
    "ualberta-hw4": {"q4": 25, "q5": 30},
}

BY_HAND: dict[str, dict[str, dict[str, float]]] = {
    # Q1 (c) "is even larger eta beneficial?", Q2 (e) the decision-boundary plot, (f) the hacks: written.
    "fa24-dl-hw5": {"q1": {"c": 2}, "q2": {"e": 2, "f": 2}},
    # Written parts with the handout's points: Q1 (b) a different initialisation, Q2 (a) the rule stated,
    # Q7 (b) transformer layers explained. Q1 (a)'s drawing and Q2 (b)'s interpretation share their part.
    "fa24-dl-final": {"q1": {"b": 2}, "q2": {"a": 1}, "q7": {"b": 3}},
    # Written comparisons share their parts with the code (the spec gives each part to the code).
    "umn-csci5527-hw3": {},
    # Parts that are only written (spec: "graded by hand and are not the autograder's"): A2 d, A5 e-g,
    # A6 f (naming topics), B1 e. A5 h and B1 f are extra credit, not counted.
    "uw-cse446-hw4": {"a2": {"d": 5}, "a5": {"e": 5, "f": 5, "g": 5}, "a6": {"f": 10}, "b1": {"e": 5}},
    # Written: Q1 (a) the update's derivation, (c) another initialisation and its results (the discussion
    # of (b) goes with (c)); Q2 (a) the block sketch, (c) suggested modifications and their results.
    "fa24-dl-hw7": {"q1": {"a": 3, "c": 2}, "q2": {"a": 2, "c": 3}},
    # Q5 (a) [8] and (b) [2], the CELBO's derivation, and (d) [5], which digits are hardest to generate.
    "ualberta-hw4": {"q5": {"a": 8, "b": 2, "d": 5}},
}

TOTAL: dict[str, float] = {
    "fa24-dl-hw5": 18,  # declared: 2 points for each of the 9 bullets (the handout gives none)
    # The declared questions' points (the mock final's seven questions carry 5 each where the handout gives
    # them all; Q3's part (a), Q4 and Q6 are not here).
    "fa24-dl-final": 23,
    "umn-csci5527-hw3": 15,  # every part is given as "n/15"
    # The handout states no total: A1-A4 and A7 (which gives no points) for everyone, one of A5 and A6
    # ("same total point value", line 12), B1 for 546 students only. Here: every problem's points added.
    "uw-cse446-hw4": 285,
    "fa24-dl-hw7": 30,  # the autograder's split: the handout gives no points
    # "Total marks: 100" (line 6), of which Q4 and Q5 (55) have code; Q1-Q3 (45) are written only.
    "ualberta-hw4": 55,
}


@pytest.mark.parametrize("aid", assignment_ids())
def test_declared_parts_add_up_to_the_handouts_points(aid):
    assignment = load_assignment(aid)
    assert [p.id for p in assignment.problems] == list(HANDOUT[aid])
    for problem in assignment.problems:
        by_hand = BY_HAND[aid].get(problem.id, {})
        assert not set(problem.parts) & set(by_hand), problem.id
        assert sum(problem.parts.values()) + sum(by_hand.values()) == HANDOUT[aid][problem.id], problem.id
    assert sum(HANDOUT[aid].values()) == TOTAL[aid]


def _check(id: str, part: str, points: float, extra_credit: bool = False) -> Check:
    return Check(id=id, claim="c", part=part, points=points, extra_credit=extra_credit,
                 run=lambda s: {}, judge=lambda g, e, c: Verdict.passed("ok"))


def test_checks_must_share_exactly_their_parts_points():
    checks = (_check("p.one", "a", 1), _check("p.two", "a", 1.5), _check("p.bonus", "a", 5, extra_credit=True))
    Problem(id="p", title="p", files=("p.py",), parts={"a": 2.5}, checks=checks)  # extra credit on top

    with pytest.raises(ValueError, match=r"part 'a': the handout's points are 3, its checks' \(extra credit aside\) "
                                         r"sum to 2.5: p.one 1, p.two 1.5"):
        Problem(id="p", title="p", files=("p.py",), parts={"a": 3}, checks=checks)
    with pytest.raises(ValueError, match=r"part 'b': the handout's points are 1, its checks' .* sum to 0: none"):
        Problem(id="p", title="p", files=("p.py",), parts={"a": 2.5, "b": 1}, checks=checks)
    with pytest.raises(ValueError, match=r"checks of parts \['c'\], which `parts` does not declare"):
        Problem(id="p", title="p", files=("p.py",), parts={"a": 2.5}, checks=(*checks, _check("p.three", "c", 1)))
