"""Problem 1: reverse-mode automatic differentiation of a three-layer ReLU network, by hand.

f(W1, W2, W3) = 1/2 ||Y - W3 relu(W2 relu(W1 X))||_F^2, with the graph
V1 = W1 X, V2 = relu(V1), V3 = W2 V2, V4 = relu(V3), V5 = W3 V4, D = Y - V5, z = 1/2 ||D||_F^2.

Keep the function names and signatures: the autograder calls them.
"""

import numpy as np
import torch
from numpy.random import default_rng

HANDOUT_SEED = 55272022


def make_data(seed: int = HANDOUT_SEED) -> dict[str, np.ndarray]:
    """Return {"Y", "X", "W1", "W2", "W3"}: Y (2x50), X (5x50), W1 (4x5), W2 (3x4), W3 (2x3).

    Use `rng = default_rng(seed)` and draw them with `rng.standard_normal(shape)` in exactly
    this order: Y, X, W1, W2, W3.
    """
    # TODO (a): generate the data as the handout's Fig. 2 does.
    raise NotImplementedError("make_data")


def forward(X, Y, W1, W2, W3) -> dict[str, np.ndarray | float]:
    """Forward pass (a). Return {"V1", "V2", "V3", "V4", "V5", "D", "z"}: the .v of each node.

    V1 = W1 X, V2 = relu(V1), V3 = W2 V2, V4 = relu(V3), V5 = W3 V4, D = Y - V5,
    z = 0.5 * ||D||_F^2 (a float).
    """
    # TODO (a): compute the value of every node.
    raise NotImplementedError("forward")


def backward(X, Y, W1, W2, W3, values) -> dict[str, np.ndarray | float]:
    """Backward pass (b). `values` is what `forward` returned.

    Return the .g of every node: {"z", "D", "V5", "V4", "V3", "V2", "V1", "W3", "W2", "W1"},
    each with the shape of its node (z.g = 1, D.g = D.v, V5.g = -D.g, V4.g = W3^T V5.g, ...).
    """
    # TODO (b): carry the backward pass from z down to W1.
    raise NotImplementedError("backward")


def autograd_gradients(X, Y, W1, W2, W3) -> dict[str, np.ndarray]:
    """(c) Return {"W1", "W2", "W3"}: the gradients of f computed by PyTorch's autograd."""
    # TODO (c): build f with torch tensors that require grad, call .backward(), read .grad.
    raise NotImplementedError("autograd_gradients")
