"""A6: a topic model trained as a variational autoencoder (Miao et al. 2016; VAMPIRE).

sigma is a standard deviation: the handout writes the posterior as N(mu, diag(f_sigma(x))) but
samples z = mu + sigma * eps, which makes f_sigma(x) the standard deviation, so the covariance is
diag(sigma^2). Every formula here (the KL in particular) follows that reading.

Run `python hw4_a6.py DATA_FOLDER` to train on the bag-of-words files (dev.npz, vocabulary,
reference/ref.npz, reference/ref.vocab.json) and print the topics.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


class Encoder(nn.Module):
    """x (N, V) -> (z, mu, sigma), each (N, T)."""

    def __init__(self, V: int, h: int, T: int):
        super().__init__()
        self.W_x = nn.Linear(V, h)
        self.W_h = nn.Linear(h, h)
        self.W_mu = nn.Linear(h, T)
        self.W_sigma = nn.Linear(h, T)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        hidden = F.relu(self.W_h(F.relu(self.W_x(x))))
        mu = self.W_mu(hidden)
        sigma = torch.exp(self.W_sigma(hidden))
        # The reparameterisation: the noise is drawn apart, so gradients reach mu and sigma.
        z = mu + sigma * torch.randn_like(sigma)
        return z, mu, sigma


class Decoder(nn.Module):
    """z (N, T) -> eta (N, V): eta = softmax(B softmax(z)), B (V, T), no bias."""

    def __init__(self, V: int, T: int):
        super().__init__()
        self.B = nn.Linear(T, V, bias=False)  # weight is B itself, shape (V, T)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        theta = F.softmax(z, dim=-1)
        return F.softmax(self.B(theta), dim=-1)


class TopicModel(nn.Module):
    def __init__(self, V: int, h: int, T: int):
        super().__init__()
        self.encoder = Encoder(V, h, T)
        self.decoder = Decoder(V, T)

    def forward(self, x: torch.Tensor):
        z, mu, sigma = self.encoder(x)
        return self.decoder(z), z, mu, sigma

    def topic_word_matrix(self) -> torch.Tensor:
        """(T, V): row t = softmax(B e_t), topic t's distribution over the vocabulary."""
        return F.softmax(self.decoder.B.weight.t(), dim=-1)


def kl_divergence(mu: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, diag(sigma^2)) || N(0, I)) per row, (N,)."""
    return 0.5 * torch.sum(sigma ** 2 + mu ** 2 - 1.0 - 2.0 * torch.log(sigma), dim=-1)


def log_likelihood(x: torch.Tensor, eta: torch.Tensor) -> torch.Tensor:
    """sum_j x_ij log eta_ij per row, (N,)."""
    return torch.sum(x * torch.log(eta), dim=-1)


def negative_elbo(x, eta, mu, sigma, alpha: float = 1.0) -> torch.Tensor:
    """-(log p(x | z) - alpha KL) per row, (N,); the training loss is its mean over the batch."""
    return -(log_likelihood(x, eta) - alpha * kl_divergence(mu, sigma))


class KLAnnealer:
    """The KL weight alpha: 0 at the first update, then up by a constant per update, capped at 1."""

    W1, W2 = 0.25, 15.0

    def __init__(self, linear_scaling: float = 1000, schedule: str = "linear"):
        if schedule == "linear":
            self.increment = 1.0 / linear_scaling
        elif schedule == "sigmoid":
            self.increment = 1.0 / (1.0 + math.exp(-self.W1 * (1.0 - self.W2)))
        else:
            raise ValueError(f"Unknown value {schedule!r} for schedule. Valid values are 'linear', 'sigmoid'.")
        self.alpha = 0.0

    def step(self) -> float:
        """The alpha for this update."""
        alpha = self.alpha
        self.alpha = min(1.0, self.alpha + self.increment)
        return alpha


class EarlyStopping:
    """Stop once the NPMI has not increased over its best for `patience` epochs in a row."""

    def __init__(self, patience: int = 5):
        self.patience = patience
        self.best = -math.inf
        self.epochs_without_gain = 0

    def update(self, npmi: float) -> bool:
        if npmi > self.best:
            self.best = npmi
            self.epochs_without_gain = 0
        else:
            self.epochs_without_gain += 1
        return self.epochs_without_gain >= self.patience


def top_words(model: TopicModel, vocabulary: list[str], k: int = 10) -> list[list[str]]:
    """The k most probable words of each topic, most probable first."""
    with torch.no_grad():
        order = torch.argsort(model.topic_word_matrix(), dim=1, descending=True, stable=True)[:, :k]
    return [[vocabulary[i] for i in row.tolist()] for row in order]


def train(x, vocabulary, reference, *, T=20, h=64, epochs=50, batch_size=200, lr=2e-3, patience=5, seed=0):
    """Train on the (N, V) count matrix `x` (scipy sparse); `reference` = (numerator, denominator,
    n_docs, ref_vocab_index) for NPMI. Returns the model and the (loss, NPMI) per epoch."""
    import helper_code

    torch.manual_seed(seed)
    model = TopicModel(x.shape[1], h, T)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    annealer, stopper = KLAnnealer(), EarlyStopping(patience)
    history = []
    for _ in range(epochs):
        total = 0.0
        for rows in torch.randperm(x.shape[0]).split(batch_size):
            batch = torch.tensor(x[rows.numpy()].toarray(), dtype=torch.float32)
            eta, _, mu, sigma = model(batch)
            loss = negative_elbo(batch, eta, mu, sigma, annealer.step()).mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * len(rows)
        npmi = helper_code.compute_npmi(*reference, top_words(model, vocabulary))
        history.append((total / x.shape[0], npmi))
        print(f"epoch {len(history)}: loss {history[-1][0]:.2f}, NPMI {npmi:.4f}")
        if stopper.update(npmi):
            break
    return model, history


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
