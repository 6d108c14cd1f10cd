"""A check's outputs as a typed record, declared once beside its halves.

A check's student half returns a `Record`: a small frozen pydantic model whose fields are numpy
arrays, JSON values, other records, and dicts, lists or tuples of them. The student half names it
as its return annotation (`def run_forward(subject) -> Forward:`), the judge reads its fields as
attributes (`got.z1`), and nothing else joins the two sides: no key is built on one side and
parsed back on the other, and a field misspelt on either side fails every grading of the
reference in the tests (the record refuses unknown fields; `tests/test_records.py` reads each
judge for fields its records do not declare).

Across the sandbox a record travels as the flat mapping the transport has always carried (arrays
as raw bytes, everything else JSON), keyed by each leaf's path in the record; the parent rebuilds
it and validates it against the check's declared record, so what reaches a judge has exactly the
declared fields and types, whatever the worker sent.
"""

from __future__ import annotations

import functools
import json
import typing
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, ValidationError

Path = tuple[str | int, ...]


class Record(BaseModel):
    """What one check's student half returns. Subclass it with the check's fields, e.g.

        class Forward(Record):
            z1: np.ndarray
            loss: float
            shapes: dict[str, list[int]]
    """

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)


class RecordError(ValueError):
    """Outputs that do not fit the check's record."""


class MissingEntry(KeyError, IndexError):
    """A judge looked up an entry (a seed, a case, a position) that the student's record lacks.

    A record's dicts and lists are keyed by data, so its declaration cannot list their entries. The
    student half builds every entry its judge reads, from the same constants; one missing means the
    outputs were forged in the worker. The runner makes it the submission's error, as any outputs
    that do not fit, never the grader's (which would be a regrade that a forger could use to dodge
    a failure)."""


@functools.cache
def returned_record(half: Callable[..., Any] | None) -> type[Record] | None:
    """The record a half's return annotation names; None for a half that returns a plain dict."""
    if half is None:
        return None
    try:
        returned = typing.get_type_hints(half).get("return")
    except (NameError, TypeError) as exc:  # an annotation naming a class the module does not define
        raise ValueError(f"the return annotation of {getattr(half, '__qualname__', half)!r} cannot be "
                        f"resolved: {exc}") from None
    return returned if isinstance(returned, type) and issubclass(returned, Record) else None


# --- worker side -------------------------------------------------------------------------------

def flatten(record: Record) -> dict[str, Any]:
    """Leaves by path: {'["z1"]': array, '["layers", 0, "weight"]': array, '["loss"]': 0.3}."""
    flat: dict[str, Any] = {}
    _flatten(record, (), flat)
    return flat


def _flatten(value: Any, path: Path, flat: dict[str, Any]) -> None:
    if isinstance(value, BaseModel):
        for name in type(value).model_fields:
            _flatten(getattr(value, name), (*path, name), flat)
    elif isinstance(value, Mapping) and _structured(value):
        for key, item in value.items():
            if not isinstance(key, str | int) or isinstance(key, bool):
                raise TypeError(f"record field {_display(path)} has the key {key!r}: keys are strings or integers")
            _flatten(item, (*path, str(key)), flat)
    elif isinstance(value, list | tuple) and _structured(value):
        for index, item in enumerate(value):
            _flatten(item, (*path, index), flat)
    else:
        flat[json.dumps(path)] = value


def _structured(container: Mapping | list | tuple) -> bool:
    """Whether a container holds an array or a record somewhere (else it is one JSON value)."""
    items = container.values() if isinstance(container, Mapping) else container
    return any(isinstance(v, np.ndarray | BaseModel)
               or (isinstance(v, Mapping | list | tuple) and _structured(v)) for v in items)


# --- parent side -------------------------------------------------------------------------------

def rebuild(record: type[Record], flat: Mapping[str, Any], *, guarded: bool = False) -> Record:
    """The record from the transport's flat outputs, validated: a missing, extra or mistyped field
    raises `RecordError`, naming it. `guarded` (the student's record): looking up an entry that its
    dicts or lists lack raises `MissingEntry`."""
    try:
        tree = _unflatten(flat)
        rebuilt = record.model_validate(tree)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "the record"
        raise RecordError(f"{where} of {record.__name__}: {first['msg']}") from None
    return _guard(rebuilt) if guarded else rebuilt


class _Entries(dict):
    def __missing__(self, key):
        raise MissingEntry(key)


class _Items(list):
    def __getitem__(self, index):
        try:
            return super().__getitem__(index)
        except IndexError:
            raise MissingEntry(index) from None


def _guard(value: Any) -> Any:
    if isinstance(value, BaseModel):
        for name in type(value).model_fields:  # validated and frozen already: only containers are swapped
            value.__dict__[name] = _guard(value.__dict__[name])
        return value
    if isinstance(value, dict):
        return _Entries({k: _guard(v) for k, v in value.items()})
    if isinstance(value, list | tuple):
        return _Items(_guard(v) for v in value)
    return value


class _Node(dict):
    """A container the paths built (a leaf that is itself a dict stays as it came)."""


def _unflatten(flat: Mapping[str, Any]) -> dict[str, Any]:
    root = _Node()
    for key, value in flat.items():
        try:
            path = json.loads(key)
        except json.JSONDecodeError:
            raise RecordError(f"the output {key[:60]!r} is not a record field") from None
        if not isinstance(path, list) or not path or not all(isinstance(p, str | int) for p in path):
            raise RecordError(f"the output {key[:60]!r} is not a record field")
        node = root
        for part in path[:-1]:
            node = node.setdefault(part, _Node())
            if not isinstance(node, _Node):
                raise RecordError(f"the record field {_display(tuple(path))} is both a value and a container")
        if path[-1] in node:
            raise RecordError(f"the record field {_display(tuple(path))} came twice")
        node[path[-1]] = value
    return _lists(root)


def _lists(node: Any) -> Any:
    """Nodes keyed 0..n-1 by integers become lists (the path said index, not key)."""
    if not isinstance(node, _Node):
        return node
    keys = list(node)
    if keys and all(isinstance(k, int) for k in keys):
        if sorted(keys) != list(range(len(keys))):
            raise RecordError(f"a list in the record has the positions {sorted(keys)[:8]}")
        return [_lists(node[i]) for i in range(len(keys))]
    if any(isinstance(k, int) for k in keys):
        raise RecordError("a record node mixes list positions and names")
    return {k: _lists(v) for k, v in node.items()}


def _display(path: Path) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else (f".{p}" if i else p) for i, p in enumerate(path))
