"""Homework 7, Q1: k-means clustering as a neural network, on MNIST.

Fill in every TODO. Keep the names and signatures: the autograder calls them. Images are MNIST's as
`datasets.MNIST(..., transform=ToTensor())` gives them: (1, 28, 28) float tensors in [0, 1], with an
int label.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn


class KMeansNet(nn.Module):
    """k-means with k = 10 on flattened 28 x 28 images."""

    def __init__(self):
        super().__init__()
        # TODO: three elements: self.centers, a (10, 784) nn.Parameter (the centers matrix C); a flatten
        # layer; a softmax layer.
        raise NotImplementedError("KMeansNet.__init__")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The reconstruction error softmax(20 * (x0 C^T - 1/2 ||C_i||^2)) C - x0, shape (N, 784), where
        x0 is the flattened input."""
        raise NotImplementedError("KMeansNet.forward")  # TODO


def init_centers_from_digits(model: KMeansNet, dataset) -> KMeansNet:
    """Part (b): set center i (model.centers[i, :]) to the first image of digit i in `dataset`, flattened."""
    raise NotImplementedError("init_centers_from_digits")  # TODO


def train(model: KMeansNet, loader, lr: float = 4.5, epochs: int = 10) -> list[float]:
    """SGD (lr) on nn.MSELoss of model(x) against a zero tensor, for `epochs` passes over the loader
    (batches of 64); returns the mean training loss of each epoch."""
    raise NotImplementedError("train")  # TODO


def cluster_counts(model: KMeansNet, dataset) -> np.ndarray:
    """A (10, 10) table: entry [i, j] counts the images of digit i clustered in center j (their sum is
    the number of images)."""
    raise NotImplementedError("cluster_counts")  # TODO
