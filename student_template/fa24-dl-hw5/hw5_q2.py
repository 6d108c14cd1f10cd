"""Homework 5, Question 2: backpropagation by hand for a 2-layer sigmoid network, trained by SGD
to imitate a friend's network.

The friend's 1,000 points: `from autograder.assignments.fa24_dl_hw5.friend import friend_dataset`,
then `X, Y = friend_dataset()`: X has shape (2, 1000), one point per column, and Y shape (1, 1000).

Shapes (column vectors, as in the handout): x (d, 1), W (k, d), b (k, 1), U (1, k), c (1, 1), and
v_z, z (k, 1), v_f, f (1, 1). Keep the function names and signatures: the autograder calls them.
Use numpy only (no torch) for the forward and backward passes.
"""

import numpy as np


def phi(v: np.ndarray, a: float = 5) -> np.ndarray:
    """The sigmoid with parameter a, elementwise on a numpy array v."""
    # TODO (a)
    raise NotImplementedError("phi")


def phi_prime(v: np.ndarray, a: float = 5) -> np.ndarray:
    """The derivative of phi(v, a) with respect to v, elementwise."""
    # TODO (a): differentiate phi by hand (mind the a).
    raise NotImplementedError("phi_prime")


def forward(x, W, b, U, c):
    """The forward pass for one point x of shape (d, 1): return the tuple (v_z, z, v_f, f)."""
    # TODO (b)
    raise NotImplementedError("forward")


def backward(x, y, W, b, U, c) -> dict:
    """The gradients of the loss (f - y)^2 for one point (x of shape (d, 1), y of shape (1, 1)).

    Return {"grad_W": ..., "grad_b": ..., "grad_U": ..., "grad_c": ...}, each with the shape of its
    parameter.
    """
    # TODO (c): grad_f l, delta_f, delta_z, then the four gradients.
    raise NotImplementedError("backward")


def train_sgd(X, Y, k=3, eta=0.01, epochs=100, sigma=0.1, seed=0):
    """SGD on the points of X (d, N) and Y (1, N).

    Initialise W (k, d), b (k, 1), U (1, k), c (1, 1) with i.i.d. N(0, sigma^2) draws from a generator
    seeded with `seed` (e.g. rng = np.random.default_rng(seed); sigma * rng.standard_normal(shape)).
    Then, for each epoch, for i = 0, 1, ..., N-1 in this order: forward and backward on the point
    (X[:, i:i+1], Y[:, i:i+1]) and one step W <- W - eta * grad_W (and b, U, c) with that point's
    gradients. After each epoch, save the MSE: the mean of (f - y)^2 over all N points, with the
    weights at the end of the epoch.

    Return (params, mse): params = {"W": W, "b": b, "U": U, "c": c}, mse an array of shape (epochs,).
    With epochs=0, params are the initial weights and mse is empty.
    """
    # TODO (d)
    raise NotImplementedError("train_sgd")


if __name__ == "__main__":
    import matplotlib.pyplot as plt

    from autograder.assignments.fa24_dl_hw5.friend import friend_dataset

    X, Y = friend_dataset()
    params, mse = train_sgd(X, Y)
    plt.plot(np.arange(1, len(mse) + 1), mse)
    plt.xlabel("epoch")
    plt.ylabel("MSE")
    plt.show()
