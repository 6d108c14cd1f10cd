"""The MNIST IDX loader: raw and gzipped files, magic numbers, checksums, and errors that name the file."""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import numpy as np
import pytest

from autograder.config import REPO_ROOT
from autograder.data import DataError, _synthetic, mnist

FILES = [name for name, _ in mnist.RESOURCES]


def real_mnist() -> Path:
    root = Path(os.environ.get("AUTOGRADER_DATA_ROOT") or REPO_ROOT.parent / "shared" / "data")
    folder = root / mnist.DATASET
    if not all((folder / f).is_file() or (folder / f"{f}.gz").is_file() for f in FILES):
        pytest.skip(f"real MNIST not found under {folder} (set AUTOGRADER_DATA_ROOT)")
    return folder


@pytest.mark.parametrize("compress", [(), tuple(FILES), ("train-images-idx3-ubyte",)],
                         ids=["all raw", "all gzipped", "train images gzipped, as shared"])
def test_fake_files_load_back_exactly(tmp_path, compress):
    written = mnist.write_fake_mnist(tmp_path, n_train=30, n_test=20, seed=4, compress=compress)
    folder = tmp_path / "mnist"
    for name in FILES:
        assert (folder / (f"{name}.gz" if name in compress else name)).is_file()
    for split, (images, labels) in mnist.SPLITS.items():
        x, y = mnist.load(folder, split)
        assert x.dtype == y.dtype == np.uint8
        np.testing.assert_array_equal(x, written[images])
        np.testing.assert_array_equal(y, written[labels])
    assert mnist.load_images(folder, "train").shape == (30, 28, 28)


def test_gzipped_file_holds_the_raw_format(tmp_path):
    array = np.arange(2 * 28 * 28, dtype=np.uint8).reshape(2, 28, 28)
    raw = mnist.write_idx(tmp_path / "raw-idx3-ubyte", array)
    packed = mnist.write_idx(tmp_path / "packed-idx3-ubyte", array, compress=True)
    assert packed.name == "packed-idx3-ubyte.gz"
    assert gzip.decompress(packed.read_bytes()) == raw.read_bytes()
    assert raw.read_bytes()[:4] == bytes([0, 0, 8, 3])


def test_missing_file_is_named(tmp_path):
    mnist.write_fake_mnist(tmp_path)
    (tmp_path / "mnist" / "t10k-labels-idx1-ubyte").unlink()
    with pytest.raises(DataError, match="t10k-labels-idx1-ubyte is missing"):
        mnist.load(tmp_path / "mnist", "test")


def test_wrong_magic_number_is_reported(tmp_path):
    mnist.write_fake_mnist(tmp_path)
    path = tmp_path / "mnist" / "t10k-labels-idx1-ubyte"
    path.write_bytes(bytes([0, 0, 8, 3]) + path.read_bytes()[4:])
    with pytest.raises(DataError, match=r"t10k-labels-idx1-ubyte has magic number 0x00000803, expected 0x00000801"):
        mnist.load_labels(tmp_path / "mnist", "test")


def test_truncated_file_is_reported(tmp_path):
    mnist.write_fake_mnist(tmp_path)
    path = tmp_path / "mnist" / "t10k-images-idx3-ubyte"
    path.write_bytes(path.read_bytes()[:-10])
    with pytest.raises(DataError, match="t10k-images-idx3-ubyte holds .* truncated or damaged"):
        mnist.load_images(tmp_path / "mnist", "test")


def test_damaged_gzip_is_reported(tmp_path):
    mnist.write_fake_mnist(tmp_path)
    path = tmp_path / "mnist" / "train-images-idx3-ubyte.gz"
    path.write_bytes(path.read_bytes()[:50])
    with pytest.raises(DataError, match="train-images-idx3-ubyte.gz could not be read"):
        mnist.load_images(tmp_path / "mnist", "train")


def test_checksum_is_checked_outside_synthetic_folders(tmp_path):
    mnist.write_fake_mnist(tmp_path)
    (tmp_path / "mnist" / _synthetic.MARKER).unlink()
    with pytest.raises(DataError, match="t10k-images-idx3-ubyte is corrupt or a different version"):
        mnist.load_images(tmp_path / "mnist", "test")


def test_unknown_split_lists_the_valid_ones(tmp_path):
    with pytest.raises(ValueError, match="Unknown value 'val' for argument split. Valid values are train, test."):
        mnist.load(tmp_path, "val")


@pytest.mark.realdata
def test_real_mnist_matches_its_manifest_and_class_counts():
    folder = real_mnist()
    x, y = mnist.load(folder, "train")
    xt, yt = mnist.load(folder, "test")
    assert x.shape == (60000, 28, 28) and xt.shape == (10000, 28, 28) and int(x.max()) == 255
    assert np.bincount(y).tolist() == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    assert np.bincount(yt).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
