"""Building the Gradescope autograder zip of one assignment.

The zip holds the engine (with what a plain `pip install .` of it needs), the reports, the
assignment's reference (for instructors' regrades; the grading itself reads the expected values
computed here, so the container never has to run the reference), the data sets its checks read
(`data/<name>/`), the library versions those values were computed with
(`cache/<assignment>/versions.json`), `setup.sh` and `run_autograder`. Gradescope unpacks it to
`/autograder/source`, runs `setup.sh` once when building the image and `run_autograder` for every
submission.
"""

from __future__ import annotations

import importlib.metadata
import json
import shutil
import tempfile
import zipfile
from pathlib import Path

from autograder import versions
from autograder.config import DISTRIBUTION, PACKAGE_DIR, GradingConfig, content_dir, engine_files
from autograder.data import dataset_folder
from autograder.expected import ExpectedValues, missing_data
from autograder.model import Assignment
from autograder.writers.templates import render

GRADESCOPE_RESIDENT_MB = 600
"""Gradescope's default container has 768 MB for everything; the parent needs about 60 MB."""

SCRIPTS = ("setup.sh", "run_autograder")
_NOT_SHIPPED = ("__pycache__",)
"""Never zipped: bytecode left beside the reference (it imports its modules) or the data."""


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
        _compute_expected(assignment, config.model_copy(update={"cache_dir": cache}),
                          [c for c in assignment.checks if c.id not in deferred])
        recorded = json.loads(versions.record(cache / assignment.id).read_text())
        out.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            _add_engine(zf, assignment, config)
            add_tree(zf, cache, "cache")
            for folder in shipped_data(assignment, config):
                add_tree(zf, folder, f"data/{folder.name}")
            for script in SCRIPTS:
                _add_script(zf, script, assignment.id, recorded)
    return out, list(deferred)


def _compute_expected(assignment: Assignment, config: GradingConfig, checks: list) -> None:
    failures = {cid: f.feedback.summary for cid, f in ExpectedValues(assignment, config).get(checks).items()
                if not isinstance(f, dict)}
    if failures:
        raise RuntimeError(f"the reference failed on some checks, so nothing was built: {failures}")


def shipped_data(assignment: Assignment, config: GradingConfig) -> list[Path]:
    """The folders of the data sets any check of the assignment declares that are under the data
    root: the container's parent builds the students' input sets from them at grading time."""
    declared = sorted({name for check in assignment.checks for name in check.data})
    return [f for name in declared if (f := dataset_folder(config.data_root, name)) is not None]


def _add_engine(zf: zipfile.ZipFile, assignment: Assignment, config: GradingConfig) -> None:
    """What `pip install .` in the container needs, and what the engine reads at grading time: the
    content folders at the top level, as in a checkout (pyproject.toml maps them into the wheel)."""
    for name, text in project_files().items():
        zf.writestr(name, text)
    for name in engine_files():  # never PACKAGE_DIR whole: installed, it holds every assignment's reference
        zf.write(PACKAGE_DIR / name, f"autograder/{name.as_posix()}")
    add_tree(zf, content_dir("reports"), "reports")
    add_tree(zf, config.reference_root / assignment.id, f"reference/{assignment.id}")
    template = content_dir("student_template") / assignment.id
    if template.is_dir():
        add_tree(zf, template, f"student_template/{assignment.id}")
    else:  # the package-data mapping needs the folder, not its files
        zf.writestr(f"student_template/{assignment.id}/", "")


def project_files(checkout: Path | None = PACKAGE_DIR.parent) -> dict[str, str]:
    """pyproject.toml and README.md: the checkout's own, or, where the engine runs from an installed
    wheel (no checkout beside it), written from the installed distribution's metadata."""
    if checkout is not None and (checkout / "pyproject.toml").is_file():
        return {name: (checkout / name).read_text() for name in ("pyproject.toml", "README.md")}
    metadata = importlib.metadata.metadata(DISTRIBUTION)
    required = [r for r in metadata.get_all("Requires-Dist") or () if "extra ==" not in r]
    return {
        "pyproject.toml": render("gradescope/pyproject.toml.j2", distribution=metadata["Name"],
                                 version=metadata["Version"], requires_python=metadata["Requires-Python"] or ">=3.11",
                                 dependencies=[json.dumps(r) for r in required]),
        "README.md": metadata.get_payload() or metadata["Description"] or f"# {DISTRIBUTION}\n",
    }


def _add_script(zf: zipfile.ZipFile, script: str, assignment_id: str, recorded: dict[str, str | None]) -> None:
    info = zipfile.ZipInfo(script)
    info.external_attr = 0o755 << 16
    zf.writestr(info, render(f"gradescope/{script}.j2", assignment=assignment_id, resident_mb=GRADESCOPE_RESIDENT_MB,
                             versions={d: versions.public(v) for d, v in recorded.items()}))


def add_tree(zf: zipfile.ZipFile, source: Path, arcname: str) -> None:
    if source.is_file():
        zf.write(source, arcname)
        return
    for path in sorted(source.rglob("*")):
        if path.is_file() and not set(_NOT_SHIPPED) & set(path.relative_to(source).parts):
            zf.write(path, f"{arcname}/{path.relative_to(source).as_posix()}")


def unpack(archive: Path, target: Path) -> None:
    """What Gradescope does with the zip: `gradescope test` and the tests run it so, end to end."""
    shutil.unpack_archive(archive, target)
    for script in SCRIPTS:
        (target / script).chmod(0o755)
