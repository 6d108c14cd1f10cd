"""A fake MNIST for fa24-dl-hw7's tests, in the real IDX format: digit-like strokes, not noise.

`autograder.data.mnist.write_fake_mnist` (conftest's roots) draws uniform noise, on which an
autoencoder cannot lower its loss the way it does on digits; the checks' thresholds are measured on
the real data. Here each class is three strokes, drawn with a pixel of jitter and some noise, mostly
black like MNIST: k-means clusters them and the autoencoder learns them within the grader's budget,
as on the real MNIST.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from autograder.data import _synthetic, mnist

N_TRAIN, N_TEST = 1000, 100


def strokes(rng: np.random.Generator) -> np.ndarray:
    """A 28 x 28 template in [0, 1]: three strokes two pixels wide."""
    image = np.zeros((28, 28))
    for _ in range(3):
        (r0, c0), (r1, c1) = rng.integers(5, 23, (2, 2))
        for t in np.linspace(0, 1, 40):
            r, c = int(round(r0 + t * (r1 - r0))), int(round(c0 + t * (c1 - c0)))
            image[r:r + 2, c:c + 2] = 1.0
    return image


def digit_images(n: int, templates: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    labels = rng.integers(0, 10, n)
    shifts = rng.integers(-1, 2, (n, 2))
    images = np.stack([np.roll(templates[k], tuple(s), axis=(0, 1)) for k, s in zip(labels, shifts)])
    images = images * rng.uniform(0.7, 1.0, (n, 1, 1)) + rng.normal(0, 0.05, images.shape)
    return np.rint(np.clip(images, 0, 1) * 255).astype(np.uint8), labels.astype(np.uint8)


def write_fake_digits(root: Path, seed: int = 0) -> Path:
    """`root/mnist/` in the IDX format (marked synthetic: no checksums), N_TRAIN and N_TEST images."""
    rng = np.random.default_rng(seed)
    templates = np.stack([strokes(rng) for _ in range(10)])
    folder = Path(root) / mnist.DATASET
    folder.mkdir(parents=True, exist_ok=True)
    for split, n in (("train", N_TRAIN), ("test", N_TEST)):
        images, labels = digit_images(n, templates, rng)
        images_file, labels_file = mnist.SPLITS[split]
        mnist.write_idx(folder / images_file, images)
        mnist.write_idx(folder / labels_file, labels)
    _synthetic.mark(folder)
    return root
