"""Homework 7, Q2: a Gaussian autoencoder on MNIST.

Fill in every TODO. Keep the names and signatures: the autograder calls them. Images are MNIST's as
`datasets.MNIST(..., transform=ToTensor())` gives them: (1, 28, 28) float tensors in [0, 1].
"""

from __future__ import annotations

import torch
from torch import nn


class GaussianAutoencoder(nn.Module):
    """Encoder (HW6 Q3's CNN) to z in R^10, Gaussian noise, decoder back to a 28 x 28 image."""

    def __init__(self):
        super().__init__()
        # TODO: self.encoder and self.decoder, each one nn.Sequential with the handout's layers in its order
        # (batch normalisation and dropout 0.1 after every ReLU).
        # Encoder: Conv2d(1, 20, 4, 1), ReLU, BatchNorm2d(20), Dropout(0.1), Conv2d(20, 20, 4, 2), ReLU,
        # MaxPool2d(2), BatchNorm2d(20), Dropout(0.1), Flatten, Linear(500, 250), ReLU, BatchNorm1d(250),
        # Dropout(0.1), Linear(250, 10).
        raise NotImplementedError("GaussianAutoencoder.__init__")

    def forward(self, x: torch.Tensor, enc_mode: float = 1) -> torch.Tensor:
        """cat(z, flatten(f - x)) along dim 1, shape (N, 794), where z = encoder(x),
        z2 = enc_mode * z + (2 - enc_mode) * torch.randn(z.shape) and f = decoder(z2)."""
        raise NotImplementedError("GaussianAutoencoder.forward")  # TODO


def generate(model: GaussianAutoencoder, n: int = 20) -> torch.Tensor:
    """n random digits, shape (n, 1, 28, 28): the model called with enc_mode=0, the first 10 entries
    (the embedding) dropped."""
    raise NotImplementedError("generate")  # TODO
