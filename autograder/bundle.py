"""The student's self-check bundle: a folder to unzip and run, with nothing to copy from it.

    README.md          how to install and run it
    requirements.txt   the packages the grader has, torch pinned to the version of the expected values
    self_check.py      `python self_check.py [FOLDER] [--out DIR]`: the visible checks on homework/
    homework/          the starter files
    engine/            the engine (this assignment's checks only, no instructor tools), its report
                       templates, and cache/: the expected values of the checks it runs

The engine is not installed: `self_check.py` puts the bundle's own `engine/` first on the path, so
bundles of several assignments live side by side in one environment, whatever else is installed.
Only visible checks that need no data set ship expected values; the self-check lists the others
as running when the student submits. No reference code, no hidden or after-due-date values.
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
import zipfile
from pathlib import Path

from autograder import versions
from autograder.assignments import student_engine_files
from autograder.config import PACKAGE_DIR, GradingConfig, content_dir, engine_dependencies
from autograder.expected import ExpectedValues, fingerprint
from autograder.model import Assignment, Check, Visibility
from autograder.writers.templates import render


def shippable(assignment: Assignment) -> list[Check]:
    """The checks a self-check runs: visible, and judged without the course's data sets."""
    return [c for c in assignment.checks if c.visibility is Visibility.visible and not c.data]


def requirements(torch_version: str) -> list[str]:
    """The engine's own dependencies, torch pinned to `torch_version`."""
    return [f"torch=={torch_version}" if re.match(r"torch\b", r) else r.replace(" ", "")
            for r in engine_dependencies()]


def build_bundle(assignment: Assignment, out: Path, config: GradingConfig) -> Path:
    checks = shippable(assignment)
    installed = versions.installed()
    torch_version = versions.public(installed["torch"]) or ""
    with tempfile.TemporaryDirectory(prefix="autograder-bundle-") as tmp:
        root = Path(tmp) / "bundle"
        engine = root / "engine"
        _copy_engine(assignment, engine / "autograder")
        _copy_expected_values(assignment, [c for c in checks if c.needs_expected], config, Path(tmp) / "full",
                              engine / "cache" / assignment.id)
        # Only what requirements.txt pins: a student's numpy may differ, and the tolerances absorb it.
        (engine / "cache" / assignment.id / versions.RECORD).write_text(json.dumps({"torch": installed["torch"]}))
        shutil.copytree(content_dir("student_template") / assignment.id, root / "homework",
                        ignore=shutil.ignore_patterns("__pycache__"))
        (root / "requirements.txt").write_text(render("bundle/requirements.txt.j2", requirements=requirements(
            torch_version)))
        (root / "self_check.py").write_text(render("bundle/self_check.py.j2", assignment=assignment))
        (root / "README.md").write_text(render(
            "bundle/README.md.j2", assignment=assignment, checks=checks, torch_version=torch_version,
            at_submission=[c for c in assignment.checks if c.visibility is Visibility.visible and c.data],
            hidden=[c for c in assignment.checks if c.visibility is not Visibility.visible]))
        out.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for path in sorted(root.rglob("*")):
                if path.is_file():
                    zf.write(path, path.relative_to(root).as_posix())
    return out


def _copy_engine(assignment: Assignment, target: Path) -> None:
    """The engine's code without instructor tools or other assignments, and its report templates."""
    for name in student_engine_files(assignment.id):
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(PACKAGE_DIR / name, target / name)
    shutil.copytree(content_dir("reports"), target / "_content" / "reports",
                    ignore=shutil.ignore_patterns("__pycache__", "bundle", "gradescope"))


def _copy_expected_values(assignment: Assignment, checks: list[Check], config: GradingConfig, scratch: Path,
                          target: Path) -> None:
    """The shipped checks' values, computed from the reference, under the key the bundle looks up."""
    computed = ExpectedValues(assignment, config.model_copy(update={"cache_dir": scratch}))
    failures = {cid: v.feedback.summary for cid, v in computed.get(checks).items() if not isinstance(v, dict)}
    if failures:
        raise RuntimeError(f"the reference failed on some checks, so nothing was built: {failures}")
    shipped = target / fingerprint(assignment, config, with_reference=False)
    for check in checks:
        shutil.copytree(computed.folder(check), shipped / check.id)
