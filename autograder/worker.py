"""The sandboxed worker: imports the student's modules and runs the student halves of checks.

Forked by `autograder.forkserver` (or, where there is none, started by `autograder.sandbox.Worker`
as `python -I`). It reads one JSON request per line from the command pipe and answers one JSON
line on the reply pipe; its stdout and stderr (and so whatever the student prints) go to a log
file the parent reads. It decides no score: it only returns outputs.
"""

from __future__ import annotations

import argparse
import contextlib
import faulthandler
import importlib.util
import json
import os
import random
import sys
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType, TracebackType

import numpy as np

from autograder import isolation, transport
from autograder.student import Subject, SubmissionError
from autograder.transport import ErrorInfo, ImportRequest, Reply, RunRequest, Where

_torch = None


class Worker:
    def __init__(self, student_dir: Path, reply_fd: int):
        self.student_dir = student_dir.resolve()
        self.reply_fd = reply_fd
        self.modules: dict[str, ModuleType] = {}

    # --- replies ------------------------------------------------------------------------------

    def send(self, message: transport.BaseModel, payload: list[memoryview] = ()) -> None:
        """One JSON line, then the bytes of the arrays it declares."""
        for data in (memoryview(transport.encode(message)), *payload):
            while data:
                data = data[os.write(self.reply_fd, data):]

    def _student_frames(self, tb: TracebackType | None) -> list[tuple[traceback.FrameSummary, str]]:
        """The frames in the student's files, each with its qualified name ('Encoder.__init__')."""
        frames = []
        for frame, _ in traceback.walk_tb(tb):
            if Path(frame.f_code.co_filename).resolve().parent == self.student_dir:
                frames.append(frame.f_code.co_qualname)
        summaries = [f for f in traceback.extract_tb(tb) if Path(f.filename).resolve().parent == self.student_dir]
        return list(zip(summaries, frames, strict=True))

    def _error(self, kind: str, message: str, exc: BaseException) -> ErrorInfo:
        frames = self._student_frames(exc.__traceback__)
        where = None
        if frames:
            f, qualname = frames[-1]
            where = Where(file=Path(f.filename).name, line=f.lineno or 0, function=_encodable(qualname),
                          code=_encodable((f.line or "")[:300]))
        shown = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__, limit=-8))
        return ErrorInfo(kind=kind, message=_encodable(message[:20_000]), exception=type(exc).__name__,
                         where=where, traceback=_encodable(shown[-50_000:]))

    def classify(self, exc: BaseException) -> ErrorInfo:
        """Sort an exception into the closed set of error kinds the parent reports. Whatever
        happens in this process while a student's module is loaded is the student's: only the
        parent decides that the grader itself failed."""
        if isinstance(exc, SubmissionError):
            return self._error("submission", str(exc), exc)
        if isinstance(exc, NotImplementedError):
            return self._error("not_implemented", str(exc), exc)
        if isinstance(exc, SystemExit):
            return self._error("exit", f"sys.exit({exc.code!r})", exc)
        if isinstance(exc, SyntaxError):
            text = (exc.text or "").strip()
            where = Where(file=Path(exc.filename or "?").name, line=exc.lineno or 0, function="<module>", code=text)
            return ErrorInfo(kind="exception", message=f"{exc.msg}", exception="SyntaxError", where=where)
        info = self._error("exception", f"{type(exc).__name__}: {exc}", exc)
        info.in_student_code = bool(self._student_frames(exc.__traceback__))
        return info

    # --- requests -----------------------------------------------------------------------------

    def do_import(self, request: ImportRequest) -> Reply:
        with stack_dump_before(request.timeout):
            return self._import(request)

    def _import(self, request: ImportRequest) -> Reply:
        start = time.perf_counter()
        spec = importlib.util.spec_from_file_location(request.module, request.path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[request.module] = module
        try:
            spec.loader.exec_module(module)
        except BaseException as exc:  # noqa: BLE001 - SystemExit and KeyboardInterrupt included on purpose
            sys.modules.pop(request.module, None)
            return Reply(ok=False, seconds=time.perf_counter() - start, error=self.classify(exc))
        self.modules[request.module] = module
        return Reply(ok=True, seconds=time.perf_counter() - start)

    def do_run(self, request: RunRequest) -> tuple[Reply, list[memoryview]]:
        with stack_dump_before(request.timeout):
            return self._run(request)

    def _run(self, request: RunRequest) -> tuple[Reply, list[memoryview]]:
        from autograder.assignments import load_assignment

        check = load_assignment(request.assignment).check(request.check)
        half = check.run if request.half == "run" else check.expected_half()
        seed_everything(request.seed)
        start = time.perf_counter()
        try:
            data_root = Path(request.data_root) if request.data_root else None
            inputs_dir = Path(request.inputs_dir) if request.inputs_dir else None
            outputs = half(Subject(self.modules, self.student_dir, data_root, inputs_dir, declared=check.data))
            seconds = time.perf_counter() - start
            manifest, payload = transport.pack_outputs(outputs)
        except BaseException as exc:  # noqa: BLE001 - every fault becomes a message for the parent
            return Reply(ok=False, seconds=time.perf_counter() - start, error=self.classify(exc)), []
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
        return Reply(ok=True, seconds=seconds, outputs=manifest), payload

    def serve(self, commands) -> None:
        for line in commands:
            op = transport.decode(line, _Op).op
            if op == "exit":
                return
            if op == "import":
                self.send(self.do_import(transport.decode(line, ImportRequest)))
            else:
                self.send(*self.do_run(transport.decode(line, RunRequest)))


def _encodable(text: str) -> str:
    """A message may hold lone surrogates (a student's `raise ValueError('\\udcff')`): JSON cannot."""
    return text.encode("utf-8", "replace").decode("utf-8")


class _Op(transport.BaseModel):
    op: str


@contextlib.contextmanager
def stack_dump_before(timeout: float):
    """Print every thread's stack to the log shortly before the parent's limit, so that a student
    whose code loops is told the line it was stuck on."""
    faulthandler.dump_traceback_later(max(0.2, timeout - min(1.0, timeout / 4)), repeat=False)
    try:
        yield
    finally:
        faulthandler.cancel_dump_traceback_later()


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    if _torch is not None:
        _torch.manual_seed(seed)


def prepare(assignment: str, threads: int) -> None:
    """Everything trusted is imported here, before any privilege goes: torch and the checks' own code.
    A fork server runs this once and forks every worker from the result (`autograder.forkserver`)."""
    global _torch
    import torch

    # One fixed thread count makes CPU reductions reproducible. (use_deterministic_algorithms is
    # not set: it only matters on GPUs and costs a second of start-up.)
    torch.set_num_threads(threads)
    _torch = torch
    from autograder.assignments import load_assignment

    load_assignment(assignment)


@dataclass(frozen=True)
class Confinement:
    """What one worker becomes after `prepare`: its folders, namespaces and identity."""

    student_dir: str
    home: str
    no_network: bool = False
    private_tmp: int | None = None
    """As root: fresh /tmp, /var/tmp and /dev/shm of this many bytes, in a mount namespace."""
    user: tuple[int, int] | None = None
    """UID, GID to drop to."""
    nproc: int = 64


def become(confinement: Confinement, cmd_fd: int, reply_fd: int) -> None:
    """Leave the network, take private shared places, drop to the grading's uid, enter the student's
    folders, say ready, and serve requests until the command pipe closes."""
    student_dir, home = Path(confinement.student_dir), Path(confinement.home)
    network_off = isolation.leave_network() if confinement.no_network else "not requested"
    tmp_shared = (isolation.private_shared_places(student_dir.parent, confinement.private_tmp)
                  if confinement.private_tmp else "not requested")
    if confinement.user:
        isolation.drop_privileges(*confinement.user, confinement.nproc)
    isolation.enter_student_environment(student_dir, home)
    sys.path.insert(0, str(student_dir))
    sys.argv = ["student"]
    worker = Worker(student_dir, reply_fd)
    worker.send(transport.Ready(ready=True, python=sys.version.split()[0], uid=os.getuid(),
                                torch=_torch.__version__ if _torch else None,
                                network_isolated=network_off is None, network_detail=network_off or "",
                                private_tmp=tmp_shared is None, private_tmp_detail=tmp_shared or ""))
    with os.fdopen(cmd_fd, "rb") as commands:
        worker.serve(commands)


def main(argv: list[str] | None = None) -> None:
    """Started by the parent as `python -I -c BOOTSTRAP ENGINE_DIR ...` where there is no fork server
    (not Linux): isolated mode, so that nothing from the current folder, the user's site-packages or
    PYTHON* variables is imported while this process may still be root."""
    parser = argparse.ArgumentParser(prog="autograder worker")
    parser.add_argument("--confinement", required=True, help="A Confinement as JSON")
    parser.add_argument("--cmd-fd", type=int, required=True)
    parser.add_argument("--reply-fd", type=int, required=True)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--assignment", required=True)
    args = parser.parse_args(argv)
    prepare(args.assignment, args.threads)
    become(Confinement(**json.loads(args.confinement)), args.cmd_fd, args.reply_fd)
