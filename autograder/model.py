"""Declarations: what an assignment, a problem and a check are.

A check is declared once, in its assignment's problem module, with its points and visibility.
It has two halves that never share a process:

- ``run(subject) -> SomeRecord`` runs in the sandboxed worker. It calls the student's code on fixed
  inputs and returns its outputs as the check's record (:class:`autograder.records.Record`: numpy
  arrays and JSON values in typed fields), named by its return annotation.
- ``judge(got, expected, check)`` runs in the trusted parent. It reads the records' fields, compares
  them with the expected values and returns a :class:`Verdict`.

The expected values come from ``expected(subject)`` run on the reference (by default the same
function as ``run``), in a trusted worker, once, and are cached on disk.

A *static* check has no halves: ``static(sources, check)`` reads the student's source text in the
parent (for example to ban an import on the AST) and executes nothing.
"""

from __future__ import annotations

import ast
import enum
import functools
import inspect
import math
import re
import textwrap
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from autograder.inputs import InputSet
from autograder.records import Record, rebuild, returned_record
from autograder.results import Feedback

Outputs = Mapping[str, Any]
"""What a check's student half returns where it names no record: names mapped to numpy arrays or
JSON values (the older form; a record is checked on arrival and read by attribute)."""

_CHECK_ID = re.compile(r"^[a-z0-9_]+(\.[a-z0-9_]+)+$")


class Visibility(str, enum.Enum):
    """Gradescope's visibility settings for a test."""

    visible = "visible"
    hidden = "hidden"
    after_due_date = "after_due_date"
    after_published = "after_published"


class Verdict(BaseModel):
    """What a judge decides: the fraction of the check's points earned, and why."""

    model_config = ConfigDict(frozen=True)

    fraction: float = Field(ge=0.0, le=1.0, description="Share of the check's points earned.")
    feedback: Feedback = Field(description="What the student reads about this check.")

    @classmethod
    def passed(cls, summary: str, **feedback: Any) -> Verdict:
        return cls(fraction=1.0, feedback=Feedback(summary=summary, **feedback))

    @classmethod
    def failed(cls, summary: str, **feedback: Any) -> Verdict:
        return cls(fraction=0.0, feedback=Feedback(summary=summary, **feedback))


Judge = Callable[[Outputs, Outputs, "Check"], Verdict]


