"""The budgeted training of A6: runs in the worker only (it imports torch).

The student's `TopicModel` is trained here the same way as the reference's, so the NPMI threshold
is relative (see a6.py). Only the model is the student's: the loss (the mean negative ELBO) and the
KL weight schedule are the grader's own, so a fault in `negative_elbo`, `kl_divergence` or
`KLAnnealer` costs only their own checks. The optimiser is Adam for a fixed number of updates.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from autograder.assignments.uw_cse446_hw4.a6 import Training
from autograder.student import SubmissionError, to_array


def _loss(x: torch.Tensor, eta: torch.Tensor, mu: torch.Tensor, sigma: torch.Tensor, alpha: float) -> torch.Tensor:
    # clamp: one eta that underflows to 0 would make the loss inf and stop all learning
    log_likelihood = torch.sum(x * torch.log(eta.clamp_min(1e-30)), dim=-1)
    kl = 0.5 * torch.sum(sigma ** 2 + mu ** 2 - 1.0 - 2.0 * torch.log(sigma.clamp_min(1e-30)), dim=-1)
    return torch.mean(-(log_likelihood - alpha * kl))


def _outputs(returned, what: str):
    if not isinstance(returned, tuple | list) or len(returned) != 4:
        raise SubmissionError(f"{what} should return the tuple (eta, z, mu, sigma), but it returned "
                              f"{type(returned).__name__}.")
    return returned


def train_topic_model(make_model: Callable[[int, int, int], torch.nn.Module], x: np.ndarray, *, h: int, T: int,
                      steps: int, batch_size: int, lr: float, anneal_steps: int, seed: int = 0,
                      invoke: Callable[..., object] = lambda target, *args: target(*args)) -> Training:
    """Train on the (N, V) count matrix `x`; the KL weight rises linearly by 1 / anneal_steps per
    update up to 1. Returns a6's `Training`: the topics' word scores (T, V) and the loss per update.
    Every call of the student's model goes through `invoke` (the grader's `Subject.invoke`, naming
    their code)."""
    torch.manual_seed(seed)
    data = torch.from_numpy(np.asarray(x, dtype=np.float32))
    model = make_model(data.shape[1], h, T)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    generator = torch.Generator().manual_seed(seed)
    losses = []
    order = torch.randperm(len(data), generator=generator)
    cursor = 0
    for step in range(steps):
        if cursor + batch_size > len(data):
            order, cursor = torch.randperm(len(data), generator=generator), 0
        batch = data[order[cursor:cursor + batch_size]]
        cursor += batch_size
        eta, _, mu, sigma = _outputs(invoke(model, batch), "TopicModel.forward(x)")
        loss = _loss(batch, eta, mu, sigma, min(1.0, step / anneal_steps))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return Training(topic_word_matrix=_topic_scores(model, data.shape[1], T), losses=np.array(losses))


def _topic_scores(model: torch.nn.Module, V: int, T: int) -> np.ndarray:
    """(T, V) scores that rank each topic's words: B itself where B can be found, so that a fault
    in `topic_word_matrix` costs only its own check (softmax keeps the order within a topic)."""
    with torch.no_grad():
        matrices = [p for p in model.parameters() if p.dim() == 2 and tuple(p.shape) in ((V, T), (T, V))]
        if len(matrices) == 1:
            b = to_array(matrices[0], "B")
            return b.T if b.shape == (V, T) else b
        matrix = to_array(model.topic_word_matrix(), "model.topic_word_matrix()")
    if matrix.shape != (T, V):
        raise SubmissionError(f"topic_word_matrix() should have shape (T, V) = {(T, V)}, "
                              f"but it has shape {matrix.shape}.")
    return matrix
