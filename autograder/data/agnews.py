"""AG News bag-of-words in the VAMPIRE layout (A6 of uw-cse446-hw4), and fake files in that layout.

Under `<root>/ag-news-vampire/counts/`: `dev.npz` (documents x words, integer counts),
`vocabulary/vampire.txt` (one word per line; line j names column j; line 0 is `@@UNKNOWN@@`),
`reference/ref.npz` and `reference/ref.vocab.json` (the NPMI reference corpus, its columns named
by a JSON list). An `.npz` holds a sparse COO matrix as the arrays data, row, col and shape.
The real files are pinned by sha256 (see ../shared/data/ag-news-vampire/SOURCE.md); a folder
marked synthetic (`_synthetic.mark`) skips the checksums.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from scipy import sparse

from autograder.data import DataError, locate, verify
from autograder.data._synthetic import is_synthetic, mark

DATASET = "ag-news-vampire"
DEV = "counts/dev.npz"
VOCABULARY = "counts/vocabulary/vampire.txt"
REFERENCE = "counts/reference/ref.npz"
REFERENCE_VOCABULARY = "counts/reference/ref.vocab.json"
RESOURCES = [
    (DEV, "2330a5f0b8fd886172995ddc5aa324c52ec20f6e414b1dcc893050c168d7f335"),
    (VOCABULARY, "2073049d145a571f63577f7b5b28f28cf7350db1768802a1ac9777c99116b582"),
    (REFERENCE, "cf592b93204a2803fc12df2b86b2da334c388716d7e1e4f506f584c006673def"),
    (REFERENCE_VOCABULARY, "f6768fac766c344f08de19ee45350a49c6df24a5c15481dc1eb6e6c60df1bc67"),
]
NPZ_KEYS = ("data", "row", "col", "shape")
UNKNOWN = "@@UNKNOWN@@"


def path_of(root: Path | None, file: str) -> Path:
    """The verified `file` (one of RESOURCES) under `root/ag-news-vampire/`."""
    known = dict(RESOURCES)
    if file not in known:
        raise ValueError(f"Unknown value {file!r} for argument file. Valid values are {', '.join(known)}.")
    path = locate(root, DATASET, file)
    return verify(path, None if is_synthetic(Path(root) / DATASET) else known[file])


def read_bow(path: Path) -> sparse.csr_matrix:
    """The documents x words count matrix of an `.npz` file (keys data, row, col, shape)."""
    try:
        with np.load(path, allow_pickle=False) as z:
            missing = [k for k in NPZ_KEYS if k not in z.files]
            if missing:
                raise DataError(f"{path} has no array {', '.join(missing)}; a bag-of-words .npz holds "
                                f"{', '.join(NPZ_KEYS)} (a sparse COO matrix)")
            data, row, col, shape = (z[k] for k in NPZ_KEYS)
    except (OSError, ValueError) as exc:
        raise DataError(f"{path} is not a readable .npz file ({exc})") from None
    if shape.shape != (2,) or len(data) != len(row) or len(row) != len(col):
        raise DataError(f"{path}: shape must hold 2 numbers and data, row, col the same length; got shape "
                        f"{shape.tolist()} and lengths {len(data)}, {len(row)}, {len(col)}")
    n_rows, n_cols = (int(s) for s in shape)
    if len(row) and (row.min() < 0 or row.max() >= n_rows or col.min() < 0 or col.max() >= n_cols):
        raise DataError(f"{path}: an index lies outside the declared shape {n_rows} x {n_cols}")
    return sparse.coo_matrix((data, (row, col)), shape=(n_rows, n_cols)).tocsr()


def read_vocabulary(path: Path) -> list[str]:
    """Words in column order: a JSON list (`.json`), else one word per line (AllenNLP's layout)."""
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".json":
        try:
            words = json.loads(text)
        except json.JSONDecodeError as exc:
            raise DataError(f"{path} is not valid JSON ({exc})") from None
        if not isinstance(words, list) or not all(isinstance(w, str) for w in words):
            raise DataError(f"{path} should hold a JSON list of words")
        return words
    words = text.split("\n")
    return words[:-1] if words and words[-1] == "" else words  # the file ends with a newline


def _named(matrix: sparse.csr_matrix, words: list[str], matrix_path: str, words_path: str):
    if len(words) != matrix.shape[1]:
        raise DataError(f"{words_path} names {len(words)} words but {matrix_path} has {matrix.shape[1]} columns")
    return matrix, words


def load_dev(root: Path | None) -> tuple[sparse.csr_matrix, list[str]]:
    """(counts, words): the dev documents and the word of each column."""
    return _named(read_bow(path_of(root, DEV)), read_vocabulary(path_of(root, VOCABULARY)), DEV, VOCABULARY)


def load_reference(root: Path | None) -> tuple[sparse.csr_matrix, list[str]]:
    """(counts, words) of the NPMI reference corpus."""
    return _named(read_bow(path_of(root, REFERENCE)), read_vocabulary(path_of(root, REFERENCE_VOCABULARY)),
                  REFERENCE, REFERENCE_VOCABULARY)


# --- synthetic corpora with planted topics ------------------------------------------------------

TOPICS = {
    "sport": ("game", "team", "season", "coach", "league", "player", "score", "match", "cup", "victory"),
    "market": ("stock", "shares", "profit", "investor", "price", "earnings", "trading", "dollar", "bank", "oil"),
    "space": ("nasa", "orbit", "rocket", "launch", "mars", "shuttle", "station", "probe", "moon", "crew"),
    "war": ("troops", "army", "attack", "rebels", "killed", "soldiers", "militants", "bomb", "forces", "border"),
    "tech": ("software", "microsoft", "linux", "internet", "computer", "users", "chip", "google", "online", "web"),
}
BACKGROUND = ("said", "new", "year", "week", "monday", "today", "first", "two", "people", "report",
              "time", "last", "world", "group", "company", "officials", "percent", "plan", "news", "told")


def planted_counts(n_docs: int, seed: int, *, topic_share: float = 0.8) -> tuple[sparse.csr_matrix, list[str]]:
    """(counts, sorted words): each document draws most of its words from one planted topic.

    A document has 15 to 30 words; each is, with probability `topic_share`, a word of its topic
    (Zipf-like weights, so the topic's first words are the likeliest), else a background word.
    """
    rng = np.random.default_rng(seed)
    words = sorted({w for ws in TOPICS.values() for w in ws} | set(BACKGROUND))
    column = {w: j for j, w in enumerate(words)}
    topics = [np.array([column[w] for w in ws]) for ws in TOPICS.values()]
    background = np.array([column[w] for w in BACKGROUND])
    weights = 1.0 / np.arange(1, 11) ** 0.5
    weights /= weights.sum()
    counts = np.zeros((n_docs, len(words)), dtype=np.int64)
    for d in range(n_docs):
        topic = topics[rng.integers(len(topics))]
        length = int(rng.integers(15, 31))
        from_topic = rng.random(length) < topic_share
        drawn = np.where(from_topic, rng.choice(topic, size=length, p=weights),
                         rng.choice(background, size=length))
        np.add.at(counts[d], drawn, 1)
    return sparse.csr_matrix(counts), words


def _write_npz(path: Path, matrix: sparse.spmatrix) -> None:
    coo = sparse.coo_matrix(matrix)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:  # np.savez on a path would append .npz to a name that has it
        np.savez(f, data=coo.data.astype(np.int64), row=coo.row.astype(np.int32), col=coo.col.astype(np.int32),
                 shape=np.array(coo.shape, dtype=np.int64))


def write_fake_agnews(root: Path, *, dev_docs: int = 600, ref_docs: int = 600) -> Path:
    """Small files in the real layout, with planted topics; the folder is marked synthetic.

    dev.npz has the `@@UNKNOWN@@` column 0 (always empty, as in the real file); the reference
    corpus is another sample of the same topics, its vocabulary a JSON list without that word.
    """
    folder = root / DATASET
    dev, words = planted_counts(dev_docs, seed=11)
    dev = sparse.hstack([sparse.csr_matrix((dev.shape[0], 1), dtype=np.int64), dev]).tocsr()
    _write_npz(folder / DEV, dev)
    (folder / VOCABULARY).parent.mkdir(parents=True, exist_ok=True)
    (folder / VOCABULARY).write_text("\n".join([UNKNOWN, *words]) + "\n", encoding="utf-8")
    ref, ref_words = planted_counts(ref_docs, seed=12)
    _write_npz(folder / REFERENCE, ref)
    (folder / REFERENCE_VOCABULARY).write_text(json.dumps(ref_words), encoding="utf-8")
    mark(folder)
    return folder
