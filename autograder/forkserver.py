"""A trusted process that imports torch and an assignment's checks once, and forks every worker.

Starting a worker used to cost an interpreter and a torch import (about a second) per worker, so
per submission; a class paid it hundreds of times. The fork server pays it once:

    grader (root, subreaper)
      └─ fork server: python -I, imports torch and the checks, runs no student code, ever
           └─ intermediate: forks the worker, reports its pid, exits
                └─ worker: setsid, limits, namespaces, drops to the grading's uid, serves

The intermediate's exit hands the worker to the nearest subreaper, the grader, which waits for it
and reads its exit status as it would a child it had started itself. Each worker starts from the
fork server's untouched memory: nothing one grading's code did can reach the next, which is
forked from the same clean state.

A spawn request is one message on a SOCK_SEQPACKET pair: the worker's `Confinement`, environment
and limits as JSON, with the worker's pipes, its log and a socket for the answer (its pid) as
descriptors. The child closes every other descriptor before it does anything else, so no worker
holds the fork server's control socket.

Linux only: elsewhere (a student's macOS laptop) `SUPPORTED` is False and workers start as fresh
interpreters, as they always did.
"""

from __future__ import annotations

import atexit
import contextlib
import dataclasses
import fcntl
import gc
import json
import os
import select
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Iterator
from dataclasses import dataclass

from autograder import WORKER_THREADS

SUPPORTED = sys.platform == "linux"

_BOOTSTRAP = "import sys; sys.path.insert(0, sys.argv.pop(1)); from autograder.forkserver import serve; serve()"
_CMD_FD, _REPLY_FD = 3, 4
"""Where the worker finds its two pipes: every descriptor above these is closed in it."""
_PID = 4
"""Bytes of a pid on the answer socket."""


_KEEP_ENV = ("PATH", "LANG", "LC_ALL", "SYSTEMROOT")


def worker_env(threads: int, home: str) -> dict[str, str]:
    """A worker's scrubbed environment, whatever starts it. (HOME is root's folder until the
    privileges go; then the worker points it at the student's.)"""
    kept = {k: os.environ[k] for k in _KEEP_ENV if k in os.environ}
    return {**kept, "PYTHONHASHSEED": "0", "PYTHONDONTWRITEBYTECODE": "1", "OMP_NUM_THREADS": str(threads),
            "MKL_NUM_THREADS": str(threads), "MPLBACKEND": "Agg", "HOME": home}


def engine_dir() -> str:
    """The folder holding the `autograder` package this process imported (a checkout or site-packages)."""
    return os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class CouldNotStart(Exception):
    """The fork server, or a worker before it said ready, failed: the grader's fault, never the
    student's (no student code has run yet)."""


@dataclass(frozen=True)
class Key:
    """Workers forked from one server share these, fixed at the server's imports."""

    assignment: str
    threads: int


class Child:
    """A forked worker, re-parented to this process: Popen's `pid`, `poll` and `wait`."""

    def __init__(self, pid: int):
        self.pid = pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            self._collect(os.WNOHANG)
        return self.returncode

    def wait(self) -> int:
        while self.returncode is None:
            self._collect(0)
        return self.returncode

    def _collect(self, flags: int) -> None:
        try:
            pid, status = os.waitpid(self.pid, flags)
        except ChildProcessError:  # collected elsewhere: it is dead, how is unknown
            self.returncode = -signal.SIGKILL
            return
        if pid:
            self.returncode = os.waitstatus_to_exitcode(status)


class Pending:
    """A spawn sent to the fork server, whose pid has not been read yet."""

    def __init__(self, answer: socket.socket, server: ForkServer):
        self._answer = answer
        self._server = server

    def child(self, deadline: float) -> Child:
        """Wait for the worker's pid (the server may still be importing torch)."""
        try:
            return self._read_pid(deadline)
        finally:
            self._server.answered()

    def _read_pid(self, deadline: float) -> Child:
        data = b""
        while len(data) < _PID:
            left = deadline - time.monotonic()
            if left <= 0:
                self._give_up()
                raise TimeoutError("the fork server did not fork the worker in time")
            if select.select([self._answer], [], [], left)[0]:
                chunk = self._answer.recv(_PID - len(data))
                if not chunk:
                    self._answer.close()
                    raise CouldNotStart(f"the fork server ended before forking the worker\n{self._server.log_tail()}")
                data += chunk
        self._answer.close()
        return Child(int.from_bytes(data, "little"))

    def cancel(self) -> None:
        """Give the spawn up: a worker forked already is killed, by this side when its pid has come,
        else by the server when it finds nobody to tell."""
        self._server.answered()
        self._give_up()

    def _give_up(self) -> None:
        with contextlib.suppress(OSError):
            self._answer.setblocking(False)
            data = self._answer.recv(_PID)
            if len(data) == _PID:
                pid = int.from_bytes(data, "little")
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
                Child(pid).wait()
        self._answer.close()


