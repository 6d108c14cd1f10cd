"""fa24-dl-hw5 (a deep-learning course of Fall 2024, Homework 5): gradient descent (Q1) and numpy
backpropagation trained by SGD on a friend's network's data (Q2).

The handout gives no points for Homework 5: this project declares 2 points per bullet of each
question, the written bullets graded by hand (Q1 (c), Q2 (e) and (f)); see tests/test_points.py.
"""

from autograder.assignments.fa24_dl_hw5 import q1, q2
from autograder.model import Assignment

ASSIGNMENT = Assignment(
    id="fa24-dl-hw5",
    title="Deep Learning (Fall 2024), Homework 5",
    problems=(q1.PROBLEM, q2.PROBLEM),
)
