"""Results: typed records of what grading found, with scores derived in one place."""

from __future__ import annotations

import enum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field


class ArrayReport(BaseModel):
    """Where two arrays disagree, in the shape feedback always takes for arrays."""

    model_config = ConfigDict(frozen=True)

    name: str = Field(description="What the array is, for example 'W3.g'.")
    expected_shape: tuple[int, ...] = Field(description="Shape of the expected array.")
    got_shape: tuple[int, ...] = Field(description="Shape of the returned array.")
    expected_dtype: str = Field(description="dtype of the expected array.")
    got_dtype: str = Field(description="dtype of the returned array.")
    mismatched: int = Field(0, description="Elements outside the tolerance.")
    total: int = Field(0, description="Elements compared.")
    max_abs_diff: float | None = Field(None, description="Largest absolute difference (visible checks only).")
    first_index: tuple[int, ...] | None = Field(None, description="First mismatching index, in C order.")
    got_value: float | None = Field(None, description="Returned value at first_index (visible checks only).")
    expected_value: float | None = Field(None, description="Expected value at first_index (visible checks only).")


MAX_TILES = 16
"""Pictures per row of a figure: the report stays a few hundred kilobytes at most."""
MAX_IMAGE_ROWS = 4
MAX_TABLE_ROWS = 30


class Tile(BaseModel):
    """One small picture: a PNG the judge drew from numbers (never markup from the student)."""

    model_config = ConfigDict(frozen=True)

    png: str = Field(pattern=r"^[A-Za-z0-9+/]+={0,2}$", max_length=1 << 16, description="The PNG, base64.")
    width: int = Field(gt=0, le=256, description="Width it is drawn at, in CSS pixels (a whole multiple of its own).")
    height: int = Field(gt=0, le=256, description="Height it is drawn at, in CSS pixels.")
    caption: str = Field("", description="A few words under it, e.g. 'predicted: cat' (escaped as text).")


class ImageRow(BaseModel):
    model_config = ConfigDict(frozen=True)

    label: str = Field(description="What the row shows, e.g. 'original' or 'your reconstruction'.")
    tiles: tuple[Tile, ...] = Field(max_length=MAX_TILES)


class ImageGrid(BaseModel):
    """Rows of small pictures side by side: originals above reconstructions, images before and after."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["images"] = "images"
    title: str
    rows: tuple[ImageRow, ...] = Field(max_length=MAX_IMAGE_ROWS)


class Table(BaseModel):
    """A small table of text, e.g. the top words of each topic."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["table"] = "table"
    title: str
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...] = Field(max_length=MAX_TABLE_ROWS)


Figure = Annotated[ImageGrid | Table, Field(discriminator="kind")]
"""A picture for the HTML report, built by `autograder.figures` in the judge."""


class Feedback(BaseModel):
    """What a student reads about one check: the rule, what came back, where, and a hint."""

    model_config = ConfigDict(frozen=True)

    summary: str = Field(description="One sentence: the outcome and the rule.")
    details: tuple[str, ...] = Field((), description="Expected, got and where, one line each.")
    arrays: tuple[ArrayReport, ...] = Field((), description="Array comparisons behind the verdict.")
    hint: str | None = Field(None, description="What to look at next.")
    figures: tuple[Figure, ...] = Field((), description="Pictures for the HTML report (visible checks only: the "
                                                        "runner removes them from any other).")


class Outcome(str, enum.Enum):
    """The closed set of outcomes of a check, decided in `runner`."""

    passed = "passed"  # full points
    partial = "partial"  # some points
    failed = "failed"  # the outputs were judged wrong
    error = "error"  # the student's code raised, or a name it needs is missing
    timeout = "timeout"  # the student half ran past its time limit
    crashed = "crashed"  # the worker process died (os._exit, a signal, out of memory)
    harness_error = "harness_error"  # the autograder itself failed: not the student's fault
    left_out = "left_out"  # cannot run on this machine (its data set is absent): out of the total, shown


class CheckResult(BaseModel):
    """The graded outcome of one check."""

    id: str
    problem: str
    part: str
    claim: str
    visibility: str
    outcome: Outcome
    score: float = Field(ge=0)
    max_score: float = Field(ge=0)
    feedback: Feedback
    seconds: float = Field(0.0, description="Wall time of the student half.")
    peak_mb: float = Field(0.0, description="Resident memory of the student's processes during the check, at its "
                                            "largest sample (MiB).")
    student_output: str = Field("", description="What the student's code printed during the check (truncated).")
    debug: str = Field("", description="A traceback for instructors; never shown to students.")
    extra_credit: bool = Field(False, description="Its points come on top of the maximum.")


class ProblemResult(BaseModel):
    id: str
    title: str
    files: tuple[str, ...]
    checks: list[CheckResult]

    @computed_field  # type: ignore[prop-decorator]
    @property
    def score(self) -> float:
        return round(sum(c.score for c in self.checks), 6)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def max_score(self) -> float:
        return round(sum(c.max_score for c in self.checks if not c.extra_credit), 6)


class Protection(BaseModel):
    """One protection of the sandbox, and whether it was in force for this grading."""

    name: str
    active: bool
    detail: str


class Timing(BaseModel):
    """Where the wall time of one grading went."""

    total: float = 0.0
    worker_start: float = Field(0.0, description="Starting workers (interpreter, torch import).")
    imports: float = Field(0.0, description="Importing the student's modules.")
    checks: float = Field(0.0, description="Inside the student halves.")
    expected: float = Field(0.0, description="Computing or loading expected values.")


class Grade(BaseModel):
    """Everything the writers need about one graded submission."""

    assignment: str
    title: str
    submission: str
    problems: list[ProblemResult]
    messages: list[str] = Field(default_factory=list, description="Notes about the whole submission.")
    harness_error: str | None = Field(None, description="Set when grading itself failed.")
    timing: Timing = Field(default_factory=Timing)
    protections: list[Protection] = Field(default_factory=list, description="What the student's code ran under.")
    autograder_version: str = ""

    @property
    def checks(self) -> list[CheckResult]:
        return [c for p in self.problems for c in p.checks]

    @computed_field  # type: ignore[prop-decorator]
    @property
    def score(self) -> float:
        return round(sum(p.score for p in self.problems), 6)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def max_score(self) -> float:
        return round(sum(p.max_score for p in self.problems), 6)

    @property
    def full_marks(self) -> bool:
        """Every check passed, extra credit aside."""
        return self.harness_error is None and all(
            c.outcome is Outcome.passed for c in self.checks if not c.extra_credit and c.outcome is not Outcome.left_out)

    @property
    def grader_failed(self) -> bool:
        """The grader itself failed on it, wholly or on a check: not the student's grade yet, to be
        graded again (a batch keeps no such report, and its exit code says so)."""
        return self.harness_error is not None or any(c.outcome is Outcome.harness_error for c in self.checks)

    @property
    def left_out(self) -> list[CheckResult]:
        return [c for c in self.checks if c.outcome is Outcome.left_out]
