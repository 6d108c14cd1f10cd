"""Homework 5, Question 1: gradient descent on R(w) = 13 w1^2 - 10 w1 w2 + 4 w1 + 2 w2^2 - 2 w2 + 1.

grad R(w) = (26 w1 - 10 w2 + 4, -10 w1 + 4 w2 - 2); setting it to zero gives w* = (1, 3). R is a
quadratic with Hessian H = [[26, -10], [-10, 4]], whose eigenvalues are 15 +- sqrt(221), about 29.866
and 0.134: gradient descent from any start converges if and only if eta < 2 / 29.866 = 0.0670, so
eta = 0.1 diverges, by a factor |1 - 0.1 * 29.866| = 1.987 a step.

Handout's solution (c) says larger steps fail because "the 1st-order Taylor approximation is no
longer very accurate"; for this quadratic the exact reason is eta * lambda_max > 2 (the iteration
matrix I - eta H then has an eigenvalue below -1).
"""

import numpy as np

HESSIAN = np.array([[26.0, -10.0], [-10.0, 4.0]])
LINEAR = np.array([4.0, -2.0])


def R(w: np.ndarray) -> float:
    """R(w) for w of shape (2,)."""
    w1, w2 = w
    return float(13 * w1**2 - 10 * w1 * w2 + 4 * w1 + 2 * w2**2 - 2 * w2 + 1)


def grad_R(w: np.ndarray) -> np.ndarray:
    """The gradient of R at w, shape (2,)."""
    w1, w2 = w
    return np.array([26 * w1 - 10 * w2 + 4, -10 * w1 + 4 * w2 - 2], dtype=float)


def optimum() -> np.ndarray:
    """w* solving grad R(w) = H w + LINEAR = 0: exactly [1, 3]."""
    return np.linalg.solve(HESSIAN, -LINEAR)


def gradient_descent(eta: float, iters: int = 500, w0=None) -> np.ndarray:
    """w <- w - eta grad R(w), `iters` times from w0 (zeros by default); the distance ||w - w*||
    after each step, shape (iters,)."""
    w = np.zeros(2) if w0 is None else np.array(w0, dtype=float)
    w_star = optimum()
    distances = np.zeros(iters)
    for i in range(iters):
        w = w - eta * grad_R(w)
        distances[i] = np.linalg.norm(w - w_star)
    return distances


if __name__ == "__main__":
    import matplotlib.pyplot as plt

    for eta in (0.02, 0.05, 0.1):
        plt.semilogy(gradient_descent(eta), label=f"eta = {eta}")
    plt.xlabel("iteration")
    plt.ylabel("||w - w*||")
    plt.legend()
    plt.show()
