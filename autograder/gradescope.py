"""Building the Gradescope autograder zip of one assignment.

The zip holds the engine, the reports, the assignment's reference (for instructors' regrades; the
grading itself reads the expected values computed here, so the container never has to run the
reference), `setup.sh` and `run_autograder`. Gradescope unpacks it to `/autograder/source`, runs
`setup.sh` once when building the image and `run_autograder` for every submission.
"""

from __future__ import annotations

import shutil
import tempfile
import zipfile
from pathlib import Path

from autograder.config import REPO_ROOT, GradingConfig
from autograder.expected import ExpectedValues, missing_data
from autograder.model import Assignment
from autograder.writers.templates import render

GRADESCOPE_RESIDENT_MB = 600
"""Gradescope's default container has 768 MB for everything; the parent needs about 60 MB."""

_SOURCES = ("autograder", "reports", "pyproject.toml", "README.md")


class MissingData(Exception):
    """Checks of the assignment need data sets that are not under the data root."""


def build(assignment: Assignment, out: Path, config: GradingConfig, *,
          leave_out_missing_data: bool = False) -> tuple[Path, list[str]]:
    """Write `out` (autograder.zip); return its path and the checks whose data set is absent.

    Expected values are computed here. A zip whose checks' data sets are absent is refused, naming
    them, unless the instructor chooses to leave those checks out: the container then shows them as
    not graded (or, if the instructor adds the data sets under `data/` in the zip, computes them there).
    """
    deferred = {c.id: reason for c in assignment.checks if (reason := missing_data(c, config))}
    if deferred and not leave_out_missing_data:
        raise MissingData(f"{'; '.join(sorted(set(deferred.values())))}, which {len(deferred)} checks need "
                          f"({', '.join(deferred)}). Pass --data-root with those data sets, or "
                          f"--leave-out-missing-data to build a zip that does not grade those checks.")
    with tempfile.TemporaryDirectory(prefix="autograder-gradescope-") as tmp:
        cache = Path(tmp) / "cache"
        build_config = config.model_copy(update={"cache_dir": cache})
        ready = [c for c in assignment.checks if c.id not in deferred]
        failures = {cid: f.feedback.summary for cid, f in ExpectedValues(assignment, build_config)
                    .get(ready).items() if not isinstance(f, dict)}
        if failures:
            raise RuntimeError(f"the reference failed on some checks, so nothing was built: {failures}")
        out.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for name in _SOURCES:
                add_tree(zf, REPO_ROOT / name, name)
            add_tree(zf, config.reference_root / assignment.id, f"reference/{assignment.id}")
            add_tree(zf, cache, "cache")
            for script in ("setup.sh", "run_autograder"):
                info = zipfile.ZipInfo(script)
                info.external_attr = 0o755 << 16
                zf.writestr(info, render(f"gradescope/{script}.j2", assignment=assignment.id,
                                         resident_mb=GRADESCOPE_RESIDENT_MB))
    return out, list(deferred)


def add_tree(zf: zipfile.ZipFile, source: Path, arcname: str) -> None:
    if source.is_file():
        zf.write(source, arcname)
        return
    for path in sorted(source.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            zf.write(path, f"{arcname}/{path.relative_to(source).as_posix()}")


def unpack(archive: Path, target: Path) -> None:
    """What Gradescope does with the zip: used by the tests to run it end to end."""
    shutil.unpack_archive(archive, target)
    for script in ("setup.sh", "run_autograder"):
        (target / script).chmod(0o755)
