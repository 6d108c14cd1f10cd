"""fa24-dl-final: the mock final of a Fall 2024 deep-learning course (handout
../shared/seeds/003_e3b0b6e208b34aec.txt), the questions with numeric parts, all graded from final.py.

Q1 Lloyd's algorithm, Q2 competitive learning, Q3 a width-1 convolution's backward pass, Q5 the
idealised GAN, Q7 graph self-attention. Q4 (an ELBO) and Q6 (an RNN sketch) have no numeric part and
are not declared; the written parts of the others (Q1 b, Q2 a, Q7 b) are graded by hand. The
handwritten solutions have mistakes; the checks follow the problems and the mathematics (each
problem's docstring says where).
"""

from autograder.assignments.fa24_dl_final import q1, q2, q3, q5, q7
from autograder.model import Assignment

ASSIGNMENT = Assignment(
    id="fa24-dl-final",
    title="Deep learning (Fall 2024), mock final",
    problems=(q1.PROBLEM, q2.PROBLEM, q3.PROBLEM, q5.PROBLEM, q7.PROBLEM),
)
