"""The one typed configuration of a grading run."""

from __future__ import annotations

import importlib.metadata
import os
import tomllib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from autograder import CONTAINER_MB, WORKER_THREADS  # noqa: F401 - the grader reads CONTAINER_MB here

PACKAGE_DIR = Path(__file__).resolve().parent
REPO_ROOT = PACKAGE_DIR.parent

CONTENT = ("reports", "reference", "student_template")
"""The repository's top-level folders the engine reads: installed as package data under
`autograder/_content/`, read from the checkout itself otherwise."""


def content_dir(name: str) -> Path:
    """Where `reports/`, `reference/` or `student_template/` is, in a checkout or an installed wheel."""
    if name not in CONTENT:
        raise ValueError(f"{name!r} is not one of the engine's content folders {CONTENT}")
    installed = PACKAGE_DIR / "_content" / name
    return installed if installed.is_dir() else REPO_ROOT / name


DISTRIBUTION = "dl-autograder"


def engine_dependencies() -> list[str]:
    """The engine's runtime requirements (no extras): from the checkout's pyproject.toml, or from the
    installed distribution's metadata where there is no checkout (a wheel) or where an editable
    install's metadata may be older than the file."""
    project = REPO_ROOT / "pyproject.toml"
    if project.is_file():
        return list(tomllib.loads(project.read_text())["project"]["dependencies"])
    return [r for r in importlib.metadata.requires(DISTRIBUTION) or [] if "extra ==" not in r]


def engine_files() -> list[Path]:
    """The engine's own files, relative to PACKAGE_DIR, for a zip that ships the engine: no bytecode,
    and no `_content/`, which in an installed wheel holds every assignment's reference."""
    relative = (path.relative_to(PACKAGE_DIR) for path in PACKAGE_DIR.rglob("*") if path.is_file())
    return sorted(r for r in relative if r.parts[0] != "_content" and "__pycache__" not in r.parts)


def _env_path(name: str) -> Path | None:
    value = os.environ.get(name)
    return Path(value) if value else None


def _shipped_cache() -> Path | None:
    """The `cache/` beside the engine in a student's bundle (or a checkout). An installed wheel's
    parent is site-packages, whose `cache/`, if any, is not ours."""
    shipped = REPO_ROOT / "cache"
    return shipped if shipped.is_dir() and not (PACKAGE_DIR / "_content").is_dir() else None


class GradingConfig(BaseModel):
    """Settings of one grading run. Unknown keys are an error that lists the valid ones."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)

    data_root: Path | None = Field(
        default_factory=lambda: _env_path("AUTOGRADER_DATA_ROOT"),
        description="Folder with the real data sets (env AUTOGRADER_DATA_ROOT); checks that need data say so when it is missing.",
    )
    cache_dir: Path = Field(
        default_factory=lambda: _env_path("AUTOGRADER_CACHE") or _shipped_cache() or Path.home() / ".cache" / "dl-autograder",
        description="Where expected values computed from the reference are cached (env AUTOGRADER_CACHE); "
                    "a Gradescope zip or a student bundle ships its own `cache/`.",
    )
    reference_root: Path = Field(
        default_factory=lambda: content_dir("reference"), description="Folder holding reference/<assignment>/ solutions."
    )
    visible_only: bool = Field(False, description="Grade only the checks visible to students (the self-check).")
    problems: tuple[str, ...] | None = Field(None, description="Grade only these problem ids (default: all).")
    timeout_scale: float = Field(1.0, gt=0, description="Multiplies every check's timeout (slow machines).")
    import_timeout: float = Field(60.0, gt=0, description="Seconds a student module may take to import.")
    start_timeout: float = Field(120.0, gt=0, description="Seconds the worker may take to start (torch import).")
    memory_limit_mb: int | None = Field(
        8192, ge=256, description="Address-space limit of the worker in MiB (RLIMIT_AS); None for no limit."
    )
    resident_limit_mb: int | None = Field(
        2048, ge=128, description="Resident memory of the worker and its children, in MiB, above which the "
                                  "worker is stopped; on Gradescope's 768 MB container use 600."
    )
    threads: int = Field(WORKER_THREADS, ge=1,
                         description="Torch and BLAS threads in the worker (fixed for determinism).")
    cpu_limit_s: int = Field(900, ge=10, description="CPU seconds one worker may use in all (RLIMIT_CPU).")
    disk_limit_mb: int = Field(1024, ge=16, description="Disk the student's code may fill (its folders and, as "
                                                         "root, its files in /tmp), in MiB.")
    time_budget_s: float | None = Field(
        None, gt=0, description="Seconds for the whole submission; default: the sum of the selected checks' "
                                "limits and one import per module, times timeout_scale.")
    notebook_top_level: Literal["skip", "run"] = Field(
        "skip", description="Top-level code of notebook submissions: 'skip' keeps only imports, functions, "
                            "classes and constants; 'run' runs it all at import, under the import time limit."
    )
    namespaces: bool = Field(
        True, description="With isolation, also the second layer where the platform allows it: no network, and "
                          "private /tmp, /var/tmp and /dev/shm (Linux namespaces)."
    )
    isolate: bool = Field(
        True, description="As root: run student code as an unprivileged user without network, and keep the "
                          "reference and expected values unreadable to it."
    )

    @field_validator("data_root", "cache_dir", "reference_root")
    @classmethod
    def _absolute(cls, path: Path | None) -> Path | None:
        """Paths as absolute: the worker runs in a folder of its own, where a relative path
        (`AUTOGRADER_DATA_ROOT=../shared/data`) would point elsewhere."""
        return None if path is None else Path(path).absolute()

    @classmethod
    def from_options(cls, **options: object) -> GradingConfig:
        """Build from CLI options, dropping the ones not given."""
        return cls(**{k: v for k, v in options.items() if v is not None})


def config_errors(exc: ValidationError) -> str:
    """All bad keys at once, each with what was wrong and the valid keys."""
    valid = ", ".join(GradingConfig.model_fields)
    lines = [f"- {'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()]
    return "Invalid configuration:\n" + "\n".join(lines) + f"\nValid settings: {valid}."
