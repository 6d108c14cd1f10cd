"""Grading with the student halves run in the test's own process: the judge path without the sandbox.

A check's claim (its judge, its messages, its points) is the same whichever process ran the student
half, so the fault matrix of every problem is graded here, in milliseconds per check instead of a
worker start per submission. The worker's own `Worker` imports the modules, runs the halves and
classifies their exceptions; only the process boundary is gone, so its outputs still go through the
transport's packing and unpacking. What only the sandbox can show (time limits, crashes, memory,
isolation) is tested end to end in the `slow` tests.

It protects nothing: it lives with the tests, and the engine cannot be made to use it on a student.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
import time
import traceback
from pathlib import Path

import torch

from autograder import faults, inputs, transport, worker
from autograder.config import GradingConfig
from autograder.faults import Fault
from autograder.model import Check
from autograder.results import Protection
from autograder.session import Ran, check_seed
from autograder.transport import ImportRequest, RunRequest

worker._torch = torch  # the worker seeds torch before every half; it imports torch in its `main`


class InProcessSession:
    """The `WorkerSession` interface, in this process."""

    def __init__(self, folder: Path, scratch: Path, config: GradingConfig, *, assignment: str):
        self.folder = folder
        self.config = config
        self.assignment = assignment
        self.inputs = scratch / "inputs"
        self.home = scratch / "home"
        (self.home / "tmp").mkdir(parents=True)
        self.worker = worker.Worker(folder, reply_fd=-1)
        self.broken: dict[str, Fault] = {}
        self.locate: faults.Locate = faults.plain_location
        self.staged: set[str] = set()
        self.start_seconds = self.import_seconds = 0.0
        self.loaded_before = set(sys.modules)

    def prestart(self) -> None: ...

    def set_budget(self, seconds: float) -> None: ...

    def lighten(self) -> None: ...

    def protections(self) -> list[Protection]:
        return [Protection(name="in-process test grading", active=False, detail="the engine's own tests only")]

    @contextlib.contextmanager
    def _as_the_worker(self):
        """The worker's working folder, import path, thread count and HOME; what is printed, captured."""
        cwd, path, threads, environ = os.getcwd(), list(sys.path), torch.get_num_threads(), dict(os.environ)
        printed = io.StringIO()
        os.chdir(self.folder)
        sys.path.insert(0, str(self.folder))
        torch.set_num_threads(self.config.threads)
        os.environ.update(HOME=str(self.home), TMPDIR=str(self.home / "tmp"), MPLBACKEND="Agg")
        try:
            with contextlib.redirect_stdout(printed), contextlib.redirect_stderr(printed):
                yield printed
        finally:
            os.chdir(cwd)
            sys.path[:] = path
            torch.set_num_threads(threads)
            os.environ.clear()
            os.environ.update(environ)

    def ensure_imported(self, files: tuple[str, ...]) -> Fault | None:
        for file in (f for f in files if f.endswith(".py")):
            module = file.removesuffix(".py")
            if module in self.broken:
                return self.broken[module]
            if module in self.worker.modules:
                continue
            start = time.perf_counter()
            with self._as_the_worker():
                reply = self.worker._import(ImportRequest(module=module, path=str(self.folder / file),
                                                          timeout=self.config.import_timeout))
            self.import_seconds += time.perf_counter() - start
            if not reply.ok:
                self.broken[module] = faults.import_fault(reply.error, file, self.locate)
                return self.broken[module]
        return None

    def run(self, check: Check, half: str, file: str) -> Ran | Fault:
        if check.inputs:
            try:
                inputs.prepare(check.inputs, self.config.data_root, self.inputs, self.config.cache_dir / "inputs")
            except Exception as exc:  # noqa: BLE001 - as the real session: the instructor's data
                return faults.harness_fault(f"its inputs could not be prepared from the data root: {exc}",
                                            traceback.format_exc())
        request = RunRequest(assignment=self.assignment, check=check.id, half=half, seed=check_seed(check),
                             inputs_dir=str(self.inputs) if check.inputs else None, timeout=check.timeout)
        with self._as_the_worker() as printed:
            reply, payload = self.worker._run(request)
        if not reply.ok:
            return faults.check_fault(reply.error, file, self.locate)
        chunks = (chunk for chunk in payload if chunk.nbytes)  # on the pipe, an empty array is no bytes

        def read_into(view: memoryview) -> None:
            view[:] = next(chunks)

        # As on the pipe: the manifest as JSON (a dict's integer keys arrive as strings), then the bytes.
        manifest = transport.decode(transport.encode(reply.outputs), transport.OutputsManifest) if reply.outputs \
            else None
        outputs = transport.unpack_outputs(manifest, read_into) if manifest else {}
        return Ran(outputs=outputs, seconds=reply.seconds, printed=printed.getvalue()[-4000:])

    def close(self) -> None:
        """Forget the packages the grading loaded (the student's modules, and whatever it put in
        sys.modules), as the worker's exit would: checks that look at sys.modules see only their own
        grading's. New submodules of packages loaded before stay, since torch cannot load its twice."""
        packages = {name.partition(".")[0] for name in self.loaded_before}
        for name in set(sys.modules) - self.loaded_before:
            if name.partition(".")[0] not in packages:
                del sys.modules[name]
