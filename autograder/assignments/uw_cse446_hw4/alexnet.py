"""AlexNet for A3, built without torchvision where torchvision cannot be imported. Worker only
(it imports torch).

The handout starts from `torchvision.models.alexnet`. The grader's CPU install has torch alone
(a torchvision wheel built for another torch fails at import with "operator torchvision::nms does
not exist"), so `alexnet()` returns torchvision's model when it imports and otherwise `AlexNet`
below: a copy of torchvision's class with the same attribute names (`features`, `avgpool`,
`classifier`), the same Sequential indices, layer types, shapes and initialisation (PyTorch's
defaults: torchvision's AlexNet sets none of its own), so that the same seed gives the same
weights. tests/test_uw_a3.py pins it to torchvision's architecture.

The class is copied from torchvision/models/alexnet.py (torchvision 0.13 and later), Copyright (c)
Soumith Chintala 2016, BSD 3-Clause License, https://github.com/pytorch/vision.

Also here: loading the pretrained weights, from the file that `a3_inputs.WEIGHTS` hands over.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn

from autograder.data import DataError

MIN_SIZE = 63
"""The smallest input height and width AlexNet accepts (torchvision's docstring says so)."""


class AlexNet(nn.Module):
    """torchvision.models.AlexNet, copied (see the module's docstring for the licence)."""

    def __init__(self, num_classes: int = 1000, dropout: float = 0.5) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 64, kernel_size=11, stride=4, padding=2),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(64, 192, kernel_size=5, padding=2),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(192, 384, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(384, 256, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(256, 256, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
        )
        self.avgpool = nn.AdaptiveAvgPool2d((6, 6))
        self.classifier = nn.Sequential(
            nn.Dropout(p=dropout),
            nn.Linear(256 * 6 * 6, 4096),
            nn.ReLU(inplace=True),
            nn.Dropout(p=dropout),
            nn.Linear(4096, 4096),
            nn.ReLU(inplace=True),
            nn.Linear(4096, num_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.features(x)
        x = self.avgpool(x)
        x = torch.flatten(x, 1)
        x = self.classifier(x)
        return x


class SlimAlexNet(AlexNet):
    """AlexNet's module names, layer types, Sequential indices and 4096 inputs to classifier[6], with
    narrow layers elsewhere: 4.4 million parameters instead of 61 million (4.1 million of them in
    the 1000-class classifier[6] that the student replaces).

    For the optimiser-step checks: one step of the full model holds its weights, their gradients and
    the optimiser's state (1.0 GB with SGD and momentum, 1.5 GB with Adam), twice Gradescope's default
    container, while which parameters a step changes does not depend on the layers' widths.
    """

    def __init__(self, num_classes: int = 1000, dropout: float = 0.5) -> None:
        nn.Module.__init__(self)
        self.features = nn.Sequential(
            nn.Conv2d(3, 8, kernel_size=11, stride=4, padding=2),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(8, 16, kernel_size=5, padding=2),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(16, 16, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(16, 16, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(16, 16, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
        )
        self.avgpool = nn.AdaptiveAvgPool2d((6, 6))
        self.classifier = nn.Sequential(
            nn.Dropout(p=dropout),
            nn.Linear(16 * 6 * 6, 64),
            nn.ReLU(inplace=True),
            nn.Dropout(p=dropout),
            nn.Linear(64, 4096),
            nn.ReLU(inplace=True),
            nn.Linear(4096, num_classes),
        )


@functools.cache
def torchvision_alexnet() -> Callable[..., nn.Module] | None:
    """`torchvision.models.alexnet`, or None where torchvision does not import (looked up once:
    a failed import would otherwise be retried, and cost its time, on every call)."""
    try:
        from torchvision.models import alexnet as build
    except Exception:  # noqa: BLE001 - ImportError, or the RuntimeError of a torchvision built for another torch
        return None
    return build


def alexnet(*, initialised: bool = True) -> nn.Module:
    """An untrained AlexNet with 1000 outputs: `torchvision.models.alexnet(weights=None)`.

    `initialised=False` gives the same modules over uninitialised memory: no random draws and no
    pages touched (a second instead of a few milliseconds), for checks that read the structure only.
    """
    build = torchvision_alexnet()
    make = (lambda: build(weights=None)) if build is not None else AlexNet
    if initialised:
        return make()
    with torch.device("meta"):
        model = make()
    # Fresh storage for each parameter (torch.empty touches no page; Module.to_empty, through
    # empty_like, takes most of a second here).
    for module in model.modules():
        for name, p in module._parameters.items():
            if p is not None:
                module._parameters[name] = nn.Parameter(torch.empty(p.shape, dtype=p.dtype),
                                                        requires_grad=p.requires_grad)
    return model


def pretrained_alexnet(path: Path) -> nn.Module:
    """AlexNet with the ImageNet weights of the file `path` (read with weights_only: no pickled code),
    which the parent verified (`a3_inputs.weights_path`) and handed over.

    The modules are made on the meta device and take the loaded tensors themselves (assign=True),
    so neither a random initialisation nor a second copy of the 61 million weights is made.
    """
    build = torchvision_alexnet()
    with torch.device("meta"):
        model = build(weights=None) if build is not None else AlexNet()
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
        model.load_state_dict(state, assign=True)
    except Exception as exc:  # noqa: BLE001 - any failure: the file is not AlexNet's state_dict
        raise DataError(f"{path} is not a state_dict of torchvision's AlexNet ({type(exc).__name__}: "
                        f"{str(exc)[:300]})") from None
    return model
