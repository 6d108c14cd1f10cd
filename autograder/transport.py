"""What crosses between the parent and the worker, and how.

Control messages are single JSON lines on a dedicated pipe, validated by pydantic on arrival.
Arrays travel as `.npy` files in a folder the parent names, loaded with `allow_pickle=False`;
other values as JSON. Nothing from the worker is ever unpickled.
"""

from __future__ import annotations

import json
import math
import os
import re
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, Field, ValidationError

MAX_MESSAGE_BYTES = 1 << 20
"""A reply line longer than this is a fault of the worker, not a message."""

MAX_ARRAY_BYTES = 256 << 20
"""One returned array larger than this is refused before it is loaded."""

_ARRAY_FILE = re.compile(r"^a[0-9]{1,4}\.npy$")

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
    out_dir: str
    data_root: str | None = None
    inputs_dir: str | None = None
    timeout: float = Field(30.0, description="The parent's limit: the worker dumps its stack just before.")


# --- worker -> parent -------------------------------------------------------------------------

class Where(BaseModel):
    file: str
    line: int
    function: str
    code: str = ""


class ErrorInfo(BaseModel):
    kind: Literal["not_implemented", "submission", "exception", "exit", "harness"]
    message: str = Field(max_length=20_000)
    exception: str = ""
    where: Where | None = None
    traceback: str = Field("", max_length=50_000)


class OutputsManifest(BaseModel):
    values: dict[str, Any] = Field(default_factory=dict, description="JSON outputs.")
    arrays: dict[str, str] = Field(default_factory=dict, description="Output name -> .npy file name.")


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


class TransportError(Exception):
    """The worker sent something that is not a valid message or output."""


def encode(message: BaseModel) -> bytes:
    return message.model_dump_json().encode() + b"\n"


def decode(line: bytes, model: type[BaseModel]) -> Any:
    try:
        return model.model_validate_json(line)
    except ValidationError as exc:
        raise TransportError(f"malformed message from the worker: {exc.errors()[0]['msg']}") from None


# --- outputs --------------------------------------------------------------------------------

def write_outputs(outputs: Any, out_dir: Path) -> OutputsManifest:
    """Worker side: arrays to .npy files, everything else must be JSON."""
    if not isinstance(outputs, dict):
        raise TypeError(f"a check's student half must return a dict, not {type(outputs).__name__}")
    manifest = OutputsManifest()
    for i, (name, value) in enumerate(outputs.items()):
        if isinstance(value, np.ndarray):
            if value.dtype.kind not in "biuf":
                raise TypeError(f"output {name!r} has dtype {value.dtype}; only numbers cross to the judge")
            file = f"a{i}.npy"
            np.save(out_dir / file, value, allow_pickle=False)
            manifest.arrays[name] = file
        else:
            manifest.values[name] = _json_value(name, value)
    return manifest


def _json_value(name: str, value: Any) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return {"__float__": repr(value)}
    json.dumps(value, allow_nan=False)  # raises TypeError/ValueError for anything not plain JSON
    return value


def read_outputs(manifest: OutputsManifest, out_dir: Path) -> dict[str, Any]:
    """Parent side: load what the manifest names, refusing anything but plain numeric arrays."""
    outputs: dict[str, Any] = {}
    for name, value in manifest.values.items():
        if isinstance(value, dict) and set(value) == {"__float__"}:
            value = float(value["__float__"])
        outputs[name] = value
    for name, file in manifest.arrays.items():
        if not _ARRAY_FILE.match(file):
            raise TransportError(f"output {name!r} names an unexpected file {file!r}")
        path = out_dir / file
        if path.is_symlink() or not path.is_file():
            raise TransportError(f"output {name!r}: {file} is missing or not a plain file")
        if os.path.getsize(path) > MAX_ARRAY_BYTES:
            raise TransportError(f"output {name!r} is larger than {MAX_ARRAY_BYTES >> 20} MB")
        try:
            array = np.load(path, allow_pickle=False)
        except (ValueError, OSError) as exc:
            raise TransportError(f"output {name!r} is not a valid .npy array: {exc}") from None
        if array.dtype.kind not in "biuf":
            raise TransportError(f"output {name!r} has dtype {array.dtype}, not a number type")
        outputs[name] = array
    return outputs
