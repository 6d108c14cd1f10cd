"""The peak memory of one call, measured inside the worker (B1: "ALS never allocates the m x n matrix").

Two measures, because neither sees everything:

- tracemalloc's peak: numpy reports its buffers to it, untouched ones included (np.zeros takes
  zeroed pages from calloc, which stay out of the resident set until written);
- the growth of the resident-set high-water mark (`VmHWM` in /proc/self/status), reset just before
  the call by writing 5 to /proc/self/clear_refs: torch's CPU allocator is invisible to tracemalloc,
  and its tensors are filled, so resident.

The reset is the delicate part. After the worker drops to the grading's uid, the kernel marks it
non-dumpable, and the /proc files of a non-dumpable process belong to root: clear_refs (mode 0200)
refuses the sandbox uid (EACCES). Unreset, the high-water mark left by the worker's start and earlier
checks would hide any allocation below it (the check used to read 0 for torch under isolation). The
call is therefore measured with the process made dumpable again (prctl), which hands its /proc files
back to its own uid. That exposes nothing: being dumpable only lets processes of the same uid (the
student's own) trace or read this one, which the student's code, running inside it, does anyway;
core files stay off (RLIMIT_CORE is 0, hard). The previous setting is restored after the call.

A measurement that cannot be taken is never a zero: `measure` says why instead, and the check's
judge turns that into an autograder error. Like anything run inside the student's process, a
determined student can fake it (patch tracemalloc, or this module); the judge trusts only the numbers.
"""

from __future__ import annotations

import contextlib
import ctypes
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path

from autograder.student import SubmissionError

_PR_GET_DUMPABLE, _PR_SET_DUMPABLE = 3, 4


class Unmeasured(Exception):
    """The peak memory could not be measured here: a fault of the grader's set-up, not the student's."""


@contextlib.contextmanager
def _own_proc_files() -> Iterator[None]:
    """This process dumpable for the duration, so that its /proc files belong to its own uid."""
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (AttributeError, OSError, TypeError):  # not Linux
        raise Unmeasured("prctl is not available on this platform") from None
    before = prctl(_PR_GET_DUMPABLE, 0, 0, 0, 0)
    if prctl(_PR_SET_DUMPABLE, 1, 0, 0, 0) != 0:
        raise Unmeasured(f"prctl(PR_SET_DUMPABLE, 1) failed (errno {ctypes.get_errno()})")
    try:
        yield
    finally:
        if before != 1:  # 0, or 2 (suid_dumpable), which cannot be set back: 0 is the stricter
            prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0)


def _status_bytes(field: str) -> int:
    try:
        lines = Path("/proc/self/status").read_text().splitlines()
    except OSError as exc:
        raise Unmeasured(f"/proc/self/status could not be read ({exc})") from None
    for line in lines:
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise Unmeasured(f"/proc/self/status has no {field}")


def _reset_resident_peak() -> int:
    """Reset the high-water mark to the current resident set, and return that."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError as exc:
        raise Unmeasured(f"the resident high-water mark could not be reset ({exc})") from None
    return _status_bytes("VmRSS")


def measure(call: Callable[[], object], what: str) -> dict:
    """{"measured": True, "traced peak": bytes, "resident growth": bytes} of `call()`, or
    {"measured": False, "why": ...} when this process cannot measure itself (then `call` is not made).
    Only the grader's steps before and after the call may say "unmeasured"; what the call raises is its own."""
    with contextlib.ExitStack() as stack:
        try:
            stack.enter_context(_own_proc_files())
            resident = _reset_resident_peak()
        except Unmeasured as exc:
            return {"measured": False, "why": str(exc)}
        traced = _traced_peak(call, what)
        try:
            high_water = _status_bytes("VmHWM")
        except Unmeasured as exc:
            return {"measured": False, "why": str(exc)}
    return {"measured": True, "traced peak": traced, "resident growth": max(high_water - resident, 0)}


def _traced_peak(call: Callable[[], object], what: str) -> int:
    tracemalloc.start()
    try:
        call()
        tracing, (_, peak) = tracemalloc.is_tracing(), tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    if not tracing:  # stopped inside the student's call: theirs
        raise SubmissionError(f"{what} stopped tracemalloc, which the grader uses to measure its memory.")
    return int(peak)
