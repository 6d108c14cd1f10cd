"""Grading a class: submissions per minute with `--jobs 1`, `--jobs 2` and a local Dask cluster of two
one-thread workers, side by side (run on demand).

    python benchmarks/bench_batch.py --students 100 --repeat 1
    AUTOGRADER_DATA_ROOT=../shared/data python benchmarks/bench_batch.py -a uw-cse446-hw4 --students 20
    git worktree add ../before HEAD~3 && python benchmarks/bench_batch.py -p p1 --no-dask --against ../before

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


def run_batch(assignment: str, class_dir: Path, jobs: int, cache: Path, problems: list[str],
              scheduler: str | None = None, checkout: Path = REPO) -> dict:
    """One `autograder batch` with the engine of `checkout` (this one by default)."""
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
               "-j", str(jobs), "-o", str(out), "--cache-dir", str(cache), *(f"-p{p}" for p in problems),
               *(["--scheduler", scheduler] if scheduler else [])]
    subprocess.run(command, check=True, cwd=checkout, capture_output=True,
                   env={**os.environ, "PYTHONPATH": str(checkout)})
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
    parser.add_argument("--no-dask", action="store_true", help="Leave out the local Dask cluster.")
    parser.add_argument("--against", type=Path, help="Another checkout, run with --jobs 1 and 2 in the same loop.")
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    with tempfile.TemporaryDirectory(prefix="bench-batch-") as tmp:
        class_dir, cache = Path(tmp) / "class", Path(tmp) / "cache"
        make_class(args.assignment, args.students, class_dir)
        run_batch(args.assignment, class_dir, 2, cache, args.problem)  # warms the cache
        ways = {"--jobs 1": {"jobs": 1}, "--jobs 2": {"jobs": 2}}
        if args.against:
            other = {"cache": Path(tmp) / "other-cache", "checkout": args.against.resolve()}
            run_batch(args.assignment, class_dir, 2, problems=args.problem, **other)
            ways |= {"against, -j 1": {"jobs": 1, **other}, "against, -j 2": {"jobs": 2, **other}}
        cluster = None
        if not args.no_dask:
            from distributed import LocalCluster

            os.environ["AUTOGRADER_CACHE"] = str(cache)  # the workers' cache: the same, warm
            cluster = LocalCluster(n_workers=2, threads_per_worker=1, host="127.0.0.1", dashboard_address=None)
            ways["Dask, 2 workers"] = {"jobs": 1, "scheduler": cluster.scheduler_address}
        runs: dict[str, list[dict]] = {way: [] for way in ways}
        try:
            for _ in range(args.repeat):
                for way, options in ways.items():
                    runs[way].append(run_batch(args.assignment, class_dir, problems=args.problem,
                                               **{"cache": cache, **options}))
        finally:
            if cluster is not None:
                cluster.close()
    print(f"{args.assignment}, {args.students} submissions, {cores} cores, medians of {args.repeat} runs")
    base = None
    for way, results in runs.items():
        seconds = statistics.median(r["seconds"] for r in results)
        limit = statistics.median(r["check_seconds"] for r in results) / cores
        base = base or seconds
        print(f"{way:<16} {seconds:7.1f} s, {60 * args.students / seconds:6.1f} submissions/min, "
              f"{base / seconds:4.2f}x --jobs 1, peak machine memory "
              f"{statistics.median(r['peak_mb'] for r in results):6.0f} MB, physical limit {limit:6.1f} s "
              f"(run / limit {seconds / limit:5.1f})")


if __name__ == "__main__":
    main()
