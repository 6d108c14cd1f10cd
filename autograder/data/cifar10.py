"""CIFAR-10, read from any of the layouts it is handed out in; never downloaded while grading.

The `cifar10` folder of the data root may hold, looked for in this order:

1. the official python batches, `cifar-10-batches-py/` (`data_batch_1..5`, `test_batch`), or the
   official archive `cifar-10-python.tar.gz` that holds that folder;
2. image folders `<split>/<class>/<name>.png|.jpg` (anywhere below `cifar10/`), or
3. uncompressed or gzipped tars of such folders (members `<split>/<class>/<name>`), like the lossy
   JPEG copies in the shared data (`yoongikim-jpeg/cifar10-train-jpeg.tar`).

Each gives uint8 images (n, 32, 32, 3) and int64 labels in CIFAR-10's class order. Within a
class, image folders keep their file-name order, which for the shared copies is the data set's
order; `per_class` keeps the first images of each class, so the same subset comes back every time
from every layout.

The official batches are pickles. They are read with an unpickler that builds numpy arrays and
plain containers only, and their md5s (torchvision's list, from the CIFAR page) are checked
first; the shared tars are checked against the sha256s of their SOURCE.md. Image folders carry no
checksum of their own. A folder written by `write_fake_cifar10` is marked synthetic, and only
there are the checksums skipped.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import pickle
import shutil
import tarfile
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

from autograder.data import DataError, _synthetic, verify
from autograder.inputs import InputSet

DATASET = "cifar10"
CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
SPLITS = ("train", "test")
SHAPE = (32, 32, 3)

BATCHES = {"train": ("data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4", "data_batch_5"),
           "test": ("test_batch",)}
BATCH_MD5 = {
    "data_batch_1": "c99cafc152244af753f735de768cd75f",
    "data_batch_2": "d4bba439e000b95fd0a9bffe97cbabec",
    "data_batch_3": "54ebc095f3ab1f0389bbae665268c751",
    "data_batch_4": "634d18415352ddfa80567beed471001a",
    "data_batch_5": "482c414d41f54cd18b22e5b47cb7c3cb",
    "test_batch": "40351d587109b95175f43aff81a1287e",
}
"""md5 of each official python batch, as torchvision's CIFAR10 pins them."""

ARCHIVE = "cifar-10-python.tar.gz"
BATCH_FOLDER = "cifar-10-batches-py"
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")

TAR_SHA256 = {
    "cifar10-test-jpeg.tar": "8395bf458a8b5c70e66482df0f0e9ad9c0cdf3bc6342d5f0f50f65110a5fdacf",
    "cifar10-train-jpeg.tar": "21f5d3657f102f84cddb05a1598fd0ee02945ed9d17ec83529d25652cf2f95c7",
}
"""The shared lossy JPEG copies (../shared/data/cifar10/SOURCE.md); other tars are not pinned."""


