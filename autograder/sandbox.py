"""Starting, talking to and killing the worker process that runs untrusted code.

The worker is started by root (where the grader runs as root) in isolated mode (`python -I`),
from a folder only root can write, with a fixed import path: nothing a student wrote is read or
run before it drops to the grading's own uid. It runs in its own session with a scrubbed
environment and resource limits. The parent waits on the reply pipe with a deadline, watching
memory and disk meanwhile; a request that outlives its limit kills every process of the
grading's uid, and the caller restarts the worker for the next check.
"""

from __future__ import annotations

import contextlib
import ctypes
import dataclasses
import json
import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
from pydantic import BaseModel

from autograder import forkserver, transport
from autograder.isolation import OWN_WORKERS, Identity, Limits, disk_usage, kill_user, resident_bytes
from autograder.transport import Ready, Reply
from autograder.worker import Confinement

_BOOTSTRAP = "import sys; sys.path.insert(0, sys.argv.pop(1)); from autograder.worker import main; main()"
"""`python -I -c` puts neither the current folder nor any PYTHON* variable on the path: the
engine's own folder is the only addition."""



class WorkerTimeout(Exception):
    """The request did not finish within its time limit; the worker has been killed."""


class WorkerDied(Exception):
    """The worker process ended without replying."""

    def __init__(self, returncode: int | None, log_tail: str, reason: str | None = None):
        self.returncode = returncode
        self.log_tail = log_tail
        super().__init__(reason or describe_exit(returncode))


class OverMemory(WorkerDied):
    """The worker was stopped for the memory it held."""


class DiskQuotaExceeded(WorkerDied):
    """The worker was stopped for what it wrote; the caller must clear it before a restart."""


def describe_exit(returncode: int | None) -> str:
    if returncode is None:
        return "the worker stopped answering"
    if returncode < 0:
        sig = signal.Signals(-returncode).name
        if sig == "SIGKILL":
            return "the worker was killed (SIGKILL), most often for using more memory than allowed"
        return f"the worker was killed by {sig}"
    return f"the worker exited with status {returncode}"


