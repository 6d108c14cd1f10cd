"""Homework 5, Question 1: gradient descent on R(w) = 13 w1^2 - 10 w1 w2 + 4 w1 + 2 w2^2 - 2 w2 + 1.

Keep the function names and signatures: the autograder calls them. w is a numpy array of shape (2,),
w[0] = w1 and w[1] = w2.
"""

import numpy as np


def R(w: np.ndarray) -> float:
    """R(w) for w of shape (2,), as a number."""
    # TODO (a): the function of the handout.
    raise NotImplementedError("R")


def grad_R(w: np.ndarray) -> np.ndarray:
    """The gradient of R at w: an array of shape (2,), (dR/dw1, dR/dw2)."""
    # TODO (a): differentiate R by hand.
    raise NotImplementedError("grad_R")


def optimum() -> np.ndarray:
    """The exact w* where grad R(w*) = 0: an array of shape (2,)."""
    # TODO (a): solve the optimality condition exactly (by hand, or with np.linalg.solve).
    raise NotImplementedError("optimum")


def gradient_descent(eta: float, iters: int = 500, w0=None) -> np.ndarray:
    """Run w <- w - eta * grad_R(w) for `iters` steps, from w0 (np.zeros(2) when w0 is None).

    Return the distance ||w - w*|| to optimum() after each step: an array of shape (iters,), whose
    first entry is the distance after the first step. Do not change the caller's w0.
    """
    # TODO (b): gradient descent; then plot the distances for eta = 0.02, 0.05 and 0.1.
    raise NotImplementedError("gradient_descent")


if __name__ == "__main__":
    import matplotlib.pyplot as plt

    for eta in (0.02, 0.05, 0.1):
        plt.semilogy(gradient_descent(eta), label=f"eta = {eta}")
    plt.xlabel("iteration")
    plt.ylabel("||w - w*||")
    plt.legend()
    plt.show()
