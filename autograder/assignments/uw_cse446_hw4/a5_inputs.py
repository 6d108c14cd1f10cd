"""Fixed inputs of the A5 checks, made with numpy so that the judge can rebuild them without torch,
and the input set of the budgeted training on SST-2.

A collate batch is a list of (token ids, label) pairs; ids start at 1 so that a 0 in the output
can only be padding. The random batches are the property-based part: many shapes, one seed.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from autograder.data import glove, sst2
from autograder.inputs import InputSet, Value, pack_texts

Batch = list[tuple[np.ndarray, int]]

FIXED_BATCHES = {
    "mixed lengths": (3, 7, 1, 5, 7),
    "one sequence": (4,),
    "equal lengths": (6, 6, 6, 6),
}
RANDOM_BATCHES = 40


def make_batch(lengths: tuple[int, ...], seed: int) -> Batch:
    rng = np.random.default_rng(seed)
    return [(rng.integers(1, 500, size=n, dtype=np.int64), int(rng.integers(0, 2))) for n in lengths]


def fixed_batches() -> dict[str, Batch]:
    return {name: make_batch(lengths, seed) for seed, (name, lengths) in enumerate(FIXED_BATCHES.items())}


def random_batches() -> dict[str, Batch]:
    rng = np.random.default_rng(446)
    batches = {}
    for i in range(RANDOM_BATCHES):
        n = int(rng.integers(1, 17))
        lengths = tuple(int(x) for x in rng.integers(1, 25, size=n))
        batches[f"random batch {i}"] = make_batch(lengths, 1000 + i)
    return batches


MODEL_VOCAB, MODEL_DIM = 40, 50
LOSS_TARGETS = np.array([1, 0, 1, 1, 0, 0, 1, 0], dtype=np.float64)
PROBE_LOGITS = np.array([-2.5, -0.4, 0.2, 0.45, 0.8, 3.0, -0.05, 1.7])
"""Logits on both sides of 0 and inside (0, 0.5): thresholding them at 0.5 gets 1 of 8 right, not 3."""
PROBE_PROBABILITIES = np.array([0.85, 0.35, 0.55, 0.62, 0.2, 0.9, 0.48, 0.7])
"""Probabilities on both sides of 0.5: thresholding them at 0 calls every one positive (4 of 8 right,
not 5 of 8)."""


def embedding_matrix(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    matrix = rng.normal(0, 0.5, (MODEL_VOCAB, MODEL_DIM)).astype(np.float32)
    matrix[0] = 0.0
    return matrix


def token_batch(n: int, length: int, seed: int) -> np.ndarray:
    """(n, length) ids with end padding of varied lengths, as collate_fn makes them."""
    rng = np.random.default_rng(seed)
    ids = rng.integers(1, MODEL_VOCAB, size=(n, length))
    for row in range(1, n):
        ids[row, int(rng.integers(1, length + 1)):] = 0
    return ids


# --- SST-2 for the budgeted training ----------------------------------------------------------------

def _sst2_budget(root: Path) -> dict[str, Value]:
    train, labels = sst2.load_rows(root, "train")
    dev, _ = sst2.load_rows(root, "dev")
    return {**pack_texts("train", train), "train labels": labels, **pack_texts("dev", dev),
            "glove": glove.glove_path(root)}


SST2_BUDGET = InputSet("sst2-budget", sst2.DATASET, _sst2_budget)
"""The training sentences with their labels, the dev sentences without theirs, and the GloVe file
(public vectors, verified here, handed over whole for the trusted `util.load_embedding_matrix`)."""
