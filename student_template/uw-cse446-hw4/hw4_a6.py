"""A6: a topic model trained as a variational autoencoder.

Fill in every TODO. Keep the names and signatures: the autograder calls them. sigma is a standard
deviation: z = mu + sigma * eps, so the posterior's covariance is diag(sigma^2).

Run `python hw4_a6.py DATA_FOLDER` to train on the bag-of-words files (dev.npz, vocabulary,
reference/ref.npz, reference/ref.vocab.json) and print the topics.
"""

from __future__ import annotations

import torch
from torch import nn


class Encoder(nn.Module):
    """x (N, V) -> (z, mu, sigma), each (N, T)."""

    def __init__(self, V: int, h: int, T: int):
        super().__init__()
        # TODO: the four affine maps W_x (V -> h), W_h (h -> h), W_mu (h -> T), W_sigma (h -> T),
        # as nn.Linear layers with biases.
        raise NotImplementedError("Encoder.__init__")

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        # TODO: h = relu(W_h relu(W_x x + b_x) + b_h), mu = W_mu h + b_mu,
        # sigma = exp(W_sigma h + b_sigma), z = mu + sigma * eps with eps ~ N(0, I).
        raise NotImplementedError("Encoder.forward")


class Decoder(nn.Module):
    """z (N, T) -> eta (N, V): eta = softmax(B softmax(z)), B (V, T), no bias."""

    def __init__(self, V: int, T: int):
        super().__init__()
        # TODO: the matrix B (V x T), with no bias
        raise NotImplementedError("Decoder.__init__")

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError("Decoder.forward")  # TODO


class TopicModel(nn.Module):
    def __init__(self, V: int, h: int, T: int):
        super().__init__()
        raise NotImplementedError("TopicModel.__init__")  # TODO: an Encoder and a Decoder

    def forward(self, x: torch.Tensor):
        """Returns (eta, z, mu, sigma)."""
        raise NotImplementedError("TopicModel.forward")  # TODO

    def topic_word_matrix(self) -> torch.Tensor:
        """(T, V): row t = softmax(B e_t), topic t's distribution over the vocabulary."""
        raise NotImplementedError("TopicModel.topic_word_matrix")  # TODO


def kl_divergence(mu: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, diag(sigma^2)) || N(0, I)) per row, shape (N,)."""
    raise NotImplementedError("kl_divergence")  # TODO


def log_likelihood(x: torch.Tensor, eta: torch.Tensor) -> torch.Tensor:
    """sum_j x_ij log eta_ij per row, shape (N,)."""
    raise NotImplementedError("log_likelihood")  # TODO


def negative_elbo(x, eta, mu, sigma, alpha: float = 1.0) -> torch.Tensor:
    """-(log p(x | z) - alpha KL) per row, shape (N,); the training loss is its mean over the batch."""
    raise NotImplementedError("negative_elbo")  # TODO


class KLAnnealer:
    """The KL weight alpha: 0 at the first update, then up by a constant per update, capped at 1.

    schedule "linear" adds 1 / linear_scaling; "sigmoid" adds 1 / (1 + exp(-w1 (1 - w2))) with
    w1 = 0.25 and w2 = 15.
    """

    def __init__(self, linear_scaling: float = 1000, schedule: str = "linear"):
        raise NotImplementedError("KLAnnealer.__init__")  # TODO

    def step(self) -> float:
        """The alpha for this update."""
        raise NotImplementedError("KLAnnealer.step")  # TODO


class EarlyStopping:
    """update(npmi) returns True (stop) once the NPMI has not increased for `patience` epochs."""

    def __init__(self, patience: int = 5):
        raise NotImplementedError("EarlyStopping.__init__")  # TODO

    def update(self, npmi: float) -> bool:
        raise NotImplementedError("EarlyStopping.update")  # TODO


def top_words(model: TopicModel, vocabulary: list[str], k: int = 10) -> list[list[str]]:
    """The k most probable words of each topic, most probable first."""
    raise NotImplementedError("top_words")  # TODO


def train(x, vocabulary, reference, *, T=20, h=64, epochs=50, batch_size=200, lr=2e-3, patience=5, seed=0):
    """Train on the (N, V) count matrix `x` (scipy sparse); `reference` = (numerator, denominator,
    n_docs, ref_vocab_index) for helper_code.compute_npmi. Returns the model and the (loss, NPMI)
    per epoch, for your plot of part e. Not graded by the autograder."""
    raise NotImplementedError("train")  # TODO


def main(folder: str) -> None:
    from pathlib import Path

    import helper_code

    folder = Path(folder)
    x = helper_code.load_sparse(folder / "dev.npz")
    vocabulary = (folder / "vocabulary" / "vampire.txt").read_text(encoding="utf-8").split("\n")[:x.shape[1]]
    ref = helper_code.load_sparse(folder / "reference" / "ref.npz")
    ref.data[:] = 1  # document frequencies
    ref_vocab = helper_code.read_json(folder / "reference" / "ref.vocab.json")
    numerator, denominator = helper_code.generate_npmi_vals(ref.T @ ref, ref.sum(0))
    reference = (numerator, denominator, ref.shape[0], {w: i for i, w in enumerate(ref_vocab)})
    model, _ = train(x, vocabulary, reference)
    for t, words in enumerate(top_words(model, vocabulary)):
        print(t, " ".join(words))


if __name__ == "__main__":
    import sys

    main(sys.argv[1])
