"""ualberta-hw4 (University of Alberta, Homework Assignment #4, due December 8, 2022): the VAE (Q4)
and the conditional VAE (Q5) of the Julia notebook, ported to Python. Handout points.

Questions 1-3 and Q5's parts (a), (b) and (d) are written, graded by hand.
"""

from autograder.assignments.ualberta_hw4 import q4, q5
from autograder.model import Assignment

ASSIGNMENT = Assignment(
    id="ualberta-hw4",
    title="University of Alberta, Homework Assignment #4 (Fall 2022): VAE and conditional VAE",
    problems=(q4.PROBLEM, q5.PROBLEM),
)
