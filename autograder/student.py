"""What a check's student half uses to reach the student's code. Runs inside the worker.

Everything here turns the student's return values into plain numpy arrays and JSON values, and
turns a missing name or a wrong type into a `SubmissionError` whose message a student can act on.
A check's student half calls the student's functions, classes, methods and models through one
wrapper, `Subject.invoke` (or `Subject.call` for a module's names), so that a call they refuse names
the student's code, whichever helper of the grader made it.
"""

from __future__ import annotations

import difflib
import inspect
import traceback
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from types import ModuleType, TracebackType
from typing import Any

import numpy as np

from autograder.transport import MAX_ARRAY_BYTES


class SubmissionError(Exception):
    """A fault in the submission, already described for the student."""


class Subject:
    """The imported modules of one submission (the student's, or the reference), its other files
    (checkpoints), the input sets prepared for the check, and (trusted halves only) the data root."""

    def __init__(self, modules: Mapping[str, ModuleType], folder: Path | None = None,
                 data_root: Path | None = None, inputs_dir: Path | None = None, declared: tuple[str, ...] = ()):
        self._modules = dict(modules)
        self.folder = folder
        self.data_root = data_root
        self.inputs_dir = inputs_dir
        self.declared = declared
        """The data sets the check declares (`Check.data`): the only ones its trusted half may read."""

    def path(self, name: str) -> Path:
        """A file of the submission other than a module, such as a checkpoint."""
        if self.folder is None or not (self.folder / name).is_file():
            raise SubmissionError(f"{name} was not found in the submission.")
        return self.folder / name

    def dataset(self, name: str) -> Path:
        """The folder of a data set under the data root: trusted halves only (the reference's
        expected values). A student half gets its data through `inputs`."""
        if self.data_root is None:
            raise RuntimeError(f"the data set {name!r} was read by a half that has no data root; student "
                               f"halves read data through subject.inputs()")
        if name not in self.declared:
            # Undeclared, it would be in no cache key, unknown to the missing-data logic and absent from
            # the Gradescope zip: refused, so that the check's author declares it.
            raise RuntimeError(f"the data set {name!r} was read by a check whose `data` declares only "
                               f"{list(self.declared)}: add {name!r} to its `data`")
        from autograder.data import dataset_folder

        return dataset_folder(self.data_root, name) or self.data_root / name

    def inputs(self, name: str) -> dict[str, np.ndarray | Path]:
        """An input set the parent prepared for this check (see `autograder.inputs`): its arrays,
        and the paths of the whole files it hands over (pretrained weights, word vectors)."""
        from autograder import inputs

        if self.inputs_dir is None:
            raise RuntimeError(f"the input set {name!r} was read, but the check declares no inputs")
        return inputs.read(self.inputs_dir, name)

    def module(self, name: str) -> ModuleType:
        try:
            return self._modules[name]
        except KeyError:
            raise SubmissionError(f"{name}.py was not imported; it is missing from the submission.") from None

    def function(self, module: str, name: str) -> Callable[..., Any]:
        """The function or class `name` of `module`, or a message suggesting the close names."""
        mod = self.module(module)
        value = getattr(mod, name, None)
        if value is None:
            public = [n for n in vars(mod) if not n.startswith("_")]
            close = difflib.get_close_matches(name, public, n=1, cutoff=0.6)
            also = f" Did you mean `{close[0]}`? The name must be exactly `{name}`." if close else ""
            raise SubmissionError(f"{module}.py has no function `{name}`.{also}")
        if not callable(value):
            raise SubmissionError(f"`{name}` in {module}.py should be a function, but it is a {type(value).__name__}.")
        return value

    def call(self, module: str, name: str, *args: Any, **kwargs: Any) -> Any:
        """Call the function or class `module.name`, as `invoke` does, named as the handout names it."""
        return self._invoke(f"`{name}` in {module}.py", self.function(module, name), args, kwargs)

    def method(self, obj: Any, name: str) -> Callable[..., Any]:
        """The method `name` of an object the student's code made, to call through `invoke`."""
        method = getattr(obj, name, None)
        if not callable(method):
            raise SubmissionError(f"{self.describe(type(obj))} has no method `{name}()`, which the grader calls. "
                                  f"Keep the methods of the template.")
        return method

    def invoke(self, target: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
        """Every call of grader code into the student's objects: functions, classes, methods, models.

        A call the target's signature does not accept, or one that fails before reaching any of the
        student's code (a model without `forward`, torch refusing the arguments), becomes a
        SubmissionError naming the student's function or class and its file. An exception raised
        inside the student's code goes on unchanged: the worker names the student's line from its
        traceback, and the parent recognises its type (NotImplementedError, a GPU asked for, ...).
        """
        return self._invoke(self.describe(target), target, args, kwargs)

    def _invoke(self, name: str, target: Callable[..., Any], args: tuple, kwargs: dict[str, Any]) -> Any:
        try:
            inspect.signature(_called(target)).bind(*args, **kwargs)
        except TypeError as exc:
            raise SubmissionError(f"{name} cannot be called as the handout specifies ({exc}). "
                                  f"Keep the signature of the template.") from None
        except ValueError:  # no signature available (a builtin): just call it
            pass
        try:
            return target(*args, **kwargs)
        except (SubmissionError, MemoryError):
            raise
        except Exception as exc:
            if self._reached_submission(exc.__traceback__):
                raise
            raise SubmissionError(f"{name} failed when the grader called it with {_arguments(args, kwargs)}: "
                                  f"{type(exc).__name__}: {exc}") from exc

    def describe(self, target: Any) -> str:
        """'`Net.forward` in hw3_p2.py': the student's function, class or model's forward, where it is written."""
        code = _called(target)
        file = self._written_in(code)
        if file or code is target:
            return _quoted(code) + (f" in {file}" if file else "")
        cls = type(target)  # a model whose forward is torch's: its class may still be the student's
        file = self._written_in(cls)
        return f"{_quoted(cls)} in {file}" if file else f"the `{cls.__name__}` your code built"

    def _written_in(self, obj: Any) -> str | None:
        """The name of the submission's file that defines `obj`, if one does."""
        try:
            file = Path(inspect.getfile(inspect.unwrap(obj)))
        except (TypeError, ValueError):  # a builtin, or a wrapper that wraps itself
            return None
        return file.name if self.folder is not None and file.resolve().parent == self.folder.resolve() else None

    def _reached_submission(self, tb: TracebackType | None) -> bool:
        """Whether a traceback passed through a file of the submission (the worker's own rule)."""
        folder = self.folder.resolve() if self.folder is not None else None
        return any(Path(frame.f_code.co_filename).resolve().parent == folder for frame, _ in traceback.walk_tb(tb))


def _called(target: Any) -> Any:
    """What runs when `target` is called: a model's `forward` (nn.Module's __call__ takes anything)."""
    forward = getattr(target, "forward", None)
    plain = inspect.isroutine(target) or inspect.isclass(target)
    return forward if callable(forward) and not plain else target


def _quoted(obj: Any) -> str:
    return f"`{getattr(obj, '__qualname__', type(obj).__name__)}`"


def _arguments(args: tuple, kwargs: dict) -> str:
    """'(a float32 tensor of shape (5, 1, 28, 28), code_dim=30)': the call, without values."""
    def one(value: Any) -> str:
        if hasattr(value, "shape") and hasattr(value, "dtype"):
            kind = "tensor" if hasattr(value, "detach") else "array"
            return f"a {str(value.dtype).removeprefix('torch.')} {kind} of shape {tuple(value.shape)}"
        return repr(value) if isinstance(value, int | float | str | bool | None) else f"a {type(value).__name__}"
    return "(" + ", ".join([*map(one, args), *(f"{k}={one(v)}" for k, v in kwargs.items())]) + ")"

def to_array(value: Any, what: str) -> np.ndarray:
    """A plain float64 or integer ndarray copied from numpy, torch or Python numbers.

    A copy into a fresh `np.ndarray` drops any subclass and its overridden methods, so what
    crosses to the judge is data only.
    """
    if hasattr(value, "detach") and hasattr(value, "cpu"):  # a torch tensor, without importing torch
        value = value.detach().cpu().numpy()
    try:
        array = np.array(value, copy=True, subok=False)
    except Exception as exc:  # noqa: BLE001 - any failure means "not an array"; say so plainly
        raise SubmissionError(f"{what} should be a numeric array, but it could not be read as one ({exc}).") from None
    if array.dtype.kind not in "biuf":
        raise SubmissionError(f"{what} should be a numeric array, but it is {_kind(value)}.")
    if array.nbytes > MAX_ARRAY_BYTES:
        raise SubmissionError(f"{what} is an array of shape {array.shape} ({array.nbytes >> 20} MiB); "
                              f"at most {MAX_ARRAY_BYTES >> 20} MiB is read. Check its shape.")
    return array.astype(np.float64) if array.dtype.kind == "f" else array


def returned_tuple(value: Any, names: tuple[str, ...], what: str) -> tuple[Any, ...]:
    """`value` as the tuple of len(names) that the handout's function returns, or a clear error."""
    if not isinstance(value, tuple | list) or len(value) != len(names):
        got = f"a {type(value).__name__} of length {len(value)}" if isinstance(value, tuple | list) \
            else f"a {type(value).__name__}"
        raise SubmissionError(f"{what} should return a tuple ({', '.join(names)}), but it returned {got}.")
    return tuple(value)


def arrays_from_mapping(value: Any, keys: Iterable[str], what: str) -> dict[str, np.ndarray]:
    """`value[k]` for every key as an array; a missing key or a non-dict is a clear error."""
    if not isinstance(value, Mapping):
        raise SubmissionError(f"{what} should return a dict, but it returned {_kind(value)}.")
    keys = list(keys)
    missing = [k for k in keys if k not in value]
    if missing:
        raise SubmissionError(
            f"{what} returned a dict without the key{'s' if len(missing) > 1 else ''} "
            f"{', '.join(repr(k) for k in missing)}; it should have {', '.join(repr(k) for k in keys)}."
        )
    return {k: to_array(value[k], f"{what}[{k!r}]") for k in keys}


def _kind(value: Any) -> str:
    if isinstance(value, np.ndarray):
        return f"an array of dtype {value.dtype}"
    return f"a {type(value).__name__}"
