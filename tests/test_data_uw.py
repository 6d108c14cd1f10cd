"""Loaders of the uw-cse446-hw4 data: MovieLens u.data, SST-2 .tsv and GloVe text. Fake files in
the real formats exercise every path; the real files, where present, are checked against their
pinned checksums and known counts."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from conftest import real_data_root

from autograder.data import DataError, glove, movielens, sst2
from autograder.data._synthetic import MARKER


def test_movielens_fake_file_loads_as_the_handout_builds_it(tmp_path):
    path = movielens.write_fake_ratings(tmp_path, num_users=20, num_items=30, num_ratings=100)
    data = movielens.load_ratings(tmp_path)
    lines = path.read_text().splitlines()
    assert data.shape == (100, 3) and data.dtype == np.int64
    first = lines[0].split("\t")
    assert data[0].tolist() == [int(first[0]) - 1, int(first[1]) - 1, int(first[2])]
    assert data[:, 0].max() + 1 == 20 and data[:, 1].max() + 1 == 30
    train, test = movielens.handout_split(data)
    assert len(train) == 80 and len(test) == 20


def test_movielens_missing_and_malformed_files_name_the_file(tmp_path):
    with pytest.raises(DataError, match=r"u.data is missing: the data set 'ml-100k' needs u.data"):
        movielens.load_ratings(tmp_path)
    movielens.write_fake_ratings(tmp_path)
    (tmp_path / "ml-100k" / "u.data").write_text("1\t2\n")
    with pytest.raises(DataError, match="has 2 columns"):
        movielens.load_ratings(tmp_path)


def test_movielens_edited_real_folder_fails_its_checksum(tmp_path):
    movielens.write_fake_ratings(tmp_path)
    (tmp_path / "ml-100k" / MARKER).unlink()  # now it claims to be the real data set
    with pytest.raises(DataError, match="is corrupt or a different version: its sha256 is"):
        movielens.load_ratings(tmp_path)


def test_sst2_fake_files_load_and_bad_split_lists_valid_values(tmp_path):
    sst2.write_fake_sst2(tmp_path, train_rows=30, dev_rows=10)
    sentences, labels = sst2.load_split(tmp_path, "dev")
    assert len(sentences) == 10 and set(labels) <= {0, 1}
    assert all(sentence and all(sentence) for sentence in sentences)
    with pytest.raises(ValueError, match="Unknown value 'test' for argument split. Valid values are train, dev."):
        sst2.split_path(tmp_path, "test")


def test_sst2_wrong_header_and_bad_rows_are_named(tmp_path):
    sst2.write_fake_sst2(tmp_path, train_rows=5, dev_rows=5)
    dev = tmp_path / "sst2" / "dev.tsv"
    dev.write_text("index\tsentence\n0\tfoo\n")
    with pytest.raises(DataError, match="should start with the header 'sentence<TAB>label'"):
        sst2.load_split(tmp_path, "dev")
    dev.write_text("sentence\tlabel\ngood film \t2\n")
    with pytest.raises(DataError, match=r"dev.tsv, line 2: expected 'sentence<TAB>0 or 1'"):
        sst2.load_split(tmp_path, "dev")


def test_glove_any_dimension_and_subset_loads(tmp_path):
    path = glove.write_fake_glove(tmp_path, ["the", "film", "good"], dim=7, relative="glove/glove.6B.50d.txt")
    assert glove.glove_path(tmp_path) == path
    words, vectors = glove.read_vectors(path, {"film", "absent"})
    assert words == ["film"] and vectors.shape == (1, 7) and vectors.dtype == np.float32


def test_glove_unknown_file_names_are_accepted_without_checksum(tmp_path):
    path = tmp_path / "glove" / "glove.6B.50d.txt"
    glove.write_fake_glove(tmp_path, ["a", "b"], dim=3)
    (path.parent / MARKER).unlink()  # a known name without the marker must match its size
    with pytest.raises(DataError, match="is truncated or another version"):
        glove.glove_path(tmp_path)
    shutil.move(path, tmp_path / "glove" / "other.txt")
    with pytest.raises(DataError, match="no GloVe file under .*put glove.6B.50d.txt"):
        glove.glove_path(tmp_path)
    words, vectors = glove.read_vectors(tmp_path / "glove" / "other.txt")  # not in KNOWN: read as it is
    assert words == ["a", "b"] and vectors.shape == (2, 3)


def test_glove_ragged_line_is_named(tmp_path):
    path = tmp_path / "g.txt"
    path.write_text("a 1 2 3\nb 1 2\n")
    with pytest.raises(DataError, match=r"g.txt, line 2: 2 numbers after 'b', expected 3"):
        glove.read_vectors(path)


def test_trusted_util_gives_unknown_words_the_handouts_treatment(tmp_path):
    torch = pytest.importorskip("torch")
    from autograder.assignments.uw_cse446_hw4.starter import util

    sst2.write_fake_sst2(tmp_path, train_rows=50, dev_rows=5)
    path = glove.write_fake_glove(tmp_path, ["good", "bad", "film"], dim=6)
    train = util.SST2Dataset(tmp_path / "sst2" / "train.tsv")
    assert list(train.vocab)[:2] == ["[pad]", "[unk]"] and train.vocab["[pad]"] == 0
    first_words = (tmp_path / "sst2" / "train.tsv").read_text().splitlines()[1].split("\t")[0].split()
    assert list(train.vocab)[2] == first_words[0]  # first occurrence order
    torch.manual_seed(0)
    matrix = util.load_embedding_matrix(train.vocab, path)
    assert matrix.shape == (len(train.vocab), 6)
    assert torch.all(matrix[0] == 0)
    _, vectors = glove.read_vectors(path, {"good"})
    assert torch.allclose(matrix[train.vocab["good"]], torch.from_numpy(vectors[0]))
    missing = [i for w, i in train.vocab.items() if w not in {"good", "bad", "film", "[pad]"}]
    assert torch.all(matrix[missing].abs().sum(dim=1) > 0)  # random rows, not zeros
    assert not (tmp_path / "vocab.pkl").exists()


@pytest.mark.realdata
def test_real_movielens_checksum_and_counts():
    root = real_data_root("ml-100k")
    data = movielens.load_ratings(root)
    assert data.shape == (100_000, 3)
    assert data[:, 0].max() + 1 == movielens.NUM_USERS and data[:, 1].max() + 1 == movielens.NUM_ITEMS
    assert np.bincount(data[:, 2])[1:].tolist() == [6110, 11370, 27145, 34174, 21201]


@pytest.mark.realdata
def test_real_sst2_checksums_and_counts():
    root = real_data_root("sst2")
    _, train_labels = sst2.load_split(root, "train")
    _, dev_labels = sst2.load_split(root, "dev")
    assert np.bincount(train_labels).tolist() == [29_780, 37_569]
    assert np.bincount(dev_labels).tolist() == [428, 444]


@pytest.mark.realdata
def test_real_glove_subset_is_found_and_verified():
    root = real_data_root("glove-6B-50d-10k")
    path = glove.glove_path(root)
    assert path.name in glove.KNOWN
    words, vectors = glove.read_vectors(path, {"the", "quinn", "notaword"})
    assert words == ["the", "quinn"] and vectors.shape == (2, 50)


def test_glove_is_found_under_each_of_its_usual_folders_and_a5_training_declares_it(tmp_path):
    from autograder.assignments import load_assignment
    from autograder.data import FOLDERS, dataset_folder, glove

    assert {location.split("/")[0] for location in glove.LOCATIONS} == set(FOLDERS["glove"])
    assert dataset_folder(tmp_path, "glove") is None
    (tmp_path / "glove-6B-50d-10k").mkdir()
    assert dataset_folder(tmp_path, "glove") == tmp_path / "glove-6B-50d-10k"
    # The budgeted training reads GloVe: a zip built for it must carry the vectors, and a machine
    # without them leaves the check out instead of failing it.
    assert "glove" in load_assignment("uw-cse446-hw4").check("a5.training.dev_accuracy").data
