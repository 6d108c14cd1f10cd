"""Typed records: what a check's student half returns, how it crosses the sandbox, and what its
judge may read of it."""

from __future__ import annotations

import ast
import inspect
import math
import textwrap

import numpy as np
import pytest

from autograder import transport
from autograder.assignments import assignment_ids, load_assignment
from autograder.model import Check, Verdict
from autograder.records import MissingEntry, Record, RecordError, flatten, rebuild, returned_record


class Layer(Record):
    weight: np.ndarray
    name: str


class Elsewhere(Record):
    y: int


class Everything(Record):
    z1: np.ndarray
    loss: float
    shapes: dict[str, list[int]]
    layers: list[Layer]
    by_seed: dict[int, np.ndarray]
    pair: tuple[np.ndarray, np.ndarray]
    rates: dict[int, float]
    empty: list[Layer]
    note: str | None = None


def _everything() -> Everything:
    return Everything(z1=np.arange(6.0).reshape(2, 3), loss=float("nan"), shapes={"W1": [3, 4]},
                      layers=[Layer(weight=np.eye(2, dtype=np.float32), name="fc1"),
                              Layer(weight=np.zeros((0, 3)), name="empty")],
                      by_seed={1: np.array([1, 2], dtype=np.int64), 20: np.array([True])},
                      pair=(np.ones(2), np.zeros(1)), rates={2: 0.5, 7: 0.25}, empty=[])


def _across(outputs) -> dict:
    """Through the transport exactly as between worker and parent: manifest, then raw bytes."""
    manifest, payload = transport.pack_outputs(outputs)
    manifest = transport.OutputsManifest.model_validate_json(manifest.model_dump_json())
    chunks = (chunk for chunk in payload if chunk.nbytes)  # on a pipe, an empty array is no bytes

    def read_into(view: memoryview) -> None:
        view[:] = next(chunks)

    return transport.unpack_outputs(manifest, read_into)


def test_a_record_crosses_the_transport_whole():
    sent = _everything()
    got = rebuild(Everything, _across(sent))
    assert np.array_equal(got.z1, sent.z1) and math.isnan(got.loss)
    assert got.shapes == {"W1": [3, 4]} and got.note is None and got.empty == []
    assert [layer.name for layer in got.layers] == ["fc1", "empty"]
    assert got.layers[0].weight.dtype == np.float32 and got.layers[1].weight.shape == (0, 3)
    assert set(got.by_seed) == {1, 20} and got.by_seed[1].tolist() == [1, 2] and got.by_seed[20].dtype == bool
    assert [a.tolist() for a in got.pair] == [[1.0, 1.0], [0.0]]
    assert got.rates == {2: 0.5, 7: 0.25}


def test_a_dict_that_is_one_json_value_is_not_taken_for_a_list():
    """Integer keys of a dict leaf (no array inside) stay keys in this process, where no JSON
    turned them into strings: only the containers the paths built can become lists."""
    sent = _everything()
    assert rebuild(Everything, flatten(sent)).rates == {2: 0.5, 7: 0.25}


def test_a_record_refuses_a_field_it_does_not_declare():
    with pytest.raises(ValueError, match="extra"):
        Layer(weight=np.eye(2), name="x", bias=np.zeros(2))


@pytest.mark.parametrize(("forged", "words"), [
    ({'["weight"]': np.eye(2)}, "name of Layer: Field required"),
    ({'["weight"]': np.eye(2), '["name"]': "x", '["bias"]': np.zeros(2)}, "bias of Layer: Extra inputs"),
    ({'["weight"]': [[1.0, 0.0]], '["name"]': "x"}, "weight of Layer"),
    ({"weight": np.eye(2), '["name"]': "x"}, "'weight' is not a record field"),
    ({'["weight"]': np.eye(2), '["name"]': "x", '["name", 0]': "y"}, "both a value and a container"),
])
def test_outputs_that_do_not_fit_the_record_are_refused_by_name(forged, words):
    with pytest.raises(RecordError, match=words.replace("(", r"\(")):
        rebuild(Layer, forged)


