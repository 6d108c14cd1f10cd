"""Input sets of A3's checks from the pretrained weights: CIFAR-10 images and the weights file.
numpy only: the parent builds them (it never imports torch), and the worker only reads them.
"""

from __future__ import annotations

from pathlib import Path

from autograder.data import DataError, _synthetic, cifar10, locate, sha256
from autograder.inputs import InputSet

WEIGHTS_DATASET = "alexnet-weights"
WEIGHTS_FILE = "alexnet-owt-7be5be79.pth"
"""torchvision's file for `AlexNet_Weights.IMAGENET1K_V1`; its name carries the first 8 hex digits
of its sha256 (torch.hub's convention), which is what is checked."""
WEIGHTS_SHA256_PREFIX = "7be5be79"
TRAIN_PER_CLASS, TEST_PER_CLASS = 20, 20


def weights_path(folder: Path) -> Path:
    """`alexnet-owt-7be5be79.pth` in `folder` (the data root's `alexnet-weights/`), checked against
    the hash in its name, unless the folder is marked synthetic (the tests' seeded stand-in)."""
    path = locate(folder.parent, folder.name, WEIGHTS_FILE)
    if not _synthetic.is_synthetic(folder) and not sha256(path).startswith(WEIGHTS_SHA256_PREFIX):
        raise DataError(f"{path} is corrupt or a different file: its sha256 is {sha256(path)}, which should start "
                        f"with {WEIGHTS_SHA256_PREFIX}; download it again from "
                        f"https://download.pytorch.org/models/{WEIGHTS_FILE}")
    return path


WEIGHTS = InputSet("alexnet-weights", WEIGHTS_DATASET,
                   lambda root: {"weights": weights_path(Path(root) / WEIGHTS_DATASET)})
"""The ImageNet weights, verified here and handed over whole (key "weights"): public, and only torch
can load them."""
TRAIN = cifar10.training_set("cifar10-train-20-per-class", TRAIN_PER_CLASS)
TEST = cifar10.test_images("cifar10-test-20-per-class", TEST_PER_CLASS)
