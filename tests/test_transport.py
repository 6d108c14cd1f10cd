"""Nothing from the student process is unpickled, and what crosses is plain data."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import torch

from autograder import transport
from autograder.student import SubmissionError, Subject, arrays_from_mapping, to_array
from autograder.transport import ArraySpec, OutputsManifest, TransportError, check_sizes, pack_outputs, unpack_outputs


def _round_trip(outputs: dict) -> dict:
    """What the parent reads from the pipe after the worker packs `outputs`."""
    manifest, payload = pack_outputs(outputs)
    stream = memoryview(b"".join(bytes(p) for p in payload))
    manifest = transport.decode(transport.encode(manifest), OutputsManifest)
    check_sizes(manifest, transport.MAX_GRADING_BYTES)

    def read_into(view: memoryview) -> None:
        nonlocal stream
        view[:] = stream[:len(view)]
        stream = stream[len(view):]

    return unpack_outputs(manifest, read_into)


def test_arrays_and_values_round_trip():
    big_endian = np.arange(6, dtype=">i4").reshape(2, 3)[:, ::2]
    out = _round_trip({"W": np.eye(2), "B": big_endian, "mask": np.array([True, False]), "n": 3, "ok": True,
                       "bad": float("nan")})
    assert np.array_equal(out["W"], np.eye(2)) and np.array_equal(out["B"], [[0, 2], [3, 5]])
    assert out["mask"].dtype == bool and out["n"] == 3 and out["ok"] is True and np.isnan(out["bad"])
    assert all(type(out[k]) is np.ndarray for k in ("W", "B", "mask"))


def test_object_and_structured_arrays_never_cross():
    with pytest.raises(TypeError, match="only plain numbers cross"):
        pack_outputs({"W": np.array([object()], dtype=object)})
    with pytest.raises(TypeError, match="only plain numbers cross"):
        pack_outputs({"W": np.zeros(2, dtype=[("a", "i4")])})
    with pytest.raises(TransportError, match="malformed message"):  # declared by a forged reply
        transport.decode(b'{"arrays": {"W": {"dtype": "object", "shape": [3]}}}', OutputsManifest)


@pytest.mark.parametrize(("arrays", "message"), [
    ({"W": ArraySpec(dtype="float64", shape=(10**6, 10**6))}, "output 'W' would be 7629394 MiB"),
    ({f"W{i}": ArraySpec(dtype="uint8", shape=(200 << 20,)) for i in range(2)}, "would be 400 MiB together"),
])
def test_sizes_are_refused_before_anything_is_allocated(arrays, message):
    with pytest.raises(TransportError, match=message):
        check_sizes(OutputsManifest(arrays=arrays), transport.MAX_GRADING_BYTES)


def test_a_grading_reads_at_most_its_budget():
    with pytest.raises(TransportError, match="already returned close to 1024 MiB"):
        check_sizes(OutputsManifest(arrays={"W": ArraySpec(dtype="uint8", shape=(64,))}), budget_left=10)


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
