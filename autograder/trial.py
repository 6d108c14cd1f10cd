"""A trial of a Gradescope zip before students see it: set up and run as Gradescope would.

The zip is unpacked into a temporary root standing for `/autograder` (`source/`, `submission/`,
`results/`), its `setup.sh` runs there once (a real virtual environment, real installs), then its
`run_autograder` grades each submission, confined as the container is (`autograder.container`).
The root lies outside /tmp, as /autograder does: the worker's private /tmp would otherwise hide
the virtual environment from it, and the sandbox would run without that layer.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from autograder import container, gradescope
from autograder.results import Grade, Outcome

SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
APT_PYTHON = Path("/usr/bin/python3.11")
"""The interpreter setup.sh creates the container's venv from, where apt installed it here too."""


class NotAnAutograderZip(Exception):
    """The file given is not a zip that `gradescope build` wrote."""


class SetupFailed(Exception):
    """The zip's setup.sh failed: Gradescope would fail to build the image."""


def default_base_python() -> Path:
    """apt's python3.11, as in the container, where this machine has it; else this Python."""
    return APT_PYTHON if APT_PYTHON.is_file() else Path(sys.executable)


@contextlib.contextmanager
def trial_root(parent: Path, keep: bool) -> Iterator[Path]:
    """A fresh root under `parent`, traversable by the grading's unprivileged uid; removed unless kept."""
    root = Path(tempfile.mkdtemp(prefix="gradescope-test-", dir=parent)).resolve()
    root.chmod(0o755)
    try:
        yield root
    finally:
        if not keep:
            shutil.rmtree(root, ignore_errors=True)


def unpack(archive: Path, root: Path) -> None:
    try:
        names = set(zipfile.ZipFile(archive).namelist())
    except (zipfile.BadZipFile, OSError) as exc:
        raise NotAnAutograderZip(f"{archive} is not a readable zip: {exc}") from None
    absent = [s for s in gradescope.SCRIPTS if s not in names]
    if absent:
        raise NotAnAutograderZip(f"{archive} is not a Gradescope autograder zip: it has no {' or '.join(absent)} "
                                 f"at its top level. Build one with `autograder gradescope build`.")
    gradescope.unpack(archive, root / "source")
    for folder in ("submission", "results"):
        (root / folder).mkdir(mode=0o755)


def run_setup(root: Path, base_python: Path) -> float:
    """setup.sh, once, as Gradescope runs it when building the image; its seconds. Its output goes
    to `setup.log` in the root, whose end is quoted if it fails."""
    # This machine's pip settings (indexes, proxies) pass; its Python settings do not: Gradescope has none.
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON") and k != "VIRTUAL_ENV"}
    env = {**inherited, "AUTOGRADER_HOME": str(root), "AUTOGRADER_BASE_PYTHON": str(base_python)}
    log = root / "setup.log"
    start = time.perf_counter()
    with log.open("wb") as out:
        done = subprocess.run(["bash", str(root / "source" / "setup.sh")], cwd=root / "source", env=env,
                              stdout=out, stderr=subprocess.STDOUT)
    if done.returncode != 0:
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-25:])
        raise SetupFailed(f"setup.sh failed (exit {done.returncode}); the end of its output:\n{tail}")
    return time.perf_counter() - start


def fill_submission(root: Path, submission: Path) -> None:
    """`submission/` as Gradescope fills it: a zip unpacked, a folder's files, a single file as is."""
    target = root / "submission"
    shutil.rmtree(target)
    if submission.is_dir():
        shutil.copytree(submission, target, ignore=shutil.ignore_patterns("__pycache__"))
    else:
        target.mkdir()
        if zipfile.is_zipfile(submission):
            shutil.unpack_archive(submission, target, format="zip")
        else:
            shutil.copy(submission, target / submission.name)
    target.chmod(0o755)
    shutil.rmtree(root / "results")
    (root / "results").mkdir(mode=0o755)


@dataclass(frozen=True)
class Graded:
    """One submission through run_autograder, as the trial saw it."""

    submission: Path
    run: container.Confined
    score: float | None = None
    """From results.json; None where run_autograder wrote none."""
    max_score: float | None = None
    worker_peak_mb: float | None = None
    """The grader's own measurement: the worker's largest peak over the checks (summary.json)."""
    harness_error: str | None = None
    messages: tuple[str, ...] = ()
    """The grade's notes: checks left out, a version mismatch, an unreadable upload."""
    autograder_errors: tuple[tuple[str, str], ...] = ()
    """(check id, summary) of each check the autograder itself failed on: never the student's doing."""
    protections_off: tuple[str, ...] = ()


def grade(root: Path, submission: Path, memory_bytes: int) -> Graded:
    """Run the zip's run_autograder on `submission` (a folder, a zip or a file), confined."""
    fill_submission(root, submission)
    env = {"PATH": SYSTEM_PATH, "HOME": os.environ.get("HOME", "/root"), "AUTOGRADER_HOME": str(root)}
    run = container.run_confined([str(root / "source" / "run_autograder")], env, memory_bytes,
                                 name=f"autograder-trial-{os.getpid()}", output=root / "run_autograder.log")
    return _read_results(root / "results", submission, run)


def _read_results(results: Path, submission: Path, run: container.Confined) -> Graded:
    """What run_autograder wrote (as root, in the root's results/: no student code writes there)."""
    try:
        written = json.loads((results / "results.json").read_text())
    except (OSError, ValueError):
        return Graded(submission, run)
    try:
        grade = Grade.model_validate_json((results / "summary.json").read_text())
    except (OSError, ValueError):
        return Graded(submission, run, written.get("score"))
    peak = max((c.peak_mb for c in grade.checks), default=0.0)
    errors = tuple((c.id, c.feedback.summary) for c in grade.checks if c.outcome is Outcome.harness_error)
    off = tuple(f"{p.name} ({p.detail})" for p in grade.protections if not p.active)
    return Graded(submission, run, written.get("score"), grade.max_score, peak or None, grade.harness_error,
                  tuple(grade.messages), errors, off)