class Worker:
    """One worker process over one folder of modules."""

    def __init__(self, student_dir: Path, home: Path, log_path: Path, *, limits: Limits, assignment: str,
                 identity: Identity | None = None, namespaces: bool = False, threads: int = 1,
                 start_timeout: float = 120.0, cwd: Path | None = None):
        self.student_dir = student_dir
        self.home = home
        self.log_path = log_path
        self.limits = limits
        self.assignment = assignment
        self.identity = identity
        self.namespaces = namespaces
        self.threads = threads
        self.start_timeout = start_timeout
        self.cwd = cwd or log_path.parent
        self.process: subprocess.Popen | forkserver.Child | None = None
        self._pending: forkserver.Pending | None = None
        self.ready: Ready | None = None
        self.start_seconds = 0.0
        self._buffer = b""
        self._next_disk_look = 0.0
        self.peak_bytes = 0
        """Largest resident memory seen during the last request (sampled while waiting for it)."""
        self.ready_bytes = 0
        """Resident memory when it said ready, before any student code."""

    # --- life cycle ---------------------------------------------------------------------------

    def spawn(self) -> None:
        """Ask for the process without waiting for it, so the caller can work meanwhile."""
        _become_subreaper()
        cmd_read, self._cmd_write = os.pipe()
        self._reply_read, reply_write = os.pipe()
        # HOME is root's folder until the privileges go; then the worker points it at the student's.
        env = forkserver.worker_env(self.threads, home=str(self.cwd))
        confinement = Confinement(
            student_dir=str(self.student_dir), home=str(self.home), no_network=self.namespaces,
            private_tmp=self.limits.disk_bytes if self.namespaces else None,
            user=(self.identity.uid, self.identity.gid) if self.identity else None, nproc=self.limits.processes)
        self._begin = time.perf_counter()
        try:
            with open(self.log_path, "ab") as log:
                if forkserver.SUPPORTED:
                    spec = forkserver.spec_of(confinement, self.limits, env, str(self.cwd))
                    self._pending = forkserver.ask(forkserver.Key(self.assignment, self.threads), spec,
                                                   (cmd_read, reply_write, log.fileno()))
                else:
                    self._adopt(self._exec(confinement, env, log, cmd_read, reply_write))
        finally:
            os.close(cmd_read)
            os.close(reply_write)
        self._buffer = b""

    def _exec(self, confinement: Confinement, env: dict[str, str], log, cmd_read: int, reply_write: int
              ) -> subprocess.Popen:
        """A fresh interpreter that imports everything itself: where there is no fork server."""
        args = [sys.executable, "-I", "-X", "utf8", "-c", _BOOTSTRAP, forkserver.engine_dir(),
                "--confinement", json.dumps(dataclasses.asdict(confinement)), "--assignment", self.assignment,
                "--cmd-fd", str(cmd_read), "--reply-fd", str(reply_write), "--threads", str(self.threads)]
        return subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                pass_fds=(cmd_read, reply_write), cwd=self.cwd, env=env,
                                start_new_session=True, preexec_fn=self.limits.apply)

    def _adopt(self, process: subprocess.Popen | forkserver.Child) -> None:
        self.process = process
        OWN_WORKERS.add(process.pid)

    def wait_ready(self) -> Ready:
        deadline = time.monotonic() + self.start_timeout
        if self._pending is not None:
            self._adopt(self._forked(deadline))
            forkserver.forked(forkserver.Key(self.assignment, self.threads))
        try:
            line = self._read_line(deadline)
        except WorkerDied as died:  # before ready no student code has run: the grader's own failure
            raise forkserver.CouldNotStart(f"the worker ended before it was ready ({died})\n{died.log_tail}") from None
        self.ready = transport.decode(line, Ready)
        self.start_seconds = time.perf_counter() - self._begin
        self.ready_bytes = self.resident()
        return self.ready

    def _forked(self, deadline: float, again: bool = True) -> forkserver.Child:
        """The worker asked for; asked again of a new server if that one ended before forking it
        (killed by the machine's OOM killer, say). A broken engine fails twice, and says why."""
        pending, self._pending = self._pending, None
        try:
            return pending.child(deadline)
        except TimeoutError:
            self.kill()
            raise WorkerTimeout() from None
        except forkserver.CouldNotStart:
            if not again:
                raise
        self._close_pipes()
        self.spawn()
        return self._forked(deadline, again=False)

    @property
    def alive(self) -> bool:
        """Started or asked for, and not ended."""
        return self._pending is not None or (self.process is not None and self.process.poll() is None)

    def end_strays(self) -> bool:
        """After a check: kill every other process of the grading's uid (or, without one, of the
        worker's tree). True when there were some."""
        if self.process is None:
            return False
        if self.identity is not None:
            return bool(kill_user(self.identity.uid, spare=self.process.pid))
        children = _descendants(self.process.pid)
        for child in children:
            with contextlib.suppress(psutil.Error):
                child.kill()
        _reap([c.pid for c in children])
        return bool(children)

    def kill(self) -> None:
        """Kill the worker and everything of its uid (or, without one, its session and tree)."""
        if self._pending is not None:
            self._pending.cancel()
            self._pending = None
            self._close_pipes()
        if self.process is None:
            return
        descendants = [] if self.identity else _descendants(self.process.pid)  # else its uid says whose they are
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)
        with contextlib.suppress(ProcessLookupError):  # a forked worker killed before its setsid
            os.kill(self.process.pid, signal.SIGKILL)
        for child in descendants:  # those that left the session but not the tree
            with contextlib.suppress(psutil.Error):
                child.kill()
        self.process.wait()
        OWN_WORKERS.discard(self.process.pid)
        if self.identity is not None:
            kill_user(self.identity.uid)
        _reap([p.pid for p in descendants])
        self._close_pipes()
        self.process = None

    def _close_pipes(self) -> None:
        for fd in (self._cmd_write, self._reply_read):
            with contextlib.suppress(OSError):
                os.close(fd)

    def close(self) -> None:
        # No graceful exit: nothing of the worker's is needed any more, and tearing torch down
        # takes longer than killing it.
        self.kill()

    # --- requests -----------------------------------------------------------------------------

    def request(self, message: BaseModel, timeout: float, budget_left: int = transport.MAX_GRADING_BYTES
                ) -> tuple[Reply, dict | None]:
        """Send a request; return the reply and, for a run that succeeded, its outputs."""
        deadline = time.monotonic() + timeout
        self.peak_bytes = 0
        try:
            os.write(self._cmd_write, transport.encode(message))
        except BrokenPipeError:
            raise self._died() from None
        reply = transport.decode(self._read_line(deadline), Reply)
        self.peak_bytes = max(self.peak_bytes, self.resident())  # a request shorter than one look
        if not (reply.ok and reply.outputs):
            return reply, None
        try:
            transport.check_sizes(reply.outputs, budget_left)
        except transport.TransportError:
            self.kill()  # its bytes are still in the pipe: this worker cannot be talked to any more
            raise
        return reply, transport.unpack_outputs(reply.outputs, lambda view: self._read_into(view, deadline))

    def _wait_readable(self, deadline: float) -> None:
        """Block until the reply pipe has data, watching the worker meanwhile."""
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self.kill()
                raise WorkerTimeout()
            ready, _, _ = select.select([self._reply_read], [], [], min(remaining, _WATCH_EVERY))
            if ready:
                return
            self._watch()

    def _read_line(self, deadline: float) -> bytes:
        while b"\n" not in self._buffer:
            self._wait_readable(deadline)
            chunk = os.read(self._reply_read, 1 << 16)
            if not chunk:
                raise self._died()
            self._buffer += chunk
            if len(self._buffer) > transport.MAX_MESSAGE_BYTES:
                self.kill()
                raise transport.TransportError("the worker sent a message larger than 1 MB")
        line, _, self._buffer = self._buffer.partition(b"\n")
        return line

    def _read_into(self, view: memoryview, deadline: float) -> None:
        """Fill `view` from the pipe (the bytes of one declared array)."""
        taken = min(len(self._buffer), len(view))
        view[:taken] = self._buffer[:taken]
        self._buffer = self._buffer[taken:]
        while taken < len(view):
            self._wait_readable(deadline)
            n = os.readv(self._reply_read, [view[taken:]])
            if n == 0:
                raise self._died()
            taken += n

    def _watch(self) -> None:
        """Kill the worker when it holds more memory or disk than allowed.

        The address-space limit alone cannot keep a worker inside a small container (torch
        reserves far more address space than it uses), so resident memory is watched as well:
        of every process of the grading's uid (escaped or not) and its files in /dev/shm.
        """
        if self.process is None:
            return
        limit = self.limits.resident_bytes
        used = self.resident()
        self.peak_bytes = max(self.peak_bytes, used)
        if limit and used > limit:
            self._stop(f"the worker used more than {limit >> 20} MiB of memory and was stopped", OverMemory)
        now = time.monotonic()
        if now >= self._next_disk_look:
            self._next_disk_look = now + _DISK_EVERY
            used_bytes, files = disk_usage(self.identity.uid if self.identity else None,
                                           (self.student_dir, self.home), self.limits.disk_files)
            if used_bytes > self.limits.disk_bytes or files > self.limits.disk_files:
                self._stop(f"it wrote more than {self.limits.disk_bytes >> 20} MiB or {self.limits.disk_files} "
                           f"files to disk, the most a grading may, and was stopped", DiskQuotaExceeded)

    def resident(self) -> int:
        """Resident memory of the grading: every process of its uid, or the worker's tree."""
        if self.process is None:
            return 0
        return resident_bytes(self.identity.uid) if self.identity else tree_rss(self.process.pid)

    def _stop(self, reason: str, error: type[WorkerDied] = WorkerDied) -> None:
        self.kill()
        raise error(None, read_tail(self.log_path, 2000), reason)

    def _died(self) -> WorkerDied:
        returncode = self.process.wait() if self.process else None
        self.kill()
        return WorkerDied(returncode, read_tail(self.log_path, 2000))


