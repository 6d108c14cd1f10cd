"""Homework 7, Q1: k-means clustering as a neural network, on MNIST (reference).

The network keeps ten centers C (10 x 784). Its forward pass computes, for each flattened image x0,
the ten first-layer neurons x0 C_i^T - 1/2 ||C_i||^2 (the largest is the nearest center, since
||x0 - C_i||^2 = ||x0||^2 - 2 (x0 C_i^T - 1/2 ||C_i||^2)), a softmax of 20 times them over the ten
centers (dim 1: one distribution per image), the reconstruction softmax(...) C, and returns the
error reconstruction - x0. Training minimises the MSE of that error against a zero tensor.

Handout mistake (part a): nn.MSELoss averages over the 784 pixels as well as over the batch, so
under the handout's assumptions (a tenth of the batch in each cell, softmax as argmax) one SGD step
is C_i <- (1 - eta / (5 * 784)) C_i + eta / (5 * 784) m_i, not (1 - eta / 5) C_i + eta / 5 m_i. With
eta = 4.5 a step moves a center 0.11 % of the way to its batch mean, not 90 %: training still
approaches Lloyd's centers, only slowly. This reference follows the code the handout prescribes
(nn.MSELoss with its default mean, eta = 4.5), not the derivation.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn


class KMeansNet(nn.Module):
    """k-means with k = 10 on flattened 28 x 28 images."""

    def __init__(self):
        super().__init__()
        self.centers = nn.Parameter(torch.rand(10, 784))
        self.flatten = nn.Flatten()
        self.softmax = nn.Softmax(dim=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x0 = self.flatten(x)
        x = torch.matmul(x0, self.centers.t()) - 0.5 * torch.sum(self.centers ** 2, 1).flatten()
        x = self.softmax(20 * x)
        x = torch.matmul(x, self.centers)
        return x - x0


def init_centers_from_digits(model: KMeansNet, dataset) -> KMeansNet:
    """Part (b)'s "cheat": center i becomes the first image of digit i in `dataset` (items (image, label))."""
    first: dict[int, torch.Tensor] = {}
    for image, label in dataset:
        first.setdefault(int(label), torch.as_tensor(image, dtype=torch.float32).reshape(-1))
        if len(first) == 10:
            break
    missing = sorted(set(range(10)) - set(first))
    if missing:
        raise ValueError(f"the data set has no image of the digits {missing}")
    with torch.no_grad():
        for digit in range(10):
            model.centers[digit, :] = first[digit]
    return model


def train(model: KMeansNet, loader, lr: float = 4.5, epochs: int = 10) -> list[float]:
    """SGD on the MSE of the reconstruction error against zeros; the mean loss of each epoch."""
    loss_fn = nn.MSELoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    model.train()
    losses = []
    for _ in range(epochs):
        total, seen = 0.0, 0
        for x, _ in loader:
            error = model(x)
            loss = loss_fn(error, torch.zeros_like(error))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total, seen = total + loss.item() * len(x), seen + len(x)
        losses.append(total / seen)
    return losses


def cluster_counts(model: KMeansNet, dataset) -> np.ndarray:
    """counts[i, j]: the images of digit i whose nearest center is C_j (the cluster the softmax picks)."""
    counts = np.zeros((10, 10), dtype=np.int64)
    loader = torch.utils.data.DataLoader(dataset, batch_size=1000)
    with torch.no_grad():
        for x, labels in loader:
            x0 = x.reshape(len(x), -1)
            scores = x0 @ model.centers.t() - 0.5 * (model.centers ** 2).sum(1)
            np.add.at(counts, (np.asarray(labels), scores.argmax(1).numpy()), 1)
    return counts


if __name__ == "__main__":
    from torchvision import datasets, transforms

    training_data = datasets.MNIST("data", train=True, download=True, transform=transforms.ToTensor())
    model = init_centers_from_digits(KMeansNet(), training_data)
    train(model, torch.utils.data.DataLoader(training_data, batch_size=64, shuffle=True), lr=4.5, epochs=10)
    print(cluster_counts(model, training_data))
