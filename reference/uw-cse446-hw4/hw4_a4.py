"""A4: CIFAR-10 classifiers and the FGSM attack.

Images reach every network as float tensors (N, 3, 32, 32), normalised as in the "Training a
classifier" tutorial: pixels / 255, then (x - 0.5) / 0.5, so in [-1, 1].
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class LogisticRegression(nn.Module):
    """x_out = W vec(x) + b, W in R^{10 x 3072}."""

    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(3 * 32 * 32, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(torch.flatten(x, 1))


class OneHiddenLayer(nn.Module):
    """x_out = W_2 relu(W_1 vec(x) + b_1) + b_2, with M hidden units."""

    def __init__(self, M: int):
        super().__init__()
        self.hidden = nn.Linear(3 * 32 * 32, M)
        self.output = nn.Linear(M, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.output(F.relu(self.hidden(torch.flatten(x, 1))))


class ConvPool(nn.Module):
    """x_out = W_2 vec(MaxPool_N(relu(Conv2d_k(x, W_1) + b_1))) + b_2, with M filters."""

    def __init__(self, M: int = 100, k: int = 5, N: int = 14):
        super().__init__()
        self.conv = nn.Conv2d(3, M, k)
        self.pool = nn.MaxPool2d(N)
        pooled = (33 - k) // N
        self.output = nn.Linear(M * pooled ** 2, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.output(torch.flatten(self.pool(F.relu(self.conv(x))), 1))


class TutorialNet(nn.Module):
    """The tutorial's conv-pool-conv-pool-fc-fc-fc network; the defaults are the tutorial's sizes."""

    def __init__(self, conv1_channels: int = 6, conv2_channels: int = 16, kernel_size: int = 5,
                 fc1_units: int = 120, fc2_units: int = 84):
        super().__init__()
        self.conv1 = nn.Conv2d(3, conv1_channels, kernel_size)
        self.pool = nn.MaxPool2d(2, 2)
        self.conv2 = nn.Conv2d(conv1_channels, conv2_channels, kernel_size)
        side = ((33 - kernel_size) // 2 - kernel_size + 1) // 2
        self.fc1 = nn.Linear(conv2_channels * side * side, fc1_units)
        self.fc2 = nn.Linear(fc1_units, fc2_units)
        self.fc3 = nn.Linear(fc2_units, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.pool(F.relu(self.conv1(x)))
        x = self.pool(F.relu(self.conv2(x)))
        x = torch.flatten(x, 1)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)


def fgsm(model: nn.Module, x: torch.Tensor, y: torch.Tensor, epsilon: float) -> torch.Tensor:
    """Untargeted FGSM: x + epsilon * sign(grad_x CrossEntropy(model(x), y)).

    torch.autograd.grad differentiates with respect to x alone, so the model's parameters, their
    .grad and its training mode are left as they were.
    """
    x = x.detach().clone().requires_grad_(True)
    loss = F.cross_entropy(model(x), y)
    (grad,) = torch.autograd.grad(loss, x)
    return (x + epsilon * grad.sign()).detach()


# Chosen on a validation split (scripts/train_uw_cse446_hw4_a4.py): the handout's ConvPool(100, 5, 14)
# pools to 2 x 2 and stays near 0.63 test accuracy; a finer pool keeps more of the image.
CONV_POOL_CONFIG = {"M": 128, "k": 5, "N": 4}
TUTORIAL_NET_CONFIG = {"conv1_channels": 32, "conv2_channels": 64, "kernel_size": 5, "fc1_units": 256,
                       "fc2_units": 128}