def _descendants(pid: int) -> list[psutil.Process]:
    """Listed before a kill: once the worker is dead its orphans are no longer its children."""
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.Error:
        return []


def _become_subreaper() -> None:
    if sys.platform == "linux":
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


def _reap(pids: list[int]) -> None:
    """Collect the killed processes that were re-parented to this one (only those: the exit
    status of any other child, such as a concurrent grading's worker, belongs to its owner)."""
    deadline = time.monotonic() + 2.0
    for pid in pids:
        while time.monotonic() < deadline:
            try:
                done, _ = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                break  # not ours (reaped by its own parent, or never re-parented here)
            if done:
                break
            time.sleep(0.005)


_PR_SET_CHILD_SUBREAPER = 36
_WATCH_EVERY = 0.05
"""Seconds between two looks at the worker's memory while waiting for it."""
_DISK_EVERY = 1.0
"""Seconds between two looks at its disk use (a walk of its folders)."""


def tree_rss(pid: int) -> int:
    """Resident memory of a process and all its descendants (shared pages counted in each)."""
    try:
        root = psutil.Process(pid)
        processes = [root, *root.children(recursive=True)]
    except psutil.Error:
        return 0
    total = 0
    for p in processes:
        with contextlib.suppress(psutil.Error):
            total += p.memory_info().rss
    return total


def read_tail(path: Path, limit: int, start: int = 0) -> str:
    """At most `limit` characters of `path` from byte `start`, keeping the end. `path` is the
    worker's log, which the parent created in a folder only it can write."""
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            end = f.tell()
            f.seek(max(start, end - limit))
            text = f.read(limit).decode("utf-8", errors="replace")
    except OSError:
        return ""
    cut = end - start > limit
    return ("[... earlier output cut ...]\n" if cut else "") + text
