"""A2: linear and ReLU autoencoders on MNIST (x in [0, 1]^784, flattened)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def linear_autoencoder(d: int, h: int) -> nn.Module:
    """F1(x) = W_d W_e x (nn.Linear's biases included, as the handout allows)."""
    return nn.Sequential(nn.Linear(d, h), nn.Linear(h, d))


def relu_autoencoder(d: int, h: int) -> nn.Module:
    """F2(x) = relu(W_d relu(W_e x))."""
    return nn.Sequential(nn.Linear(d, h), nn.ReLU(), nn.Linear(h, d), nn.ReLU())


def train_autoencoder(model: nn.Module, X: torch.Tensor, epochs: int, lr: float, batch_size: int) -> list[float]:
    """Adam on the mean squared error; returns the mean training loss of each epoch."""
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    losses = []
    for _ in range(epochs):
        total = 0.0
        for rows in torch.randperm(len(X)).split(batch_size):
            batch = X[rows]
            loss = F.mse_loss(model(batch), batch)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * len(rows)
        losses.append(total / len(X))
    return losses


def reconstruction_error(model: nn.Module, X: torch.Tensor) -> float:
    """The mean squared error over all pixels of all images."""
    with torch.no_grad():
        return F.mse_loss(model(X), X).item()
