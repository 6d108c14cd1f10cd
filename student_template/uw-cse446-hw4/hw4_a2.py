"""A2: linear and ReLU autoencoders on MNIST (x in [0, 1]^784, flattened).

Fill in every TODO. Keep the names and signatures: the autograder calls them. Submit also the
state_dicts of your trained h = 128 models, saved with
`torch.save(model.state_dict(), "a2_f1_h128.pt")` (F1) and `"a2_f2_h128.pt"` (F2).
"""

from __future__ import annotations

import torch
from torch import nn


def linear_autoencoder(d: int, h: int) -> nn.Module:
    """F1(x) = W_d W_e x, with W_e (h x d) and W_d (d x h); nn.Linear's biases are allowed."""
    raise NotImplementedError("linear_autoencoder")  # TODO


def relu_autoencoder(d: int, h: int) -> nn.Module:
    """F2(x) = relu(W_d relu(W_e x))."""
    raise NotImplementedError("relu_autoencoder")  # TODO


def train_autoencoder(model: nn.Module, X: torch.Tensor, epochs: int, lr: float, batch_size: int) -> list[float]:
    """Adam on the mean squared error (F.mse_loss); returns the mean training loss of each epoch."""
    raise NotImplementedError("train_autoencoder")  # TODO


def reconstruction_error(model: nn.Module, X: torch.Tensor) -> float:
    """The mean squared error over all pixels of all images."""
    raise NotImplementedError("reconstruction_error")  # TODO
