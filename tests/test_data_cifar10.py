"""The CIFAR-10 loader: every layout it is handed out in gives the same arrays, in CIFAR-10's class
order; checksums are enforced outside synthetic folders; bad files get a DataError naming them; the
official batches' pickles can build arrays and nothing else."""

from __future__ import annotations

import hashlib
import os
import pickle
import tarfile
from pathlib import Path

import numpy as np
import pytest

from autograder.config import REPO_ROOT
from autograder.data import DataError, _synthetic, cifar10

LAYOUTS = ("folders", "tar", "python")


@pytest.fixture(scope="module", params=LAYOUTS)
def written(request, tmp_path_factory):
    root = tmp_path_factory.mktemp(f"cifar-{request.param}")
    return request.param, root / cifar10.DATASET, cifar10.write_fake_cifar10(root, layout=request.param)


def test_each_layout_reads_back_the_written_images_in_class_order(written):
    _, folder, arrays = written
    for split in cifar10.SPLITS:
        images, labels = cifar10.load(folder, split)
        assert images.dtype == np.uint8 and images.shape == arrays[split][0].shape
        np.testing.assert_array_equal(images, arrays[split][0])
        np.testing.assert_array_equal(labels, arrays[split][1])


def test_per_class_keeps_the_first_images_of_each_class(written):
    _, folder, arrays = written
    images, labels = cifar10.load(folder, "train", per_class=3)
    np.testing.assert_array_equal(labels, np.repeat(np.arange(10), 3))
    all_images, all_labels = arrays["train"]
    for c in range(10):
        np.testing.assert_array_equal(images[labels == c], all_images[all_labels == c][:3])


def test_jpeg_folders_decode_to_what_the_writer_reports(tmp_path):
    arrays = cifar10.write_fake_cifar10(tmp_path, layout="folders", image_format="jpg", n_train=2, n_test=1)
    images, _ = cifar10.load(tmp_path / cifar10.DATASET, "test")
    np.testing.assert_array_equal(images, arrays["test"][0])
    assert sorted(p.suffix for p in (tmp_path / "cifar10" / "test" / "cat").iterdir()) == [".jpg"]


def test_python_2_pickles_of_the_official_batches_are_read(tmp_path):
    """The official batches were pickled by Python 2's numpy (numpy.core.multiarray)."""
    cifar10.write_fake_cifar10(tmp_path, layout="python", n_train=2, n_test=2)
    batch = tmp_path / "cifar10" / cifar10.BATCH_FOLDER / "test_batch"
    content = batch.read_bytes()
    if b"numpy._core.multiarray" in content:
        batch.write_bytes(content.replace(b"numpy._core.multiarray", b"numpy.core.multiarray"))
    images, labels = cifar10.load(tmp_path / "cifar10", "test")
    assert images.shape == (20, 32, 32, 3) and labels.tolist() == np.repeat(np.arange(10), 2).tolist()


class _Payload:
    def __reduce__(self):
        return (os.system, ("touch /tmp/cifar-pickle-ran",))


def test_a_crafted_batch_is_refused_without_running_it(tmp_path):
    cifar10.write_fake_cifar10(tmp_path, layout="python", n_train=2, n_test=2)
    (tmp_path / "cifar10" / cifar10.BATCH_FOLDER / "test_batch").write_bytes(
        pickle.dumps({"data": _Payload(), "labels": []}))
    with pytest.raises(DataError, match="test_batch is not a CIFAR-10 python batch .*posix.system is not part"):
        cifar10.load(tmp_path / "cifar10", "test")
    assert not Path("/tmp/cifar-pickle-ran").exists()


def test_official_batches_are_checked_against_their_md5(tmp_path):
    cifar10.write_fake_cifar10(tmp_path, layout="python", n_train=2, n_test=2)
    (tmp_path / "cifar10" / _synthetic.MARKER).unlink()  # now it claims to be the real data set
    batch = tmp_path / "cifar10" / cifar10.BATCH_FOLDER / "test_batch"
    found = hashlib.md5(batch.read_bytes()).hexdigest()
    with pytest.raises(DataError, match=f"test_batch is corrupt or a different version: its md5 is {found}, "
                                        f"expected 40351d587109b95175f43aff81a1287e"):
        cifar10.load(tmp_path / "cifar10", "test")


