"""A4: CIFAR-10 classifiers and the FGSM attack.

Fill in every TODO. Keep the names and signatures: the autograder calls them. The autograder feeds
every network float tensors (N, 3, 32, 32) normalised as in the "Training a classifier" tutorial:
transforms.ToTensor(), then transforms.Normalize((0.5, 0.5, 0.5), (0.5, 0.5, 0.5)). Train with the
same. Submit also the state_dicts of your trained networks:
`torch.save(model.state_dict(), "a4_c.pt")` for ConvPool(**CONV_POOL_CONFIG) (part c) and
`"a4_d.pt"` for TutorialNet(**TUTORIAL_NET_CONFIG) (part d).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F  # noqa: F401 - you will need it
from torch import nn


class LogisticRegression(nn.Module):
    """x_out = W vec(x) + b, with W in R^{10 x 3072} and b in R^10."""

    def __init__(self):
        super().__init__()
        raise NotImplementedError("LogisticRegression.__init__")  # TODO

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError("LogisticRegression.forward")  # TODO


class OneHiddenLayer(nn.Module):
    """x_out = W_2 relu(W_1 vec(x) + b_1) + b_2, with M hidden units."""

    def __init__(self, M: int):
        super().__init__()
        raise NotImplementedError("OneHiddenLayer.__init__")  # TODO

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError("OneHiddenLayer.forward")  # TODO


class ConvPool(nn.Module):
    """x_out = W_2 vec(MaxPool(relu(Conv2d(x, W_1) + b_1))) + b_2: M filters of size k x k x 3, then a
    max-pool of size N x N, then one linear layer to the 10 classes."""

    def __init__(self, M: int = 100, k: int = 5, N: int = 14):
        super().__init__()
        raise NotImplementedError("ConvPool.__init__")  # TODO

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError("ConvPool.forward")  # TODO


class TutorialNet(nn.Module):
    """The "Training a classifier" tutorial's network (conv, pool, conv, pool, fc, fc, fc). With no
    arguments it has the tutorial's sizes; part (d) tunes the sizes, never the number of layers."""

    def __init__(self, conv1_channels: int = 6, conv2_channels: int = 16, kernel_size: int = 5,
                 fc1_units: int = 120, fc2_units: int = 84):
        super().__init__()
        raise NotImplementedError("TutorialNet.__init__")  # TODO

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError("TutorialNet.forward")  # TODO


def fgsm(model: nn.Module, x: torch.Tensor, y: torch.Tensor, epsilon: float) -> torch.Tensor:
    """Untargeted FGSM: x + epsilon * sign(grad_x CrossEntropy(model(x), y)), for a batch x with labels y.

    Leave the model as you found it: its parameters, their .grad and its train/eval mode.
    """
    raise NotImplementedError("fgsm")  # TODO


# TODO: the hyperparameters you chose (keyword arguments of the constructors); the autograder
# builds ConvPool(**CONV_POOL_CONFIG) and TutorialNet(**TUTORIAL_NET_CONFIG) to load your checkpoints.
CONV_POOL_CONFIG: dict = {}
TUTORIAL_NET_CONFIG: dict = {}
