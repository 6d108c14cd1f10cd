"""Mock final (Fall 2024), the questions with numeric parts: Q1 Lloyd's algorithm, Q2 competitive
learning, Q3 a width-1 convolution's backward pass, Q5 the idealised GAN, Q7 graph self-attention.

Keep the function names and signatures: the autograder calls them. Arrays are numpy arrays.
"""

import numpy as np


# --- Q1 ------------------------------------------------------------------------------------------

def lloyd(points, centers, max_iter=100):
    """Lloyd's algorithm for k-means. points is (N, d), centers (k, d), the initial centers.

    One iteration assigns every point to its nearest center (squared Euclidean distance; the lowest
    index on a tie) and moves every center to the mean of its cell (a center whose cell is empty stays).
    Stop after the first iteration whose assignment equals the previous one, or after max_iter.

    Return (centers, assignments, n_iter): the final centers (k, d), center i still at index i;
    assignments (N,), the index of each point's center; n_iter, the number of assignment steps done,
    the last being the one that changed nothing (2 on Q1's points: step 1 moves the centers, step 2
    finds the same cells and stops).
    """
    # TODO Q1 (a)
    raise NotImplementedError("lloyd")


# --- Q2 ------------------------------------------------------------------------------------------

def competitive_learning(points, weights, eta=0.5, epochs=2, round_weights=True):
    """Competitive (winner-take-all) learning. points is (N, d), weights (K, d): row i is unit i's w_i.

    For each point x, in the given order, `epochs` times: the winner is i = argmax_i w_i^T x, its output
    is y~ = w_i^T x, and only the winner moves: w_i <- w_i + eta * y~ * (x - w_i); with round_weights,
    round the winner's weights to the nearest integer after every update. Break ties any way you like.

    Return (weights, history): the final weights (K, d), and history (epochs * N, K, d), where
    history[t] is all the weights after the t-th presentation (the initial weights not included).
    """
    # TODO Q2 (b)
    raise NotImplementedError("competitive_learning")


# --- Q3 ------------------------------------------------------------------------------------------

def conv1x1_backward(x, w, b, dl_df, g_prime):
    """Backward pass of Q3's layer: a 2x2 image x and two channels f^c_ij = g(w_c x_ij + b_c), c = 1, 2
    (kernels of width 1, with bias).

    x is (2, 2); w = (w_1, w_2) and b = (b_1, b_2) have shape (2,); dl_df is (2, 2, 2), with
    dl_df[c - 1, i, j] = dl/df^c_ij; g_prime is g', a function applied elementwise to an array.

    Return a dict with the keys "w1", "w2", "b1", "b2": the numbers dl/dw_1, dl/dw_2, dl/db_1, dl/db_2.
    """
    # TODO Q3 (b)
    raise NotImplementedError("conv1x1_backward")


# --- Q5 ------------------------------------------------------------------------------------------

def gan_optimal_discriminator(x):
    """Q5 (a): the optimal discriminator D(x) when the generator is G(z) = z. x is a numpy array of points
    of [0, 1]; return D at each, the same shape."""
    # TODO Q5 (a)
    raise NotImplementedError("gan_optimal_discriminator")


def gan_optimal_generator(z):
    """Q5 (b): an optimal generator G: for Z uniform on [0, 1], G(Z) has X's density 2 - 2x. z is a numpy
    array of values of [0, 1); return G at each, the same shape."""
    # TODO Q5 (b)
    raise NotImplementedError("gan_optimal_generator")


# --- Q7 ------------------------------------------------------------------------------------------

def graph_self_attention(X, adjacency, Wq, Wk, Wv):
    """Q7 (a): self-attention at every node over its neighbours only.

    X is (n, d), row v the input x_v of node v; adjacency is (n, n), adjacency[v, u] != 0 when (v, u)
    is in E; Wq and Wk are (k, d), Wv is (d_v, d): Q_v = Wq x_v, K_v = Wk x_v, V_v = Wv x_v.

    Return S, (n, d_v): row v is S_v = sum_u alpha_{v,u} V_u, where alpha_{v,u} is the softmax of the
    scores Q_v^T K_u / sqrt(k) over the u with (v, u) in E, and 0 for (v, u) not in E.
    """
    # TODO Q7 (a)
    raise NotImplementedError("graph_self_attention")
