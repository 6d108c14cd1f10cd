"""One worker kept alive over one folder of modules: imports once, restarts only after a fault.

Both grading (student code) and computing expected values (reference code) go through here, so
the two run the same halves in the same way.
"""

from __future__ import annotations

import os
import re
import time
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from autograder import faults, inputs, transport
from autograder.config import GradingConfig
from autograder.faults import Fault
from autograder.isolation import Limits, give_to, student_identity
from autograder.model import Check
from autograder.results import Protection
from autograder.sandbox import Worker, WorkerDied, WorkerTimeout, read_tail
from autograder.transport import ImportRequest, RunRequest, TransportError

_FRAME = re.compile(r'File "(?P<path>[^"]+)", line (?P<line>\d+) in (?P<function>\S+)')
"""A frame of faulthandler's stack dump."""


def check_seed(check: Check) -> int:
    """Every check gets its own fixed seed, the same on every run."""
    return zlib.crc32(check.id.encode())


@dataclass
class Ran:
    outputs: dict[str, Any]
    seconds: float
    printed: str


class WorkerSession:
    """`trusted` sessions run the reference: no drop of privileges, no network isolation."""

    def __init__(self, folder: Path, scratch: Path, config: GradingConfig, *, assignment: str,
                 trusted: bool = False):
        self.folder = folder
        self.scratch = scratch
        self.config = config
        self.assignment = assignment
        self.log = scratch / "worker.log"
        self.worker: Worker | None = None
        self.imported: set[str] = set()
        self.broken: dict[str, Fault] = {}
        self.start_seconds = 0.0
        self.import_seconds = 0.0
        self.trusted = trusted
        self.locate: faults.Locate = faults.plain_location  # notebooks map lines back to cells
        self.identity, self.no_identity_reason = (
            (None, "isolation is switched off (trusted or --no-isolation)") if trusted or not config.isolate
            else student_identity())
        mb = config.memory_limit_mb
        rss = config.resident_limit_mb
        self.limits = Limits(memory_bytes=mb << 20 if mb else None, resident_bytes=rss << 20 if rss else None,
                             cpu_seconds=config.cpu_limit_s)
        self.tmp = scratch / "tmp"
        self.tmp.mkdir(exist_ok=True)
        self.out = scratch / "out"
        self.out.mkdir(exist_ok=True)
        if self.identity is not None:
            os.chmod(scratch, 0o711)  # the worker's user may pass through, not list
            give_to(self.identity, folder, self.tmp, self.out)

    def prestart(self) -> None:
        """Spawn the worker now and let it import torch while the caller does other work."""
        self.worker = Worker(self.folder, self.log, limits=self.limits, assignment=self.assignment,
                             identity=self.identity, isolate_network=not self.trusted and self.config.isolate,
                             tmp_dir=self.tmp, threads=self.config.threads, start_timeout=self.config.start_timeout)
        self.worker.spawn()
        self.imported = set()

    def _log_size(self) -> int:
        return self.log.stat().st_size if self.log.exists() else 0

    def _stuck_at(self, log_start: int) -> str | None:
        """Where the worker's stack dump (faulthandler, innermost frame first) was in student code."""
        dump = read_tail(self.log, 64_000, start=log_start)
        for match in _FRAME.finditer(dump):
            path = Path(match["path"])
            if path.parent == self.folder:
                return f"{self.locate(path.name, int(match['line']))}, in {match['function']}"
        return None

    def protections(self) -> list[Protection]:
        """What the student's code ran under, for the report (after at least one start)."""
        ready = self.worker.ready if self.worker else None
        user = (Protection(name="unprivileged user", active=True, detail=f"ran as {self.identity.name}")
                if self.identity else
                Protection(name="unprivileged user", active=False, detail=self.no_identity_reason))
        network = Protection(name="no network", active=bool(ready and ready.network_isolated),
                             detail="an empty network namespace" if ready and ready.network_isolated
                             else (ready.network_detail if ready else "the worker did not start"))
        fixed = [Protection(name="scrubbed environment", active=True, detail="PATH, locale and a private HOME only"),
                 Protection(name="own working folder", active=True, detail="only the submission's named files"),
                 Protection(name="process tree killed", active=True,
                            detail="after a timeout or crash, the worker's session"
                                   + (" and every process of its user" if self.identity else ""))]
        return [user, network, *self.limits.describe(), *fixed]

    def _worker(self) -> Worker:
        if self.worker is None or not self.worker.alive:
            self.prestart()
        if self.worker.ready is None:
            self.worker.wait_ready()
            self.start_seconds += self.worker.start_seconds
        return self.worker

    def close(self) -> None:
        if self.worker is not None:
            self.worker.close()

    def ensure_imported(self, files: tuple[str, ...]) -> Fault | None:
        """Import the problem's modules once per worker; a module that failed stays failed."""
        self._worker()  # a worker restarted after a fault has imported nothing yet
        for file in (f for f in files if f.endswith(".py")):
            module = file.removesuffix(".py")
            if module in self.broken:
                return self.broken[module]
            if module in self.imported:
                continue
            fault = self._import(module, file)
            if fault is not None:
                self.broken[module] = fault
                return fault
            self.imported.add(module)
        return None

    def _import(self, module: str, file: str) -> Fault | None:
        worker = self._worker()
        request = ImportRequest(module=module, path=str(self.folder / file), timeout=self.config.import_timeout)
        start = time.perf_counter()
        log_start = self._log_size()
        try:
            reply = worker.request(request, self.config.import_timeout)
        except WorkerTimeout:
            return faults.import_timeout(file, self.config.import_timeout, self._stuck_at(log_start))
        except WorkerDied as died:
            return faults.import_crash(file, str(died), died.log_tail)
        except TransportError as exc:
            return faults.import_crash(file, str(exc), "")
        finally:
            self.import_seconds += time.perf_counter() - start
        return None if reply.ok else faults.import_fault(reply.error, file, self.locate)

    def run(self, check: Check, half: str, out_dir: Path, file: str) -> Ran | Fault:
        """Run one half of `check`; the outputs are loaded without pickle."""
        worker = self._worker()
        out_dir.mkdir(parents=True, exist_ok=True)
        give_to(self.identity, out_dir)
        timeout = check.timeout * self.config.timeout_scale
        inputs_dir = None
        if check.inputs:
            inputs_dir = self.scratch / "inputs"
            inputs.prepare(check.inputs, self.config.data_root, inputs_dir)
        request = RunRequest(assignment=self.assignment, check=check.id, half=half,
                             seed=check_seed(check), out_dir=str(out_dir),
                             data_root=str(self.config.data_root) if self.config.data_root else None,
                             inputs_dir=str(inputs_dir) if inputs_dir else None,
                             timeout=timeout)
        log_start = self._log_size()
        try:
            reply = worker.request(request, timeout)
        except WorkerTimeout:
            return faults.timeout_fault(timeout, self._stuck_at(log_start))
        except WorkerDied as died:
            return faults.crash_fault(str(died), died.log_tail)
        except TransportError as exc:
            self.worker.kill()
            return faults.crash_fault(f"it sent an unreadable reply ({exc})", "")
        printed = read_tail(self.log, 4000, start=log_start)
        if worker.has_children():  # forks left behind could answer for the worker later: end them all
            worker.kill()
            printed = (printed + "\n" + faults.left_processes()).strip()
        if not reply.ok:
            return faults.check_fault(reply.error, file, self.locate)
        try:
            outputs = transport.read_outputs(reply.outputs, out_dir)
        except TransportError as exc:
            return faults.unreadable_outputs(str(exc))
        return Ran(outputs=outputs, seconds=reply.seconds, printed=printed)