def test_the_students_record_says_which_entry_a_judge_missed():
    """Looking up what a student's record lacks is a MissingEntry (the runner: the submission's
    error); in the reference's record, a plain KeyError or IndexError (the runner: the grader's)."""
    flat = flatten(_everything())
    guarded = rebuild(Everything, flat, guarded=True)
    with pytest.raises(MissingEntry):
        guarded.by_seed[3]
    with pytest.raises(MissingEntry):
        guarded.layers[2]
    assert guarded.by_seed[20].tolist() == [True] and guarded.layers[-1].name == "empty"
    plain = rebuild(Everything, flat)
    with pytest.raises(KeyError) as raised:
        plain.by_seed[3]
    assert not isinstance(raised.value, MissingEntry)


def test_list_positions_must_be_whole():
    flat = flatten(_everything())
    del flat['["layers", 0, "weight"]'], flat['["layers", 0, "name"]']
    with pytest.raises(RecordError, match="positions"):
        rebuild(Everything, flat)


def test_a_half_names_its_record_by_its_return_annotation():
    def typed(subject) -> Layer: ...

    def untyped(subject) -> dict: ...

    assert returned_record(typed) is Layer
    assert returned_record(untyped) is None and returned_record(lambda s: {}) is None


def test_a_copy_with_another_half_reads_its_own_record():
    """What a check derives from its halves follows the halves: a copy that replaces one (as the
    engine's tests do) does not keep the record, or the reading of `expected`, of the one it replaced."""
    def first(subject) -> Layer: ...

    def second(subject) -> Elsewhere: ...

    def reads_nothing(got, expected, check):
        return Verdict.passed("ok")

    def reads_expected(got, expected, check):
        return expected

    check = Check(id="p.x.y", claim="c", points=1, part="a", run=first, judge=reads_nothing)
    assert check.record is Layer and not check.needs_expected
    copy = check.model_copy(update={"run": second, "judge": reads_expected})
    assert copy.record is Elsewhere and copy.expected_record is Elsewhere and copy.needs_expected


def test_a_record_the_annotation_cannot_find_fails_the_declaration():
    def half(subject) -> NoSuchRecord:  # noqa: F821 - the point of the test
        ...

    with pytest.raises(ValueError, match="NoSuchRecord"):
        Check(id="p.x.y", claim="c", points=1, part="a", run=half, judge=lambda g, e, c: Verdict.passed("ok"))


# --- every check of every assignment ----------------------------------------------------------

def _run_checks() -> list[tuple[str, Check]]:
    return [(a, c) for a in assignment_ids() for c in load_assignment(a).checks if c.run is not None]


@pytest.mark.parametrize(("assignment", "check"), _run_checks(), ids=lambda v: getattr(v, "id", v))
def test_every_check_returns_a_record(assignment, check):
    """No check joins its halves by string keys: its student half, and its trusted half, name a record."""
    assert check.record is not None, f"{check.id}: its student half returns a plain dict, not a Record"
    assert check.expected_record is not None, f"{check.id}: its expected half returns a plain dict"


@pytest.mark.parametrize(("assignment", "check"), _run_checks(), ids=lambda v: getattr(v, "id", v))
def test_judges_read_only_the_fields_their_records_declare(assignment, check):
    """A field renamed on one side only is found here, not on every student's grade: each attribute
    the judge reads of `got` or `expected` is a field of the record, and neither is indexed by a key."""
    definition = _definition(check.judge)
    if definition is None:  # a ready judge of autograder/judges.py: it names fields by `order`
        return
    parameters = [a.arg for a in definition.args.posonlyargs + definition.args.args]
    for name, record in zip(parameters[:2], (check.record, check.expected_record), strict=False):
        if record is None:
            continue
        for node in ast.walk(definition):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == name:
                assert node.attr in record.model_fields, (
                    f"{check.id}: the judge reads {name}.{node.attr}, which {record.__name__} does not declare")
            if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) and node.value.id == name:
                pytest.fail(f"{check.id}: the judge indexes {name}[...]; read the fields of {record.__name__}")


def _definition(judge) -> ast.FunctionDef | None:
    try:
        source = textwrap.dedent(inspect.getsource(judge))
    except (OSError, TypeError):
        return None
    if getattr(judge, "__module__", "").startswith("autograder.judges"):
        return None
    tree = ast.parse(source)
    return next((n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)), None)
