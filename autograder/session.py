"""One worker kept alive over one folder of modules: imports once, restarts only after a fault.

Both grading (student code) and computing expected values (reference code) go through here, so
the two run the same halves in the same way. A grading's scratch folder belongs to root and holds:

    submission/   the staged files            (the grading's uid, 0700)
    home/         HOME and home/tmp TMPDIR    (the grading's uid, 0700)
    inputs/       input sets for data checks  (root, readable)
    worker.log    what the worker printed     (root; the worker writes it through its stdout)

so that the worker can change nothing the parent reads, and the parent reads nothing the worker
wrote except the log, through a descriptor it opened itself.
"""

from __future__ import annotations

import os
import re
import shutil
import time
import traceback
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from autograder import faults, inputs, transport
from autograder.config import GradingConfig
from autograder.faults import Fault
from autograder.isolation import Identity, Limits, acquire_identity, clean_shared_places, give_to
from autograder.model import Check
from autograder.results import Protection
from autograder.sandbox import DiskQuotaExceeded, OverMemory, Worker, WorkerDied, WorkerTimeout, read_tail
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
    peak_bytes: int = 0


class WorkerSession:
    """`trusted` sessions run the reference: no identity of their own, no network isolation, and
    the data root at hand."""

    def __init__(self, folder: Path, scratch: Path, config: GradingConfig, *, assignment: str,
                 trusted: bool = False):
        self.folder = folder
        self.scratch = scratch
        self.config = config
        self.assignment = assignment
        self.trusted = trusted
        self.log = scratch / "worker.log"
        self.worker: Worker | None = None
        self.imported: set[str] = set()
        self.broken: dict[str, Fault] = {}
        self.start_seconds = 0.0
        self.import_seconds = 0.0
        self.deadline = float("inf")
        self.budget = 0.0
        self.bytes_left = transport.MAX_GRADING_BYTES
        self.locate: faults.Locate = faults.plain_location  # notebooks map lines back to cells
        self.identity: Identity | None
        self.identity, self.no_identity_reason = (
            (None, "isolation is switched off (trusted or --no-isolation)") if trusted or not config.isolate
            else acquire_identity())
        mb = config.memory_limit_mb
        rss = config.resident_limit_mb
        self.limits = Limits(memory_bytes=mb << 20 if mb else None, resident_bytes=rss << 20 if rss else None,
                             cpu_seconds=config.cpu_limit_s, disk_bytes=config.disk_limit_mb << 20)
        self.home = scratch / "home"
        self.home.mkdir()
        (self.home / "tmp").mkdir()
        self.inputs = scratch / "inputs"
        self.staged: set[str] = set()
        if self.identity is not None:
            os.chmod(scratch, 0o711)  # the grading's uid may pass through, not list
            give_to(self.identity, folder, self.home, self.home / "tmp")

    def clear_writes(self) -> None:
        """Remove what the student's code wrote (every process of it is dead): all of HOME, what is
        not a staged file in the submission's folder, and its files in shared places."""
        for folder, keep in ((self.home, {"tmp"}), (self.home / "tmp", set()), (self.folder, self.staged)):
            for entry in os.scandir(folder):
                if entry.name in keep:
                    continue
                if entry.is_dir(follow_symlinks=False):
                    shutil.rmtree(entry.path, ignore_errors=True)
                else:
                    os.unlink(entry.path)
        if self.identity is not None:
            clean_shared_places(self.identity.uid)

    def set_budget(self, seconds: float) -> None:
        """The whole submission's time, checks, imports and restarts together."""
        self.budget = seconds
        self.deadline = time.monotonic() + seconds

    def prestart(self) -> None:
        """Spawn the worker now and let it import torch while the caller does other work."""
        self.worker = Worker(self.folder, self.home, self.log, limits=self.limits, assignment=self.assignment,
                             identity=self.identity,
                             namespaces=not self.trusted and self.config.isolate and self.config.namespaces,
                             threads=self.config.threads, start_timeout=self.config.start_timeout,
                             cwd=self.scratch)
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
        own = self.identity is not None
        user = (Protection(name="unprivileged user", active=True,
                           detail=f"ran as {self.identity.name}, this grading's own, without groups or setuid")
                if own else Protection(name="unprivileged user", active=False, detail=self.no_identity_reason))
        network = Protection(name="no network", active=bool(ready and ready.network_isolated),
                             detail="an empty network namespace" if ready and ready.network_isolated
                             else (ready.network_detail if ready else "the worker did not start"))
        private_tmp = Protection(
            name="private /tmp", active=bool(ready and ready.private_tmp),
            detail="/tmp, /var/tmp and /dev/shm are the worker's own tmpfs (a mount namespace), gone after it"
            if ready and ready.private_tmp else (ready.private_tmp_detail if ready else "the worker did not start"))
        fixed = [
            Protection(name="isolated start", active=True,
                       detail="python -I from a folder only the grader writes: nothing of the student's is "
                              "imported before the privileges go"),
            Protection(name="scrubbed environment", active=True, detail="PATH, locale and a private HOME only"),
            Protection(name="own working folder", active=True, detail="only the submission's named files"),
            Protection(name="outputs over a pipe", active=True,
                       detail="sizes checked before reading; the grader opens no file the student's code wrote"),
            Protection(name="processes killed", active=True,
                       detail="after every check and at the end, every process of the grading's uid" if own
                       else "after a timeout or crash, the worker's session and process tree"),
            Protection(name="shared places cleaned", active=own,
                       detail="what the grading's uid left in /tmp, /var/tmp, /dev/shm is removed" if own
                       else "without a uid of its own, files left in /tmp cannot be told apart"),
            Protection(name="time budget", active=self.budget > 0,
                       detail=f"{self.budget:g} s for the whole submission" if self.budget else "none set"),
        ]
        return [user, network, private_tmp, *self.limits.describe(own), *fixed]

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
        if self.identity is not None:
            self.identity.release()

    def lighten(self) -> None:
        """Between problems: a worker that has grown by more than a tenth of its memory limit since it
        was ready is replaced by a fresh one, so that memory a problem kept (its modules, torch's
        caches) is not charged to the next. Growth, not size: a forked worker's size counts the torch
        library pages only once it touches them, so its size says little about what a problem kept."""
        limit = self.limits.resident_bytes
        used = self.worker is not None and self.worker.alive and self.imported  # a fresh one stays
        if limit and used and self.worker.resident() - self.worker.ready_bytes > limit // 10:
            self.worker.kill()

    def _after_death(self, died: WorkerDied) -> None:
        if isinstance(died, DiskQuotaExceeded):  # else the next worker would be stopped for it again
            self.clear_writes()

    def _time_for(self, own_limit: float) -> tuple[float, bool]:
        """The limit of the next request, and whether the submission's budget is what bounds it."""
        left = self.deadline - time.monotonic()
        return (left, True) if left < own_limit else (own_limit, False)

    def ensure_imported(self, files: tuple[str, ...]) -> Fault | None:
        """Import the problem's modules once per worker; a module that failed stays failed."""
        for file in (f for f in files if f.endswith(".py")):
            module = file.removesuffix(".py")
            if module in self.broken:
                return self.broken[module]
            if self.worker is not None and self.worker.alive and module in self.imported:
                continue
            fault = self._import(module, file)
            if fault is not None:
                if not fault.budget_spent:  # a later worker, with time left, may still import it
                    self.broken[module] = fault
                return fault
            self.imported.add(module)
        return None

    def _import(self, module: str, file: str) -> Fault | None:
        limit, by_budget = self._time_for(self.config.import_timeout)
        if limit <= 0:
            return faults.budget_spent(self.budget)
        start = time.perf_counter()
        request = ImportRequest(module=module, path=str(self.folder / file), timeout=limit)
        log_start = self._log_size()
        try:
            worker = self._worker()  # a worker restarted after a fault has imported nothing yet
            start = time.perf_counter()  # the worker's start is counted apart
            reply, _ = worker.request(request, limit)
        except WorkerTimeout:
            return (faults.budget_spent(self.budget) if by_budget else
                    faults.import_timeout(file, limit, self._stuck_at(log_start)))
        except WorkerDied as died:
            self._after_death(died)
            return faults.import_crash(file, str(died), died.log_tail)
        except TransportError as exc:
            self.worker.kill()
            return faults.import_crash(file, str(exc), "")
        finally:
            self.import_seconds += time.perf_counter() - start
        worker.end_strays()  # a process started at import could act for the student later
        return None if reply.ok else faults.import_fault(reply.error, file, self.locate)

    def run(self, check: Check, half: str, file: str) -> Ran | Fault:
        """Run one half of `check`; its outputs come back over the pipe."""
        limit, by_budget = self._time_for(check.timeout * self.config.timeout_scale)
        if limit <= 0:
            return faults.budget_spent(self.budget)
        if check.inputs:
            try:
                inputs.prepare(check.inputs, self.config.data_root, self.inputs, self.config.cache_dir / "inputs")
            except Exception as exc:  # noqa: BLE001 - the instructor's data, not the student's code
                return faults.harness_fault(f"its inputs could not be prepared from the data root: {exc}",
                                            traceback.format_exc())
        request = RunRequest(assignment=self.assignment, check=check.id, half=half, seed=check_seed(check),
                             data_root=str(self.config.data_root) if self.trusted and self.config.data_root else None,
                             inputs_dir=str(self.inputs) if check.inputs else None, timeout=limit)
        log_start = self._log_size()
        try:
            worker = self._worker()
            reply, outputs = worker.request(request, limit, self.bytes_left)
        except WorkerTimeout:
            return faults.budget_spent(self.budget) if by_budget else faults.timeout_fault(
                limit, self._stuck_at(log_start))
        except WorkerDied as died:
            self._after_death(died)
            return faults.crash_fault(str(died), died.log_tail, over_memory=isinstance(died, OverMemory))
        except TransportError as exc:
            self.worker.kill()
            return faults.unreadable_outputs(str(exc))
        printed = read_tail(self.log, 4000, start=log_start)
        if worker.end_strays():  # what it left running could act for it later: end it all
            printed = (printed + "\n" + faults.left_processes()).strip()
        if not reply.ok:
            return faults.check_fault(reply.error, file, self.locate)
        if reply.outputs is not None:
            self.bytes_left -= reply.outputs.nbytes
        return Ran(outputs=outputs or {}, seconds=reply.seconds, printed=printed, peak_bytes=worker.peak_bytes)