class Check(BaseModel):
    """One graded claim about a submission, declared in one place."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    id: str = Field(description="Dotted id, problem first, for example 'p1.backward.handout_seed'.")
    claim: str = Field(description="The property, as a sentence a student reads ('backward ...').")
    points: float = Field(gt=0, description="Points for this check.")
    part: str = Field(description="The handout's sub-question, for example 'b'.")
    extra_credit: bool = Field(False, description="Points earned on top of the problem's maximum, never lost.")
    visibility: Visibility = Field(Visibility.visible, description="Gradescope visibility.")
    timeout: float = Field(30.0, gt=0, description="Seconds the student half may run.")
    run: Callable[[Any], Outputs] | None = Field(None, description="Student half, run in the sandbox.")
    judge: Callable[..., Verdict] | None = Field(None, description="Judge half, run in the trusted parent.")
    expected: Callable[[Any], Outputs] | None = Field(
        None, description="Trusted half run on the reference; defaults to `run`."
    )
    static: Callable[[Mapping[str, str], Check], Verdict] | None = Field(
        None, description="For checks of the source text only: judges {file name: source}; runs nothing."
    )
    artifacts: tuple[str, ...] = Field(
        (), description="Files besides the problem's modules that this check needs (checkpoints, e.g. 'a4_c.pt')."
    )
    optional_artifacts: tuple[str, ...] = Field(
        (), description="Files staged when present, whose absence the check itself judges (e.g. two of three "
                        "checkpoints suffice)."
    )
    data: tuple[str, ...] = Field(
        (), description="Data sets (folders under the data root) that this check's trusted side and input sets "
                        "read, e.g. ('mnist',)."
    )
    inputs: tuple[InputSet, ...] = Field(
        (), description="Input sets the parent loads from the data sets and hands to the student half "
                        "(`subject.inputs(name)`): the worker never reads the data root itself."
    )

    @model_validator(mode="after")
    def _one_kind(self) -> Check:
        halves = self.run is not None and self.judge is not None
        if (self.static is not None) != halves:
            return self
        raise ValueError(f"check {self.id!r} needs either `static`, or both `run` and `judge`")

    @model_validator(mode="after")
    def _inputs_declare_their_data(self) -> Check:
        undeclared = sorted({i.dataset for i in self.inputs} - set(self.data))
        if undeclared:
            raise ValueError(f"check {self.id!r} has inputs from {undeclared}, which its `data` does not declare")
        return self

    @model_validator(mode="after")
    def _records_resolve(self) -> Check:
        # Read now, at declaration: an annotation naming an undefined class fails the import of the
        # problem module, not every grading.
        _ = self.record, self.expected_record
        return self

    @field_validator("id")
    @classmethod
    def _dotted(cls, value: str) -> str:
        if not _CHECK_ID.match(value):
            raise ValueError(f"check id {value!r} must be dotted lowercase words, like 'p1.forward.values'")
        return value

    @property
    def problem_id(self) -> str:
        return self.id.split(".", 1)[0]

    @property
    def reveals_expected(self) -> bool:
        """Only a visible check may show the expected values in its feedback."""
        return self.visibility is Visibility.visible

    def expected_half(self) -> Callable[[Any], Outputs]:
        return self.expected or self.run

    # Properties, not cached on the instance: a copy with another half (`model_copy(update=...)`)
    # must not keep the record or the reading of the half it replaced. The functions they call cache
    # by function.
    @property
    def record(self) -> type[Record] | None:
        """The record the student half returns (its return annotation); None for a plain dict."""
        return returned_record(self.run)

    @property
    def expected_record(self) -> type[Record] | None:
        """The record the trusted half returns on the reference (the student half's, by default)."""
        return returned_record(self.expected_half())

    def read(self, outputs: Mapping[str, Any], half: str) -> Record | Mapping[str, Any]:
        """Outputs of `half` ('run' or 'expected') as they came over the transport or from the
        cache, as the judge reads them: its record, validated, where it declares one.
        Raises `RecordError` for outputs that do not fit."""
        record = self.record if half == "run" else self.expected_record
        return outputs if record is None else rebuild(record, outputs, guarded=half == "run")

    @property
    def needs_expected(self) -> bool:
        """Whether the judge reads its `expected` argument (read off its source). A check whose judge
        does not is never run on the reference: nothing computed, cached or shipped for it, and no
        fault of the reference there can cost a student anything."""
        return self.judge is not None and _reads_argument(self.judge, 1)


@functools.cache
def _reads_argument(function: Callable, index: int) -> bool:
    """Whether `function` reads its positional parameter `index` (by name, anywhere in its body,
    nested functions included). True whenever its source cannot be read, or is a lambda's (whose
    source is the whole statement, among other lambdas): the safe answer."""
    if getattr(function, "__name__", "<lambda>") == "<lambda>":
        return True
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(function)))
    except (OSError, TypeError, SyntaxError):
        return True
    definition = next((n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)), None)
    parameters = definition.args.posonlyargs + definition.args.args if definition else []
    if len(parameters) <= index:
        return True
    name = parameters[index].arg
    return any(isinstance(n, ast.Name) and n.id == name and isinstance(n.ctx, ast.Load) for n in ast.walk(definition))


