"""The operating system's side of the sandbox: identities, limits, kills and clean-up.

As root (the Gradescope container, a grading machine), every grading gets a user id of its own
from a reserved range, held with a lock for as long as the grading runs. The worker drops to it
after importing torch and the checks; the reference, the expected values, the data root and the
results are closed to it. Because the id belongs to one grading alone, "every process of that
student" is exactly "every process of that uid": they are killed by uid after each check (sparing
the worker itself) and at the end, and whatever that uid left in /tmp, /var/tmp or /dev/shm is
removed. As an ordinary user none of this applies; the report says so.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import fcntl
import os
import pwd
import resource
import shutil
import signal
import stat
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path


from autograder.results import Protection

UID_RANGE = range(61000, 62000)
"""User ids reserved for gradings: above Debian's and Ubuntu's UID_MAX (60000) for people, below
`nobody` (65534); an id that /etc/passwd names is never used."""

SHM_BYTES = 64 << 20
"""/dev/shm of a worker's own mount namespace: Docker's default size (it is memory, not disk)."""

SHARED_PLACES = (Path("/tmp"), Path("/var/tmp"), Path("/dev/shm"), Path("/dev/mqueue"))
"""World-writable places outside the grading's scratch where a student's process can leave files."""


@dataclass(frozen=True)
class Limits:
    """Resource limits of the worker, set between fork and exec (rlimits, so Linux and macOS)."""

    memory_bytes: int | None
    resident_bytes: int | None = None
    cpu_seconds: int = 900
    open_files: int = 256
    file_bytes: int = 256 << 20
    processes: int = 64
    disk_bytes: int = 1 << 30
    disk_files: int = 20_000

    def apply(self) -> None:
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        resource.setrlimit(resource.RLIMIT_NOFILE, (self.open_files, self.open_files))
        resource.setrlimit(resource.RLIMIT_FSIZE, (self.file_bytes, self.file_bytes))
        resource.setrlimit(resource.RLIMIT_CPU, (self.cpu_seconds, self.cpu_seconds + 5))
        if self.memory_bytes and sys.platform == "linux":  # macOS does not enforce RLIMIT_AS
            resource.setrlimit(resource.RLIMIT_AS, (self.memory_bytes, self.memory_bytes))

    def describe(self, own_uid: bool) -> list[Protection]:
        address = f"{self.memory_bytes >> 20} MiB of address space" if self.memory_bytes else "no address-space limit"
        counted = ("every process of the grading's uid and its files in /dev/shm" if own_uid
                   else "the worker's process tree")
        resident = (f"{self.resident_bytes >> 20} MiB resident, counting {counted}" if self.resident_bytes
                    else "resident memory not watched")
        disk_where = "its folders and its files in /tmp and /var/tmp" if own_uid else "its folders"
        return [
            Protection(name="memory limit", active=bool(self.resident_bytes or self.memory_bytes),
                       detail=f"{resident}; " + (address if sys.platform == "linux" else "RLIMIT_AS is not enforced on this OS")),
            Protection(name="CPU time limit", active=True, detail=f"{self.cpu_seconds} s per worker"),
            Protection(name="open files", active=True, detail=f"at most {self.open_files}"),
            Protection(name="output size", active=True,
                       detail=f"one file or printed output at most {self.file_bytes >> 20} MiB"),
            Protection(name="disk quota", active=True,
                       detail=f"at most {self.disk_bytes >> 20} MiB in {self.disk_files} files in {disk_where} (watched)"),
        ]


# --- one identity per grading -----------------------------------------------------------------

@dataclass
class Identity:
    """A user id held by one grading, and the lock that holds it."""

    uid: int
    gid: int
    _lock: int | None = field(default=None, repr=False)

    @property
    def name(self) -> str:
        return f"uid {self.uid}"

    def release(self) -> None:
        """Kill what is left of it, clean its files in shared places, and free the id."""
        if self._lock is None:
            return
        kill_user(self.uid)
        clean_shared_places(self.uid)
        os.close(self._lock)
        self._lock = None


def identity_unavailable() -> str | None:
    """Why gradings cannot get identities of their own here, or None when they can."""
    if sys.platform != "linux":
        return "per-grading user ids are used on Linux only, so the code ran with the grader's own rights"
    if os.geteuid() != 0:
        return "the grader does not run as root, so the code ran with the grader's own rights"
    engine = Path(__file__).resolve().parent
    # A virtual environment's interpreter and standard library stay in its base installation.
    needed = (Path(sys.prefix), Path(sys.base_prefix), Path(_numpy_dir()), engine)
    closed = next(filter(None, map(_closed_ancestor, needed)), None)
    if closed:
        return (f"{closed} is closed to other users, so an unprivileged user could not import Python "
                f"packages; allow traversal (chmod o+x {closed}) to enable this protection")
    return None


def acquire_identity() -> tuple[Identity | None, str]:
    """A free uid of the reserved range, locked for this grading; or None and the reason."""
    reason = identity_unavailable()
    if reason:
        return None, reason
    try:
        locks = _lock_folder()
    except OSError as exc:
        return None, f"no safe folder for the grading locks: {exc}"
    for uid in UID_RANGE:
        if _named_in_passwd(uid):
            continue
        fd = os.open(locks / str(uid), os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            continue
        # A grader that died may have left processes or files of this uid: they go first.
        kill_user(uid)
        clean_shared_places(uid)
        if processes_of(uid):  # a zombie no one reaps (its parent died): this uid stays marked, take another
            os.close(fd)
            continue
        return Identity(uid=uid, gid=uid, _lock=fd), ""
    return None, f"all {len(UID_RANGE)} reserved user ids are held by running gradings or left unusable"


def _lock_folder() -> Path:
    """A folder only root can write, for the per-uid locks: /run where it exists, else the temp dir."""
    base = Path("/run") if Path("/run").is_dir() and os.access("/run", os.W_OK) else Path(tempfile.gettempdir())
    folder = base / "dl-autograder-uids"
    with contextlib.suppress(FileExistsError):
        folder.mkdir(mode=0o700)
    info = folder.lstat()
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != 0 or info.st_mode & 0o077:
        raise OSError(f"{folder} is not a folder owned by root and closed to others")
    return folder


def _named_in_passwd(uid: int) -> bool:
    try:
        pwd.getpwuid(uid)
    except KeyError:
        return False
    return True


def _numpy_dir() -> str:
    import numpy

    return os.path.dirname(numpy.__file__)


def _closed_ancestor(path: Path) -> Path | None:
    """The first folder on the way to `path` that others may not pass through."""
    for folder in reversed([path, *path.parents]):
        if folder.exists() and not folder.stat().st_mode & 0o001:
            return folder
    return None


def give_to(identity: Identity | None, *paths: Path) -> None:
    """Let the grading's uid own its own folders (and nothing else). Called on folders this
    process has just created, before any student code ran: there is no link to follow yet."""
    if identity is None:
        return
    for path in paths:
        os.chown(path, identity.uid, identity.gid, follow_symlinks=False)
        os.chmod(path, 0o700)


def keep_private(*paths: Path | None) -> list[Protection]:
    """As root, close folders the worker must not read to everyone but their owner."""
    report = []
    for path in paths:
        if path is None or not path.exists():
            continue
        why_not = "not running as root"
        if os.geteuid() == 0:
            try:
                os.chmod(path, stat.S_IMODE(path.stat().st_mode) & 0o700)
            except OSError as exc:  # a read-only mount, say: reported, never a failed grading
                why_not = f"it could not be closed: {exc.strerror}"
        closed = os.geteuid() == 0 and not path.stat().st_mode & 0o007
        report.append(Protection(name=f"{path.name} unreadable", active=closed,
                                 detail=f"{path} is closed to the grading's uid" if closed
                                 else f"{path} is readable by the student's code ({why_not})"))
    return report


# --- killing and cleaning by uid ------------------------------------------------------------------

def processes_of(uid: int) -> list[int]:
    """Pids of every process of `uid`, zombies included. The owner of /proc/PID is the process's
    uid (its effective one, which a process of the grading's uid cannot change)."""
    found = []
    for entry in os.scandir("/proc"):
        with contextlib.suppress(OSError):
            if entry.name.isdigit() and entry.stat(follow_symlinks=False).st_uid == uid:
                found.append(int(entry.name))
    return found


def _running(pid: int) -> bool:
    """Alive and not a zombie (a zombie is dead already; only its parent's wait removes it)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat_file:
            return stat_file.read().rsplit(b")", 1)[1].split()[0] != b"Z"
    except (OSError, IndexError):
        return False


def kill_user(uid: int, spare: int | None = None) -> list[int]:
    """SIGKILL every process of `uid` (but `spare`), until none is left; returns their pids.

    Without a process to spare, a child that becomes `uid` sends kill(-1, SIGKILL): the kernel
    signals every process of that uid in one pass, so a fork bomb cannot outrun it.
    """
    killed: list[int] = []
    if spare is None:
        _kill_all_as(uid)
    for _ in range(100):
        present = processes_of(uid)
        remaining = [pid for pid in present if pid != spare and _running(pid)]
        if not remaining:
            break
        for pid in remaining:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
        time.sleep(0.002)
    else:  # still some after every pass: look again for what has died since
        present = processes_of(uid)
    _reap_orphans(present)  # this runs after every check: no second walk of /proc
    return killed


def _kill_all_as(uid: int) -> None:
    pid = os.fork()
    if pid == 0:  # only async-signal-safe calls between fork and _exit
        try:
            os.setgroups([])
            os.setgid(uid)
            os.setuid(uid)
            os.kill(-1, signal.SIGKILL)
        finally:
            os._exit(0)
    os.waitpid(pid, 0)


def _reap_orphans(pids: list[int]) -> None:
    """Collect those of `pids` (a uid's, dead) that are this process's zombie children: killed forks
    re-parented here (we are a subreaper) would otherwise count against the uid's process limit.
    Workers are reaped by their own `Worker`, which holds their exit status."""
    for pid in pids:
        if pid not in OWN_WORKERS:
            with contextlib.suppress(ChildProcessError):  # not ours
                os.waitpid(pid, os.WNOHANG)


OWN_WORKERS: set[int] = set()
"""Pids of this process's live workers."""


def clean_shared_places(uid: int) -> list[str]:
    """Remove what `uid` left in the world-writable places outside its scratch; its processes are
    dead, so nothing changes under our feet, and nothing is followed through a link."""
    removed = []
    for place in SHARED_PLACES:
        for path in _owned_entries(place, uid):
            with contextlib.suppress(OSError):
                if stat.S_ISDIR(path.lstat().st_mode):
                    shutil.rmtree(path)
                else:
                    path.unlink()
                removed.append(str(path))
    return removed


def _owned_entries(place: Path, uid: int, depth: int = 2) -> list[Path]:
    """Entries of `place` owned by `uid`, looking also inside world-writable folders of others
    (such as /tmp/.X11-unix) down to `depth`."""
    found = []
    with contextlib.suppress(OSError), os.scandir(place) as entries:
        for entry in entries:
            with contextlib.suppress(OSError):
                info = entry.stat(follow_symlinks=False)
                if info.st_uid == uid:
                    found.append(Path(entry.path))
                elif depth > 1 and stat.S_ISDIR(info.st_mode) and info.st_mode & 0o002:
                    found += _owned_entries(Path(entry.path), uid, depth - 1)
    return found


# --- what the grading's uid holds ---------------------------------------------------------------

def resident_bytes(uid: int) -> int:
    """Resident memory of every process of `uid`, plus its files in /dev/shm (which are memory).

    Read from /proc directly, 20 times a second while a check runs: the owner of /proc/PID is the
    process's uid, so one stat per process finds them, and only theirs are read (psutil would read
    every process's status, several milliseconds of the grader's CPU each time)."""
    total = 0
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError, ValueError, IndexError):
            if entry.stat(follow_symlinks=False).st_uid == uid:
                with open(f"/proc/{entry.name}/statm", "rb") as statm:
                    total += int(statm.read().split()[1]) * _PAGE
    return total + sum(_size(p)[0] for p in _owned_entries(Path("/dev/shm"), uid))


_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def disk_usage(uid: int | None, folders: tuple[Path, ...], most_files: int | None = None) -> tuple[int, int]:
    """Bytes and files under the grading's own folders and, with a uid, its files in /tmp and /var/tmp.
    The walk stops past `most_files` entries: a student who makes a million files must not make
    the grader's watch (which runs while the check's clock is ticking) walk them all."""
    paths = list(folders)
    if uid is not None:
        paths += [p for place in (Path("/tmp"), Path("/var/tmp")) for p in _owned_entries(place, uid)]
    total, count = 0, 0
    for path in paths:
        size, entries = _size(path, None if most_files is None else most_files - count + 1)
        total, count = total + size, count + entries
        if most_files is not None and count > most_files:
            break
    return total, count


def _size(path: Path, most: int | None = None) -> tuple[int, int]:
    """Allocated bytes and entries under `path` (at most `most` of them), links not followed."""
    total, count = 0, 0
    stack = [path]
    while stack and (most is None or count < most):
        current = stack.pop()
        with contextlib.suppress(OSError):
            info = current.lstat()
            total += info.st_blocks * 512
            count += 1
            if stat.S_ISDIR(info.st_mode):
                with os.scandir(current) as entries:
                    stack += [Path(e.path) for e in entries]
    return total, count


# --- inside the worker, after the trusted imports ------------------------------------------------

_CLONE_NEWUSER = 0x10000000
_CLONE_NEWNET = 0x40000000
_CLONE_NEWNS = 0x00020000
_MS_BIND, _MS_REC, _MS_PRIVATE, _MS_NOSUID, _MS_NODEV = 0x1000, 0x4000, 0x40000, 0x2, 0x4
_PR_SET_NO_NEW_PRIVS = 38


def private_shared_places(scratch: Path, size_bytes: int) -> str | None:
    """Second layer, as root: a mount namespace of the worker's own, where /tmp, /var/tmp and
    /dev/shm are fresh size-limited tmpfs that vanish with it (the grading's scratch, if it lives in
    one of them, bound back at its path). Returns why not, or None when done."""
    if sys.platform != "linux" or os.geteuid() != 0:
        return "mount namespaces need Linux and root"
    needed = [Path(p).resolve() for p in sys.path if p] + [Path(sys.prefix).resolve()]
    places = [p for p in SHARED_PLACES[:3] if p.is_dir() and not any(n.is_relative_to(p) for n in needed)]
    if not places:
        return "the Python installation lives in /tmp"
    libc = ctypes.CDLL(None, use_errno=True)

    def mount(source: bytes | None, target: Path, fstype: bytes | None, flags: int, data: bytes | None) -> None:
        if libc.mount(source, str(target).encode(), fstype, flags, data) != 0:
            raise OSError(ctypes.get_errno(), f"mount on {target}: {os.strerror(ctypes.get_errno())}")

    if libc.unshare(_CLONE_NEWNS) != 0:
        return f"unshare(CLONE_NEWNS) refused: {os.strerror(ctypes.get_errno())}"
    try:
        mount(None, Path("/"), None, _MS_REC | _MS_PRIVATE, None)  # nothing mounted here leaks out
        kept = os.open(scratch, os.O_PATH | os.O_DIRECTORY)
        for place in places:
            size = min(size_bytes, SHM_BYTES) if place == Path("/dev/shm") else size_bytes  # shm is memory
            mount(b"tmpfs", place, b"tmpfs", _MS_NOSUID | _MS_NODEV, f"size={size},mode=1777".encode())
            if scratch.is_relative_to(place):
                scratch.mkdir(parents=True)
                mount(f"/proc/self/fd/{kept}".encode(), scratch, None, _MS_BIND, None)
        os.close(kept)
    except OSError as exc:
        return f"could not make {', '.join(map(str, places))} private: {exc}"
    return None


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
    """Become the grading's uid for good: no groups, no way back, no setuid programs."""
    if sys.platform == "linux":
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS) failed")
    os.setgroups([])
    os.setresgid(gid, gid, gid)
    os.setresuid(uid, uid, uid)
    # Counted per user, so meaningful for the grading's own uid: it stops a fork bomb.
    resource.setrlimit(resource.RLIMIT_NPROC, (processes, processes))
    if os.getuid() != uid or os.geteuid() != uid:
        raise OSError(errno.EPERM, "the worker could not drop its privileges")


def enter_student_environment(student_dir: Path, home: Path) -> None:
    """The student's own folders for everything that writes: HOME, caches, temporary files."""
    tmp = home / "tmp"
    os.environ.update(HOME=str(home), TMPDIR=str(tmp), USER="student", LOGNAME="student",
                      XDG_CACHE_HOME=str(home / ".cache"), XDG_CONFIG_HOME=str(home / ".config"),
                      MPLCONFIGDIR=str(home / ".config" / "matplotlib"))
    tempfile.tempdir = None  # computed again from TMPDIR
    os.chdir(student_dir)
