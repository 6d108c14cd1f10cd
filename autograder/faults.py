"""Turning every way a student's code can fail into an outcome and a message a student can act on."""

from __future__ import annotations

import functools
import importlib.metadata
import re
from collections.abc import Callable
import dataclasses
from dataclasses import dataclass

from autograder.packages import described
from autograder.results import Feedback, Outcome
from autograder.transport import ErrorInfo

_TOP_LEVEL_HINT = (
    'Code at the top level of a module runs when the grader imports it: move scripts, training '
    'loops and plots under `if __name__ == "__main__":`.'
)
_MISSING_PACKAGE_HINT = (f"The grader has Python's standard library, {described()}; "
                        "import only what the handout allows.")
HARNESS_HINT = "This is not your fault: tell your instructor, who will regrade it."


@dataclass(frozen=True)
class Fault:
    """A check that could not be judged, and why."""

    outcome: Outcome
    feedback: Feedback
    debug: str = ""  # a traceback for instructors; never shown to students
    budget_spent: bool = False  # stopped by the submission's time budget, not by its own limit
    over_memory: bool = False  # the worker was stopped for its resident memory


Locate = Callable[[str, int], str]


def plain_location(file: str, line: int) -> str:
    return f"{file}, line {line}"


def _where(error: ErrorInfo, locate: Locate) -> tuple[str, ...]:
    w = error.where
    if w is None:
        return ()
    code = f": `{w.code.strip()}`" if w.code.strip() else ""
    return (f"{locate(w.file, w.line)}, in {w.function}{code}",)


def _subject(error: ErrorInfo, fallback: str) -> str:
    w = error.where
    if w is None or w.function == "<module>":
        return fallback
    return f"`{w.function}` in {w.file}"


def check_fault(error: ErrorInfo, file: str, locate: Locate = plain_location) -> Fault:
    """The student half of a check failed inside the worker."""
    who = _subject(error, file)
    lacking = unavailable(error)
    if lacking is not None:
        return _lacking_fault(lacking, who, error, locate)
    match error.kind:
        case "not_implemented":
            return Fault(Outcome.error, Feedback(
                summary=f"{who} is not implemented yet: it raises NotImplementedError.",
                details=_where(error, locate), hint="Replace the TODO with your implementation."))
        case "submission":
            return Fault(Outcome.error, Feedback(summary=error.message, details=_where(error, locate)))
        case "exit":
            return Fault(Outcome.error, Feedback(
                summary=f"{who} called {error.message} while this check ran, so it returned nothing.",
                details=_where(error, locate), hint="Return the result instead of exiting."))
        case "exception" if error.exception == "MemoryError":
            return Fault(Outcome.error, Feedback(
                summary=f"{who} ran out of memory (MemoryError) during this check.", details=_where(error, locate),
                hint="The handout's sizes need little memory: look for an array far larger than intended."))
        case "exception" if error.in_student_code:
            return Fault(Outcome.error, Feedback(
                summary=f"{who} raised {error.message}",
                details=_where(error, locate),
                hint="Call it yourself on the handout's data to reproduce the error."), debug=error.traceback)
        case _:
            # Raised in the grader's code while it used the student's objects. The same check passed
            # on the reference, so what differs is the submission: a signature, a type, a shape.
            return Fault(Outcome.error, Feedback(
                summary=f"While the grader used your code from {file}, it raised {error.message}",
                details=_grader_frame(error),
                hint="Compare the signatures, return types and shapes of your functions and classes with the "
                     "template's: the reference passes this check."), debug=error.traceback)


def _grader_frame(error: ErrorInfo) -> tuple[str, ...]:
    last = [line.strip() for line in error.traceback.splitlines() if line.strip().startswith("File ")]
    return (f"It was raised at {last[-1]}",) if last else ()


def import_fault(error: ErrorInfo, file: str, locate: Locate = plain_location) -> Fault:
    """Importing a student module failed; every check of its problem gets this message."""
    lacking = unavailable(error)
    if lacking is not None:
        return _lacking_fault(lacking, f"Importing {file}", error, locate)
    if error.exception == "SyntaxError":
        line = error.where.line if error.where else 0
        at = locate(file, line).removeprefix(f"{file}, ")
        return Fault(Outcome.error, Feedback(
            summary=f"{file} has a syntax error at {at}: {error.message}.",
            details=_where(error, locate), hint="Run `python " + file + "` yourself: it must at least load."))
    if error.exception in ("ModuleNotFoundError", "ImportError"):
        return Fault(Outcome.error, Feedback(
            summary=f"{file} could not be imported: {error.message.split(': ', 1)[-1]}.",
            details=_where(error, locate),
            hint=_MISSING_PACKAGE_HINT))
    if error.kind == "exit":
        return Fault(Outcome.error, Feedback(
            summary=f"{file} called {error.message} while being imported, so none of its functions could be graded.",
            details=_where(error, locate), hint=_TOP_LEVEL_HINT))
    if error.kind == "not_implemented":
        return Fault(Outcome.error, Feedback(
            summary=f"{file} raised NotImplementedError while being imported.", details=_where(error, locate),
            hint=_TOP_LEVEL_HINT))
    return Fault(Outcome.error, Feedback(
        summary=f"Importing {file} raised {error.message}", details=_where(error, locate), hint=_TOP_LEVEL_HINT),
        debug=error.traceback)


