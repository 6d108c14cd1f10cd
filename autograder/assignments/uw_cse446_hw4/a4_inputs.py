"""Fixed inputs of the A4 checks: probe images, the weights the formulas are checked with, and the
small model FGSM attacks. Built from numpy seeds, so the student half and the judge agree on them
without sending them across.
"""

from __future__ import annotations

import numpy as np

FGSM_EPSILON = 0.05
FGSM_BATCH = 6
ATTACK_EPSILONS = tuple(2 * pixels / 255 for pixels in (1, 2, 4, 8, 16))
"""FGSM steps tried on the student's part (d) network: 1 to 16 levels of the 0-255 pixel range,
in the tutorial's normalised units (a pixel level is 2 / 255 there)."""


def probe_images(n: int, seed: int) -> np.ndarray:
    """(n, 3, 32, 32) float32 in [-0.5, 0.5]: normalised images away from the clamp at +-1, so an
    FGSM that clamps to the image range agrees with one that does not."""
    return np.random.default_rng(seed).uniform(-0.5, 0.5, (n, 3, 32, 32)).astype(np.float32)


def formula_weights(kind: str) -> dict[tuple, np.ndarray]:
    """The weights a network is checked with, by parameter shape."""
    rng = np.random.default_rng({"logistic": 4461, "hidden": 4462, "convpool": 4463}[kind])
    shapes = {"logistic": [((10, 3072), 0.03), ((10,), 0.3)],
              "hidden": [((37, 3072), 0.03), ((37,), 0.3), ((10, 37), 0.3), ((10,), 0.3)],
              "convpool": [((8, 3, 5, 5), 0.2), ((8,), 0.3), ((10, 32), 0.3), ((10,), 0.3)]}[kind]
    return {shape: rng.normal(0, scale, shape).astype(np.float32) for shape, scale in shapes}


def attack_weights() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(4464)
    return {"0.weight": rng.normal(0, 0.3, (4, 3, 3, 3)), "0.bias": rng.normal(0, 0.1, 4),
            "3.weight": rng.normal(0, 0.03, (10, 4 * 32 * 32)), "3.bias": rng.normal(0, 0.1, 10)}


def attack_model(weights: dict[str, np.ndarray]):
    """Conv2d(3, 4, 3, padding=1), tanh, linear: smooth, so every pixel's gradient is non-zero and
    its sign is defined (the handout's sign(t) = t / |t| is not at 0)."""
    import torch
    from torch import nn

    model = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.Tanh(), nn.Flatten(), nn.Linear(4 * 32 * 32, 10))
    model.load_state_dict({k: torch.from_numpy(v.astype(np.float32)) for k, v in weights.items()})
    return model