def load(folder: Path, split: str, per_class: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(images uint8 (n, 32, 32, 3), labels int64 (n,)) of `split`, from the `cifar10` folder.

    With `per_class`, only the first `per_class` images of each class, in class order.
    """
    if split not in SPLITS:
        raise ValueError(f"Unknown value {split!r} for argument split. Valid values are {', '.join(SPLITS)}.")
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(f"{folder} is missing: the data set 'cifar10' is read from there")
    checked = not _synthetic.is_synthetic(folder)
    if (folder / BATCH_FOLDER).is_dir():
        images, labels = _from_batches(folder / BATCH_FOLDER, split, checked)
    elif (folder / ARCHIVE).is_file():
        images, labels = _from_archive(folder / ARCHIVE, split, checked)
    elif (images_folder := _image_folder(folder, split)) is not None:
        images, labels = _decode_all(_files_in_folder(images_folder), per_class)
    elif (tar := _tar_of(folder, split)) is not None:
        if checked and tar.name in TAR_SHA256:
            verify(tar, TAR_SHA256[tar.name])
        images, labels = _decode_all(_members_of_tar(tar, split), per_class)
    else:
        raise DataError(f"{folder} holds no CIFAR-10 {split} set: expected {BATCH_FOLDER}/ (the official python "
                        f"batches), {ARCHIVE}, folders {split}/<class>/*.png|jpg, or a tar of such folders")
    return _first_per_class(images, labels, per_class) if per_class else (images, labels)


# --- input sets: what a student's process may see ------------------------------------------------

def unlabelled_order(images: np.ndarray) -> np.ndarray:
    """Indices that sort `images` by the sha256 of their pixels: an order that follows from the
    images alone. Image folders and their tars give a split class by class, and `per_class` sorts
    every layout so: in that order, an image's position tells its label."""
    digests = [hashlib.sha256(image.tobytes()).digest() for image in images]
    return np.array(sorted(range(len(images)), key=digests.__getitem__), dtype=np.int64)


def load_test(folder: Path, per_class: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """`load(folder, "test", per_class)` in `unlabelled_order`: the order test images are graded in."""
    images, labels = load(folder, "test", per_class=per_class)
    order = unlabelled_order(images)
    return images[order], labels[order]


def test_images(name: str, per_class: int | None = None) -> InputSet:
    """An input set of the test images of `load_test` (uint8, key "images"), without their labels."""
    return InputSet(name, DATASET, lambda root: {"images": load_test(Path(root) / DATASET, per_class)[0]})


def training_set(name: str, per_class: int) -> InputSet:
    """An input set of the first `per_class` training images of each class (uint8, key "images") and
    their labels (int64, key "labels"): training labels are the student's to see."""
    def load_train(root: Path) -> dict[str, np.ndarray]:
        images, labels = load(Path(root) / DATASET, "train", per_class=per_class)
        return {"images": images, "labels": labels}
    return InputSet(name, DATASET, load_train)


# --- the official python batches ---------------------------------------------------------------

class _ArraysOnly(pickle.Unpickler):
    """Builds what a CIFAR batch holds (numpy arrays, lists, dicts, bytes) and nothing else."""

    ALLOWED = {("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
               ("numpy", "ndarray"), ("numpy", "dtype"), ("numpy.core.multiarray", "scalar"),
               ("numpy._core.multiarray", "scalar"), ("_codecs", "encode")}

    def find_class(self, module: str, name: str):
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(f"{module}.{name} is not part of a CIFAR-10 batch")
        return super().find_class(module, name)


def _parse_batch(where: str, content: bytes) -> tuple[np.ndarray, np.ndarray]:
    try:
        entry = _ArraysOnly(io.BytesIO(content), encoding="latin1").load()
        data, labels = np.asarray(entry["data"], dtype=np.uint8), np.asarray(entry["labels"], dtype=np.int64)
    except (pickle.UnpicklingError, EOFError, KeyError, TypeError, ValueError) as exc:
        raise DataError(f"{where} is not a CIFAR-10 python batch ({exc}); replace it with an intact copy") from None
    if data.ndim != 2 or data.shape[1] != 3072 or len(labels) != len(data):
        raise DataError(f"{where} holds data of shape {data.shape} and {len(labels)} labels; a CIFAR-10 batch "
                        f"holds (n, 3072) pixels and n labels")
    # Rows are channel-major (1024 red, 1024 green, 1024 blue values), as the CIFAR page says.
    return data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1).copy(), labels


def _from_batches(folder: Path, split: str, checked: bool) -> tuple[np.ndarray, np.ndarray]:
    parts = []
    for name in BATCHES[split]:
        path = folder / name
        if not path.is_file():
            raise DataError(f"{path} is missing: the official CIFAR-10 {split} set needs "
                            f"{', '.join(BATCHES[split])} in {folder}")
        content = path.read_bytes()
        if checked:
            _check_md5(str(path), name, content)
        parts.append(_parse_batch(str(path), content))
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


def _from_archive(path: Path, split: str, checked: bool) -> tuple[np.ndarray, np.ndarray]:
    parts = []
    try:
        with tarfile.open(path, "r:gz") as tar:
            for name in BATCHES[split]:
                member = f"{BATCH_FOLDER}/{name}"
                try:
                    content = tar.extractfile(member).read()
                except (KeyError, AttributeError):
                    raise DataError(f"{path} has no member {member}: it is not the official CIFAR-10 archive") \
                        from None
                if checked:
                    _check_md5(f"{path}:{member}", name, content)
                parts.append(_parse_batch(f"{path}:{member}", content))
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise DataError(f"{path} could not be read ({exc}); replace it with an intact copy") from None
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


def _check_md5(where: str, batch: str, content: bytes) -> None:
    found = hashlib.md5(content).hexdigest()
    if found != BATCH_MD5[batch]:
        raise DataError(f"{where} is corrupt or a different version: its md5 is {found}, "
                        f"expected {BATCH_MD5[batch]}")


# --- image folders and tars of them --------------------------------------------------------------

def _image_folder(folder: Path, split: str) -> Path | None:
    """The first `<split>/` below `folder` (depth 3 at most) that holds class folders."""
    for depth in ("", "*/", "*/*/"):
        for candidate in sorted(folder.glob(f"{depth}{split}")):
            if candidate.is_dir() and any((candidate / c).is_dir() for c in CLASSES):
                return candidate
    return None


def _tar_of(folder: Path, split: str) -> Path | None:
    """A tar below `folder` (depth 2 at most) whose name says it holds `split`."""
    for pattern in ("*.tar", "*.tar.gz", "*.tgz", "*/*.tar", "*/*.tar.gz", "*/*.tgz"):
        for candidate in sorted(folder.glob(pattern)):
            if split in candidate.name:
                return candidate
    return None


def _label_of(class_name: str, where: str) -> int:
    if class_name not in CLASSES:
        raise DataError(f"{where}: {class_name!r} is not a CIFAR-10 class ({', '.join(CLASSES)})")
    return CLASSES.index(class_name)


Item = tuple[str, int, Callable[[], "bytes | Path"]]
"""(where, label, a function that opens it): reading waits until the image is wanted."""


def _files_in_folder(folder: Path) -> Iterator[Item]:
    for class_folder in sorted(p for p in folder.iterdir() if p.is_dir()):
        label = _label_of(class_folder.name, str(class_folder))
        for path in sorted(class_folder.iterdir()):
            if path.suffix.lower() in IMAGE_SUFFIXES:
                yield str(path), label, lambda path=path: path


def _members_of_tar(path: Path, split: str) -> Iterator[Item]:
    try:
        with tarfile.open(path) as tar:
            members = sorted((m for m in tar.getmembers() if m.isfile()
                              and Path(m.name).suffix.lower() in IMAGE_SUFFIXES), key=lambda m: m.name)
            for member in members:
                parts = Path(member.name).parts
                if len(parts) < 3 or parts[-3] != split:
                    continue
                yield f"{path}:{member.name}", _label_of(parts[-2], f"{path}:{member.name}"), \
                    lambda member=member: tar.extractfile(member).read()
    except (tarfile.TarError, OSError, EOFError, gzip.BadGzipFile) as exc:
        raise DataError(f"{path} could not be read ({exc}); replace it with an intact copy") from None


def _decode_all(items: Iterator[Item], per_class: int | None) -> tuple[np.ndarray, np.ndarray]:
    from PIL import Image, UnidentifiedImageError

    images, labels, taken = [], [], [0] * len(CLASSES)
    for where, label, opener in items:
        if per_class and taken[label] >= per_class:
            continue  # decoding is the slow part: skip what will be dropped
        try:
            source = opener()
            with Image.open(source if isinstance(source, Path) else io.BytesIO(source)) as image:
                pixels = np.asarray(image.convert("RGB"), dtype=np.uint8)
        except (UnidentifiedImageError, OSError) as exc:
            raise DataError(f"{where} is not a readable image ({exc})") from None
        if pixels.shape != SHAPE:
            raise DataError(f"{where} is {pixels.shape[1]}x{pixels.shape[0]} pixels; CIFAR-10 images are 32x32")
        images.append(pixels)
        labels.append(label)
        taken[label] += 1
    if not images:
        raise DataError("no CIFAR-10 images were found in the expected place")
    return np.stack(images), np.asarray(labels, dtype=np.int64)


def _first_per_class(images: np.ndarray, labels: np.ndarray, per_class: int) -> tuple[np.ndarray, np.ndarray]:
    keep = np.zeros(len(labels), dtype=bool)
    for label in range(len(CLASSES)):
        keep[np.flatnonzero(labels == label)[:per_class]] = True
    # Class order, then data-set order within a class: the order image folders give.
    order = np.flatnonzero(keep)[np.argsort(labels[keep], kind="stable")]
    return images[order], labels[order]


# --- synthetic files in the same formats, for tests ---------------------------------------------

def fake_images(n_per_class: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Learnable images: each class has its own colour and stripe direction, under noise."""
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(len(CLASSES)), n_per_class)
    grid = np.arange(32)
    images = np.empty((len(labels), *SHAPE), dtype=np.uint8)
    for i, label in enumerate(labels):
        colour = np.array([(label * 37) % 256, (label * 91 + 60) % 256, (label * 53 + 120) % 256], dtype=float)
        stripes = np.sin((grid[:, None] * np.cos(label) + grid[None, :] * np.sin(label)) * 0.6)[..., None]
        # Weak enough against the noise that a small trained net stays unsure near some images (so
        # an FGSM step of a few pixel levels flips one), strong enough to be learnt from 20 a class.
        picture = 0.35 * colour + 35 * stripes + rng.normal(0, 40, SHAPE) + 40
        images[i] = np.clip(picture, 0, 255).astype(np.uint8)
    return images, labels


def write_fake_cifar10(root: Path, layout: str = "folders", n_train: int = 20, n_test: int = 10,
                       seed: int = 0, image_format: str = "png") -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Write small learnable CIFAR-10 sets as `root/cifar10/`, marked synthetic; return the arrays.

    `layout` is "folders" (`train/<class>/NNNN.png`), "tar" (`cifar10-<split>.tar` of those
    folders) or "python" (the official batches, the train set split over five). `n_train` and
    `n_test` are images per class. With image_format "jpg" the arrays returned are the decoded
    JPEGs, so they are what the loader gives back.
    """
    folder = Path(root) / DATASET
    folder.mkdir(parents=True, exist_ok=True)
    arrays = {"train": fake_images(n_train, seed), "test": fake_images(n_test, seed + 1)}
    if layout == "python":
        _write_batches(folder / BATCH_FOLDER, arrays)
    elif layout in ("folders", "tar"):
        arrays = {split: _write_image_folder(folder / split, *arrays[split], image_format) for split in SPLITS}
        if layout == "tar":
            for split in SPLITS:
                with tarfile.open(folder / f"cifar10-{split}.tar", "w") as tar:
                    tar.add(folder / split, arcname=split)
                shutil.rmtree(folder / split)
    else:
        raise ValueError(f"Unknown layout {layout!r}. Valid values are folders, tar, python.")
    _synthetic.mark(folder)
    return arrays


def _write_image_folder(folder: Path, images: np.ndarray, labels: np.ndarray,
                        image_format: str) -> tuple[np.ndarray, np.ndarray]:
    from PIL import Image

    order = np.argsort(labels, kind="stable")
    decoded = np.empty_like(images)
    counts = [0] * len(CLASSES)
    for i in order:
        label = int(labels[i])
        path = folder / CLASSES[label] / f"{counts[label]:04d}.{image_format}"
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(images[i]).save(path)
        with Image.open(path) as image:
            decoded[i] = np.asarray(image.convert("RGB"))
        counts[label] += 1
    return decoded[order], labels[order]


def _write_batches(folder: Path, arrays: dict[str, tuple[np.ndarray, np.ndarray]]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for split, names in BATCHES.items():
        images, labels = arrays[split]
        rows = images.transpose(0, 3, 1, 2).reshape(len(images), -1)
        for name, part in zip(names, np.array_split(np.arange(len(images)), len(names))):
            entry = {"batch_label": name, "labels": labels[part].tolist(), "data": rows[part],
                     "filenames": [f"{i}.png" for i in part]}
            (folder / name).write_bytes(pickle.dumps(entry, protocol=2))
    (folder / "batches.meta").write_bytes(pickle.dumps({"label_names": list(CLASSES)}, protocol=2))