# --- what the grader's machine lacks -----------------------------------------------------------
# A student who ran their code on a GPU, or with an older numpy or torch, cannot reproduce these
# errors at home: the message says what the grader runs and what to write instead.

@dataclass(frozen=True)
class Unavailable:
    """Something a submission may use that the grader lacks: a GPU, or a name its numpy or torch removed."""

    name: str  # as the summary says it: "`np.float`", "a GPU (CUDA)"
    advice: str  # what to write instead, as the end of a sentence
    signs: tuple[str, ...]  # patterns, any of which found in the error's text (see `_error_text`) recognises it

    @classmethod
    def removed(cls, name: str, replacement: str) -> Unavailable:
        """`np.X` or `torch.X`, recognised by how Python, numpy and torch each say it is gone."""
        alias, attr = name.split(".", 1)
        module, a = {"np": "numpy", "torch": "torch"}[alias], re.escape(attr)
        return cls(f"`{name}`", f"use {replacement} instead", (
            rf"module '{module}' has no attribute '{a}'",
            rf"cannot import name '{a}' from '{module}'",
            *([rf"'Tensor' object has no attribute '{a}'"] if module == "torch" else []),
            # numpy 2's "`np.float_` was removed ...", torch's stubs "... is now removed" (whose text
            # does not always name the function: then the student's line does)
            rf"(?s)^(?=.*\b(?:was|is now) removed\b).*(?<![\w.]){re.escape(name)}\b",
        ))


UNAVAILABLE = (
    Unavailable("a GPU (CUDA)",
                'choose the device with `device = torch.device("cuda" if torch.cuda.is_available() else "cpu")`, '
                "move models and tensors with `.to(device)` instead of `.cuda()`, and load checkpoints with "
                "`torch.load(path, map_location=device)`",
                (r"Torch not compiled with CUDA enabled", r"Found no NVIDIA driver", r"No CUDA GPUs are available",
                 r"CUDA driver initialization failed", r"no CUDA-capable device",
                 r"deserialize object on a CUDA device", r"torch\.cuda\.is_available\(\) is False")),
    # numpy 1.24 removed the aliases of Python's types; numpy 2.0 removed more names
    Unavailable.removed("np.float", "`float` (or `np.float64`)"),
    Unavailable.removed("np.int", "`int` (or `np.int64`)"),
    Unavailable.removed("np.bool", "`bool` (or `np.bool_`)"),
    Unavailable.removed("np.object", "`object`"),
    Unavailable.removed("np.complex", "`complex` (or `np.complex128`)"),
    Unavailable.removed("np.str", "`str`"),
    Unavailable.removed("np.float_", "`np.float64`"),
    Unavailable.removed("np.complex_", "`np.complex128`"),
    Unavailable.removed("np.NaN", "`np.nan`"),
    Unavailable.removed("np.Inf", "`np.inf`"),
    Unavailable.removed("np.infty", "`np.inf`"),
    Unavailable.removed("np.product", "`np.prod`"),
    Unavailable.removed("np.cumproduct", "`np.cumprod`"),
    Unavailable.removed("np.alltrue", "`np.all`"),
    Unavailable.removed("np.sometrue", "`np.any`"),
    Unavailable.removed("np.asfarray", "`np.asarray(x, dtype=float)`"),
    Unavailable.removed("np.round_", "`np.round`"),
    Unavailable.removed("np.trapz", "`np.trapezoid`"),
    Unavailable.removed("np.in1d", "`np.isin`"),
    # torch 1.9 deprecated these, and later releases removed them (some keep a stub that raises)
    Unavailable.removed("torch.solve", "`torch.linalg.solve(A, B)` (its arguments are in the other order)"),
    Unavailable.removed("torch.symeig", "`torch.linalg.eigh`"),
    Unavailable.removed("torch.lstsq", "`torch.linalg.lstsq(A, B)` (its arguments are in the other order)"),
    Unavailable.removed("torch.eig", "`torch.linalg.eig` (complex results)"),
    Unavailable.removed("torch.matrix_rank", "`torch.linalg.matrix_rank`"),
    Unavailable.removed("torch.chain_matmul", "`torch.linalg.multi_dot`"),
    Unavailable.removed("torch.qr", "`torch.linalg.qr`"),
    Unavailable.removed("torch.cholesky", "`torch.linalg.cholesky`"),
    Unavailable.removed("torch.triangular_solve", "`torch.linalg.solve_triangular`"),
)
"""Everything the messages below recognise, first match wins: each with what to use instead."""