class Problem(BaseModel):
    """A code problem of the handout: the files it is graded from and its checks."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    id: str = Field(description="Short id used as the first part of every check id, e.g. 'p1'.")
    title: str = Field(description="The handout's title of the problem.")
    files: tuple[str, ...] = Field(description="Student files the problem is graded from; the first holds its functions.")
    checks: tuple[Check, ...] = Field(description="Checks, in the order they run and are reported.")
    parts: Mapping[str, Annotated[float, Field(ge=0)]] = Field(
        description="The handout's points for the code this problem grades, by part letter (written parts, "
                    "graded by hand, are left out). The part's checks share exactly these points; its extra "
                    "credit comes on top (a part of extra credit only is declared with 0)."
    )
    provided: tuple[str, ...] = Field(
        (), description="Starter files the handout provides (e.g. util.py): the grader stages its own trusted "
                        "copies from `provided_dir`, whatever the student uploaded, so that imports of them work."
    )
    provided_dir: Path | None = Field(None, description="Folder of the grader's trusted copies of `provided`.")

    @property
    def module(self) -> str:
        return self.files[0].removesuffix(".py")

    @property
    def wanted_files(self) -> set[str]:
        return set(self.files).union(*(c.artifacts + c.optional_artifacts for c in self.checks))

    @property
    def points(self) -> float:
        """The problem's maximum: its checks' points, extra credit aside (as a grade counts them)."""
        return sum(c.points for c in self.checks if not c.extra_credit)

    @property
    def extra_credit(self) -> float:
        return sum(c.points for c in self.checks if c.extra_credit)

    @model_validator(mode="after")
    def _provided_exist(self) -> Problem:
        missing = [f for f in self.provided if self.provided_dir is None or not (self.provided_dir / f).is_file()]
        if missing:
            raise ValueError(f"problem {self.id!r}: provided files {missing} are not in {self.provided_dir}")
        return self

    @model_validator(mode="after")
    def _checks_share_the_handouts_points(self) -> Problem:
        undeclared = sorted({c.part for c in self.checks} - set(self.parts))
        if undeclared:
            raise ValueError(f"problem {self.id!r}: checks of parts {undeclared}, which `parts` does not declare "
                             f"(declared: {sorted(self.parts)})")
        for part, declared in self.parts.items():
            checks = [c for c in self.checks if c.part == part and not c.extra_credit]
            summed = sum(c.points for c in checks)
            if not math.isclose(summed, declared, rel_tol=0, abs_tol=1e-9):
                listed = ", ".join(f"{c.id} {c.points:g}" for c in checks) or "none"
                raise ValueError(f"problem {self.id!r}, part {part!r}: the handout's points are {declared:g}, its "
                                 f"checks' (extra credit aside) sum to {summed:g}: {listed}")
        return self

    @model_validator(mode="after")
    def _checks_belong_here(self) -> Problem:
        strays = [c.id for c in self.checks if c.problem_id != self.id]
        if strays:
            raise ValueError(f"checks {strays} do not start with the problem id {self.id!r}")
        return self


class Assignment(BaseModel):
    """An assignment: its problems, in handout order."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    id: str = Field(description="The id used on the command line, e.g. 'umn-csci5527-hw3'.")
    title: str = Field(description="Course and homework, as the handout names them.")
    problems: tuple[Problem, ...] = Field(description="Problems graded by the autograder.")

    @model_validator(mode="after")
    def _unique_check_ids(self) -> Assignment:
        ids = [c.id for p in self.problems for c in p.checks]
        repeated = sorted({i for i in ids if ids.count(i) > 1})
        if repeated:
            raise ValueError(f"check ids declared twice: {repeated}")
        return self

    @model_validator(mode="after")
    def _input_sets_named_once(self) -> Assignment:
        # A grading prepares each input set once, under its name, for every check that declares it.
        named: dict[str, InputSet] = {}
        for input_set in (i for c in self.checks for i in c.inputs):
            if named.setdefault(input_set.name, input_set) is not input_set:
                raise ValueError(f"two different input sets are named {input_set.name!r}")
        return self

    @property
    def checks(self) -> list[Check]:
        return [c for p in self.problems for c in p.checks]

    @property
    def points(self) -> float:
        return sum(p.points for p in self.problems)

    @property
    def extra_credit(self) -> float:
        return sum(p.extra_credit for p in self.problems)

    def problem_of(self, check: Check) -> Problem:
        return next(p for p in self.problems if p.id == check.problem_id)

    def check(self, check_id: str) -> Check:
        for c in self.checks:
            if c.id == check_id:
                return c
        raise KeyError(check_id)
