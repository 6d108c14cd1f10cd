"""Which protections the worker runs under, applied where the platform allows, and reported.

As root (the Gradescope container), the worker drops to a dedicated unprivileged user after it
has imported torch and the checks, in a network namespace of its own, so it can neither read the
reference, the expected values nor the results folder, nor write outside its own folders, nor
reach the network. As an ordinary user (an instructor's or a student's machine) it keeps the
user's rights; the resource limits, the scrubbed environment and the kill of its whole process
tree still apply. Every protection is listed in the report as on or off, with the reason.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import pwd
import resource
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import psutil

from autograder.results import Protection

STUDENT_USER = "autograder-student"


@dataclass(frozen=True)
class Limits:
    """Resource limits of the worker, set between fork and exec (rlimits, so Linux and macOS)."""

    memory_bytes: int | None
    resident_bytes: int | None = None
    cpu_seconds: int = 900
    open_files: int = 256
    file_bytes: int = 256 << 20
    processes: int = 64

    def apply(self) -> None:
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        resource.setrlimit(resource.RLIMIT_NOFILE, (self.open_files, self.open_files))
        resource.setrlimit(resource.RLIMIT_FSIZE, (self.file_bytes, self.file_bytes))
        resource.setrlimit(resource.RLIMIT_CPU, (self.cpu_seconds, self.cpu_seconds + 5))
        if self.memory_bytes and sys.platform == "linux":  # macOS does not enforce RLIMIT_AS
            resource.setrlimit(resource.RLIMIT_AS, (self.memory_bytes, self.memory_bytes))

    def describe(self) -> list[Protection]:
        address = f"{self.memory_bytes >> 20} MiB of address space" if self.memory_bytes else "no address-space limit"
        resident = f"{self.resident_bytes >> 20} MiB resident (watched)" if self.resident_bytes else "resident memory not watched"
        return [
            Protection(name="memory limit", active=bool(self.resident_bytes or self.memory_bytes),
                       detail=f"{resident}; " + (address if sys.platform == "linux" else "RLIMIT_AS is not enforced on this OS")),
            Protection(name="CPU time limit", active=True, detail=f"{self.cpu_seconds} s per worker"),
            Protection(name="open files", active=True, detail=f"at most {self.open_files}"),
            Protection(name="output size", active=True,
                       detail=f"files and printed output at most {self.file_bytes >> 20} MiB"),
        ]


@dataclass(frozen=True)
class Identity:
    """The user the worker drops to, when the grader runs as root."""

    uid: int
    gid: int
    name: str


def student_identity() -> tuple[Identity | None, str]:
    """The dedicated user (created if missing), or None and the reason it cannot be used."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return None, "the grader does not run as root, so the code ran with the grader's own rights"
    engine = Path(__file__).resolve().parent
    unreadable = _closed_ancestor(Path(sys.prefix)) or _closed_ancestor(Path(np_path())) or _closed_ancestor(engine)
    if unreadable:
        return None, (f"{unreadable} is closed to other users, so an unprivileged user could not import Python "
                      f"packages; allow traversal (chmod o+x {unreadable}) to enable this protection")
    try:
        entry = pwd.getpwnam(STUDENT_USER)
    except KeyError:
        done = subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin",
                               STUDENT_USER], capture_output=True, text=True)
        if done.returncode not in (0, 9):  # 9: created meanwhile by another grader
            return None, f"the user {STUDENT_USER} could not be created: {done.stderr.strip()}"
        entry = pwd.getpwnam(STUDENT_USER)
    return Identity(uid=entry.pw_uid, gid=entry.pw_gid, name=STUDENT_USER), ""


def np_path() -> str:
    import numpy

    return os.path.dirname(numpy.__file__)


def _closed_ancestor(path: Path) -> Path | None:
    """The first folder on the way to `path` that others may not pass through."""
    for folder in reversed([path, *path.parents]):
        if folder.exists() and not folder.stat().st_mode & 0o001:
            return folder
    return None


def closed_to_others(folder: Path) -> Path | None:
    """The first folder on the way to `folder`, or `folder` itself, that others cannot read through."""
    closed = _closed_ancestor(folder)
    if closed is None and folder.is_dir() and not folder.stat().st_mode & 0o004:
        return folder
    return closed


def give_to(identity: Identity | None, *paths: Path) -> None:
    """Let the worker's user own its own folders (and nothing else)."""
    if identity is None:
        return
    for path in paths:
        os.chown(path, identity.uid, identity.gid)
        os.chmod(path, 0o700)


def keep_private(*paths: Path) -> list[Protection]:
    """As root, make folders the worker must not read accessible to their owner only."""
    report = []
    for path in paths:
        if not path.exists():
            continue
        if os.geteuid() == 0:
            os.chmod(path, 0o700)
        private = path.stat().st_uid == 0 and not path.stat().st_mode & 0o077
        report.append(Protection(name=f"{path.name} unreadable", active=private,
                                 detail=f"{path} is root's alone" if private
                                 else f"{path} is readable by the worker's user (not running as root)"))
    return report


TOKEN_VARIABLE = "AUTOGRADER_WORKER"
"""Set to a fresh token in each worker's environment, which everything it starts inherits."""


def kill_escaped(identity: Identity | None, token: str) -> list[int]:
    """After a kill, also end what this worker started outside its session (setsid, double fork).

    Only processes of the sandbox user that carry this worker's token are ended: other gradings
    running on the same machine as the same user are left alone. A process that also scrubs its
    environment escapes this, but not the user's process and CPU limits.
    """
    if identity is None:
        return []
    killed = []
    for proc in psutil.process_iter(["uids"]):
        with contextlib.suppress(psutil.Error):
            if proc.info["uids"] and proc.info["uids"].real == identity.uid and \
                    proc.environ().get(TOKEN_VARIABLE) == token:
                proc.kill()
                killed.append(proc.pid)
    return killed


# --- inside the worker, after the trusted imports ------------------------------------------------

_CLONE_NEWUSER = 0x10000000
_CLONE_NEWNET = 0x40000000


def leave_network() -> str | None:
    """Move this process into an empty network namespace; returns why not, or None when done."""
    if sys.platform != "linux":
        return "network namespaces exist only on Linux"
    libc = ctypes.CDLL(None, use_errno=True)
    if os.geteuid() == 0:
        if libc.unshare(_CLONE_NEWNET) == 0:
            return None
        return f"unshare(CLONE_NEWNET) refused: {os.strerror(ctypes.get_errno())}"
    uid, gid = os.getuid(), os.getgid()
    if libc.unshare(_CLONE_NEWUSER | _CLONE_NEWNET) != 0:
        return f"unprivileged user namespaces are not allowed here: {os.strerror(ctypes.get_errno())}"
    try:  # map our own ids so that files keep their owner inside the namespace
        Path("/proc/self/setgroups").write_text("deny")
        Path("/proc/self/uid_map").write_text(f"{uid} {uid} 1")
        Path("/proc/self/gid_map").write_text(f"{gid} {gid} 1")
    except OSError as exc:
        return f"could not map the user into its namespace: {exc}"
    return None


def drop_privileges(uid: int, gid: int, processes: int) -> None:
    os.setgroups([])
    os.setgid(gid)
    os.setuid(uid)
    # Counted per user, so only meaningful for the dedicated user: it stops a fork bomb.
    resource.setrlimit(resource.RLIMIT_NPROC, (processes, processes))
