"""Nothing from the student process is unpickled, and what crosses is plain data."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import torch

from autograder.student import SubmissionError, Subject, arrays_from_mapping, to_array
from autograder.transport import OutputsManifest, TransportError, read_outputs, write_outputs


def test_arrays_round_trip_as_npy(tmp_path):
    manifest = write_outputs({"W": np.eye(2), "n": 3, "ok": True, "bad": float("nan")}, tmp_path)
    out = read_outputs(manifest, tmp_path)
    assert np.array_equal(out["W"], np.eye(2)) and out["n"] == 3 and out["ok"] is True
    assert np.isnan(out["bad"])


def test_a_pickled_array_is_refused(tmp_path):
    class Evil:
        def __reduce__(self):
            return (print, ("pwned",))

    np.save(tmp_path / "a0.npy", np.array([Evil()], dtype=object), allow_pickle=True)
    with pytest.raises(TransportError, match="not a valid .npy array"):
        read_outputs(OutputsManifest(arrays={"W": "a0.npy"}), tmp_path)


def test_a_file_outside_the_output_folder_is_refused(tmp_path):
    with pytest.raises(TransportError, match="unexpected file"):
        read_outputs(OutputsManifest(arrays={"W": "../../etc/passwd"}), tmp_path)


def test_a_tensor_subclass_that_lies_in_eq_crosses_as_plain_numbers():
    class Liar(torch.Tensor):
        def __eq__(self, other):
            return True

    lying = torch.zeros(3).as_subclass(Liar)
    array = to_array(lying, "W")
    assert type(array) is np.ndarray and array.dtype == np.float64
    assert not np.array_equal(array, np.ones(3))
    assert pickle.dumps(array)  # plain data, no subclass left


def test_non_numeric_returns_are_clear_errors():
    with pytest.raises(SubmissionError, match=r"forward\(\)\['V1'\] should be a numeric array, but it is a str"):
        arrays_from_mapping({"V1": "abc"}, ["V1"], "forward()")
    with pytest.raises(SubmissionError, match="returned a dict without the key 'V2'"):
        arrays_from_mapping({"V1": 1.0}, ["V1", "V2"], "forward()")
    with pytest.raises(SubmissionError, match="should return a dict, but it returned a list"):
        arrays_from_mapping([1, 2], ["V1"], "forward()")


def test_a_wrong_signature_is_named_before_the_call():
    import types

    module = types.ModuleType("hw")
    module.forward = lambda X, Y: None
    with pytest.raises(SubmissionError, match="`forward` in hw.py cannot be called as the handout specifies"):
        Subject({"hw": module}).call("hw", "forward", 1, 2, 3)
