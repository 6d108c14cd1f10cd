"""Starting, talking to and killing the worker process that runs untrusted code.

The worker runs in its own session (so the whole process tree can be killed at once), with a
scrubbed environment, its own working folder, and resource limits. A request that outlives its
timeout kills the worker; the caller restarts it for the next check.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import secrets
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
from pydantic import BaseModel

from autograder import transport
from autograder.isolation import TOKEN_VARIABLE, Identity, Limits, kill_escaped
from autograder.transport import Ready, Reply

_KEEP_ENV = ("PATH", "LANG", "LC_ALL", "HOME", "TMPDIR", "SYSTEMROOT")


class WorkerTimeout(Exception):
    """The request did not finish within its time limit; the worker has been killed."""


class WorkerDied(Exception):
    """The worker process ended without replying."""

    def __init__(self, returncode: int | None, log_tail: str, reason: str | None = None):
        self.returncode = returncode
        self.log_tail = log_tail
        super().__init__(reason or describe_exit(returncode))


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

    def __init__(self, student_dir: Path, log_path: Path, *, limits: Limits, assignment: str,
                 identity: Identity | None = None, isolate_network: bool = False, tmp_dir: Path | None = None,
                 threads: int = 1, torch: bool = True, start_timeout: float = 120.0):
        self.student_dir = student_dir
        self.log_path = log_path
        self.limits = limits
        self.assignment = assignment
        self.identity = identity
        self.isolate_network = isolate_network
        self.tmp_dir = tmp_dir
        self.threads = threads
        self.torch = torch
        self.start_timeout = start_timeout
        self.process: subprocess.Popen | None = None
        self.ready: Ready | None = None
        self.start_seconds = 0.0
        self._buffer = b""

    # --- life cycle ---------------------------------------------------------------------------

    def start(self) -> Ready:
        self.spawn()
        return self.wait_ready()

    def spawn(self) -> None:
        """Start the process without waiting for it, so the caller can work meanwhile."""
        _become_subreaper()
        cmd_read, self._cmd_write = os.pipe()
        self._reply_read, reply_write = os.pipe()
        env = {k: os.environ[k] for k in _KEEP_ENV if k in os.environ}
        env.update(PYTHONHASHSEED="0", PYTHONDONTWRITEBYTECODE="1", OMP_NUM_THREADS=str(self.threads),
                   MKL_NUM_THREADS=str(self.threads), PYTHONPATH=os.pathsep.join(_engine_path()),
                   HOME=str(self.student_dir))
        if self.tmp_dir is not None:
            env["TMPDIR"] = str(self.tmp_dir)
        self.token = secrets.token_hex(8)
        env[TOKEN_VARIABLE] = self.token
        args = [sys.executable, "-X", "utf8", "-m", "autograder.worker",
                "--student-dir", str(self.student_dir), "--assignment", self.assignment,
                "--cmd-fd", str(cmd_read), "--reply-fd", str(reply_write), "--threads", str(self.threads),
                "--nproc", str(self.limits.processes)]
        if not self.torch:
            args.append("--no-torch")
        if self.isolate_network:
            args.append("--no-network")
        if self.identity is not None:
            args += ["--user", f"{self.identity.uid}:{self.identity.gid}"]
        self._begin = time.perf_counter()
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                args, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                pass_fds=(cmd_read, reply_write), cwd=self.student_dir, env=env,
                start_new_session=True, preexec_fn=self.limits.apply,
            )
        _WORKER_PIDS.add(self.process.pid)
        os.close(cmd_read)
        os.close(reply_write)
        self._buffer = b""

    def wait_ready(self) -> Ready:
        self.ready = transport.decode(self._read_line(self.start_timeout), Ready)
        self.start_seconds = time.perf_counter() - self._begin
        return self.ready

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def has_children(self) -> bool:
        try:
            return bool(psutil.Process(self.process.pid).children(recursive=True))
        except (psutil.Error, AttributeError):
            return False

    def kill(self) -> None:
        """Kill the worker and everything it started, and reap them.

        This process is a child subreaper (Linux), so whatever the worker forked is re-parented
        here when the worker dies, instead of lingering as zombies that would still count against
        the sandbox user's process limit.
        """
        if self.process is None:
            return
        try:  # listed first: once the worker is dead its orphans are no longer its children
            descendants = psutil.Process(self.process.pid).children(recursive=True)
        except psutil.Error:
            descendants = []
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)
        for child in descendants:  # those that left the session but not the tree
            with contextlib.suppress(psutil.Error):
                child.kill()
        self.process.wait()
        _WORKER_PIDS.discard(self.process.pid)
        escaped = kill_escaped(self.identity, self.token)
        _reap([p.pid for p in descendants] + escaped + self._late_orphans())
        for fd in (self._cmd_write, self._reply_read):
            with contextlib.suppress(OSError):
                os.close(fd)
        self.process = None

    def _late_orphans(self) -> list[int]:
        """Zombies of the sandbox user re-parented here that no worker of this process owns:
        forks made between listing the tree and killing it."""
        if self.identity is None:
            return []
        orphans = []
        for child in psutil.Process().children():
            with contextlib.suppress(psutil.Error):
                if child.pid not in _WORKER_PIDS and child.status() == psutil.STATUS_ZOMBIE \
                        and child.uids().real == self.identity.uid:
                    orphans.append(child.pid)
        return orphans

    def close(self) -> None:
        # No graceful exit: nothing of the worker's is needed any more, and tearing torch down
        # takes longer than killing it.
        self.kill()

    # --- requests -----------------------------------------------------------------------------

    def request(self, message: BaseModel, timeout: float) -> Reply:
        try:
            os.write(self._cmd_write, transport.encode(message))
        except BrokenPipeError:
            raise self._died() from None
        return transport.decode(self._read_line(timeout), Reply)

    def _read_line(self, timeout: float) -> bytes:
        deadline = time.monotonic() + timeout
        while b"\n" not in self._buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self.kill()
                raise WorkerTimeout()
            ready, _, _ = select.select([self._reply_read], [], [], min(remaining, _WATCH_EVERY))
            if not ready:
                self._watch_memory()
                continue
            chunk = os.read(self._reply_read, 1 << 16)
            if not chunk:
                raise self._died()
            self._buffer += chunk
            if len(self._buffer) > transport.MAX_MESSAGE_BYTES:
                self.kill()
                raise transport.TransportError("the worker sent a reply larger than 1 MB")
        line, _, self._buffer = self._buffer.partition(b"\n")
        return line

    def _watch_memory(self) -> None:
        """Kill the worker when its process tree holds more resident memory than allowed.

        The address-space limit alone cannot keep a worker inside a small container (torch
        reserves far more address space than it uses), so resident memory is watched as well.
        """
        limit = self.limits.resident_bytes
        if not limit or self.process is None:
            return
        if tree_rss(self.process.pid) > limit:
            self.kill()
            raise WorkerDied(None, read_tail(self.log_path, 2000),
                             f"the worker used more than {limit >> 20} MiB of memory and was stopped")

    def _died(self) -> WorkerDied:
        returncode = self.process.wait() if self.process else None
        self.kill()
        return WorkerDied(returncode, read_tail(self.log_path, 2000))


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
_WORKER_PIDS: set[int] = set()
"""Workers of this process: their exit status belongs to their own Worker, never to `_reap`."""
_WATCH_EVERY = 0.05
"""Seconds between two looks at the worker's memory while waiting for it."""


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


def _engine_path() -> list[str]:
    """The worker imports the engine from where the parent did, and nothing from the cwd."""
    root = Path(__file__).resolve().parent.parent
    return [str(root)]


def read_tail(path: Path, limit: int, start: int = 0) -> str:
    """At most `limit` characters of `path` from byte `start`, keeping the end."""
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
