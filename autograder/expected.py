"""Expected values: the trusted halves run on the reference once, then read from a disk cache.

The cache key is a hash of everything the values depend on (`fingerprint`: the engine's code, the
reference's files, the library versions; the data files for checks that read them), so editing a
reference solution, a checkpoint or a check recomputes them. Only checks whose judge reads the
expected values have any (`Check.needs_expected`).
"""

from __future__ import annotations

import functools
import hashlib
import json
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from autograder import faults, transport, versions
from autograder.assignments import student_engine_files
from autograder.config import PACKAGE_DIR, GradingConfig
from autograder.data import dataset_folder, sha256
from autograder.faults import Fault
from autograder.model import Assignment, Check
from autograder.session import WorkerSession


def _versions() -> str:
    """Public versions: a CUDA build where the zip is built and the CPU build that Gradescope's
    setup.sh installs (`2.13.0` and `2.13.0+cpu`) compute the same values, so they share the cache."""
    return ",".join(f"{dist}={versions.public(version) or 'none'}"
                    for dist, version in sorted(versions.installed().items()))


def fingerprint(assignment: Assignment, config: GradingConfig, *, with_reference: bool | None = None) -> str:
    """The cache key: everything the expected values depend on. The engine's code (every file a
    student's bundle of the assignment holds: checks, data loaders, the worker that runs them, and
    more, which only costs a recomputation), the reference's files (its checkpoints included) and the
    library versions; the data sets key each check's folder (`ExpectedValues.folder`).

    Without the reference (a student's self-check bundle) it covers the engine alone, and not the
    library versions either: the bundle's values must serve any student's installation, and the
    tolerances absorb what versions change."""
    reference = config.reference_root / assignment.id
    if with_reference is None:
        with_reference = reference.is_dir()
    digest = hashlib.sha256((_versions() if with_reference else "bundled").encode())
    sources = [(f"engine/{name.as_posix()}", PACKAGE_DIR / name) for name in student_engine_files(assignment.id)
               if name.suffix == ".py"]
    if with_reference:
        sources += [(f"reference/{p.relative_to(reference).as_posix()}", p) for p in sorted(reference.rglob("*"))
                    if p.is_file() and "__pycache__" not in p.parts]
    for label, path in sources:
        digest.update(f"{label}\0{sha256(path)}\0".encode())
    return digest.hexdigest()[:16]


def absent_dataset(check: Check, config: GradingConfig) -> str | None:
    """The first data set of `check` absent from the data root; None when all are there."""
    return next((name for name in check.data if dataset_folder(config.data_root, name) is None), None)


def missing_data(check: Check, config: GradingConfig) -> str | None:
    """Which data set of `check` is absent from the data root, said plainly; None when all are there.
    Only trusted code reads them (the parent's input sets, the reference's expected values)."""
    name = absent_dataset(check, config)
    if name is None:
        return None
    where = f"under {config.data_root}" if config.data_root else "here (no data root is set)"
    return f"the data set {name!r} is not {where}"


_PEAK = "peak.json"
"""Beside a check's expected values: the reference's peak resident memory while computing them."""


def save_outputs(outputs: dict[str, Any], folder: Path) -> None:
    """The reference's outputs on disk: JSON values and one `.npy` per array (root-only cache)."""
    values = {k: v for k, v in outputs.items() if not isinstance(v, np.ndarray)}
    arrays = {}
    for i, (name, array) in enumerate((k, v) for k, v in outputs.items() if isinstance(v, np.ndarray)):
        arrays[name] = f"a{i}.npy"
        np.save(folder / arrays[name], array, allow_pickle=False)
    manifest, _ = transport.pack_outputs(values)
    (folder / "manifest.json").write_text(json.dumps({"values": manifest.values, "arrays": arrays}))


def load_outputs(folder: Path) -> dict[str, Any]:
    manifest = json.loads((folder / "manifest.json").read_text())
    outputs = transport.unpack_outputs(transport.OutputsManifest(values=manifest["values"]), lambda _: None)
    for name, file in manifest["arrays"].items():
        outputs[name] = np.load(folder / Path(file).name, allow_pickle=False)
    return outputs


