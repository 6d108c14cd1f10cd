"""The AG News bag-of-words loader (autograder.data.agnews), its fake files, and the provided
NPMI helper that A6 grades with."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from scipy import sparse
from conftest import real_data_root

from autograder.assignments.uw_cse446_hw4.starter import helper_code
from autograder.data import DataError, agnews
from autograder.data._synthetic import MARKER


@pytest.fixture
def fake(tmp_path):
    agnews.write_fake_agnews(tmp_path, dev_docs=40, ref_docs=30)
    return tmp_path


def test_fake_files_round_trip(fake):
    dev, words = agnews.load_dev(fake)
    ref, ref_words = agnews.load_reference(fake)
    assert dev.shape == (40, 1 + len(ref_words)) and words[0] == agnews.UNKNOWN
    assert words[1:] == ref_words == sorted(ref_words)
    assert dev[:, 0].nnz == 0 and dev.dtype.kind == "i"
    assert np.all(dev.sum(axis=1) >= 15) and ref.shape == (30, len(ref_words))


def test_missing_file_is_named(fake):
    (fake / agnews.DATASET / agnews.REFERENCE).unlink()
    with pytest.raises(DataError, match="ref.npz is missing"):
        agnews.load_reference(fake)


def test_no_data_root_says_how_to_set_one():
    with pytest.raises(DataError, match="AUTOGRADER_DATA_ROOT"):
        agnews.load_dev(None)


def test_unmarked_folder_is_checked_against_the_pinned_sha256(fake):
    (fake / agnews.DATASET / MARKER).unlink()
    with pytest.raises(DataError, match="corrupt or a different version"):
        agnews.load_dev(fake)


def test_unknown_file_lists_the_valid_ones(fake):
    with pytest.raises(ValueError, match="Valid values are counts/dev.npz"):
        agnews.path_of(fake, "train.npz")


def test_npz_without_its_arrays_is_refused(fake):
    path = fake / agnews.DATASET / agnews.DEV
    with open(path, "wb") as f:
        np.savez(f, data=np.ones(2), row=np.zeros(2, dtype=np.int32))
    with pytest.raises(DataError, match="has no array col, shape"):
        agnews.load_dev(fake)


def test_index_outside_the_shape_is_refused(fake):
    path = fake / agnews.DATASET / agnews.DEV
    with open(path, "wb") as f:
        np.savez(f, data=np.ones(1), row=np.array([5]), col=np.array([0]), shape=np.array([2, 2]))
    with pytest.raises(DataError, match="outside the declared shape 2 x 2"):
        agnews.load_dev(fake)


def test_vocabulary_of_the_wrong_length_is_refused(fake):
    path = fake / agnews.DATASET / agnews.REFERENCE_VOCABULARY
    path.write_text(json.dumps(["only", "three", "words"]))
    with pytest.raises(DataError, match="names 3 words but counts/reference/ref.npz has"):
        agnews.load_reference(fake)


def test_vocabulary_that_is_not_a_list_of_words_is_refused(fake):
    path = fake / agnews.DATASET / agnews.REFERENCE_VOCABULARY
    path.write_text(json.dumps({"a": 1}))
    with pytest.raises(DataError, match="JSON list of words"):
        agnews.load_reference(fake)


@pytest.mark.realdata
def test_real_files_load_with_their_documented_shapes():
    root = real_data_root(agnews.DATASET)
    dev, words = agnews.load_dev(root)
    ref, ref_words = agnews.load_reference(root)
    assert dev.shape == (5000, 30001) and dev.nnz == 83769 and int(dev.sum()) == 86921
    assert words[0] == agnews.UNKNOWN and len(words) == 30001
    assert ref.shape == (5000, 15494) and len(ref_words) == 15494


# --- the provided NPMI helper ------------------------------------------------------------------

def _tables(documents: list[set[str]], words: list[str]):
    x = sparse.csr_matrix([[1.0 if w in d else 0.0 for w in words] for d in documents])
    num, den = helper_code.generate_npmi_vals(x.T @ x, np.asarray(x.sum(0)).ravel())
    return num, den, len(documents), {w: i for i, w in enumerate(words)}


def test_npmi_of_one_pair_is_the_textbook_value():
    docs = [{"a", "b"}, {"a", "b"}, {"a"}, {"c"}]
    p_ab, p_a, p_b = 2 / 4, 3 / 4, 2 / 4
    textbook = math.log(p_ab / (p_a * p_b)) / -math.log(p_ab)
    got = helper_code.compute_npmi(*_tables(docs, ["a", "b", "c"]), [["a", "b"]])
    assert got == pytest.approx(textbook + 1e-6)


def test_pairs_that_never_meet_score_zero_and_unknown_words_are_left_out():
    docs = [{"a", "b"}, {"a", "b"}, {"a"}, {"c"}]
    tables = _tables(docs, ["a", "b", "c"])
    assert helper_code.compute_npmi(*tables, [["a", "c"]]) == 0.0
    assert helper_code.compute_npmi(*tables, [["a", "zzz", "b"]]) == helper_code.compute_npmi(*tables, [["a", "b"]])


def test_planted_topics_score_far_above_mixed_ones():
    counts, words = agnews.planted_counts(500, seed=3)
    x = counts.astype(np.float64)
    x.data[:] = 1
    tables = (*helper_code.generate_npmi_vals(x.T @ x, np.asarray(x.sum(0)).ravel()), x.shape[0],
              {w: i for i, w in enumerate(words)})
    planted = [list(ws) for ws in agnews.TOPICS.values()]
    mixed = [ws[:5] + planted[(i + 1) % len(planted)][:5] for i, ws in enumerate(planted)]
    assert helper_code.compute_npmi(*tables, planted) > 0.6
    assert helper_code.compute_npmi(*tables, mixed) < 0.45


def test_extract_topics_ranks_the_columns_of_b():
    b = np.array([[0.1, 3.0], [2.0, 0.0], [1.0, 1.0]])
    assert helper_code.extract_topics(b, ["x", "y", "z"], k=2) == [["y", "z"], ["x", "z"]]
