"""Fixtures for the A3 tests of uw-cse446-hw4: grading of problem A3 alone, without data (the
checks on CIFAR-10 left out) or on a synthetic data root that holds a small fake CIFAR-10 and a
stand-in for torchvision's pretrained AlexNet weights."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import by_id, lost, text_of  # noqa: F401 - shared helpers, imported from here by tests
from uw_fixtures import HW4, reference, template  # noqa: F401 - shared helpers

from autograder.assignments import load_assignment
from autograder.config import GradingConfig
from autograder.data import _synthetic, cifar10
from autograder.results import Grade
from autograder.runner import grade

WEIGHTS_DATASET, WEIGHTS_FILE = "alexnet-weights", "alexnet-owt-7be5be79.pth"
FAKE_TRAIN_PER_CLASS, FAKE_TEST_PER_CLASS = 8, 5
"""Fewer images than the check's budget takes (20 and 20 per class): the budget takes what there is,
and the tests stay fast."""
COLOURS = ((230, 30, 30), (30, 200, 30), (30, 30, 230), (230, 230, 30), (230, 30, 230), (30, 230, 230),
           (240, 240, 240), (20, 20, 20), (128, 128, 128), (240, 140, 20))
COLOUR_CHANNELS = 64


def write_colour_cifar10(root: Path, n_train: int = FAKE_TRAIN_PER_CLASS, n_test: int = FAKE_TEST_PER_CLASS,
                         seed: int = 0) -> None:
    """A fake CIFAR-10 in a real layout (`cifar10/<split>/<class>/NNNN.png`, marked synthetic), one
    colour a class under noise. `cifar10.write_fake_cifar10`'s images are made for a small network
    trained from scratch (colours close together, stripes): through the stand-in weights below, a few
    steps do not separate them; distinct colours are what a pretrained network makes of real classes."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    folder = root / cifar10.DATASET
    for split, n in (("train", n_train), ("test", n_test)):
        for label, name in enumerate(cifar10.CLASSES):
            (folder / split / name).mkdir(parents=True, exist_ok=True)
            for i in range(n):
                pixels = np.array(COLOURS[label], dtype=float) + rng.normal(0, 30, (32, 32, 3))
                Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)).save(folder / split / name / f"{i:04d}.png")
    _synthetic.mark(folder)


def stand_in_weights() -> dict[str, torch.Tensor]:
    """A deterministic AlexNet state_dict whose features carry the images' colours, so that the fake
    CIFAR-10 is learnable within the check's budget, as real CIFAR-10 is from the real weights.
    Random weights are not: their features drown the colour within a few layers.

    conv1 averages 32 random mixes of the colour channels into 64 channels (each mix and its
    negative, so that ReLU loses nothing), the other convolutions pass those channels through (a 1 at
    the kernel's centre), and the classifier is random with He-like scales (classifier.4 at half of
    it, which keeps lr 1e-3 stable).
    """
    from autograder.assignments.uw_cse446_hw4.alexnet import AlexNet

    with torch.device("meta"):
        model = AlexNet()
    state = {name: torch.zeros(t.shape) for name, t in model.state_dict().items()}
    g = torch.Generator().manual_seed(0)
    half = COLOUR_CHANNELS // 2
    mix = torch.randn(half, 3, generator=g)
    mix = mix / mix.norm(dim=1, keepdim=True)
    state["features.0.weight"][:half] = mix[:, :, None, None] / 121
    state["features.0.weight"][half:COLOUR_CHANNELS] = -mix[:, :, None, None] / 121
    for i in (3, 6, 8, 10):
        w = state[f"features.{i}.weight"]
        for c in range(COLOUR_CHANNELS):
            w[c, c, w.shape[-2] // 2, w.shape[-1] // 2] = 1.0
    state["classifier.1.weight"].normal_(0, (2 / (COLOUR_CHANNELS * 36)) ** 0.5, generator=g)
    state["classifier.4.weight"].normal_(0, 0.5 * (2 / 4096) ** 0.5, generator=g)
    state["classifier.6.weight"].normal_(0, 0.01, generator=g)
    return state


def write_stand_in_weights(root: Path) -> Path:
    folder = root / WEIGHTS_DATASET
    folder.mkdir(parents=True, exist_ok=True)
    torch.save(stand_in_weights(), folder / WEIGHTS_FILE)
    _synthetic.mark(folder)  # no sha256 check: this is not torchvision's file
    return folder / WEIGHTS_FILE


@pytest.fixture(scope="session")
def a3_root():
    root = Path(tempfile.mkdtemp(prefix="hw4-a3-data-"))
    write_colour_cifar10(root)
    write_stand_in_weights(root)
    for path in (root, *root.rglob("*")):  # readable by the worker's unprivileged user
        path.chmod(0o755 if path.is_dir() else 0o644)
    yield root
    shutil.rmtree(root)


@pytest.fixture(scope="session")
def grade_a3(tmp_path_factory, a3_root):
    """grade_a3(text, data=False) -> Grade of A3 alone; without data the CIFAR-10 checks are left out."""
    cache = tmp_path_factory.mktemp("a3-cache")

    def run(text: str, data: bool = False) -> Grade:
        folder = tmp_path_factory.mktemp("submission")
        (folder / "hw4_a3.py").write_text(text)
        config = GradingConfig(cache_dir=cache, data_root=a3_root if data else None, problems=("a3",))
        return grade(folder, load_assignment(HW4), config)

    return run


