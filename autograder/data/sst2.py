"""SST-2 in the GLUE layout (`train.tsv`, `dev.tsv`, header `sentence<TAB>label`); and fake files.

Sentences are already lowercased and tokenized; tokens are split on single spaces, as the
handout's starter `util.py` does. Labels are 0 (negative) and 1 (positive).
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from autograder.data import DataError, locate, verify
from autograder.data._synthetic import is_synthetic, mark

DATASET = "sst2"
RESOURCES = [
    ("train.tsv", "48eac26399f8456935f81dd9e3a745c1430adb6c62e233ccfe22db4a0d15d1d1"),
    ("dev.tsv", "54a9c12c77e402fc14d6a66a506f24d999f596b0176eb777c972cccc2f9cc4b0"),
]
SPLITS = {file.removesuffix(".tsv"): digest for file, digest in RESOURCES}
HEADER = ["sentence", "label"]


def split_path(root: Path | None, split: str) -> Path:
    """The verified `<split>.tsv` under `root/sst2/`."""
    if split not in SPLITS:
        raise ValueError(f"Unknown value {split!r} for argument split. Valid values are {', '.join(SPLITS)}.")
    path = locate(root, DATASET, f"{split}.tsv")
    return verify(path, None if is_synthetic(path.parent) else SPLITS[split])


def read_rows(path: Path) -> tuple[list[str], np.ndarray]:
    """(sentences, int64 labels) of one `.tsv` file; each sentence stripped, its tokens joined by
    single spaces as in the file."""
    sentences, labels = [], []
    with open(path, encoding="utf-8", newline="") as f:
        reader = csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE)
        header = next(reader, None)
        if header != HEADER:
            raise DataError(f"{path} should start with the header 'sentence<TAB>label', not {header!r}")
        for line, row in enumerate(reader, start=2):
            if len(row) != 2 or row[1] not in ("0", "1"):
                raise DataError(f"{path}, line {line}: expected 'sentence<TAB>0 or 1', got {row!r}")
            sentences.append(row[0].strip())
            labels.append(int(row[1]))
    return sentences, np.asarray(labels, dtype=np.int64)


def tokens(sentence: str) -> list[str]:
    """A sentence's tokens, split on single spaces as the starter `util.py` splits them."""
    return sentence.split(" ")


def read_split(path: Path) -> tuple[list[list[str]], np.ndarray]:
    """(token lists, int64 labels) of one `.tsv` file."""
    sentences, labels = read_rows(path)
    return [tokens(s) for s in sentences], labels


def load_rows(root: Path | None, split: str) -> tuple[list[str], np.ndarray]:
    return read_rows(split_path(root, split))


def load_split(root: Path | None, split: str) -> tuple[list[list[str]], np.ndarray]:
    return read_split(split_path(root, split))


POSITIVE = ("good", "great", "charming", "funny", "moving", "brilliant", "warm", "fresh")
NEGATIVE = ("bad", "dull", "boring", "awful", "flat", "tedious", "weak", "mess")
NEUTRAL = ("the", "film", "movie", "a", "is", "of", "and", "story", "it", "'s", "plot", "characters",
           "director", "with", "this", "an", "acting", "script", "rare", "zzyzx")
"""The fake corpus's words; 'zzyzx' is left out of the fake GloVe file to exercise the unknown-word path."""


def write_fake_split(root: Path, split: str, *, rows: int, seed: int) -> Path:
    """A `<split>.tsv` whose label is decided by the sentiment words a sentence contains."""
    rng = np.random.default_rng(seed)
    folder = root / DATASET
    folder.mkdir(parents=True, exist_ok=True)
    lines = ["sentence\tlabel\n"]
    for _ in range(rows):
        label = int(rng.integers(0, 2))
        cue = POSITIVE if label else NEGATIVE
        words = list(rng.choice(NEUTRAL, size=int(rng.integers(1, 12))))
        for _ in range(int(rng.integers(1, 3))):
            words.insert(int(rng.integers(0, len(words) + 1)), str(rng.choice(cue)))
        lines.append(" ".join(words) + " \t" + str(label) + "\n")
    path = folder / f"{split}.tsv"
    path.write_text("".join(lines), encoding="utf-8")
    mark(folder)
    return path


def write_fake_sst2(root: Path, *, train_rows: int = 600, dev_rows: int = 120) -> Path:
    write_fake_split(root, "train", rows=train_rows, seed=1)
    write_fake_split(root, "dev", rows=dev_rows, seed=2)
    return root / DATASET
