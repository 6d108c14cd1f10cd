"""What crosses between the parent and the worker, and how.

Everything travels over two pipes the parent created; the parent opens no file the worker could
have touched. Control messages are single JSON lines, validated by pydantic on arrival. A reply
that returns arrays declares each one's dtype and shape in its JSON line, and the raw bytes follow
on the same pipe: the parent checks every declared size against its limits *before* it allocates
anything, then reads exactly that many bytes into a fresh array. There is no file format to parse
(no `.npy` header, no pickle), and only plain numeric dtypes exist on the parent's side.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, Field, ValidationError, field_validator

from autograder.records import Record, flatten

MAX_MESSAGE_BYTES = 1 << 20
"""A JSON line longer than this is a fault of the worker, not a message."""

MAX_ARRAY_BYTES = 256 << 20
"""One returned array larger than this is refused before it is read."""

MAX_CHECK_BYTES = 256 << 20
"""All the arrays of one reply together: the judge holds one check's outputs at a time, so this
bounds the parent's memory whatever the worker declares."""

MAX_GRADING_BYTES = 1 << 30
"""All the arrays of one grading together: bounds the time a submission can spend in transfers."""

DTYPES = ("bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
          "float16", "float32", "float64")
"""The only element types that cross: plain numbers, little-endian, nothing with a Python object."""

JSONValue = None | bool | int | float | str | list[Any] | dict[str, Any]


# --- parent -> worker -------------------------------------------------------------------------

class ImportRequest(BaseModel):
    op: Literal["import"] = "import"
    module: str
    path: str
    timeout: float = Field(60.0, description="The parent's limit: the worker dumps its stack just before.")


class RunRequest(BaseModel):
    op: Literal["run"] = "run"
    assignment: str
    check: str
    half: Literal["run", "expected"]
    seed: int
    data_root: str | None = Field(None, description="Only for trusted halves (the reference's expected values).")
    inputs_dir: str | None = None
    timeout: float = Field(30.0, description="The parent's limit: the worker dumps its stack just before.")


# --- worker -> parent -------------------------------------------------------------------------

class Where(BaseModel):
    file: str
    line: int
    function: str
    code: str = ""


class ErrorInfo(BaseModel):
    kind: Literal["not_implemented", "submission", "exception", "exit"]
    message: str = Field(max_length=20_000)
    exception: str = ""
    where: Where | None = None
    traceback: str = Field("", max_length=50_000)
    in_student_code: bool = Field(True, description="The exception passed through a frame of the student's files.")


class ArraySpec(BaseModel):
    """What the worker declares about an array before its bytes follow."""

    dtype: Literal[DTYPES]  # type: ignore[valid-type]
    shape: tuple[int, ...] = Field(max_length=32)

    @field_validator("shape")
    @classmethod
    def _non_negative(cls, shape: tuple[int, ...]) -> tuple[int, ...]:
        if any(n < 0 for n in shape):
            raise ValueError("negative dimension")
        return shape

    @property
    def nbytes(self) -> int:
        """Exact, in Python integers: a declared 10**12 x 10**12 does not wrap around."""
        return math.prod(self.shape) * np.dtype(self.dtype).itemsize


class OutputsManifest(BaseModel):
    values: dict[str, Any] = Field(default_factory=dict, description="JSON outputs.")
    arrays: dict[str, ArraySpec] = Field(default_factory=dict, description="Arrays, whose bytes follow in order.")

    @property
    def nbytes(self) -> int:
        return sum(spec.nbytes for spec in self.arrays.values())


class Reply(BaseModel):
    ok: bool
    seconds: float = 0.0
    outputs: OutputsManifest | None = None
    error: ErrorInfo | None = None


class Ready(BaseModel):
    ready: Literal[True]
    python: str
    torch: str | None = None
    uid: int
    network_isolated: bool = False
    network_detail: str = ""
    private_tmp: bool = False
    private_tmp_detail: str = ""


class TransportError(Exception):
    """The worker sent something that is not a valid message or output."""


def encode(message: BaseModel) -> bytes:
    return message.model_dump_json().encode() + b"\n"


def decode(line: bytes, model: type[BaseModel]) -> Any:
    try:
        return model.model_validate_json(line)
    except ValidationError as exc:
        raise TransportError(f"malformed message from the worker: {exc.errors()[0]['msg']}") from None


# --- outputs, worker side ---------------------------------------------------------------------

def pack_outputs(outputs: Any) -> tuple[OutputsManifest, list[memoryview]]:
    """Arrays as declared specs plus their bytes, in order; everything else must be plain JSON.
    A record travels flat, each leaf under its path (`records.flatten`)."""
    if isinstance(outputs, Record):
        outputs = flatten(outputs)
    if not isinstance(outputs, dict):
        raise TypeError(f"a check's student half must return a record or a dict, not {type(outputs).__name__}")
    manifest = OutputsManifest()
    payload = []
    for name, value in outputs.items():
        if isinstance(value, np.ndarray):
            array = _plain(name, value)
            manifest.arrays[name] = ArraySpec(dtype=array.dtype.name, shape=array.shape)
            payload.append(memoryview(array.reshape(-1)).cast("B"))
        else:
            manifest.values[name] = _json_value(name, value)
    return manifest, payload


def _plain(name: str, value: np.ndarray) -> np.ndarray:
    if value.dtype.kind not in "biuf" or value.dtype.name not in DTYPES:
        raise TypeError(f"output {name!r} has dtype {value.dtype}; only plain numbers cross to the judge")
    return np.require(value, dtype=value.dtype.newbyteorder("<"), requirements="C")


def _json_value(name: str, value: Any) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return {"__float__": repr(value)}
    json.dumps(value, allow_nan=False)  # raises TypeError/ValueError for anything not plain JSON
    return value


# --- outputs, parent side ---------------------------------------------------------------------

def check_sizes(manifest: OutputsManifest, budget_left: int) -> None:
    """Refuse, before anything is allocated, what exceeds the limits."""
    for name, spec in manifest.arrays.items():
        if spec.nbytes > MAX_ARRAY_BYTES:
            raise TransportError(f"output {name!r} would be {spec.nbytes >> 20} MiB; at most "
                                 f"{MAX_ARRAY_BYTES >> 20} MiB is read")
    if manifest.nbytes > MAX_CHECK_BYTES:
        raise TransportError(f"the outputs of this check would be {manifest.nbytes >> 20} MiB together; at most "
                             f"{MAX_CHECK_BYTES >> 20} MiB is read per check")
    if manifest.nbytes > budget_left:
        raise TransportError(f"this submission has already returned close to {MAX_GRADING_BYTES >> 20} MiB of "
                             f"outputs, the most one grading reads")


def unpack_outputs(manifest: OutputsManifest, read_into: Callable[[memoryview], None]) -> dict[str, Any]:
    """Values from the manifest, arrays read straight into fresh plain ndarrays (sizes already checked)."""
    outputs: dict[str, Any] = {}
    for name, value in manifest.values.items():
        if isinstance(value, dict) and set(value) == {"__float__"}:
            value = float(value["__float__"])
        outputs[name] = value
    for name, spec in manifest.arrays.items():
        array = np.empty(spec.shape, dtype=np.dtype(spec.dtype).newbyteorder("<"))
        if array.nbytes:
            read_into(memoryview(array.reshape(-1)).cast("B"))
        outputs[name] = array.astype(array.dtype.newbyteorder("="), copy=False)
    return outputs
