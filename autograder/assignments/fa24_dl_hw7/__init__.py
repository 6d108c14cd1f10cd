"""fa24-dl-hw7 (Deep Learning, Fall 2024, Homework 7): k-means as a network, a Gaussian autoencoder.

The handout gives no points for Homework 7; the split declared here is the autograder's own (see
tests/test_points.py): each question 15, of which the code graded here is 10 and the written parts
(Q1 a and c, Q2 a and c) 5, graded by hand.
"""

from autograder.assignments.fa24_dl_hw7 import q1, q2
from autograder.model import Assignment

ASSIGNMENT = Assignment(
    id="fa24-dl-hw7",
    title="Deep Learning (Fall 2024), Homework 7",
    problems=(q1.PROBLEM, q2.PROBLEM),
)