class ForkServer:
    """The grader's end of one fork server."""

    def __init__(self, key: Key):
        self.key = key
        self._lock = threading.Lock()
        self.asked = 0
        """Workers asked for and not yet forked (or given up): the server is not stopped under them."""
        self._log = tempfile.TemporaryFile()  # its own tracebacks, should it fail
        self.control, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        with theirs:
            self.process = subprocess.Popen(
                [sys.executable, "-I", "-X", "utf8", "-c", _BOOTSTRAP, engine_dir(), key.assignment, str(key.threads),
                 str(theirs.fileno())],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=self._log, cwd="/",
                env=worker_env(key.threads, home="/"),  # its thread counts are read once, as torch loads
                pass_fds=(theirs.fileno(),), start_new_session=True)

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def spawn(self, spec: dict, fds: tuple[int, ...]) -> Pending:
        """Ask for a worker; returns at once, the server forks when its imports are done."""
        mine, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        with theirs:
            try:
                with self._lock:
                    socket.send_fds(self.control, [json.dumps(spec).encode()], [*fds, theirs.fileno()])
                    self.asked += 1
            except OSError as exc:
                mine.close()
                raise CouldNotStart(f"the fork server is gone ({exc})\n{self.log_tail()}") from None
        return Pending(mine, self)

    def answered(self) -> None:
        with self._lock:
            self.asked -= 1

    def log_tail(self) -> str:
        if self._log.closed:  # stopped: whatever it said went with it
            return ""
        self._log.seek(0, os.SEEK_END)
        self._log.seek(max(0, self._log.tell() - 4000))
        return self._log.read().decode("utf-8", "replace")

    def stop(self) -> None:
        self.control.close()  # it ends on its own at EOF; killing it does not wait for that
        with contextlib.suppress(ProcessLookupError):
            self.process.kill()
        self.process.wait()
        self._log.close()


# --- the servers of this process --------------------------------------------------------------

_servers: dict[Key, ForkServer] = {}
_holders: dict[Key, int] = {}
"""Blocks running that may ask for workers: the server stops when the last one ends."""
_keepers: dict[Key, int] = {}
"""Those of them that grade many submissions: the server stays between their forks."""
_registry_lock = threading.Lock()


def _running(key: Key) -> ForkServer:
    """The running server for `key`, started (or restarted, if it died) here; under the lock."""
    found = _servers.get(key)
    if found is None or not found.alive:
        if found is not None:
            found.stop()
        found = _servers[key] = ForkServer(key)
    return found


def ask(key: Key, spec: dict, fds: tuple[int, ...]) -> Pending:
    """Ask the server for `key` for a worker (see `ForkServer.spawn`): under the registry's lock, so
    that no other grading's `forked` stops the server between finding it and asking it."""
    with _registry_lock:
        return _running(key).spawn(spec, fds)


@contextlib.contextmanager
def held(assignment: str, threads: int, *, between_forks: bool = False) -> Iterator[None]:
    """Keep the server of these workers for the block: a grading, or with `between_forks` a batch,
    whose submissions' workers all fork from one. It stops when the last holder leaves: nothing of
    it outlives the work."""
    key = Key(assignment, threads)
    _count(key, +1, between_forks)
    try:
        yield
    finally:
        _count(key, -1, between_forks)
        with _registry_lock:
            idle = None if _holders[key] else _servers.pop(key, None)
        if idle is not None:
            idle.stop()


def _count(key: Key, step: int, keeper: bool) -> None:
    with _registry_lock:
        _holders[key] = _holders.get(key, 0) + step
        if keeper:
            _keepers[key] = _keepers.get(key, 0) + step


