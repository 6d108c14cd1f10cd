"""The reference graded as Gradescope's default container would, several times in a row (on demand).

    AUTOGRADER_DATA_ROOT=../shared/data python benchmarks/bench_container.py -a uw-cse446-hw4 --runs 10

Builds the assignment's `autograder.zip` (with the data sets its checks read), unpacks it into a
temporary root standing for `/autograder`, and runs its `run_autograder` on the bundled reference,
with this Python instead of the venv `setup.sh` would make (`autograder gradescope test` runs that
too), each run confined by `autograder.container`:

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
import sys
import tempfile
from pathlib import Path

from autograder import container, gradescope
from autograder.assignments import load_assignment
from autograder.config import CONTAINER_MB, REPO_ROOT, GradingConfig

CONTAINER_BYTES = CONTAINER_MB * 10**6


def build_root(assignment_id: str, data_root: Path, work: Path) -> Path:
    home = work / "autograder"
    home.mkdir(mode=0o755)
    zip_path, left_out = gradescope.build(load_assignment(assignment_id), work / "autograder.zip",
                                          GradingConfig(data_root=data_root, cache_dir=work / "cache"),
                                          leave_out_missing_data=True)
    if left_out:
        print(f"left out (their data sets are not under {data_root}): {', '.join(left_out)}")
    gradescope.unpack(zip_path, home / "source")  # with data/: the zip carries the data sets its checks read
    return home


def run_once(home: Path) -> dict:
    shutil.rmtree(home / "submission", ignore_errors=True)
    shutil.rmtree(home / "results", ignore_errors=True)
    shutil.copytree(REPO_ROOT / "reference" / ASSIGNMENT, home / "submission")
    (home / "results").mkdir()
    run = container.run_confined([str(home / "source" / "run_autograder")],
                                 {"PATH": "/usr/bin:/bin", "AUTOGRADER_HOME": str(home),
                                  "AUTOGRADER_PYTHON": sys.executable},
                                 CONTAINER_BYTES, name=f"autograder-bench-{os.getpid()}", output=home / "run.log")
    results = json.loads((home / "results" / "results.json").read_text())
    summary = json.loads((home / "results" / "summary.json").read_text())
    return {"score": results["score"], "max": summary["max_score"], "seconds": run.seconds,
            "peak_mb": run.cgroup_peak / 2**20 if run.cgroup_peak is not None else float("nan"),
            "oom": run.oom_kills,
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
    cgroup = container.cgroup_available(CONTAINER_BYTES)
    print(f"{ASSIGNMENT}: reference, {args.runs} runs, one CPU, "
          + (f"memory cgroup {cgroup} of {CONTAINER_BYTES // 10**6} MB" if cgroup
             else "NO memory cgroup could be made here: the grader's resident watch alone"))
    with tempfile.TemporaryDirectory(prefix="bench-container-") as tmp:
        os.chmod(tmp, 0o755)
        home = build_root(ASSIGNMENT, data_root, Path(tmp))
        for i in range(1, args.runs + 1):
            run = run_once(home)
            problems = "  ".join(f"{k} {v:.0f}" for k, v in run["problems"].items())
            print(f"run {i:>2}: {run['score']:g}/{run['max']:g} in {run['seconds']:.1f} s, cgroup peak "
                  f"{run['peak_mb']:.0f} MiB, OOM kills {run['oom']}; worker peak per problem (MiB): {problems}"
                  + (f"; lost: {', '.join(run['lost'])}" if run["lost"] else ""), flush=True)


if __name__ == "__main__":
    main()
