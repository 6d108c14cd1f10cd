"""Mock final (Fall 2024), the questions with numeric parts: Q1 Lloyd's algorithm, Q2 competitive
learning, Q3 a width-1 convolution's backward pass, Q5 the idealised GAN, Q7 graph self-attention.

Reference solution. It follows the problem statements and the mathematics, not the handwritten
solutions, which have mistakes (each noted where it matters, as "Handout mistake").
"""

import numpy as np


# --- Q1 ------------------------------------------------------------------------------------------

def lloyd(points, centers, max_iter=100):
    """Lloyd's algorithm for k-means. Returns (centers, assignments, n_iter).

    One iteration assigns every point to its nearest center (the lowest index on a tie) and moves
    every center to the mean of its cell (a center whose cell is empty stays where it is). It stops
    after the first iteration whose assignment equals the previous one, or after max_iter.
    n_iter counts the assignment steps done: 2 on Q1's points (step 1 moves the centers, step 2
    finds the same cells and stops).

    Handout mistake: the handwritten step 1 gives c1 = (0.99, 2) and c2 = (-0.99, 2). The first is
    the sum of the cell's two points, not their mean, and the second is not even their sum
    ((-0.99, -2)); the means are (0.495, 1) and (-0.495, -1).
    """
    points = np.asarray(points, dtype=np.float64)
    centers = np.array(centers, dtype=np.float64)
    assignments = None
    n_iter = 0
    for n_iter in range(1, max_iter + 1):
        distances = ((points[:, None, :] - centers[None, :, :]) ** 2).sum(axis=2)
        new = distances.argmin(axis=1)
        if assignments is not None and np.array_equal(new, assignments):
            break
        assignments = new
        for i in range(len(centers)):
            cell = points[assignments == i]
            if len(cell):
                centers[i] = cell.mean(axis=0)
    return centers, assignments, n_iter


# --- Q2 ------------------------------------------------------------------------------------------

def competitive_learning(points, weights, eta=0.5, epochs=2, round_weights=True):
    """Winner-take-all learning. Returns (weights, history).

    For each point x in the given order, `epochs` times: the winner is i = argmax_i w_i^T x (the
    lowest index on a tie: the problem lets ties break either way), its output y~ = w_i^T x, and
    only the winner moves, w_i <- w_i + eta * y~ * (x - w_i), then (round_weights) is rounded to
    the nearest integer. np.round rounds an exact half to the even neighbour (1/2 -> 0, as the
    handwritten solution does); either neighbour of an exact half is a nearest integer, and the
    grader accepts both.

    history[t] holds all the weights after the t-th presentation: shape (epochs * N, K, d).

    Handout mistake: the handwritten table processes (-1, 1) as the fourth point; the problem's
    fourth point is (-1, -1). Its iterations 6-8 also write (1/2, 1/2) and (1/2, -1/2) for the
    unrounded (1/2, 1) and (1/2, -1), which round to the same integers.
    """
    points = np.asarray(points, dtype=np.float64)
    weights = np.array(weights, dtype=np.float64)
    history = []
    for _ in range(epochs):
        for x in points:
            outputs = weights @ x
            winner = int(np.argmax(outputs))
            y = outputs[winner]
            weights[winner] = weights[winner] + eta * y * (x - weights[winner])
            if round_weights:
                weights[winner] = np.round(weights[winner]) + 0.0  # + 0.0: no -0
            history.append(weights.copy())
    return weights, np.array(history)


# --- Q3 ------------------------------------------------------------------------------------------

def conv1x1_backward(x, w, b, dl_df, g_prime):
    """Backward pass of Q3's layer: a 2x2 image x, two channels f^c_ij = g(w_c x_ij + b_c), c = 1, 2.

    dl_df[c - 1, i, j] is dl/df^c_ij; g_prime is g', applied elementwise. Returns
    {"w1", "w2", "b1", "b2"}: dl/dw_c = sum_ij dl/df^c_ij x_ij g'(w_c x_ij + b_c) and
    dl/db_c = sum_ij dl/df^c_ij g'(w_c x_ij + b_c).

    Handout mistake: the first line for dl/dw_1 sums over j only; the sum is over i and j.
    """
    x = np.asarray(x, dtype=np.float64)
    dl_df = np.asarray(dl_df, dtype=np.float64)
    grads = {}
    for c in range(2):
        delta = dl_df[c] * g_prime(w[c] * x + b[c])
        grads[f"w{c + 1}"] = float(np.sum(delta * x))
        grads[f"b{c + 1}"] = float(np.sum(delta))
    return grads


# --- Q5 ------------------------------------------------------------------------------------------

def gan_optimal_discriminator(x):
    """D(x) = P(S=1 | X=x) for G(z) = z: real density 2 - 2x, generated density 1, equal priors."""
    x = np.asarray(x, dtype=np.float64)
    return (2 - 2 * x) / (3 - 2 * x)


def gan_optimal_generator(z):
    """G(z) = F^{-1}(z) with F(x) = 2x - x^2, the CDF of X: G(U) has density 2 - 2x on [0, 1]."""
    z = np.asarray(z, dtype=np.float64)
    return 1 - np.sqrt(1 - z)


# --- Q7 ------------------------------------------------------------------------------------------

def graph_self_attention(X, adjacency, Wq, Wk, Wv):
    """Self-attention at every node over its neighbours only. X is (n, d), one row x_v per node;
    adjacency is (n, n), adjacency[v, u] != 0 when (v, u) is in E; Wq, Wk are (k, d), Wv (d_v, d).

    Q_v = Wq x_v, K_v = Wk x_v, V_v = Wv x_v; alpha_{v,u} = softmax over u with (v, u) in E of
    Q_v^T K_u / sqrt(k), 0 for (v, u) not in E; row v of the result is S_v = sum_u alpha_{v,u} V_u.
    A node attends to itself exactly when (v, v) is in E: the handout's alpha is 0 off E, the
    diagonal included. Every node must have a neighbour (a softmax over nothing is undefined).

    Handout mistake: its case formula drops the 1/sqrt(k) it wrote one line before; the scores are
    scaled, as in the transformer's attention.
    """
    X = np.asarray(X, dtype=np.float64)
    Q, K, V = X @ Wq.T, X @ Wk.T, X @ Wv.T
    scores = Q @ K.T / np.sqrt(Wq.shape[0])
    mask = np.asarray(adjacency) != 0
    scores = np.where(mask, scores, -np.inf)
    scores = scores - scores.max(axis=1, keepdims=True)
    alpha = np.exp(scores)
    alpha = alpha / alpha.sum(axis=1, keepdims=True)
    return alpha @ V
