"""Grading a fork bomb and a memory bomb stays bounded in time and memory (run on demand).

    python benchmarks/bench_bombs.py --repeat 3

Each submission is P1's reference with `forward` replaced by the bomb, so that two checks meet it
and six others must still be graded. Reported per submission, as medians: wall time of the whole
`autograder grade` command, peak resident memory of the process tree (parent, worker and every
process it forked), and the score. The memory bomb meets the worker's address-space limit
(8192 MiB by default) or, first, the watch on resident memory (2048 MiB by default, 600 advised on
Gradescope); the fork bomb meets the per-user process limit of the unprivileged user (64, only
when the grader runs as root, as on Gradescope) and the same watch, which counts the resident
memory of every process in the tree (shared pages once per process: an over-estimate).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from bench_grading import REPO, run_once  # noqa: E402

BOMBS = {
    "reference": "",
    "memory bomb": "    hog = []\n    while True:\n        hog.append(bytearray(1 << 24))\n",
    "fork bomb": "    import os\n    while True:\n        os.fork()\n",
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--resident-limit-mb", type=int, help="passed to autograder grade")
    args = parser.parse_args()
    extra = ("--problem", "p1") + (("--resident-limit-mb", str(args.resident_limit_mb)) if args.resident_limit_mb else ())
    reference = (REPO / "reference" / "umn-csci5527-hw3" / "hw3_p1.py").read_text()
    with tempfile.TemporaryDirectory() as tmp:
        cache = Path(tmp) / "cache"
        for name, bomb in BOMBS.items():
            folder = Path(tmp) / name.replace(" ", "_")
            folder.mkdir()
            (folder / "hw3_p1.py").write_text(reference.replace("    V1 = W1 @ X\n", bomb + "    V1 = W1 @ X\n"))
            run_once("umn-csci5527-hw3", folder, cache, extra)  # fills the cache
            runs = [run_once("umn-csci5527-hw3", folder, cache, extra) for _ in range(args.repeat)]
            total = statistics.median(r["total"] for r in runs)
            peak = statistics.median(r["peak tree RSS (MB)"] for r in runs)
            machine = statistics.median(r["peak machine memory (MB)"] for r in runs)
            print(f"{name:<12} total {total:6.2f} s   peak tree RSS {peak:7.1f} MB   "
                  f"peak machine memory {machine:7.1f} MB   score {runs[0]['score']:g} / 4.5")


if __name__ == "__main__":
    main()
