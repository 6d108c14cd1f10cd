"""Q2 of fa24-dl-hw5 (backpropagation): the reference passes, the template fails cleanly, and each
fault of a real student (the handout's own phi' = 3 phi (1 - phi) among them) loses exactly its
checks with a message that names it."""

from __future__ import annotations

import functools

import numpy as np
import pytest

from autograder.assignments.fa24_dl_hw5 import friend, q2
from autograder.config import REPO_ROOT
from conftest import Fault, by_id, mutate, outcomes, reference_text

AID = "fa24-dl-hw5"
FILE = "hw5_q2.py"
ALL = {c.id for c in q2.PROBLEM.checks}
PHI_PRIME = "q2.phi_prime.autograd"
BACKWARD = "q2.backward.autograd"
INIT = "q2.train_sgd.initialisation"
EPOCH = "q2.train_sgd.one_epoch"
MSE = "q2.train_sgd.mse_per_epoch"
FALLS = "q2.train_sgd.mse_falls"
UPDATES = {EPOCH, MSE}
"""What SGD's values lose when a gradient is wrong: one epoch and the MSE after each epoch."""


@pytest.fixture(scope="module")
def grade_q2(grade_files):
    return functools.partial(grade_files, assignment=AID, problems=("q2",))


@pytest.fixture(scope="module")
def reference():
    return reference_text(AID, FILE)


def test_reference_scores_full_marks(grade_q2, reference):
    g = grade_q2({FILE: reference})
    assert g.score == g.max_score == 8.0
    assert set(outcomes(g).values()) == {"passed"}


def test_template_scores_zero_with_not_implemented_on_every_check(grade_q2):
    g = grade_q2({FILE: (REPO_ROOT / "student_template" / AID / FILE).read_text()})
    assert g.score == 0 and {c.id for c in g.checks} == ALL
    for c in g.checks:
        assert c.outcome.value == "error"
        assert "is not implemented yet: it raises NotImplementedError" in c.feedback.summary


