"""The reference graded as Gradescope's default container would, several times in a row (on demand).

    AUTOGRADER_DATA_ROOT=../shared/data python benchmarks/bench_container.py -a uw-cse446-hw4 --runs 10

Builds the assignment's `autograder.zip`, unpacks it into a temporary root standing for
`/autograder` (its `data/` pointing at the data root), and runs its `run_autograder` on the bundled
reference, each run:

- on one CPU (`sched_setaffinity`), as the container's half vCPU rounds up to;
- inside a memory cgroup of 768 MB (cgroup v1 or v2, where this machine lets root create one), so
  that going over it is an out-of-memory kill, as in the container; where no cgroup can be made, only
  the grader's own resident watch (600 MB, which `run_autograder` sets) applies, and the run says so.

Reported per run: the score, the wall time, the cgroup's peak memory (the whole tree: parent,
worker and anything else), and the worker's peak per problem (the largest sample of any check of
that problem, from summary.json).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from autograder import gradescope
from autograder.assignments import load_assignment
from autograder.config import REPO_ROOT, GradingConfig

CONTAINER_BYTES = 768 * 10**6


class MemoryCgroup:
    """A memory cgroup of this process's own, or None where none can be made."""

    def __init__(self, folder: Path, version: int):
        self.folder = folder
        self.version = version

    @classmethod
    def make(cls, limit: int) -> MemoryCgroup | None:
        for version, base in ((2, _v2_base()), (1, _v1_base())):
            if base is None:
                continue
            folder = base / f"autograder-bench-{os.getpid()}"
            try:
                folder.mkdir()
                (folder / ("memory.max" if version == 2 else "memory.limit_in_bytes")).write_text(str(limit))
                if version == 2:
                    (folder / "memory.swap.max").write_text("0")
            except OSError:
                shutil.rmtree(folder, ignore_errors=True)
                continue
            return cls(folder, version)
        return None

    def enter(self) -> None:
        (self.folder / "cgroup.procs").write_text(str(os.getpid()))

    def peak(self) -> int:
        name = "memory.peak" if self.version == 2 else "memory.max_usage_in_bytes"
        path = self.folder / name
        return int(path.read_text()) if path.exists() else -1

    def reset(self) -> None:
        if self.version == 1:
            (self.folder / "memory.max_usage_in_bytes").write_text("0")

    def oom_kills(self) -> int:
        events = self.folder / ("memory.events" if self.version == 2 else "memory.oom_control")
        for line in events.read_text().splitlines():
            if line.startswith("oom_kill "):
                return int(line.split()[1])
        return 0

    def remove(self) -> None:
        self.folder.rmdir()


def _v2_base() -> Path | None:
    own = Path("/proc/self/cgroup").read_text().splitlines()
    path = next((line.split(":", 2)[2] for line in own if line.startswith("0::")), None)
    for mount in (Path("/sys/fs/cgroup"), Path("/sys/fs/cgroup/unified")):
        if (mount / "cgroup.controllers").exists() and "memory" in (mount / "cgroup.controllers").read_text():
            return mount / path.lstrip("/") if path else mount
    return None


def _v1_base() -> Path | None:
    own = Path("/proc/self/cgroup").read_text().splitlines()
    path = next((line.split(":", 2)[2] for line in own if ":memory:" in line), None)
    mount = Path("/sys/fs/cgroup/memory")
    return mount / path.lstrip("/") if path is not None and mount.is_dir() else None


def build_root(assignment_id: str, data_root: Path, work: Path) -> Path:
    home = work / "autograder"
    home.mkdir(mode=0o755)
    zip_path, left_out = gradescope.build(load_assignment(assignment_id), work / "autograder.zip",
                                          GradingConfig(data_root=data_root, cache_dir=work / "cache"),
                                          leave_out_missing_data=True)
    if left_out:
        print(f"left out (their data sets are not under {data_root}): {', '.join(left_out)}")
    gradescope.unpack(zip_path, home / "source")
    (home / "source" / "data").symlink_to(data_root)
    return home


def run_once(home: Path, cgroup: MemoryCgroup | None) -> dict:
    shutil.rmtree(home / "submission", ignore_errors=True)
    shutil.rmtree(home / "results", ignore_errors=True)
    shutil.copytree(REPO_ROOT / "reference" / ASSIGNMENT, home / "submission")
    (home / "results").mkdir()

    def confine() -> None:
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
        if cgroup is not None:
            cgroup.enter()

    if cgroup is not None:
        cgroup.reset()
    start = time.perf_counter()
    subprocess.run([str(home / "source" / "run_autograder")], preexec_fn=confine, capture_output=True,
                   env={"PATH": "/usr/bin:/bin", "AUTOGRADER_HOME": str(home), "AUTOGRADER_PYTHON": sys.executable})
    seconds = time.perf_counter() - start
    results = json.loads((home / "results" / "results.json").read_text())
    summary = json.loads((home / "results" / "summary.json").read_text())
    return {"score": results["score"], "max": summary["max_score"], "seconds": seconds,
            "peak_mb": cgroup.peak() / 2**20 if cgroup else float("nan"),
            "oom": cgroup.oom_kills() if cgroup else 0,
            "problems": {p["id"]: max((c.get("peak_mb", 0.0) for c in p["checks"]), default=0.0)
                         for p in summary["problems"]},
            "lost": [c["id"] for p in summary["problems"] for c in p["checks"] if c["score"] < c["max_score"]]}


ASSIGNMENT = "uw-cse446-hw4"


def main() -> None:
    global ASSIGNMENT
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--assignment", "-a", default=ASSIGNMENT)
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    ASSIGNMENT = args.assignment
    data_root = Path(os.environ.get("AUTOGRADER_DATA_ROOT") or REPO_ROOT.parent / "shared" / "data").resolve()
    cgroup = MemoryCgroup.make(CONTAINER_BYTES)
    print(f"{ASSIGNMENT}: reference, {args.runs} runs, one CPU, "
          + (f"memory cgroup v{cgroup.version} of {CONTAINER_BYTES // 10**6} MB" if cgroup
             else "NO memory cgroup could be made here: the grader's resident watch alone"))
    with tempfile.TemporaryDirectory(prefix="bench-container-") as tmp:
        os.chmod(tmp, 0o755)
        home = build_root(ASSIGNMENT, data_root, Path(tmp))
        try:
            for i in range(1, args.runs + 1):
                run = run_once(home, cgroup)
                problems = "  ".join(f"{k} {v:.0f}" for k, v in run["problems"].items())
                print(f"run {i:>2}: {run['score']:g}/{run['max']:g} in {run['seconds']:.1f} s, cgroup peak "
                      f"{run['peak_mb']:.0f} MiB, OOM kills {run['oom']}; worker peak per problem (MiB): {problems}"
                      + (f"; lost: {', '.join(run['lost'])}" if run["lost"] else ""), flush=True)
        finally:
            if cgroup is not None:
                cgroup.remove()


if __name__ == "__main__":
    main()
