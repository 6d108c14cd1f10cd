"""Grading a class: submissions per minute with `--jobs 1` and `--jobs 2`, side by side (run on demand).

    python benchmarks/bench_batch.py --students 20 --repeat 3
    AUTOGRADER_DATA_ROOT=../shared/data python benchmarks/bench_batch.py -a uw-cse446-hw4 --students 10

The class is half reference copies and half faulty copies (a sign error in a gradient for
umn-csci5527-hw3, the same reference with its checkpoints for uw-cse446-hw4, so that every check
runs). Each run is a fresh `autograder batch` process into a fresh output folder (nothing kept from a
run before), with a warm expected-value cache; runs of each `--jobs` alternate, and medians are
reported. Also reported:

- peak machine memory: the largest rise of the machine's memory in use (total - available) during
  the run, sampled every 20 ms: what the instructor's machine needs;
- the physical limit: the checks' own compute time summed over the class (from the reports'
  timings) divided by the cores, the time no scheduler can beat; the ratio says how close a run is.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parent.parent
FAULT = {"umn-csci5527-hw3": ("hw3_p1.py", 'g["V5"] = -g["D"]', 'g["V5"] = g["D"]')}


def make_class(assignment: str, students: int, folder: Path) -> None:
    reference = REPO / "reference" / assignment
    for i in range(students):
        target = folder / f"student{i:03d}"
        shutil.copytree(reference, target, ignore=shutil.ignore_patterns("__pycache__"))
        if i % 2 and assignment in FAULT:
            file, old, new = FAULT[assignment]
            (target / file).write_text((target / file).read_text().replace(old, new))


def run_batch(assignment: str, class_dir: Path, jobs: int, cache: Path, problems: list[str]) -> dict:
    out = Path(tempfile.mkdtemp(prefix="bench-batch-out-"))
    in_use = psutil.virtual_memory().total - psutil.virtual_memory().available
    peak = [0]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.02):
            memory = psutil.virtual_memory()
            peak[0] = max(peak[0], memory.total - memory.available - in_use)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    start = time.perf_counter()
    command = [sys.executable, "-m", "autograder.cli", "batch", str(class_dir), "-a", assignment, "-q",
               "-j", str(jobs), "-o", str(out), "--cache-dir", str(cache), *(f"-p{p}" for p in problems)]
    subprocess.run(command, check=True, cwd=REPO, capture_output=True)
    seconds = time.perf_counter() - start
    done.set()
    sampler.join()
    checks = sum(json.loads(p.read_text())["timing"]["checks"] for p in out.glob("*/summary.json"))
    shutil.rmtree(out)
    return {"seconds": seconds, "peak_mb": peak[0] / 2**20, "check_seconds": checks}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-a", "--assignment", default="umn-csci5527-hw3")
    parser.add_argument("-p", "--problem", action="append", default=[])
    parser.add_argument("--students", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--jobs", type=int, action="append", default=None)
    args = parser.parse_args()
    jobs_list = args.jobs or [1, 2]
    cores = os.cpu_count() or 1
    with tempfile.TemporaryDirectory(prefix="bench-batch-") as tmp:
        class_dir, cache = Path(tmp) / "class", Path(tmp) / "cache"
        make_class(args.assignment, args.students, class_dir)
        run_batch(args.assignment, class_dir, max(jobs_list), cache, args.problem)  # warms the cache
        runs: dict[int, list[dict]] = {j: [] for j in jobs_list}
        for _ in range(args.repeat):
            for jobs in jobs_list:
                runs[jobs].append(run_batch(args.assignment, class_dir, jobs, cache, args.problem))
    print(f"{args.assignment}, {args.students} submissions, {cores} cores, medians of {args.repeat} runs")
    base = None
    for jobs, results in runs.items():
        seconds = statistics.median(r["seconds"] for r in results)
        limit = statistics.median(r["check_seconds"] for r in results) / cores
        base = base or seconds
        print(f"--jobs {jobs}: {seconds:7.1f} s, {60 * args.students / seconds:6.1f} submissions/min, "
              f"{base / seconds:4.2f}x --jobs {jobs_list[0]}, peak machine memory "
              f"{statistics.median(r['peak_mb'] for r in results):6.0f} MB, physical limit {limit:6.1f} s "
              f"(run / limit {seconds / limit:5.1f})")


if __name__ == "__main__":
    main()