FAULTS = {  # each mistake, the checks it loses, and what their messages must say
    "phi_ignores_a": Fault(
        [("return 1.0 / (1.0 + np.exp(-a * v))", "return 1.0 / (1.0 + np.exp(-5 * v))")],
        {"q2.phi.values", PHI_PRIME}, ["ignores its parameter a"], read="q2.phi.values"),
    "phi_prime_without_a": Fault(
        [("return a * p * (1.0 - p)", "return p * (1.0 - p)")],
        {PHI_PRIME, BACKWARD, FALLS} | UPDATES, ["without the factor a", "phi'(v) = a phi(v) (1 - phi(v))"], read=PHI_PRIME),
    "phi_prime_of_the_handout": Fault(  # the handwritten solution's 3 phi (1 - phi)
        [("return a * p * (1.0 - p)", "return 3 * p * (1.0 - p)")],
        {PHI_PRIME, BACKWARD, FALLS} | UPDATES, ["as the handout's handwritten solution writes", "mistake"], read=PHI_PRIME),
    "backward_uses_the_handouts_3": Fault(  # the same 3, seen by the backward check
        [("return a * p * (1.0 - p)", "return 3 * p * (1.0 - p)")],
        {PHI_PRIME, BACKWARD, FALLS} | UPDATES, ["3/5 (output layer) and 9/25 (hidden layer)", "handout's 3"], read=BACKWARD),
    "backward_without_phi_prime_of_v_f": Fault(
        [("delta_f = dloss_df * phi_prime(v_f)", "delta_f = dloss_df")],
        {BACKWARD} | UPDATES, ["lacks the factor phi'(v_f)", "delta_f = grad_f l * phi'(v_f)"], read=BACKWARD),
    "backward_without_phi_prime_of_v_z": Fault(
        [("delta_z = (U.T @ delta_f) * phi_prime(v_z)", "delta_z = U.T @ delta_f")],
        {BACKWARD, FALLS} | UPDATES, ["grad_W and grad_b lack the factor phi'(v_z)"], read=BACKWARD),
    "backward_loss_derivative_sign": Fault(
        [("dloss_df = 2 * (f - y)", "dloss_df = 2 * (y - f)")],
        {BACKWARD, FALLS} | UPDATES, ["Every gradient has the opposite sign"], read=BACKWARD),
    "backward_without_the_2": Fault(
        [("dloss_df = 2 * (f - y)", "dloss_df = f - y")],
        {BACKWARD} | UPDATES, ["half the true one"], read=BACKWARD),
    "grad_W_transposed": Fault(
        [('"grad_W": delta_z @ x.T', '"grad_W": x @ delta_z.T')],
        {BACKWARD, FALLS} | UPDATES, ["expected shape (3, 2), got (2, 3)", "transposed"], read=BACKWARD),
    "forward_without_c": Fault(
        [("v_f = U @ z + c", "v_f = U @ z")],
        {"q2.forward.values", BACKWARD, FALLS} | UPDATES, ["v_f (d=2, k=3) is the first value that differs", "v_f = U z + c"],
        read="q2.forward.values"),
    "points_shuffled": Fault(
        [("for i in range(n):", "for i in rng.permutation(n):")],
        UPDATES, ["for i = 0, 1, ..., N-1 in this order"], read=EPOCH),
    "sigma_ignored": Fault(
        [("W = sigma * rng.standard_normal((k, d))", "W = 0.1 * rng.standard_normal((k, d))")],
        UPDATES, ["your W's rows differ, so your initialisation does not scale the draws by sigma"], read=EPOCH),
    "weights_not_scaled": Fault(
        [("W = sigma * rng.standard_normal((k, d))", "W = rng.standard_normal((k, d))")],
        {INIT} | UPDATES, ["standard deviation near 0.1"], read=INIT),
    "seed_fixed": Fault(
        [("rng = np.random.default_rng(seed)", "rng = np.random.default_rng(0)")],
        {INIT}, ["seed=3 and seed=4 gave the same weights"]),
    "mse_summed": Fault(
        [("mse[epoch] = np.mean((predict(X, W, b, U, c) - Y) ** 2)",
          "mse[epoch] = np.sum((predict(X, W, b, U, c) - Y) ** 2)")],
        {MSE}, ["N = 1000 times too large"]),
    "mse_during_the_epoch": Fault(  # the losses summed while the weights still move
        [("        for i in range(n):\n", "        running = 0.0\n        for i in range(n):\n"),
         ("            g = backward(x, y, W, b, U, c)\n",
          "            running += float(((forward(x, W, b, U, c)[3] - y) ** 2).item())\n"
          "            g = backward(x, y, W, b, U, c)\n"),
         ("mse[epoch] = np.mean((predict(X, W, b, U, c) - Y) ** 2)", "mse[epoch] = running / n")],
        {MSE}, ["Your parameters are right, so the MSE is computed otherwise"]),
    "gradient_ascent": Fault(
        [('W = W - eta * g["grad_W"]', 'W = W + eta * g["grad_W"]'), ('b = b - eta * g["grad_b"]', 'b = b + eta * g["grad_b"]'),
         ('U = U - eta * g["grad_U"]', 'U = U + eta * g["grad_U"]'), ('c = c - eta * g["grad_c"]', 'c = c + eta * g["grad_c"]')],
        {FALLS} | UPDATES, ["The MSE rises", "Subtract the gradient"], read=FALLS),
}


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_fault_loses_exactly_its_checks(grade_q2, reference, fault):
    FAULTS[fault].assert_graded(grade_q2({FILE: FAULTS[fault].apply(reference)}), "q2")


def test_the_handouts_phi_prime_is_not_rewarded_anywhere(grade_q2, reference):
    """phi' = 3 phi (1 - phi) (the handwritten solution) earns none of the points of phi' or backward."""
    g = grade_q2({FILE: FAULTS["phi_prime_of_the_handout"].apply(reference)})
    assert by_id(g, PHI_PRIME).score == 0
    assert by_id(g, BACKWARD).score == 0


def test_flat_vectors_are_the_same_answer(grade_q2, reference):
    """A forward pass on flat vectors ((k,) for (k, 1)) is graded as the column answer it is."""
    text = reference.replace("    return v_z, z, v_f, f\n", "    return v_z.ravel(), z.ravel(), v_f.ravel(), f.ravel()\n")
    assert by_id(grade_q2({FILE: text}), "q2.forward.values").outcome.value == "passed"


