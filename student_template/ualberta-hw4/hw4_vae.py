"""Question 4: a variational autoencoder (VAE) on binarised MNIST (starter code).

A Python port of the Julia (Pluto) notebook of the University of Alberta's homework 4: same functions,
same meaning.
Unlike the notebook (one instance per column), a batch here holds one instance per ROW:
x is (batch, features), mu and logvar are (batch, latent).

The classes `Encoder` and `VAE` are handed out complete, as the notebook's structs were; you
write `reconstruct`, `kl_divergence`, `binary_cross_entropy`, `elbo`, `make_mnist_vae` and
`train_mnist_vae`.
"""

from __future__ import annotations

import torch
from torch import nn


class Encoder(nn.Module):
    """The encoder q(h | x): shared features, then two linear heads for the mean and the log-variance.

    `features` maps x to `features_out` numbers (in the notebook a single tanh layer); `mu` and
    `logvar` are nn.Linear(features_out, latent_dim).
    """

    def __init__(self, features: nn.Module, features_out: int, latent_dim: int):
        super().__init__()
        self.features = features
        self.mu = nn.Linear(features_out, latent_dim)
        self.logvar = nn.Linear(features_out, latent_dim)

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(mu, logvar), each (batch, latent_dim)."""
        f = self.features(x)
        return self.mu(f), self.logvar(f)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.encode(x)


class VAE(nn.Module):
    """An encoder (an `Encoder`) and a decoder (an nn.Module mapping h to pixel probabilities)."""

    def __init__(self, encoder: Encoder, decoder: nn.Module):
        super().__init__()
        self.encoder = encoder
        self.decoder = decoder


def reconstruct(vae: VAE, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(mu, logvar, x_hat): encode x, sample h = mu + exp(logvar / 2) * eps with eps ~ N(0, I)
    (the reparameterisation, so that gradients reach mu and logvar), and decode h."""
    # TODO: write reconstruct.
    raise NotImplementedError("reconstruct")


def kl_divergence(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, sigma^2) || N(0, I)) per instance, averaged over the batch (a scalar):
    0.5 * sum_j (mu_j^2 + sigma_j^2 - log sigma_j^2 - 1), with log sigma^2 = logvar."""
    # TODO: write kl_divergence.
    raise NotImplementedError("kl_divergence")


def binary_cross_entropy(x_hat: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """The Bernoulli log-likelihood of x under x_hat, summed over pixels and averaged over the batch
    (a scalar, at most 0): mean_i sum_j x_ij log x_hat_ij + (1 - x_ij) log(1 - x_hat_ij).

    Named as in the notebook, it is the log-likelihood, not its negative: `elbo` subtracts it."""
    # TODO: write binary_cross_entropy.
    raise NotImplementedError("binary_cross_entropy")


def elbo(vae: VAE, x: torch.Tensor) -> torch.Tensor:
    """The loss to minimise, the negative ELBO averaged over the batch: kl_divergence - binary_cross_entropy."""
    # TODO: write elbo.
    raise NotImplementedError("elbo")


def make_mnist_vae(input_dim: int = 784, hidden_dim: int = 64, latent_dim: int = 16) -> VAE:
    """The notebook's VAE: the encoder's shared part one tanh layer input_dim -> hidden_dim with the
    heads hidden_dim -> latent_dim; the decoder latent_dim -> hidden_dim (tanh) -> input_dim (sigmoid)."""
    # TODO: write make_mnist_vae.
    raise NotImplementedError("make_mnist_vae")


def train_mnist_vae(X: torch.Tensor, epochs: int = 20, batch_size: int = 128, lr: float = 1e-3,
                    seed: int = 1) -> VAE:
    """A VAE (make_mnist_vae()) trained on the images X (n, 784), binarised as pixel > 0.5, by Adam
    at `lr` on `elbo`, `epochs` passes over shuffled batches of `batch_size`. seed > 0 seeds torch
    first (the notebook's `args.seed > 0 && Random.seed!(args.seed)`)."""
    # TODO: write train_mnist_vae.
    raise NotImplementedError("train_mnist_vae")
