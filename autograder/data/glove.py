"""GloVe word vectors in the standard text format (`word v1 ... vD` per line, no header).

Courses hand out the full `glove.6B.50d.txt` (400,000 words); the validation data here is its
first 10,000 lines. Nothing assumes either: any dimension and any subset load. A file whose
sha256 is in `KNOWN` must match it (so a truncated copy of a known file is caught by its size
and hash); a file not in the table is accepted as it is, after a format check while loading,
because instructors may use another dimension (100d, 300d) or their own subset.

Where the file is: the first of `LOCATIONS` present under the data root. The names are those
the handout and the validation data use.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from autograder.data import DataError, sha256
from autograder.data._synthetic import mark

KNOWN = {
    # file name: (bytes, sha256)
    "glove.6B.50d.txt": (171_350_078, "d33a318c5ccfe0525a7e2c96e74c44a07d734a475e1d98be6980857e2f09838c"),
    "glove.6B.50d.10k.txt": (4_278_545, "f6ff508f0c7eb106528d58e3d2d23048fbbf167b05887988304fd1299b26ac3a"),
}
LOCATIONS = (
    "glove/glove.6B.50d.txt",
    "glove-6B-50d/glove.6B.50d.txt",
    "glove-6B-50d-10k/glove.6B.50d.10k.txt",
    "glove/glove.6B.50d.10k.txt",
)


def glove_path(root: Path | None) -> Path:
    """The first GloVe file of `LOCATIONS` under `root`, verified when it is a known file."""
    if root is None:
        raise DataError("no data root is set; pass --data-root or set AUTOGRADER_DATA_ROOT to the folder "
                        f"that holds {LOCATIONS[0]}")
    for relative in LOCATIONS:
        path = Path(root) / relative
        if path.is_file():
            return verify_known(path)
    raise DataError(f"no GloVe file under {root}: put glove.6B.50d.txt (from glove.6B.zip) at "
                    f"{Path(root) / LOCATIONS[0]}; also looked for {', '.join(LOCATIONS[1:])}")


def verify_known(path: Path) -> Path:
    """A known file must have its size and sha256; the size is compared first, for free."""
    if path.name not in KNOWN or (path.parent / "SYNTHETIC.md").is_file():
        return path
    size, digest = KNOWN[path.name]
    actual = path.stat().st_size
    if actual != size:
        raise DataError(f"{path} has {actual:,} bytes, but {path.name} has {size:,}: the file is truncated or "
                        f"another version; download it again")
    if sha256(path) != digest:
        raise DataError(f"{path} is corrupt: its sha256 is {sha256(path)}, expected {digest}")
    return path


def read_vectors(path: Path, words: set[str] | None = None) -> tuple[list[str], np.ndarray]:
    """(words, float32 vectors) of the file, in file order; only `words` when given.

    Lines are streamed and the numbers parsed only for the words kept, so that the 171 MB file
    costs the memory of the kept rows alone.
    """
    kept, rows, dim = [], [], None
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, start=1):
            word, _, rest = line.rstrip("\n").rstrip(" ").partition(" ")
            if words is not None and word not in words:
                continue
            values = np.array(rest.split(" "), dtype=np.float32) if rest else np.empty(0, np.float32)
            if dim is None:
                dim = values.size
            if values.size != dim or dim == 0:
                raise DataError(f"{path}, line {number}: {values.size} numbers after {word!r}, expected {dim}; "
                                f"a GloVe text file has 'word v1 ... vD' on every line")
            kept.append(word)
            rows.append(values)
    if not rows:
        raise DataError(f"{path} has no vector for any of the {len(words or ())} words asked for")
    return kept, np.stack(rows)


def write_fake_glove(root: Path, words: list[str], *, dim: int = 50, seed: int = 0,
                     relative: str = "glove/glove.6B.50d.txt") -> Path:
    """A GloVe text file for `words`, with random vectors of dimension `dim`, under `root`."""
    rng = np.random.default_rng(seed)
    path = Path(root) / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [word + " " + " ".join(f"{x:.5f}" for x in rng.normal(0, 0.5, dim)) + "\n" for word in words]
    path.write_text("".join(lines), encoding="utf-8")
    mark(path.parent)
    return path