def test_the_shared_jpeg_tars_are_checked_against_their_sha256(tmp_path):
    cifar10.write_fake_cifar10(tmp_path, layout="tar", n_train=1, n_test=1, image_format="jpg")
    folder = tmp_path / "cifar10"
    (folder / "cifar10-test.tar").rename(folder / "cifar10-test-jpeg.tar")  # the shared copy's name
    (folder / _synthetic.MARKER).unlink()
    with pytest.raises(DataError, match="cifar10-test-jpeg.tar is corrupt or a different version: its sha256 is "
                                        ".* expected 8395bf458a8b5c70"):
        cifar10.load(folder, "test")


def test_the_official_archive_is_read_in_place(tmp_path):
    cifar10.write_fake_cifar10(tmp_path, layout="python", n_train=2, n_test=2)
    folder = tmp_path / "cifar10"
    with tarfile.open(folder / cifar10.ARCHIVE, "w:gz") as tar:
        tar.add(folder / cifar10.BATCH_FOLDER, arcname=cifar10.BATCH_FOLDER)
    expected = cifar10.load(folder, "train")
    for path in (folder / cifar10.BATCH_FOLDER).iterdir():
        path.unlink()
    (folder / cifar10.BATCH_FOLDER).rmdir()
    images, labels = cifar10.load(folder, "train")
    np.testing.assert_array_equal(images, expected[0])
    np.testing.assert_array_equal(labels, expected[1])


def test_missing_or_unknown_layouts_say_what_is_expected(tmp_path):
    with pytest.raises(DataError, match="cifar10 is missing"):
        cifar10.load(tmp_path / "cifar10", "train")
    (tmp_path / "cifar10").mkdir()
    with pytest.raises(DataError, match="holds no CIFAR-10 test set: expected cifar-10-batches-py/"):
        cifar10.load(tmp_path / "cifar10", "test")
    with pytest.raises(ValueError, match="Unknown value 'validation' for argument split"):
        cifar10.load(tmp_path / "cifar10", "validation")


def test_a_damaged_image_and_a_wrong_size_are_named(tmp_path):
    cifar10.write_fake_cifar10(tmp_path, layout="folders", n_train=1, n_test=1)
    bad = tmp_path / "cifar10" / "test" / "dog" / "0000.png"
    bad.write_bytes(b"not an image")
    with pytest.raises(DataError, match=r"test/dog/0000.png is not a readable image"):
        cifar10.load(tmp_path / "cifar10", "test")
    from PIL import Image

    Image.new("RGB", (28, 28)).save(bad)
    with pytest.raises(DataError, match=r"0000.png is 28x28 pixels; CIFAR-10 images are 32x32"):
        cifar10.load(tmp_path / "cifar10", "test")
    bad.unlink()
    (tmp_path / "cifar10" / "test" / "zebra").mkdir()
    with pytest.raises(DataError, match="'zebra' is not a CIFAR-10 class"):
        cifar10.load(tmp_path / "cifar10", "test")


def _shared() -> Path:
    root = Path(os.environ.get("AUTOGRADER_DATA_ROOT") or REPO_ROOT.parent / "shared" / "data")
    if not (root / cifar10.DATASET / "yoongikim-jpeg").is_dir():
        pytest.skip(f"the shared CIFAR-10 copies are not under {root} (set AUTOGRADER_DATA_ROOT)")
    return root / cifar10.DATASET


@pytest.mark.realdata
def test_shared_jpeg_copies_load_with_their_checksums_and_match_the_exact_images():
    folder = _shared()
    images, labels = cifar10.load(folder, "test")
    assert images.shape == (10000, 32, 32, 3) and np.bincount(labels).tolist() == [1000] * 10
    # SOURCE.md: cat/0000 is test image 0; the exact PNG (foolbox) differs by JPEG noise only.
    from PIL import Image

    exact = np.asarray(Image.open(folder / "foolbox-test-20" / "cifar10_00_3.png").convert("RGB"), dtype=float)
    first_cat = images[labels == 3][0].astype(float)
    assert np.abs(first_cat - exact).mean() < 10
    assert np.abs(images[labels == 3][1].astype(float) - exact).mean() > 20
    train, train_labels = cifar10.load(folder, "train", per_class=5)
    assert train.shape == (50, 32, 32, 3) and np.bincount(train_labels).tolist() == [5] * 10
