"""Homework 5, Question 2: backpropagation by hand for a 2-layer sigmoid network, trained by SGD
to imitate a friend's step-activation network (data: `friend_dataset()` of the autograder's
`fa24_dl_hw5` package, 1,000 points).

Shapes (column vectors, as in the handout): x (d, 1), W (k, d), b (k, 1), U (1, k), c (1, 1);
v_z = W x + b, z = phi(v_z), v_f = U z + c, f = phi(v_f). X is (d, N) with one point per column and
Y is (1, N), as in the handout's code (X[:, i], Y[0, i]).

Mistakes of the handout's handwritten solution, which this reference does not follow:
- phi'(v) = a phi(v) (1 - phi(v)) with a = 5; the solution writes 3 phi(v) (1 - phi(v)).
- "W is 3 x 3 (dim(z) x dim(x))": the friend's data has two inputs (the plot of part (e) is
  (x1, x2, f)), so W is 3 x 2; the code takes d from X.
- "delta_z = grad_f l * g'(v_z)": the chain rule gives delta_z = grad_z l * phi'(v_z) =
  (U^T delta_f) * phi'(v_z) elementwise (its code does this right).
"""

import numpy as np


def phi(v: np.ndarray, a: float = 5) -> np.ndarray:
    """The sigmoid 1 / (1 + exp(-a v)), elementwise."""
    return 1.0 / (1.0 + np.exp(-a * v))


def phi_prime(v: np.ndarray, a: float = 5) -> np.ndarray:
    """d phi / dv = a phi(v) (1 - phi(v)), elementwise."""
    p = phi(v, a)
    return a * p * (1.0 - p)


def forward(x, W, b, U, c):
    """(v_z, z, v_f, f) for one point x of shape (d, 1)."""
    v_z = W @ x + b
    z = phi(v_z)
    v_f = U @ z + c
    f = phi(v_f)
    return v_z, z, v_f, f


def backward(x, y, W, b, U, c) -> dict:
    """Gradients of l = (f - y)^2 for one point, each shaped as its parameter."""
    v_z, z, v_f, f = forward(x, W, b, U, c)
    dloss_df = 2 * (f - y)
    delta_f = dloss_df * phi_prime(v_f)          # (1, 1)
    delta_z = (U.T @ delta_f) * phi_prime(v_z)   # (k, 1)
    return {"grad_W": delta_z @ x.T, "grad_b": delta_z, "grad_U": delta_f @ z.T, "grad_c": delta_f}


def predict(X, W, b, U, c) -> np.ndarray:
    """f for every column of X: shape (1, N)."""
    return phi(U @ phi(W @ X + b) + c)


def train_sgd(X, Y, k=3, eta=0.01, epochs=100, sigma=0.1, seed=0):
    """SGD over the points in their order, one point a step; the MSE over all points after each
    epoch. Returns ({"W", "b", "U", "c"}, mse of shape (epochs,))."""
    rng = np.random.default_rng(seed)
    d, n = X.shape
    W = sigma * rng.standard_normal((k, d))
    b = sigma * rng.standard_normal((k, 1))
    U = sigma * rng.standard_normal((1, k))
    c = sigma * rng.standard_normal((1, 1))
    mse = np.zeros(epochs)
    for epoch in range(epochs):
        for i in range(n):
            x = X[:, i:i + 1]
            y = Y[:, i:i + 1]
            g = backward(x, y, W, b, U, c)
            W = W - eta * g["grad_W"]
            b = b - eta * g["grad_b"]
            U = U - eta * g["grad_U"]
            c = c - eta * g["grad_c"]
        mse[epoch] = np.mean((predict(X, W, b, U, c) - Y) ** 2)
    return {"W": W, "b": b, "U": U, "c": c}, mse
