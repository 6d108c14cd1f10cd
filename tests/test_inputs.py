"""Input sets: the parent hands the worker what a student may see, and no student half reads the
data root.

- the mechanism (`autograder.inputs`): arrays without pickle, whole files linked or copied, text;
- every input set on synthetic data: exactly the arrays it should hold, no held-out labels, the
  test images in an order that does not tell their labels;
- every check that reads data: its student half, run here on the reference with no data root and
  only its declared input sets, returns outputs.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import stat
from pathlib import Path

import numpy as np
import pytest

from autograder import inputs
from autograder.assignments import load_assignment
from autograder.assignments.uw_cse446_hw4 import a3_inputs, a5_inputs, a6_inputs, b1_inputs
from autograder.assignments.uw_cse446_hw4.a4 import GRADED
from autograder.config import REPO_ROOT
from autograder.data import cifar10, mnist, movielens, sst2
from autograder.inputs import InputSet
from autograder.model import Assignment, Check, Problem, Verdict
from autograder.student import Subject

ASSIGNMENTS = ("umn-csci5527-hw3", "uw-cse446-hw4")


# --- the mechanism -----------------------------------------------------------------------------------

def test_arrays_are_written_once_and_read_back_without_pickle(tmp_path):
    calls = []

    def load(root: Path) -> dict[str, np.ndarray]:
        calls.append(root)
        return {"images": np.arange(6, dtype=np.uint8).reshape(2, 3), "words": np.array(["ab", "c"])}

    numbers = InputSet("numbers", "data", load)
    inputs.prepare([numbers], tmp_path / "root", tmp_path / "in")
    inputs.prepare([numbers], tmp_path / "root", tmp_path / "in")  # a second check that declares it
    assert len(calls) == 1
    got = inputs.read(tmp_path / "in", "numbers")
    assert got["images"].dtype == np.uint8 and got["images"].tolist() == [[0, 1, 2], [3, 4, 5]]
    assert got["words"].tolist() == ["ab", "c"]
    assert stat.S_IMODE((tmp_path / "in" / "numbers").stat().st_mode) == 0o755
    assert stat.S_IMODE((tmp_path / "in" / "numbers" / inputs.ARRAYS).stat().st_mode) == 0o644


def test_object_arrays_and_odd_values_are_refused_in_the_parent(tmp_path):
    for values in ({"rows": np.array([[1], [2, 3]], dtype=object)}, {"../escape": tmp_path},
                   {"count": 3}):
        with pytest.raises(TypeError, match="input set 'bad'"):
            inputs.prepare([InputSet("bad", "data", lambda root, v=values: v)], tmp_path, tmp_path / "in")
    assert not (tmp_path / "in" / "bad").exists()


def test_a_failed_load_leaves_nothing_that_passes_for_prepared(tmp_path):
    def broken(root: Path):
        raise OSError("disk gone")

    with pytest.raises(OSError):
        inputs.prepare([InputSet("half", "data", broken)], tmp_path, tmp_path / "in")
    inputs.prepare([InputSet("half", "data", lambda root: {"x": np.zeros(2)})], tmp_path, tmp_path / "in")
    assert inputs.read(tmp_path / "in", "half")["x"].tolist() == [0.0, 0.0]


def test_public_files_are_linked_and_closed_files_copied(tmp_path):
    shared, closed = tmp_path / "weights.pth", tmp_path / "vectors.txt"
    shared.write_bytes(b"weights")
    closed.write_text("the 1.0\n")
    shared.chmod(0o644)
    closed.chmod(0o600)
    files = InputSet("files", "data", lambda root: {"weights": shared, "glove": closed})
    inputs.prepare([files], tmp_path, tmp_path / "in")
    got = inputs.read(tmp_path / "in", "files")
    assert set(got) == {"weights", "glove"}
    assert got["weights"].read_bytes() == b"weights" and os.path.samefile(got["weights"], shared)
    assert got["glove"].read_text() == "the 1.0\n" and not os.path.samefile(got["glove"], closed)
    assert stat.S_IMODE(got["glove"].stat().st_mode) == 0o644
    assert stat.S_IMODE(closed.stat().st_mode) == 0o600  # the data root's own file is left as it was


def test_texts_travel_as_utf8_bytes():
    texts = ["a film", "", "naïve — très 'bon'", "x"]
    packed = inputs.pack_texts("dev", texts)
    assert set(packed) == {"dev bytes", "dev ends"} and packed["dev bytes"].dtype == np.uint8
    assert inputs.unpack_texts(packed, "dev") == texts


def test_two_input_sets_of_one_name_are_refused():
    def check(id: str, input_set: InputSet) -> Check:
        return Check(id=id, claim="c", points=1, part="a", run=lambda s: {}, judge=lambda g, e, c: Verdict.passed("ok"),
                     data=("data",), inputs=(input_set,))

    one, other = (InputSet("same", "data", lambda root: {}) for _ in range(2))
    with pytest.raises(ValueError, match="two different input sets are named 'same'"):
        Assignment(id="x", title="x", problems=(Problem(id="p", title="p", files=("p.py",), parts={"a": 2},
                                                        checks=(check("p.a", one), check("p.b", other))),))


def test_an_input_set_needs_its_data_set_declared():
    with pytest.raises(ValueError, match="has inputs from"):
        Check(id="p.a", claim="c", points=1, part="a", run=lambda s: {}, judge=lambda g, e, c: Verdict.passed("ok"),
              inputs=(mnist.TEST_IMAGES,))


# --- every input set on synthetic data ------------------------------------------------------------------

@pytest.fixture(scope="module")
def data_root(tmp_path_factory, hw4_root, a3_root):
    """One synthetic data root with every data set the input sets read (links to the fixtures' own)."""
    root = tmp_path_factory.mktemp("all-data")
    for source in (hw4_root, a3_root):
        for folder in source.iterdir():
            (root / folder.name).symlink_to(folder)
    return root


def all_input_sets() -> dict[str, InputSet]:
    return {i.name: i for a in ASSIGNMENTS for c in load_assignment(a).checks for i in c.inputs}


@pytest.fixture(scope="module")
def prepared(tmp_path_factory, data_root) -> Path:
    folder = tmp_path_factory.mktemp("inputs") / "inputs"
    inputs.prepare(all_input_sets().values(), data_root, folder)
    return folder


HELD_OUT = {
    "mnist-test-images": lambda root: mnist.load_labels(root / mnist.DATASET, "test"),
    "cifar10-test": lambda root: cifar10.load_test(root / cifar10.DATASET)[1],
    "cifar10-test-20-per-class": lambda root: cifar10.load_test(root / cifar10.DATASET, a3_inputs.TEST_PER_CLASS)[1],
    "sst2-budget": lambda root: sst2.load_rows(root, "dev")[1],
    "ml-100k-handout-split": lambda root: b1_inputs.handout_split(movielens.load_ratings(root))[1][:, 2],
}
"""The labels each input set built from a held-out split must not hold."""

KEYS = {
    "mnist-test-images": {"images"},
    "cifar10-test": {"images"},
    "cifar10-test-20-per-class": {"images"},
    "cifar10-train-20-per-class": {"images", "labels"},
    "cifar10-train-1000-per-class": {"images", "labels"},
    "alexnet-weights": {"weights"},
    "sst2-budget": {"train bytes", "train ends", "train labels", "dev bytes", "dev ends", "glove"},
    "ag-news-dev-kept-words": {"data", "indices", "indptr", "shape", "words"},
    "ml-100k-handout-split": {"train", "test pairs", "num_items", "num_users"},
}


def test_every_input_set_holds_exactly_its_keys(prepared):
    assert set(all_input_sets()) == set(KEYS)
    for name, keys in KEYS.items():
        assert set(inputs.read(prepared, name)) == keys, name


@pytest.mark.parametrize("name", sorted(HELD_OUT))
def test_no_input_set_holds_held_out_labels(prepared, data_root, name):
    labels = HELD_OUT[name](data_root)
    for key, value in inputs.read(prepared, name).items():
        if isinstance(value, np.ndarray) and value.ndim:
            columns = value.reshape(len(value), -1).T if len(value) == len(labels) else ()
            assert not any(np.array_equal(column, labels) for column in columns), (name, key)


def test_test_images_are_the_data_sets_in_an_order_free_of_labels(prepared, data_root):
    images = inputs.read(prepared, "mnist-test-images")["images"]
    assert images.dtype == np.uint8 and np.array_equal(images, mnist.load_images(data_root / mnist.DATASET, "test"))
    for input_set, per_class in ((GRADED["test"], None), (a3_inputs.TEST, a3_inputs.TEST_PER_CLASS)):
        handed = inputs.read(prepared, input_set.name)["images"]
        loaded, labels = cifar10.load(data_root / cifar10.DATASET, "test", per_class=per_class)
        assert np.all(np.diff(labels) >= 0), "the loader gives the test split class by class"
        digests = [hashlib.sha256(image.tobytes()).digest() for image in handed]
        assert handed.dtype == np.uint8 and digests == sorted(digests), "handed over in the order of the pixels alone"
        assert sorted(digests) == sorted(hashlib.sha256(image.tobytes()).digest() for image in loaded)


def test_training_sets_keep_their_labels(prepared, data_root):
    for input_set, per_class in ((GRADED["train"], 1000), (a3_inputs.TRAIN, a3_inputs.TRAIN_PER_CLASS)):
        handed = inputs.read(prepared, input_set.name)
        images, labels = cifar10.load(data_root / cifar10.DATASET, "train", per_class=per_class)
        assert np.array_equal(handed["images"], images) and np.array_equal(handed["labels"], labels)


def test_sst2_hands_over_dev_sentences_alone_and_the_glove_file(prepared, data_root):
    handed = inputs.read(prepared, a5_inputs.SST2_BUDGET.name)
    dev, _ = sst2.load_split(data_root, "dev")
    assert [sst2.tokens(s) for s in inputs.unpack_texts(handed, "dev")] == dev
    train, labels = sst2.load_split(data_root, "train")
    assert [sst2.tokens(s) for s in inputs.unpack_texts(handed, "train")] == train
    assert np.array_equal(handed["train labels"], labels)
    assert handed["glove"].read_bytes() == (data_root / "glove" / "glove.6B.50d.txt").read_bytes()


def test_movielens_test_pairs_come_without_ratings(prepared, data_root):
    handed = inputs.read(prepared, b1_inputs.REAL_SPLIT.name)
    train, test = b1_inputs.handout_split(movielens.load_ratings(data_root))
    assert np.array_equal(handed["train"], train)
    assert handed["test pairs"].shape == (len(test), 2) and np.array_equal(handed["test pairs"], test[:, :2])


def test_ag_news_corpus_is_the_kept_words_counts(prepared, data_root):
    handed = inputs.read(prepared, a6_inputs.REAL_CORPUS.name)
    counts, words = a6_inputs.real_corpus(data_root)
    assert np.array_equal(a6_inputs.real_counts(handed), counts.toarray()) and handed["words"].tolist() == words


# --- no student half reads the data root ---------------------------------------------------------------

def data_checks() -> list[tuple[str, Check]]:
    return [(a, c) for a in ASSIGNMENTS for c in load_assignment(a).checks if c.data and c.run is not None]


def reference_modules(assignment: str) -> dict:
    modules = {}
    for path in sorted((REPO_ROOT / "reference" / assignment).glob("hw*.py")):
        spec = importlib.util.spec_from_file_location(path.stem, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        modules[path.stem] = module
    return modules


@pytest.mark.slow
@pytest.mark.parametrize("assignment, check", data_checks(), ids=[c.id for _, c in data_checks()])
def test_student_half_runs_without_the_data_root(assignment, check, data_root, tmp_path):
    """Only the check's own input sets are prepared, and the Subject has no data root: a student half
    that opened the data root, or an input set it did not declare, fails here."""
    import torch

    torch.set_num_threads(1)
    torch.manual_seed(0)
    folder = tmp_path / "inputs"
    inputs.prepare(check.inputs, data_root, folder)
    subject = Subject(reference_modules(assignment), REPO_ROOT / "reference" / assignment, data_root=None,
                      inputs_dir=folder)
    outputs = check.run(subject)
    assert isinstance(outputs, check.record) and outputs.model_fields_set


def test_a_cached_input_set_is_built_once_and_handed_to_every_grading(tmp_path):
    calls = []

    def load(root: Path) -> dict:
        calls.append(root)
        return {"images": np.arange(6, dtype=np.uint8).reshape(2, 3)}

    (tmp_path / "data" / "toy").mkdir(parents=True)
    (tmp_path / "data" / "toy" / "file.bin").write_bytes(b"x")
    toy = inputs.InputSet(name="toy-images", dataset="toy", load=load)
    for grading in ("ada", "bob"):
        inputs.prepare([toy], tmp_path / "data", tmp_path / grading, cache=tmp_path / "cache")
        assert inputs.read(tmp_path / grading, "toy-images")["images"].tolist() == [[0, 1, 2], [3, 4, 5]]
    assert len(calls) == 1
    (tmp_path / "data" / "toy" / "file.bin").write_bytes(b"changed")  # another data set: built again
    inputs.prepare([toy], tmp_path / "data", tmp_path / "cy", cache=tmp_path / "cache")
    assert len(calls) == 2
