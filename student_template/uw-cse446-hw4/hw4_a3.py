"""A3: transfer learning from AlexNet pretrained on ImageNet, to CIFAR-10.

Fill in every TODO. Keep the names and signatures: the autograder calls them with its own AlexNet
(the architecture of `torchvision.models.alexnet`), so these functions must not load or download a
model themselves, and this file needs only torch: keep `import torchvision` in your notebook or
training script, not here. There, start from the pretrained model:

    model = torchvision.models.alexnet(weights="IMAGENET1K_V1")   # or pretrained=True
    model = feature_extractor(model)      # part a;  fine_tune_model(model) for part b
    optimizer = make_optimizer(model, lr=1e-3)
"""

from __future__ import annotations

import torch
from torch import nn


def feature_extractor(model: nn.Module, num_classes: int = 10) -> nn.Module:
    """AlexNet as a fixed feature extractor: freeze every pretrained parameter, *then* replace
    model.classifier[6] with nn.Linear(4096, num_classes), the only layer left to train.
    Return the model."""
    raise NotImplementedError("feature_extractor")  # TODO


def fine_tune_model(model: nn.Module, num_classes: int = 10) -> nn.Module:
    """AlexNet for fine-tuning: replace model.classifier[6] with nn.Linear(4096, num_classes) and
    keep every parameter trainable. Return the model."""
    raise NotImplementedError("fine_tune_model")  # TODO


def make_optimizer(model: nn.Module, lr: float) -> torch.optim.Optimizer:
    """The optimiser that trains the model's trainable parameters with learning rate lr (used for
    both parts)."""
    raise NotImplementedError("make_optimizer")  # TODO
