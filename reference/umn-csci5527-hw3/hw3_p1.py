"""Problem 1: reverse-mode automatic differentiation of a three-layer ReLU network, by hand.

f(W1, W2, W3) = 1/2 ||Y - W3 relu(W2 relu(W1 X))||_F^2, with the graph
V1 = W1 X, V2 = relu(V1), V3 = W2 V2, V4 = relu(V3), V5 = W3 V4, D = Y - V5, z = 1/2 ||D||_F^2.
"""

import numpy as np
import torch
from numpy.random import default_rng

HANDOUT_SEED = 55272022


def make_data(seed: int = HANDOUT_SEED) -> dict[str, np.ndarray]:
    """Y (2x50), X (5x50), W1 (4x5), W2 (3x4), W3 (2x3), iid standard normal, in this order."""
    rng = default_rng(seed)
    shapes = {"Y": (2, 50), "X": (5, 50), "W1": (4, 5), "W2": (3, 4), "W3": (2, 3)}
    return {name: rng.standard_normal(shape) for name, shape in shapes.items()}


def relu(x: np.ndarray) -> np.ndarray:
    return np.maximum(x, 0.0)


def forward(X, Y, W1, W2, W3) -> dict[str, np.ndarray | float]:
    """The .v of every node of the computational graph."""
    V1 = W1 @ X
    V2 = relu(V1)
    V3 = W2 @ V2
    V4 = relu(V3)
    V5 = W3 @ V4
    D = Y - V5
    z = 0.5 * float(np.sum(D * D))
    return {"V1": V1, "V2": V2, "V3": V3, "V4": V4, "V5": V5, "D": D, "z": z}


def backward(X, Y, W1, W2, W3, values) -> dict[str, np.ndarray | float]:
    """The .g of every node, from z back to W1, using grad_Vi f = grad_Vi <Vj, Vj.g>."""
    g = {"z": 1.0}
    g["D"] = values["D"] * g["z"]  # grad of 1/2 ||D||^2 is D
    g["V5"] = -g["D"]  # D = Y - V5
    g["W3"] = g["V5"] @ values["V4"].T  # V5 = W3 V4
    g["V4"] = W3.T @ g["V5"]
    g["V3"] = g["V4"] * (values["V3"] > 0)  # V4 = relu(V3)
    g["W2"] = g["V3"] @ values["V2"].T  # V3 = W2 V2
    g["V2"] = W2.T @ g["V3"]
    g["V1"] = g["V2"] * (values["V1"] > 0)  # V2 = relu(V1)
    g["W1"] = g["V1"] @ X.T  # V1 = W1 X
    return g


def autograd_gradients(X, Y, W1, W2, W3) -> dict[str, np.ndarray]:
    """W1.g, W2.g, W3.g from PyTorch's autograd, in float64 to keep all four decimals."""
    x, y = torch.from_numpy(X), torch.from_numpy(Y)
    weights = {name: torch.tensor(w, dtype=torch.float64, requires_grad=True)
               for name, w in (("W1", W1), ("W2", W2), ("W3", W3))}
    out = weights["W3"] @ torch.relu(weights["W2"] @ torch.relu(weights["W1"] @ x))
    z = 0.5 * torch.sum((y - out) ** 2)
    z.backward()
    return {name: w.grad.numpy() for name, w in weights.items()}


if __name__ == "__main__":
    np.set_printoptions(precision=4, suppress=True)
    data = make_data()
    values = forward(**data)
    grads = backward(**data, values=values)
    for name, value in {**values, **{f"{k}.g": v for k, v in grads.items()}}.items():
        print(f"{name} =\n{np.round(value, 4)}")
    auto = autograd_gradients(**data)
    for name in ("W1", "W2", "W3"):
        print(f"{name}.g agrees with autograd:", np.allclose(grads[name], auto[name]))
