"""umn-csci5527-hw3 (CSCI5527 Deep Learning, Fall 2022, homework 3). Handout points, out of 15.

Written comparisons are graded by hand; only the code problems are declared here.
"""

from autograder.assignments.umn_csci5527_hw3 import p1, p2, p3
from autograder.model import Assignment

ASSIGNMENT = Assignment(
    id="umn-csci5527-hw3",
    title="CSCI5527 Deep Learning (Fall 2022), Homework Set 3",
    problems=(p1.PROBLEM, p2.PROBLEM, p3.PROBLEM),
)
