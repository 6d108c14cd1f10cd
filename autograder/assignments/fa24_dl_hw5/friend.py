"""The "friend's network" of Homework 5, Question 2: the 1,000 points it generated.

The handout's Question 2 starts from "the dataset you generated in HW2 Q2", a homework the handout
does not include. What it does say fixes the shape of that network: a step-activation network
("you can't use a step function to do the training"), two inputs (part (e) plots (x1, x2, f(x1, x2))),
three hidden units (the solution's W has dim(z) = 3 rows and its code uses k = 3) and one output
in {0, 1} ("we are targeting binary outputs"). So this project takes for it:

    z = step(W* x + b*),  f = step(U* z + c*),  step(v) = 1 if v > 0 else 0,

with the three hidden units three half-planes and the output their AND (U* = [1, 1, 1],
c* = -2.5): f = 1 inside the triangle with corners (-0.8, -0.6), (0.8, -0.6) and (0, 0.8), 0
outside. The 1,000 inputs are drawn uniformly from the square [-1, 1]^2 by
`np.random.default_rng(FRIEND_SEED)`; the triangle covers 28% of the square, and 300 of these
1,000 points (30%) fall inside it.

Trusted code of the grader, shipped to students as their data (it is the handout's data, not an
answer): `X, Y = friend_dataset()` gives X of shape (2, 1000), one point per column, and Y of
shape (1, 1000), as the handout's code indexes them (X[:, i], Y[0, i]).
"""

from __future__ import annotations

import functools

import numpy as np

FRIEND_SEED = 2024_10_01
"""The handout's due date: any fixed seed would do."""
N_POINTS = 1000

# Each hidden unit is one side of the triangle, positive on the inside: n . x + b > 0.
FRIEND_W = np.array([[0.0, 1.0],      # above the base y = -0.6
                     [-1.4, -0.8],    # left of the right edge, from (0.8, -0.6) to (0, 0.8)
                     [1.4, -0.8]])    # right of the left edge, from (-0.8, -0.6) to (0, 0.8)
FRIEND_B = np.array([[0.6], [0.64], [0.64]])
FRIEND_U = np.array([[1.0, 1.0, 1.0]])
FRIEND_C = np.array([[-2.5]])


def step(v: np.ndarray) -> np.ndarray:
    return (v > 0).astype(np.float64)


def friend_network(X: np.ndarray) -> np.ndarray:
    """The friend's outputs for inputs X of shape (2, N): shape (1, N), values 0 or 1."""
    return step(FRIEND_U @ step(FRIEND_W @ X + FRIEND_B) + FRIEND_C)


@functools.cache
def _dataset(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    X = np.random.default_rng(seed).uniform(-1.0, 1.0, size=(2, n))
    return X, friend_network(X)


def friend_dataset(n: int = N_POINTS, seed: int = FRIEND_SEED) -> tuple[np.ndarray, np.ndarray]:
    """(X, Y): X (2, n) uniform on [-1, 1]^2, Y = friend_network(X) (1, n). Fresh copies."""
    X, Y = _dataset(n, seed)
    return X.copy(), Y.copy()
