"""Grading A1 + A5 + B1 of uw-cse446-hw4 for one submission: wall time, where it goes, peak memory
(run on demand, not in CI; needs the real data).

    python benchmarks/bench_uw_cse446_hw4_grading.py --data-root ../shared/data [--no-isolation]

The method is bench_grading.py's (a fresh `autograder grade` process per run, psutil sampling of the
process tree every 10 ms, a first run to fill the expected-value cache), on a folder holding only the
reference's hw4_a1.py, hw4_a5.py and hw4_b1.py, with the time of each check above 0.3 s listed.
`--no-isolation` avoids the cross-kill of workers when other gradings run on the same machine
(docs/uw-cse446-hw4.md, "Engine").
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from autograder.sandbox import tree_rss  # noqa: E402
FILES = ("hw4_a1.py", "hw4_a5.py", "hw4_b1.py")
PROBLEMS = ("a1", "a5", "b1")


def run_once(submission: Path, cache: Path, data_root: Path, isolate: bool) -> dict:
    with tempfile.TemporaryDirectory() as out:
        command = [sys.executable, "-m", "autograder.cli", "grade", str(submission), "-a", "uw-cse446-hw4",
                   "-o", out, "-q", "--cache-dir", str(cache), "--data-root", str(data_root)]
        start = time.perf_counter()
        proc = subprocess.Popen(command + ([] if isolate else ["--no-isolation"]), cwd=REPO,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        peak = [0]

        def sample() -> None:
            while proc.poll() is None:
                peak[0] = max(peak[0], tree_rss(proc.pid))
                time.sleep(0.01)

        sampler = threading.Thread(target=sample)
        sampler.start()
        proc.wait()
        sampler.join()
        total = time.perf_counter() - start
        summary = json.loads((Path(out) / "summary.json").read_text())
    checks = [c for p in summary["problems"] if p["id"] in PROBLEMS for c in p["checks"]]
    return {"total": total, "worker start": summary["timing"]["worker_start"],
            "checks": sum(c["seconds"] for c in checks), "peak tree RSS (MB)": peak[0] / 2**20,
            "score": sum(c["score"] for c in checks), "max": sum(c["max_score"] for c in checks),
            "slow checks": {c["id"]: round(c["seconds"], 2) for c in checks if c["seconds"] > 0.3}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-root", type=Path,
                        default=Path(os.environ.get("AUTOGRADER_DATA_ROOT") or REPO.parent / "shared" / "data"))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-isolation", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        submission, cache = Path(tmp) / "submission", Path(tmp) / "cache"
        submission.mkdir()
        for name in FILES:
            shutil.copyfile(REPO / "reference" / "uw-cse446-hw4" / name, submission / name)
        for path in (Path(tmp), submission, *submission.iterdir()):  # readable by the worker's user
            path.chmod(0o755 if path.is_dir() else 0o644)
        cold = run_once(submission, cache, args.data_root, not args.no_isolation)
        print(f"cold (expected values computed): {cold['total']:.1f} s")
        for _ in range(args.repeat):
            r = run_once(submission, cache, args.data_root, not args.no_isolation)
            print(f"warm: total {r['total']:.1f} s, worker start {r['worker start']:.1f} s, checks {r['checks']:.1f} s, "
                  f"peak tree RSS {r['peak tree RSS (MB)']:.0f} MB, score {r['score']:g}/{r['max']:g}")
            print("      " + ", ".join(f"{k} {v}" for k, v in r["slow checks"].items()))


if __name__ == "__main__":
    main()
