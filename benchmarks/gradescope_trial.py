"""Each assignment's Gradescope zip tried before release, as an instructor would (on demand):

    AUTOGRADER_DATA_ROOT=../shared/data AUTOGRADER_TORCH_INDEX= python benchmarks/gradescope_trial.py

For every assignment: `autograder gradescope build` with the data root (checks whose data set is
absent left out, and named), then `autograder gradescope test` of the zip on the bundled reference
(full marks expected), the student template (0 expected) and a faulty copy of the reference (one
deliberate mistake, below). Prints the zip's size and what `gradescope test` printed: score, wall
time and peak memory of each submission, in a 768 MB cgroup on one CPU where the machine allows.
`AUTOGRADER_TORCH_INDEX=` (empty) makes setup.sh install torch from pip's configured indexes, for
machines without a route to PyTorch's.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from autograder.assignments import assignment_ids
from autograder.config import REPO_ROOT

FAULTS = {
    # assignment: (file, what the reference says, the mistake)
    "umn-csci5527-hw3": ("hw3_p1.py", 'g["V5"] = -g["D"]', 'g["V5"] = g["D"]'),
    "uw-cse446-hw4": ("hw4_a1.py", '"b": False,', '"b": True,'),
}


def faulty_copy(assignment: str, target: Path) -> Path:
    shutil.copytree(REPO_ROOT / "reference" / assignment, target)
    file, right, wrong = FAULTS[assignment]
    text = (target / file).read_text()
    assert text.count(right) == 1, f"the reference's {file} changed: update FAULTS"
    (target / file).write_text(text.replace(right, wrong))
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-a", "--assignment", action="append", help="Default: every assignment.")
    parser.add_argument("--data-root", type=Path, default=os.environ.get("AUTOGRADER_DATA_ROOT"))
    parser.add_argument("--workdir", type=Path, default=Path.home() / "autograder-trial",
                        help="Outside /tmp, as /autograder is.")
    args = parser.parse_args()
    autograder = [sys.executable, "-m", "autograder.cli"]
    args.workdir.mkdir(parents=True, exist_ok=True)
    for assignment in args.assignment or assignment_ids():
        with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
            Path(tmp).chmod(0o755)  # the grading's unprivileged uid passes through it to the venv, as to /autograder
            zip_path = Path(tmp) / f"{assignment}.zip"
            start = time.perf_counter()
            subprocess.run([*autograder, "gradescope", "build", "-a", assignment, "-o", zip_path,
                            "--data-root", args.data_root, "--leave-out-missing-data"], check=True)
            print(f"{assignment}: zip {zip_path.stat().st_size:,} bytes, built in "
                  f"{time.perf_counter() - start:.1f} s", flush=True)
            submissions = [REPO_ROOT / "reference" / assignment, REPO_ROOT / "student_template" / assignment,
                           faulty_copy(assignment, Path(tmp) / "faulty")]
            subprocess.run([*autograder, "gradescope", "test", zip_path, *submissions, "--workdir", tmp])


if __name__ == "__main__":
    main()
