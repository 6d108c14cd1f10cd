"""MNIST in LeCun's IDX format, each file stored raw or gzipped.

Loaded in the same order every time: locate (`name` or `name.gz`), verify, load. The manifest
pins the sha256 of each file's *uncompressed* content: a gzipped copy differs byte for byte
with the compressor's settings (the shared copy's train images are re-gzipped), while the
content is what matters. A missing file, a wrong checksum, a wrong magic number or a truncated
file raises `DataError` naming the file.

`write_idx` and `write_fake_mnist` write small synthetic files in exactly these formats, so
the loader (and anything built on it) is tested without the real data. A folder they write is
marked synthetic (`autograder.data._synthetic`), and only there are the checksums skipped.
"""

from __future__ import annotations

import gzip
import hashlib
from pathlib import Path

import numpy as np

from autograder.data import DataError, _synthetic, locate
from autograder.inputs import InputSet

DATASET = "mnist"

RESOURCES = [
    ("train-images-idx3-ubyte", "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db"),
    ("train-labels-idx1-ubyte", "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5"),
    ("t10k-images-idx3-ubyte", "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7"),
    ("t10k-labels-idx1-ubyte", "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2"),
]
"""(file, sha256 of its uncompressed content), from ../shared/data/mnist/SOURCE.md."""

SPLITS = {"train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
          "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}

_MAGIC = {1: 0x00000801, 3: 0x00000803}
"""IDX magic numbers: 0x08 (unsigned byte) then the number of dimensions."""


def locate_file(folder: Path, file: str) -> Path:
    """`folder/file`, or else `folder/file.gz`; a DataError naming both when neither is there."""
    for candidate in (folder / file, folder / f"{file}.gz"):
        if candidate.is_file():
            return candidate
    return locate(folder.parent, folder.name, file)  # raises the DataError that names the file


def read_bytes(path: Path) -> bytes:
    """The file's content, uncompressed when its name ends in .gz."""
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as f:
                return f.read()
        return path.read_bytes()
    except (OSError, EOFError) as exc:
        raise DataError(f"{path} could not be read ({exc}); replace it with an intact copy") from None


def verify_content(path: Path, content: bytes, expected_sha256: str | None) -> bytes:
    if expected_sha256 is not None:
        found = hashlib.sha256(content).hexdigest()
        if found != expected_sha256:
            raise DataError(f"{path} is corrupt or a different version: the sha256 of its content is {found}, "
                            f"expected {expected_sha256}")
    return content


def parse_idx(path: Path, content: bytes, ndim: int) -> np.ndarray:
    """The uint8 array of an IDX file with `ndim` dimensions (1 for labels, 3 for images)."""
    header = 4 + 4 * ndim
    if len(content) < header:
        raise DataError(f"{path} is too short to be an IDX file ({len(content)} bytes)")
    magic = int.from_bytes(content[:4], "big")
    if magic != _MAGIC[ndim]:
        raise DataError(f"{path} has magic number {magic:#010x}, expected {_MAGIC[ndim]:#010x} "
                        f"(an IDX file of {'labels' if ndim == 1 else 'images'})")
    shape = tuple(int.from_bytes(content[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    size = int(np.prod(shape))
    if len(content) != header + size:
        raise DataError(f"{path} holds {len(content) - header} bytes of data, but its header says {shape} "
                        f"({size} bytes): the file is truncated or damaged")
    return np.frombuffer(content, dtype=np.uint8, offset=header).reshape(shape)


def load_file(folder: Path, file: str) -> np.ndarray:
    """One IDX file of the `mnist` folder; its checksum is skipped only in a synthetic test folder."""
    folder = Path(folder)
    path = locate_file(folder, file)
    expected = None if _synthetic.is_synthetic(folder) else dict(RESOURCES)[file]
    content = verify_content(path, read_bytes(path), expected)
    return parse_idx(path, content, 3 if "images" in file else 1)


def load_images(folder: Path, split: str) -> np.ndarray:
    """uint8 images (n, 28, 28) of `split` ('train' or 'test') from the `mnist` folder."""
    return load_file(folder, _split(split)[0])


def load_labels(folder: Path, split: str) -> np.ndarray:
    """uint8 labels (n,) of `split` ('train' or 'test') from the `mnist` folder."""
    return load_file(folder, _split(split)[1])


def load(folder: Path, split: str) -> tuple[np.ndarray, np.ndarray]:
    images, labels = load_images(folder, split), load_labels(folder, split)
    if len(images) != len(labels):
        raise DataError(f"{folder}: the {split} split has {len(images)} images but {len(labels)} labels")
    return images, labels


def _test_images(root: Path) -> dict[str, np.ndarray]:
    return {"images": load_images(Path(root) / DATASET, "test")}


TEST_IMAGES = InputSet("mnist-test-images", DATASET, _test_images)
"""The 10,000 test images, uint8 (10000, 28, 28) in the data set's order; never their labels."""


def _split(split: str) -> tuple[str, str]:
    if split not in SPLITS:
        raise ValueError(f"Unknown value {split!r} for argument split. Valid values are {', '.join(SPLITS)}.")
    return SPLITS[split]


# --- synthetic files in the same formats, for tests ---------------------------------------------

def write_idx(path: Path, array: np.ndarray, compress: bool = False) -> Path:
    """Write a uint8 array as an IDX file (gzipped, with '.gz' appended, when `compress`)."""
    content = _idx_bytes(array)
    path = Path(path)
    if compress:
        path = path.with_name(path.name + ".gz")
        with gzip.open(path, "wb") as f:
            f.write(content)
    else:
        path.write_bytes(content)
    return path


def write_fake_mnist(root: Path, n_train: int = 200, n_test: int = 100, seed: int = 0,
                     compress: tuple[str, ...] = ("train-images-idx3-ubyte",)) -> dict[str, np.ndarray]:
    """Write random data of MNIST's shapes as `root/mnist/*`, marked synthetic; return the arrays.

    Like the shared copy, only the files named in `compress` are gzipped.
    """
    rng = np.random.default_rng(seed)
    folder = Path(root) / DATASET
    folder.mkdir(parents=True, exist_ok=True)
    arrays = {
        "train-images-idx3-ubyte": rng.integers(0, 256, (n_train, 28, 28)),
        "train-labels-idx1-ubyte": rng.integers(0, 10, n_train),
        "t10k-images-idx3-ubyte": rng.integers(0, 256, (n_test, 28, 28)),
        "t10k-labels-idx1-ubyte": rng.integers(0, 10, n_test),
    }
    for name, array in arrays.items():
        write_idx(folder / name, array, compress=name in compress)
    _synthetic.mark(folder)
    return {name: array.astype(np.uint8) for name, array in arrays.items()}


def _idx_bytes(array: np.ndarray) -> bytes:
    array = np.ascontiguousarray(array, dtype=np.uint8)
    return _MAGIC[array.ndim].to_bytes(4, "big") + b"".join(int(n).to_bytes(4, "big") for n in array.shape) \
        + array.tobytes()