def forked(key: Key) -> None:
    """After a fork: a server that no batch keeps is stopped. Its worker no longer shares pages
    with it, so the machine holds one copy of torch, not two: within Gradescope's 768 MB a second
    copy is what a worker's largest check needs. A restart in that grading starts a new one."""
    with _registry_lock:
        found = _servers.get(key)
        if _keepers.get(key, 0) or found is not None and found.asked:  # another grading waits on it
            return
        idle = _servers.pop(key, None)
    if idle is not None:
        idle.stop()


def warm(assignment: str, threads: int = WORKER_THREADS) -> None:
    """Start the server now, so that torch imports there while this process loads the rest of the
    grader (the command line calls it first thing, with the configuration's default thread count)."""
    if SUPPORTED:
        with _registry_lock:
            _running(Key(assignment, threads))


_kept: set[Key] = set()


def keep(assignment: str, threads: int) -> None:
    """Keep the server until this process ends (a cluster's worker, grading task after task)."""
    key = Key(assignment, threads)
    with _registry_lock:
        first = key not in _kept
        _kept.add(key)
    if first:
        _count(key, +1, keeper=True)


@atexit.register
def _stop_all() -> None:
    with _registry_lock:
        servers = list(_servers.values())
        _servers.clear()
    for each in servers:
        each.stop()


# --- the fork server's own side ---------------------------------------------------------------

def serve() -> None:
    """The server's main: `python -I -c BOOTSTRAP ENGINE_DIR ASSIGNMENT THREADS CONTROL_FD`."""
    from autograder import worker

    assignment, threads, control_fd = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    worker.prepare(assignment, threads)
    # What is imported stays shared with every worker only while nobody writes to its pages: a
    # collection in a worker would write to every object it visits, so they are set aside for good.
    gc.freeze()
    control = socket.socket(fileno=control_fd)
    while True:
        try:
            message, fds, _, _ = socket.recv_fds(control, 1 << 16, 8)
        except OSError:  # the grader is gone
            return
        if not message:  # the grader closed its end
            return
        try:
            _fork_worker(json.loads(message), fds, control)
        finally:
            for fd in fds:
                with contextlib.suppress(OSError):
                    os.close(fd)


def _fork_worker(spec: dict, fds: list[int], control: socket.socket) -> None:
    cmd, reply, log, answer = fds
    read_pid, write_pid = os.pipe()
    sys.stdout.flush()
    sys.stderr.flush()
    middle = os.fork()
    if middle == 0:  # the intermediate: its exit re-parents the worker to the grader
        try:
            os.close(read_pid)
            pid = os.fork()
            if pid == 0:
                os.close(write_pid)
                _be_worker(spec, cmd, reply, log, control)
            os.write(write_pid, pid.to_bytes(_PID, "little"))
        finally:
            os._exit(0)
    os.close(write_pid)
    with os.fdopen(read_pid, "rb") as pipe:
        data = pipe.read()
    os.waitpid(middle, 0)
    if len(data) != _PID:
        return  # the intermediate could not fork: the grader reads EOF and says so
    pid = int.from_bytes(data, "little")
    try:
        os.write(answer, data)
    except OSError:  # nobody to hand it to: the spawn was given up
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)


def _be_worker(spec: dict, cmd: int, reply: int, log: int, control: socket.socket) -> None:
    """In the forked worker; never returns."""
    from autograder import worker
    from autograder.isolation import Limits

    try:
        os.setsid()
        control.detach()  # closed below with the rest; its object must not close a reused number later
        moved = [fcntl.fcntl(fd, fcntl.F_DUPFD, 10) for fd in (cmd, reply, log)]
        os.dup2(moved[2], 1)
        os.dup2(moved[2], 2)
        os.dup2(moved[0], _CMD_FD)
        os.dup2(moved[1], _REPLY_FD)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.closerange(_REPLY_FD + 1, 1 << 16)
        os.chdir(spec["cwd"])
        os.environ.clear()
        os.environ.update(spec["env"])
        Limits(**spec["limits"]).apply()
        worker.become(worker.Confinement(**spec["confinement"]), _CMD_FD, _REPLY_FD)
    except BaseException:  # noqa: BLE001 - said in its log; the grader sees it end before ready
        traceback.print_exc()
        sys.stderr.flush()
        os._exit(1)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def spec_of(confinement, limits, env: dict[str, str], cwd: str) -> dict:
    """A spawn request's JSON part (dataclasses as dicts)."""
    return {"confinement": dataclasses.asdict(confinement), "limits": dataclasses.asdict(limits), "env": env,
            "cwd": cwd}
