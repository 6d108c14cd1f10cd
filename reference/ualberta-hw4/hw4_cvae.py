"""Question 5 (c): a conditional VAE (CVAE) on binarised MNIST (reference solution).

A Python port of the notebook's "Conditional VAE" section. The CVAE is the VAE of hw4_vae.py
with the one-hot class y appended to the encoder's input x and to the decoder's input h, so that
both q(h | x, y) and p(x | h, y) are conditioned on the class. Rows are instances, as in hw4_vae.py;
y is a tensor of class indices (batch,).

The notebook's elided signatures, as this port fixes them:
    CVAE(encoder, decoder)                        the VAE's two parts, as `VAE` takes them
    make_mnist_cvae(input_dim=784, hidden_dim=64, latent_dim=16, num_classes=10) -> CVAE
    train_mnist_cvae(X, y, epochs=20, batch_size=128, lr=1e-3, seed=1) -> CVAE
`append_class`, `CVAE` and `generate` are handed out complete (the notebook's
`append_class_to_data`, struct and generation cell); you write `reconstruct_cvae`, `celbo`,
`make_mnist_cvae` and `train_mnist_cvae`.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from hw4_vae import Encoder, binary_cross_entropy, kl_divergence

NUM_CLASSES = 10


def append_class(X: torch.Tensor, y: torch.Tensor, num_classes: int = NUM_CLASSES) -> torch.Tensor:
    """X (batch, k) with the one-hot encoding of the classes y (batch,) appended: (batch, k + num_classes)."""
    one_hot = F.one_hot(torch.as_tensor(y).long().reshape(-1), num_classes).to(X.dtype)
    return torch.cat([X, one_hot], dim=1)


class CVAE(nn.Module):
    """An encoder (an `Encoder` over x with the class appended) and a decoder (over h with the class appended)."""

    def __init__(self, encoder: Encoder, decoder: nn.Module):
        super().__init__()
        self.encoder = encoder
        self.decoder = decoder


def reconstruct_cvae(cvae: CVAE, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(mu, logvar, x_hat): encode x with its class appended, sample h = mu + exp(logvar / 2) * eps,
    and decode h with the class appended."""
    mu, logvar = cvae.encoder.encode(append_class(x, y))
    h = mu + torch.exp(logvar / 2) * torch.randn_like(mu)
    return mu, logvar, cvae.decoder(append_class(h, y))


def celbo(cvae: CVAE, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """The conditional ELBO's loss to minimise: kl_divergence - binary_cross_entropy of the CVAE's reconstruction."""
    mu, logvar, x_hat = reconstruct_cvae(cvae, x, y)
    return kl_divergence(mu, logvar) - binary_cross_entropy(x_hat, x)


def make_mnist_cvae(input_dim: int = 784, hidden_dim: int = 64, latent_dim: int = 16,
                    num_classes: int = NUM_CLASSES) -> CVAE:
    """make_mnist_vae's network with the class appended to both inputs: the encoder's tanh layer
    takes input_dim + num_classes, the decoder's first layer latent_dim + num_classes."""
    encoder = Encoder(nn.Sequential(nn.Linear(input_dim + num_classes, hidden_dim), nn.Tanh()), hidden_dim, latent_dim)
    decoder = nn.Sequential(nn.Linear(latent_dim + num_classes, hidden_dim), nn.Tanh(),
                            nn.Linear(hidden_dim, input_dim), nn.Sigmoid())
    return CVAE(encoder, decoder)


def train_mnist_cvae(X: torch.Tensor, y: torch.Tensor, epochs: int = 20, batch_size: int = 128, lr: float = 1e-3,
                     seed: int = 1) -> CVAE:
    """A CVAE (make_mnist_cvae()) trained on the images X (n, 784), binarised as pixel > 0.5, and their
    classes y (n,), by Adam at `lr` on `celbo`, `epochs` passes over shuffled batches of `batch_size`."""
    if seed > 0:
        torch.manual_seed(seed)
    X = (torch.as_tensor(X, dtype=torch.float32).reshape(len(X), -1) > 0.5).float()
    y = torch.as_tensor(y).long().reshape(-1)
    cvae = make_mnist_cvae(input_dim=X.shape[1])
    optimizer = torch.optim.Adam(cvae.parameters(), lr=lr)
    for _ in range(epochs):
        for rows in torch.randperm(len(X)).split(batch_size):
            loss = celbo(cvae, X[rows], y[rows])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return cvae


@torch.no_grad()
def generate(cvae: CVAE, digit: int, n: int) -> torch.Tensor:
    """n new images (n, 784) of the class `digit`: h ~ N(0, I) from the prior, decoded with the class appended."""
    h = torch.randn(n, cvae.encoder.mu.out_features)
    return cvae.decoder(append_class(h, torch.full((n,), digit)))
