"""A3: transfer learning from AlexNet pretrained on ImageNet, to CIFAR-10.

Both readings receive the pretrained model (`torchvision.models.alexnet(weights="IMAGENET1K_V1")`)
and replace its last layer, `classifier[6] = nn.Linear(4096, 1000)`, with one for `num_classes`.
The optimiser is that of PyTorch's transfer-learning tutorial: SGD with momentum 0.9.
"""

from __future__ import annotations

import torch
from torch import nn


def feature_extractor(model: nn.Module, num_classes: int = 10) -> nn.Module:
    """AlexNet as a fixed feature extractor: every pretrained parameter frozen, then (so that it
    stays trainable) a new classifier[6]."""
    for param in model.parameters():
        param.requires_grad = False
    model.classifier[6] = nn.Linear(4096, num_classes)
    return model


def fine_tune_model(model: nn.Module, num_classes: int = 10) -> nn.Module:
    """AlexNet for fine-tuning: a new classifier[6], every weight trainable."""
    for param in model.parameters():
        param.requires_grad = True
    model.classifier[6] = nn.Linear(4096, num_classes)
    return model


def make_optimizer(model: nn.Module, lr: float) -> torch.optim.Optimizer:
    """SGD with momentum over the parameters that require grad (the new layer alone for the
    feature extractor, every weight for fine-tuning)."""
    return torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=lr, momentum=0.9)
