"""Where the time and memory of grading one submission go (run on demand, not in CI).

    python benchmarks/bench_grading.py --assignment umn-csci5527-hw3 --repeat 5
    git worktree add ../before HEAD~3 && python benchmarks/bench_grading.py --problem p1 --against ../before
    AUTOGRADER_DATA_ROOT=../shared/data python benchmarks/bench_grading.py --assignment uw-cse446-hw4 \
        --problem a1 --problem a5 --problem b1 --repeat 3

Each repetition grades the reference in a fresh `autograder grade` process with a warm
expected-value cache (the state on Gradescope, where the cache is built once). Reported, as
medians over the repetitions:

- total: wall time of the whole command, interpreter start included;
- worker start: starting the sandboxed worker (Python and the torch import);
- checks: time inside the student halves (the checks' own computation);
- overhead: total minus worker start minus checks: the harness's own cost;
- beyond one torch import: total minus the median wall time of `python -c "import torch"`,
  measured in the same run, interleaved with the gradings;
- cold: the first run, which computes the expected values (not in the medians);
- checks over 0.3 s: where the check time of the last run went;
- peak tree RSS: the largest sum of resident memory of the parent and all its children, sampled
  every 10 ms with psutil (pages shared between forked processes are counted in each: an
  over-estimate when the tree holds forks);
- peak machine memory: the largest rise of the machine's memory in use (total - available) over
  its value before the run, sampled likewise: what the tree really took, plus other processes' noise.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

from autograder.sandbox import tree_rss

REPO = Path(__file__).resolve().parent.parent


def run_once(assignment: str, submission: Path, cache: Path, extra: tuple[str, ...] = (),
             checkout: Path = REPO) -> dict[str, float]:
    """One `autograder grade` of `submission` with the engine of `checkout` (this one by default)."""
    with tempfile.TemporaryDirectory() as out:
        os.chmod(out, 0o755)
        before_run(checkout)
        start = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-m", "autograder.cli", "grade", str(submission),
                                 "-a", assignment, "-o", out, "-q", "--cache-dir", str(cache), *extra],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=checkout,
                                env={**os.environ, "PYTHONPATH": str(checkout)})
        peak = [0]
        in_use = psutil.virtual_memory().total - psutil.virtual_memory().available
        machine = [0]

        def sample() -> None:
            while proc.poll() is None:
                peak[0] = max(peak[0], tree_rss(proc.pid))
                memory = psutil.virtual_memory()
                machine[0] = max(machine[0], memory.total - memory.available - in_use)
                time.sleep(0.01)

        sampler = threading.Thread(target=sample)
        sampler.start()
        proc.wait()
        sampler.join()
        total = time.perf_counter() - start
        summary = json.loads((Path(out) / "summary.json").read_text())
    timing = summary["timing"]
    slow = {c["id"]: round(c["seconds"], 2) for p in summary["problems"] for c in p["checks"] if c["seconds"] > 0.3}
    return {
        "slow checks": slow,
        "total": total,
        "worker start": timing["worker_start"],
        "imports": timing["imports"],
        "checks": timing["checks"],
        "overhead": total - timing["worker_start"] - timing["checks"],
        "peak tree RSS (MB)": peak[0] / 2**20,
        "peak machine memory (MB)": machine[0] / 2**20,
        "score": summary["score"],
    }


def before_run(checkout: Path) -> None:
    """An older engine (before per-grading uids) needs the data root readable by its sandbox user,
    which the current one closes: open it again when comparing with one."""
    root = os.environ.get("AUTOGRADER_DATA_ROOT")
    if checkout != REPO and root and os.geteuid() == 0:
        os.chmod(root, 0o755)


def bare_torch_import() -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import torch"], check=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--assignment", default="umn-csci5527-hw3")
    parser.add_argument("--submission", type=Path, help="default: the bundled reference")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--problem", action="append", default=[], help="grade only this problem (repeatable)")
    parser.add_argument("--against", type=Path, metavar="CHECKOUT",
                        help="also time another checkout of this project (e.g. a git worktree of main), "
                             "interleaved with this one's runs, and print the two side by side")
    args = parser.parse_args()
    extra = tuple(x for p in args.problem for x in ("--problem", p))
    submission = args.submission or REPO / "reference" / args.assignment
    checkouts = {"this": REPO, **({"against": args.against.resolve()} if args.against else {})}
    with tempfile.TemporaryDirectory() as caches:
        caches_of = {name: Path(caches) / name for name in checkouts}
        # the first run fills the cache; not in the medians
        cold = {name: run_once(args.assignment, submission, caches_of[name], extra, c) for name, c in checkouts.items()}
        runs: dict[str, list[dict]] = {name: [] for name in checkouts}
        bare = []
        for _ in range(args.repeat):
            for name, checkout in checkouts.items():
                runs[name].append(run_once(args.assignment, submission, caches_of[name], extra, checkout))
            bare.append(bare_torch_import())
    torch_import = statistics.median(bare)
    print(f"{args.assignment}: grading {submission.relative_to(REPO) if submission.is_relative_to(REPO) else submission}"
          f"{' problems ' + ', '.join(args.problem) if args.problem else ''}, {args.repeat} runs, medians (min-max)")
    print(f"  {'bare torch import':<24} {torch_import:8.3f}")
    for name, checkout_runs in runs.items():
        print(f"  [{name}: {checkouts[name]}]")
        report(checkout_runs, cold[name], torch_import)
    if args.against:
        this, other = (statistics.median(r["total"] for r in runs[n]) for n in ("this", "against"))
        print(f"  total, this / against: {this / other:.3f} ({this - other:+.3f} s)")


def report(runs: list[dict], cold: dict, torch_import: float) -> None:
    for run in runs:
        run["beyond one torch import"] = run["total"] - torch_import
    print(f"  {'cold (values computed)':<24} {cold['total']:8.3f}")
    slow = runs[-1].pop("slow checks")
    for run in runs[:-1]:
        run.pop("slow checks")
    for key in runs[0]:
        values = [r[key] for r in runs]
        print(f"  {key:<24} {statistics.median(values):8.3f}   ({min(values):.3f}-{max(values):.3f})")
    if slow:
        print("  checks over 0.3 s (last run): " + ", ".join(f"{k} {v} s" for k, v in slow.items()))


if __name__ == "__main__":
    main()
