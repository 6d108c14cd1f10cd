"""Turning every way a student's code can fail into an outcome and a message a student can act on."""

from __future__ import annotations

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
