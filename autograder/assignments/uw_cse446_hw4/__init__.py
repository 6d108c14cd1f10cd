"""uw-cse446-hw4 (CSE 446/546 Machine Learning, UW, homework 4). Handout points.

One module per problem, in handout order; the written parts are graded by hand.
"""

from autograder.assignments.uw_cse446_hw4 import a1, a2, a3, a4, a5, a6, b1
from autograder.model import Assignment

ASSIGNMENT = Assignment(
    id="uw-cse446-hw4",
    title="CSE 446/546 Machine Learning (Autumn 2020), Homework #4",
    problems=(a1.PROBLEM, a2.PROBLEM, a3.PROBLEM, a4.PROBLEM, a5.PROBLEM, a6.PROBLEM, b1.PROBLEM),
)