def _error_text(error: ErrorInfo) -> str:
    """What the signs are looked for in: the exception and its message, then the student's line."""
    return f"{error.exception}: {error.message}\n{error.where.code if error.where else ''}"


def unavailable(error: ErrorInfo) -> Unavailable | None:
    """What the grader lacks that this error is about, if it is one of `UNAVAILABLE`."""
    if error.kind not in ("exception", "submission"):
        return None
    text = _error_text(error)
    return next((u for u in UNAVAILABLE if any(re.search(sign, text) for sign in u.signs)), None)


@functools.cache
def grader_versions() -> str:
    """'torch 2.13.0+cpu and numpy 2.4.6', read from the installed metadata: this process never imports torch."""
    def version(name: str) -> str:
        try:
            return importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            return "(not installed)"
    return f"torch {version('torch')} and numpy {version('numpy')}"


def _lacking_fault(lacking: Unavailable, who: str, error: ErrorInfo, locate: Locate) -> Fault:
    said = error.message.splitlines()[0].rstrip(".")
    what = said if error.kind == "submission" else f"{who} raised {said}"  # a submission error names its culprit
    return Fault(Outcome.error, Feedback(
        summary=f"{what}: it used {lacking.name}, which the grader does not have.",
        details=_where(error, locate),
        hint=f"The grader runs on CPU only, with {grader_versions()}: {lacking.advice}."), debug=error.traceback)


def _stuck(where: str | None) -> tuple[str, ...]:
    return (f"It was running {where} when it was stopped.",) if where else ()


def import_timeout(file: str, seconds: float, where: str | None = None) -> Fault:
    return Fault(Outcome.timeout, Feedback(
        summary=f"Importing {file} did not finish within {seconds:g} s; the grader stopped it.",
        details=_stuck(where), hint=_TOP_LEVEL_HINT + " Look also for an endless loop or input()."))


def import_crash(file: str, reason: str, log_tail: str) -> Fault:
    return Fault(Outcome.crashed, Feedback(
        summary=f"Importing {file} ended the grader's process: {reason}.",
        details=(_last_line(log_tail),) if log_tail.strip() else (),
        hint="Look for os._exit, very large allocations or a crash in native code at the top level of the file."))


def timeout_fault(seconds: float, where: str | None = None) -> Fault:
    return Fault(Outcome.timeout, Feedback(
        summary=f"This check did not finish within {seconds:g} s; the grader stopped it.", details=_stuck(where),
        hint="Look for an endless loop, or work far slower than the handout needs (Python loops over elements)."))


def crash_fault(reason: str, log_tail: str, over_memory: bool = False) -> Fault:
    return Fault(Outcome.crashed, Feedback(
        summary=f"Your code ended the grader's process during this check: {reason}.",
        details=(_last_line(log_tail),) if log_tail.strip() else (),
        hint="Look for os._exit, very large allocations or recursion without end."), over_memory=over_memory)


def with_reference_peak(fault: Fault, check_id: str, limit_mb: int | None, peak_bytes: int | None) -> Fault:
    """A memory stop names the check, its budget and what the reference needs there."""
    if not fault.over_memory or peak_bytes is None:
        return fault
    line = (f"On {check_id} the grader allows {limit_mb} MiB; the reference solution peaks at "
            f"{peak_bytes / 2**20:.0f} MiB there.")
    return dataclasses.replace(fault, feedback=fault.feedback.model_copy(
        update={"details": (line, *fault.feedback.details)}))


def unreadable_outputs(reason: str) -> Fault:
    return Fault(Outcome.error, Feedback(
        summary=f"The values returned during this check could not be read by the grader: {reason}.",
        hint="Return plain numbers, numpy arrays or torch tensors, as the handout asks."))


def left_processes() -> str:
    return "Your code left processes running after this check; the grader ended them."


def missing_file(message: str) -> Fault:
    return Fault(Outcome.error, Feedback(
        summary=message, hint="Name the file exactly as the handout does; it may sit in any folder of your upload."))


def budget_spent(seconds: float) -> Fault:
    return Fault(Outcome.timeout, Feedback(
        summary=f"This check was not run to the end: the submission used up its {seconds:g} s of grading time.",
        hint="Earlier checks took their whole time limits or crashed and restarted the grader's process: look "
             "at their messages first."), budget_spent=True)


def harness_fault(what: str, debug: str = "") -> Fault:
    return Fault(Outcome.harness_error, Feedback(summary=f"The autograder failed on this check: {what}.",
                                                 hint=HARNESS_HINT), debug=debug)


def _last_line(text: str) -> str:
    lines = [ln for ln in text.strip().splitlines() if ln.strip()]
    return f"Last output: {lines[-1][:300]}" if lines else ""
