"""The student's self-check bundle: the engine, the templates and the expected values of the
visible checks only. No reference code, no hidden values, no test labels: checks that read data
sets are left out (their expected values come from held-out labels)."""

from __future__ import annotations

import shutil
import tempfile
import zipfile
from pathlib import Path

from autograder.config import PACKAGE_DIR, GradingConfig, content_dir, engine_files
from autograder.expected import ExpectedValues, fingerprint
from autograder.gradescope import add_tree
from autograder.model import Assignment, Visibility
from autograder.writers.templates import render


def shippable(assignment: Assignment) -> list:
    return [c for c in assignment.checks if c.visibility is Visibility.visible and not c.data and not c.static]


def build_bundle(assignment: Assignment, out: Path, config: GradingConfig) -> Path:
    checks = shippable(assignment)
    with tempfile.TemporaryDirectory(prefix="autograder-bundle-") as tmp:
        computed = ExpectedValues(assignment, config.model_copy(update={"cache_dir": Path(tmp) / "full"}))
        failures = {cid: v.feedback.summary for cid, v in computed.get(checks).items() if not isinstance(v, dict)}
        if failures:
            raise RuntimeError(f"the reference failed on some checks, so nothing was built: {failures}")
        shipped = Path(tmp) / "cache" / assignment.id / fingerprint(assignment, config, with_reference=False)
        shipped.mkdir(parents=True)
        for check in checks:
            shutil.copytree(computed.root / check.id, shipped / check.id)
        out.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for name in engine_files():  # not PACKAGE_DIR whole: installed, it holds the reference
                zf.write(PACKAGE_DIR / name, f"autograder/{name.as_posix()}")
            add_tree(zf, content_dir("reports"), "reports")
            add_tree(zf, Path(tmp) / "cache", "cache")
            add_tree(zf, content_dir("student_template") / assignment.id, "homework")
            zf.writestr("README.md", render("bundle_readme.md.j2", assignment=assignment,
                                            checks=checks, problems=assignment.problems))
    return out