FLAT_TRAINING = """
import numpy as np


def phi(v, a=5):
    return 1 / (1 + np.exp(-a * v))


def phi_prime(v, a=5):
    return a * phi(v, a) * (1 - phi(v, a))


def forward(x, W, b, U, c):
    v_z = np.dot(W, x) + b
    z = phi(v_z)
    v_f = np.dot(U, z) + c
    return v_z, z, v_f, phi(v_f)


def backward(x, y, W, b, U, c):
    v_z, z, v_f, f = forward(x, W, b, U, c)
    delta_f = -2 * (y - f) * phi_prime(v_f)
    delta_z = np.dot(np.transpose(U), delta_f) * phi_prime(v_z)
    return {"grad_W": np.dot(delta_z, np.transpose(x)), "grad_b": delta_z,
            "grad_U": np.dot(delta_f, np.transpose(z)), "grad_c": delta_f}


def train_sgd(X, Y, k=3, eta=0.01, epochs=100, sigma=0.1, seed=0):
    np.random.seed(seed)
    d, N = X.shape
    W = np.random.randn(k, d) * sigma
    b = np.random.randn(k) * sigma
    U = np.random.randn(k) * sigma
    c = np.random.randn() * sigma
    risk = np.zeros(epochs)
    for epoch in range(epochs):
        for i in range(N):
            x, y = X[:, i], Y[0, i]
            z = phi(W @ x + b)
            f = phi(U @ z + c)
            delta_f = 2 * (f - y) * phi_prime(U @ z + c)
            delta_z = U * delta_f * phi_prime(W @ x + b)
            W = W - eta * np.outer(delta_z, x)
            b = b - eta * delta_z
            U = U - eta * delta_f * z
            c = c - eta * delta_f
        risk[epoch] = np.sum((Y - phi(U @ phi(W @ X + b[:, None]) + c)) ** 2) / N
    return {"W": W, "b": b, "U": U, "c": c}, risk
"""
"""A valid student's file: SGD on flat vectors (b and U of shape (k,), c a number, the points X[:, i]),
with the handout's np.random.seed and randn."""


def test_training_on_flat_vectors_scores_full_marks(grade_q2):
    """b (k,), U (k,) and c a number are the handout's b (k, 1), U (1, k), c (1, 1) drawn flat: every
    check reads them as the same answer, the initialisation's shapes included."""
    g = grade_q2({FILE: FLAT_TRAINING})
    assert g.score == g.max_score == 8.0, {c.id: c.feedback.summary for c in g.checks if c.outcome.value != "passed"}


def test_the_friends_data_is_the_documented_network():
    """1,000 points in [-1, 1]^2, one per column, labelled 1 inside the triangle and 0 outside, the
    same at every call."""
    X, Y = friend.friend_dataset()
    assert X.shape == (2, 1000) and Y.shape == (1, 1000)
    assert np.all(np.abs(X) <= 1) and set(np.unique(Y)) == {0.0, 1.0}
    assert np.array_equal(X, friend.friend_dataset()[0])
    inside = (X[1] > -0.6) & (X[1] < 0.8 - 1.75 * np.abs(X[0]))
    assert np.array_equal(Y[0] == 1, inside)
    assert 0.25 < Y.mean() < 0.35


def test_the_mse_threshold_is_the_documented_one():
    """docs/fa24-dl-hw5.md and the check's docstring quote these numbers: change them together."""
    assert (q2.FALL_EPOCHS, q2.FALL_RATIO, q2.FALL_SEED) == (20, 0.85, 1)


def test_a_wrong_forward_is_named_in_backwards_message(grade_q2, reference):
    """backward builds on the student's forward: when forward is wrong, backward's message says to fix it first."""
    g = grade_q2({FILE: FAULTS["forward_without_c"].apply(reference)})
    assert "if q2.forward.values fails, fix forward first" in by_id(g, BACKWARD).feedback.hint


def test_an_mse_per_epoch_as_a_column_scores_full_marks(grade_q2, reference):
    """An MSE saved per epoch as mean(..., axis=1), a (1,) array, stacks to (epochs, 1): the same numbers,
    read as the same answer by both MSE checks."""
    text = mutate(reference, "        mse[epoch] = np.mean((predict(X, W, b, U, c) - Y) ** 2)\n",
                  "        mse[epoch] = np.mean((predict(X, W, b, U, c) - Y) ** 2, axis=1)\n")
    text = mutate(text, "    mse = np.zeros(epochs)\n", "    mse = np.zeros((epochs, 1))\n")
    g = grade_q2({FILE: text})
    assert g.score == g.max_score == 8.0, {c.id: c.feedback.summary for c in g.checks if c.outcome.value != "passed"}