class ExpectedValues:
    """Expected outputs per check id, computed on first use and cached."""

    def __init__(self, assignment: Assignment, config: GradingConfig):
        self.assignment = assignment
        self.config = config
        self.root = config.cache_dir / assignment.id / fingerprint(assignment, config)
        self.seconds = 0.0
        self.peaks: dict[str, int] = {}
        """Check id -> the reference's peak resident memory on it, where it was measured."""

    @functools.cache  # noqa: B019 - one ExpectedValues per grading; the data files do not change during it
    def folder(self, check: Check) -> Path:
        """Where a check's values live. A check that reads data sets is keyed by them as well
        (their files' names and sizes), so values from one data root never serve another."""
        if not check.data or self.config.data_root is None:
            return self.root / check.id
        digest = hashlib.sha256()
        for name in check.data:
            base = dataset_folder(self.config.data_root, name)
            for path in sorted(base.rglob("*")) if base is not None else ():
                if path.is_file():
                    digest.update(f"{path.relative_to(base)}\0{path.stat().st_size}\0".encode())
        return self.root / f"{check.id}-{digest.hexdigest()[:12]}"

    def _load(self, check: Check) -> dict[str, Any] | None:
        folder = self.folder(check)
        if not (folder / "manifest.json").is_file():
            return None
        if (folder / _PEAK).is_file():
            self.peaks[check.id] = json.loads((folder / _PEAK).read_text())["resident_bytes"]
        return load_outputs(folder)

    def available(self, check: Check) -> bool:
        """Whether this installation can produce the check's expected values: cached, or computable
        from the reference (a student's bundle has neither for the checks it does not ship)."""
        return (not check.needs_expected or (self.folder(check) / "manifest.json").is_file()
                or (self.config.reference_root / self.assignment.id).is_dir())

    def cached(self, checks: list[Check]) -> bool:
        return all(not c.needs_expected or (self.folder(c) / "manifest.json").is_file() for c in checks)

    def get(self, checks: list[Check]) -> dict[str, dict[str, Any] | Fault]:
        """Expected outputs for `checks`, computing the missing ones in one trusted worker."""
        start = time.perf_counter()
        values: dict[str, dict[str, Any] | Fault] = {}
        missing = []
        for check in checks:
            if not check.needs_expected:  # a static check, or a judge that reads nothing of the reference
                values[check.id] = {}
                continue
            loaded = self._load(check)
            if loaded is None:
                missing.append(check)
            else:
                values[check.id] = loaded
        if missing:
            values.update(self._compute(missing))
        self.seconds += time.perf_counter() - start
        return values

    def _compute(self, checks: list[Check]) -> dict[str, dict[str, Any] | Fault]:
        source = self.config.reference_root / self.assignment.id
        if not source.is_dir():  # a student's bundle: only what was shipped can be checked
            return {c.id: faults.harness_fault(
                "its expected values are not part of this installation (no cached values, no reference "
                f"solutions at {source}); it runs on the course's grader") for c in checks}
        computed: dict[str, dict[str, Any] | Fault] = {}
        with tempfile.TemporaryDirectory(prefix="autograder-expected-") as tmp:
            scratch = Path(tmp)
            folder = scratch / "reference"
            shutil.copytree(source, folder, ignore=shutil.ignore_patterns("__pycache__"))
            session = WorkerSession(folder, scratch, self.config, assignment=self.assignment.id, trusted=True)
            try:
                for check in checks:
                    problem = self.assignment.problem_of(check)
                    absent = missing_data(check, self.config)
                    result = faults.harness_fault(absent) if absent else session.ensure_imported(problem.files)
                    if result is None:
                        result = session.run(check, "expected", problem.files[0])
                        if not isinstance(result, Fault):
                            self._store(check, result.outputs, result.peak_bytes)
                            self.peaks[check.id] = result.peak_bytes
                            result = result.outputs
                    computed[check.id] = result
            finally:
                session.close()
        return computed

    def _store(self, check: Check, outputs: dict[str, Any], peak_bytes: int) -> None:
        target = self.folder(check)
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{check.id}-"))
        save_outputs(outputs, staging)
        (staging / _PEAK).write_text(json.dumps({"resident_bytes": peak_bytes}))
        try:
            staging.rename(target)
        except OSError:  # another run stored it first: theirs is identical
            shutil.rmtree(staging, ignore_errors=True)
