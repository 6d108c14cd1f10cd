"""Running a command as Gradescope's default container would: on one CPU, within 768 MB.

Where this machine lets root make a memory cgroup (v2, else v1), the command runs in one of its
own with that limit and no swap, so that going over it is an out-of-memory kill, as in the
container, and its peak counts every process of the command wherever they went (and, as the
container's does, the page cache they brought in). Where none can be made, nothing but the
grader's own resident watch limits it. Either way the resident memory of the command's process
tree is sampled as well, and `Confined` says which measurement is which.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from autograder.sandbox import tree_rss

SAMPLE_S = 0.25


class MemoryCgroup:
    """A memory cgroup made under this process's own, removed with `remove`."""

    def __init__(self, folder: Path, version: int, limit: int):
        self.folder = folder
        self.version = version
        self.limit = limit

    @classmethod
    def make(cls, limit: int, name: str) -> MemoryCgroup | None:
        """A cgroup of `limit` bytes, or None where this machine allows none (not root, no memory
        controller, a container that hides /sys/fs/cgroup)."""
        for version, base in ((2, _v2_base()), (1, _v1_base())):
            if base is None:
                continue
            folder = base / name
            try:
                folder.mkdir()
                (folder / ("memory.max" if version == 2 else "memory.limit_in_bytes")).write_text(str(limit))
                if version == 2:
                    (folder / "memory.swap.max").write_text("0")
            except OSError:
                with contextlib.suppress(OSError):
                    folder.rmdir()
                continue
            return cls(folder, version, limit)
        return None

    def enter(self) -> None:
        """Move the calling process in (between fork and exec: its children follow)."""
        (self.folder / "cgroup.procs").write_text(str(os.getpid()))

    def peak(self) -> int:
        path = self.folder / ("memory.peak" if self.version == 2 else "memory.max_usage_in_bytes")
        return int(path.read_text()) if path.exists() else -1

    def oom_kills(self) -> int:
        events = self.folder / ("memory.events" if self.version == 2 else "memory.oom_control")
        for line in events.read_text().splitlines():
            if line.startswith("oom_kill "):
                return int(line.split()[1])
        return 0

    def remove(self) -> None:
        """Kill what is left in it (only processes this command started), then remove it."""
        for _ in range(50):
            pids = [int(p) for p in (self.folder / "cgroup.procs").read_text().split()]
            for pid in pids:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            try:
                self.folder.rmdir()
                return
            except OSError:
                time.sleep(0.1)


def _own_cgroup(match: str) -> str | None:
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        hierarchy, controllers, path = line.split(":", 2)
        if (match == "" and hierarchy == "0") or (match and match in controllers.split(",")):
            return path
    return None


def _v2_base() -> Path | None:
    path = _own_cgroup("")
    for mount in (Path("/sys/fs/cgroup"), Path("/sys/fs/cgroup/unified")):
        controllers = mount / "cgroup.controllers"
        if controllers.exists() and "memory" in controllers.read_text().split():
            return mount / path.lstrip("/") if path else mount
    return None


def _v1_base() -> Path | None:
    path = _own_cgroup("memory")
    mount = Path("/sys/fs/cgroup/memory")
    return mount / path.lstrip("/") if path is not None and mount.is_dir() else None


def one_cpu() -> int:
    """The CPU the command is pinned to: the container's half vCPU rounds up to one."""
    return min(os.sched_getaffinity(0))


class TreeSampler(threading.Thread):
    """The largest resident memory of a process and its descendants, summed, every SAMPLE_S seconds."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid = pid
        self.peak = 0
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.wait(SAMPLE_S):
            self.peak = max(self.peak, tree_rss(self.pid))

    def stop(self) -> int:
        self._stop_event.set()
        self.join()
        return self.peak


@dataclass(frozen=True)
class Confined:
    """What one confined run did and measured."""

    returncode: int
    seconds: float
    cpu: int
    tree_peak: int
    """The process tree's resident memory at its largest sample (always measured)."""
    cgroup_peak: int | None = None
    """The memory cgroup's own peak: every process of the run, page cache included; None without one."""
    cgroup_version: int | None = None
    oom_kills: int = 0


def run_confined(command: list[str], env: dict[str, str], memory_bytes: int, *, name: str,
                 output: Path) -> Confined:
    """Run `command` on one CPU, inside a memory cgroup of `memory_bytes` where one can be made
    (named `name`), its output into `output`."""
    cgroup = MemoryCgroup.make(memory_bytes, name)
    cpu = one_cpu()

    def confine() -> None:  # in the child, before exec
        os.sched_setaffinity(0, {cpu})
        if cgroup is not None:
            cgroup.enter()

    try:
        with output.open("wb") as log:
            start = time.perf_counter()
            process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, preexec_fn=confine)
            sampler = TreeSampler(process.pid)
            sampler.start()
            returncode = process.wait()
            seconds = time.perf_counter() - start
            tree_peak = sampler.stop()
        if cgroup is None:
            return Confined(returncode, seconds, cpu, tree_peak)
        return Confined(returncode, seconds, cpu, tree_peak, cgroup.peak(), cgroup.version, cgroup.oom_kills())
    finally:
        if cgroup is not None:
            cgroup.remove()


def cgroup_available(memory_bytes: int) -> str | None:
    """Which memory cgroup this machine gives a run ('v1', 'v2'), or None: made and removed again."""
    cgroup = MemoryCgroup.make(memory_bytes, f"autograder-probe-{os.getpid()}")
    if cgroup is None:
        return None
    cgroup.remove()
    return f"v{cgroup.version}"
