"""B1: MovieLens 100K matrix completion.

Rows of `train`/`test` are `[user, item, rating]` with 0-based ids, as the handout builds them.
U holds one row per item (num_items, d), V one row per user (num_users, d): R_hat[i, j] = <u_i, v_j>.
Use numpy, scipy or torch; no precooked algorithm (scikit-learn, Surprise, ...).
Keep the names and signatures: the autograder calls them.
"""

import csv

import numpy as np


def load_ratings(path):
    """The handout's loader: an int array (n, 3) of rows [user, item, rating], ids starting at 0."""
    # TODO (a): the handout's csv loop over u.data
    raise NotImplementedError("load_ratings")


def train_test_split(data):
    """The handout's split: np.random.seed(1), a permutation, 80% train and 20% test. Returns (train, test)."""
    # TODO (a)
    raise NotImplementedError("train_test_split")


def item_mean_estimator(train, num_items):
    """(a) mu, shape (num_items,): the mean train rating of each item."""
    # TODO (a)
    raise NotImplementedError("item_mean_estimator")


def svd_estimator(train, d, num_items, num_users):
    """(b) The best rank-d approximation, shape (num_items, num_users), of the zero-filled rating matrix."""
    # TODO (b)
    raise NotImplementedError("svd_estimator")


def mse(U, V, data):
    """The mean squared error of <U[item], V[user]> on the rows [user, item, rating] of data, as a float."""
    # TODO (c)
    raise NotImplementedError("mse")


def alternating_minimization(train, d, lam, sigma, num_items, num_users, iters, seed):
    """(c) Minimize loss (4) by alternating closed-form updates; returns (U, V).

    Initialize with np.random.default_rng(seed), entries scaled by sigma. Never allocate an m x n array.
    """
    # TODO (c)
    raise NotImplementedError("alternating_minimization")


def sgd(train, d, lam, sigma, lr, batch_size, epochs, num_items, num_users, seed):
    """(d) Minimize loss (4) by mini-batch SGD; returns (U, V). Use np.random.default_rng(seed)."""
    # TODO (d)
    raise NotImplementedError("sgd")


def best_estimator(train, num_users, num_items):
    """(f, extra credit) Fit any estimator you implement; return a function predict(users, items) -> ratings."""
    # TODO (f)
    raise NotImplementedError("best_estimator")
