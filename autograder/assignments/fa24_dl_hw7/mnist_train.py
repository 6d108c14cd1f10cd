"""The input set of the real-data checks: MNIST's 60,000 training images and their labels.

Both are the students' own data (the handout trains and counts on them), so nothing is held out.
numpy only: the parent builds the set, the worker reads it (`digits` wraps it as the data set the
handout's code expects).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from autograder.data import mnist
from autograder.inputs import InputSet


def _training_set(root: Path) -> dict[str, np.ndarray]:
    images, labels = mnist.load(Path(root) / mnist.DATASET, "train")
    return {"images": images, "labels": labels}


TRAIN = InputSet("mnist-train", mnist.DATASET, _training_set)
"""uint8 images (60000, 28, 28) and labels (60000,), in the data set's order."""


def digits(images: np.ndarray, labels: np.ndarray):
    """A data set shaped like torchvision's `datasets.MNIST(..., transform=ToTensor())`, which the
    handout's code is written against: `dataset[i]` is (a float tensor (1, 28, 28) in [0, 1], an int
    label), and `.data` (uint8 (n, 28, 28)) and `.targets` (int64 (n,)) hold it all. Worker side.
    Pixels are converted one image at a time, as torchvision does: 60,000 images as floats would take
    188 MB of the grading's memory."""
    import torch

    class MNIST(torch.utils.data.Dataset):
        def __init__(self):
            self.data = torch.from_numpy(np.ascontiguousarray(images, dtype=np.uint8))
            self.targets = torch.from_numpy(np.asarray(labels, dtype=np.int64))

        def __len__(self) -> int:
            return len(self.targets)

        def __getitem__(self, index: int):
            return self.data[index].unsqueeze(0).float().div(255), int(self.targets[index])

        def __repr__(self) -> str:
            return f"MNIST-like data set of {len(self)} images"

    return MNIST()
