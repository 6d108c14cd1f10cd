"""Grading a whole class: every submission under a folder, a gradebook, a class summary.

Each entry of the folder (a sub-folder, a .zip, an .ipynb or a .py) is one student's submission,
named by the entry. Up to `jobs` submissions are graded at once, each with its own worker and its
own uid, as isolated from each other as gradings one after another; a failure of one never stops
the others. A batch run again on the same output folder keeps each report whose submission, checks,
reference and settings are unchanged (its key, `.grading-key`, says so), so an interrupted batch
picks up where it stopped.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import tempfile
import zipfile
import os
import statistics
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

import yaml
from pydantic import BaseModel, Field

from autograder import __version__, forkserver
from autograder.config import GradingConfig
from autograder.expected import fingerprint
from autograder.isolation import keep_private
from autograder.model import Assignment
from autograder.results import Grade
from autograder.runner import compute_expected, failed_grade, grade_safely, selected_checks
from autograder.text import printable
from autograder.writers import printable_json, write_gradescope, write_html, write_summary
from autograder.writers.class_report import write_class_report

_SUBMISSION_SUFFIXES = {".zip", ".ipynb", ".py"}


class ScoreChange(BaseModel):
    """A student whose grade moved since the last run of the batch on the same output folder."""

    student: str
    before: float
    after: float
    checks: dict[str, tuple[float, float]] = Field(description="Check id -> (score before, score after), the moved ones.")


class Submitter(BaseModel):
    """A student named by Gradescope's export (`submission_metadata.yml`)."""

    name: str = ""
    email: str = ""
    sid: str = ""


class ClassSummary(BaseModel):
    assignment: str
    submissions: int
    max_score: float
    mean: float
    median: float
    full_marks: int
    harness_errors: list[str] = Field(description="Students whose grading the grader itself failed, wholly or on "
                                                  "a check: regraded by the next run (exit code 3).")
    check_pass_rates: dict[str, float]
    changed: list[ScoreChange] = Field(default_factory=list,
                                       description="Grades that moved since the last run on this output folder.")


_RESERVED = {"gradebook.csv", "class_summary.json", "class_report.html"}
"""Names of the class-level outputs: no student's folder may take them."""
SCHEDULER_TIMEOUT_S = 10
ROSTER_FILE = "submission_metadata.yml"
"""Gradescope's export: who submitted each `submission_<id>/` folder."""
KEY_FILE = ".grading-key"
"""In a student's report folder: what the reports there were graded from."""

Progress = Callable[[str, Grade, bool], None]
"""Called as each submission is done: its student, its grade, and whether it was graded now (False:
its reports were kept from an earlier run)."""


def submissions_in(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir()
                  if not p.name.startswith(".") and not p.is_symlink()
                  and (p.is_dir() or p.suffix in _SUBMISSION_SUFFIXES))


def student_names(submissions: list[Path]) -> dict[Path, str]:
    """A distinct, printable name per submission, also its report folder's name: `alice/` and
    `alice.zip` become `alice` and `alice.zip`; a name that is not valid UTF-8 keeps its readable
    part; no student takes the name of a class-level output."""
    names: dict[Path, str] = {}
    taken = set(_RESERVED)
    for submission in submissions:
        full = _safe(submission.name)
        short = _safe(submission.stem) if submission.is_file() else full
        name = next(n for n in (short, full, *(f"{full}-{i}" for i in range(2, len(submissions) + 2)))
                    if n not in taken)
        taken.add(name)
        names[submission] = name
    return names


def _safe(name: str) -> str:
    readable = name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    cleaned = "".join(c if c.isalnum() or c in "._-@+" else "_" for c in readable).strip(".")
    return cleaned or "submission"


def grade_class(folder: Path, assignment: Assignment, config: GradingConfig, out: Path,
                progress: Progress | None = None, *, jobs: int = 1, scheduler: str | None = None) -> ClassSummary:
    """Grade every submission in `folder` into `out`, `jobs` at a time on this machine, or on the
    Dask cluster whose scheduler is at `scheduler` (as many at a time as it has worker threads)."""
    out.mkdir(parents=True, exist_ok=True)
    # As root, the class's uploads and reports are closed to every grading's uid: one student's
    # code must not read another's work.
    keep_private(folder, out)
    roster = gradescope_roster(folder)
    students = student_names(submissions_in(folder))
    settings = grading_settings(assignment, config)

    def one(submission: Path, student: str) -> tuple[Grade, bool, ScoreChange | None]:
        target = out / student
        key = f"{settings}\n{content_digest(submission)}\n"
        before = _kept_grade(target)
        if before is not None and _key_of(target) == key:
            return before, False, None
        grade = grade_there(submission) if grade_there else grade_safely(submission, assignment, config)
        target.mkdir(exist_ok=True)
        (target / KEY_FILE).unlink(missing_ok=True)  # until the reports are whole, they are not kept
        write_gradescope(grade, target / "results.json")
        write_html(grade, target / "report.html")
        write_summary(grade, target / "summary.json")
        if not grade.grader_failed:
            (target / KEY_FILE).write_text(key, encoding="utf-8")
        return grade, True, score_change(student, before, grade) if before else None

    grades: dict[str, Grade] = {}
    changed: dict[str, ScoreChange] = {}
    cluster = cluster_grader(scheduler, assignment, config) if scheduler else contextlib.nullcontext((None, jobs))
    with (forkserver.held(assignment.id, config.threads, between_forks=True),
          cluster as (grade_there, at_once), ThreadPoolExecutor(at_once, thread_name_prefix="grading") as pool):
        if not scheduler:  # a cluster's workers compute theirs, each on its own machine
            compute_expected(assignment, config)
        running = {pool.submit(one, submission, student): student for submission, student in students.items()}
        for done in as_completed(running):
            grade, graded, change = done.result()
            grades[running[done]] = grade
            if change:
                changed[running[done]] = change
            if progress:
                progress(running[done], grade, graded)
    order = list(students.values())  # the folder's
    grades = {student: grades[student] for student in order}
    checks = selected_checks(assignment, config)
    problems = list(dict.fromkeys(c.problem_id for c in checks))
    _write_gradebook(grades, problems, [c.id for c in checks], out / "gradebook.csv", roster)
    summary = _summarise(assignment, grades)
    summary.changed = [changed[s] for s in order if s in changed]
    (out / "class_summary.json").write_text(printable_json(summary), encoding="utf-8")
    write_class_report(assignment.title, assignment.id, grades, out / "class_report.html")
    return summary


def score_change(student: str, before: Grade, after: Grade) -> ScoreChange | None:
    """What moved between two grades of one student; None when nothing did."""
    old = {c.id: c.score for c in before.checks}
    new = {c.id: c.score for c in after.checks}
    moved = {i: (old.get(i, 0.0), new.get(i, 0.0)) for i in sorted(old.keys() | new.keys())
             if old.get(i, 0.0) != new.get(i, 0.0)}
    if not moved:  # a grade's score is the sum of its checks'
        return None
    return ScoreChange(student=student, before=before.score, after=after.score, checks=moved)


def gradescope_roster(folder: Path) -> dict[str, list[Submitter]]:
    """Submission folder -> its submitters, from Gradescope's "Export Submissions" layout
    (`submission_metadata.yml` beside `submission_<id>/` folders); {} for a plain folder."""
    path = folder / ROSTER_FILE
    if not path.is_file():
        return {}
    try:
        metadata = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise BatchInputError(f"{path} is not readable YAML: {exc}") from None
    if not isinstance(metadata, dict):
        raise BatchInputError(f"{path} should map each submission folder to its submitters, as Gradescope's "
                              f"export writes it; it holds a {type(metadata).__name__}.")
    roster = {}
    for submission, meta in metadata.items():
        people = meta.get(":submitters") if isinstance(meta, dict) else None
        if not isinstance(people, list) or not all(isinstance(p, dict) for p in people):
            raise BatchInputError(f"{path}: {submission!s} has no list of ':submitters' (each with ':name', "
                                  f"':email', ':sid'), as Gradescope's export writes it.")
        roster[str(submission)] = [Submitter(name=str(p.get(":name") or ""), email=str(p.get(":email") or ""),
                                             sid=str(p.get(":sid") or "")) for p in people]
    return roster


class BatchInputError(ValueError):
    """The class folder cannot be graded as given; the message says why."""


@contextlib.contextmanager
def cluster_grader(scheduler: str, assignment: Assignment, config: GradingConfig):
    """(grade, how many at once) on a Dask cluster. Each task carries one submission's bytes to a
    worker, which grades it with its own sandbox, its machine's reference, expected-value cache and
    data root (each worker machine has the project installed and its data set up, as for `grade`),
    and the batch's settings; the Grade comes back here, where the reports are written."""
    try:
        from distributed import Client
    except ImportError:
        raise BatchInputError("--scheduler needs Dask's `distributed` package: "
                              "pip install 'dl-autograder[cluster]'") from None
    settings = config.model_dump(mode="json", exclude={"cache_dir", "data_root", "reference_root"})
    try:
        client = Client(scheduler, timeout=SCHEDULER_TIMEOUT_S)
    except (OSError, ValueError) as exc:
        raise BatchInputError(f"no Dask scheduler answered at {scheduler} within {SCHEDULER_TIMEOUT_S} s ({exc}); "
                              "start one with `dask scheduler` and its workers with `dask worker ADDRESS`") from None
    with client:
        threads = sum(client.nthreads().values())
        if not threads:
            raise BatchInputError(f"the Dask scheduler at {scheduler} has no workers")

        def grade_there(submission: Path) -> Grade:
            name, packed = pack_submission(submission)
            future = client.submit(grade_packed, name, packed, assignment.id, settings, pure=False)
            try:
                return Grade.model_validate_json(future.result())
            except Exception as exc:  # noqa: BLE001 - a lost worker costs this submission a regrade, no more
                return failed_grade(submission, assignment, f"its Dask task failed ({type(exc).__name__}: {exc}); "
                                                            "run the batch again to regrade it")

        yield grade_there, threads


def pack_submission(submission: Path) -> tuple[str, bytes]:
    """A submission as one file to send: a folder zipped (its regular files; links are not
    followed, as staging would not follow them), a file as it is."""
    if submission.is_file():
        return submission.name, submission.read_bytes()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for top, _, names in os.walk(submission):
            for name in names:
                path = Path(top) / name
                if path.is_file() and not path.is_symlink():
                    archive.write(path, path.relative_to(submission).as_posix())
    return f"{submission.name}.zip", buffer.getvalue()


def grade_packed(name: str, packed: bytes, assignment_id: str, settings: dict) -> str:
    """On a cluster's worker: grade one packed submission as `grade` would here; the Grade as JSON."""
    from autograder.assignments import load_assignment

    config = GradingConfig(**settings)
    forkserver.keep(assignment_id, config.threads)  # this worker grades task after task: fork them all from one
    with tempfile.TemporaryDirectory(prefix="autograder-task-") as tmp:
        submission = Path(tmp) / Path(name).name
        submission.write_bytes(packed)
        grade = grade_safely(submission, load_assignment(assignment_id), config)
        grade.submission = name
        return grade.model_dump_json()


def grading_settings(assignment: Assignment, config: GradingConfig) -> str:
    """What every grade of this batch depends on besides the submission: the engine, the checks and
    the reference (the expected values' key), and the settings, down to the data root's path."""
    chosen = config.model_dump_json(exclude={"cache_dir"})
    return f"autograder {__version__}\n{fingerprint(assignment, config)}\n{chosen}"


def content_digest(submission: Path) -> str:
    """A hash of the submission's files, names and bytes; links are not followed (they are not
    graded either)."""
    digest = hashlib.sha256()
    if submission.is_file():
        files = [(submission.name, submission)]
    else:
        files = sorted((os.path.relpath(os.path.join(top, name), submission), Path(top) / name)
                       for top, _, names in os.walk(submission) for name in names)
    for name, path in files:
        if path.is_symlink() or not path.is_file():
            continue
        digest.update(name.encode("utf-8", "surrogateescape") + b"\0")
        with open(path, "rb") as f:
            while chunk := f.read(1 << 20):
                digest.update(chunk)
        digest.update(b"\0")
    return digest.hexdigest()


def _kept_grade(target: Path) -> Grade | None:
    """The grade of an earlier run into `target`, if any."""
    try:
        return Grade.model_validate_json((target / "summary.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _key_of(target: Path) -> str | None:
    """What the kept reports in `target` were graded from (written only once they were whole)."""
    try:
        return (target / KEY_FILE).read_text(encoding="utf-8")
    except (OSError, ValueError):
        return None


def _write_gradebook(grades: dict[str, Grade], problems: list[str], checks: list[str], path: Path,
                     roster: dict[str, list[Submitter]]) -> None:
    """One row per student: the total, each problem, each check; a column says if grading failed.
    From Gradescope's export, one row per submitter (a group's members each get the group's grade),
    with the name, email and SID that Gradescope's and Canvas's imports match on.

    Student names are the names of the upload's entries: printable, so that a non-UTF-8 name cannot
    stop the gradebook from being written."""
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        who = ["name", "email", "sid"] if roster else []
        writer.writerow(["student", *who, "score", "max_score", *problems, *checks, "autograder_error"])
        for student, grade in grades.items():
            by_problem = {p.id: p.score for p in grade.problems}
            by_check = {c.id: c.score for c in grade.checks}
            scores = [grade.score, grade.max_score, *(by_problem.get(p, "") for p in problems),
                      *(by_check.get(c, "") for c in checks),
                      "yes" if grade.grader_failed else ""]
            people = roster.get(student, [Submitter()]) if roster else [None]
            for person in people:
                names = [_cell(person.name), _cell(person.email), _cell(person.sid)] if person else []
                writer.writerow([_cell(student), *names, *scores])


def _cell(text: str) -> str:
    """Printable, and never read as a formula by a spreadsheet (a name like `=HYPERLINK(...)`)."""
    text = printable(text)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _summarise(assignment: Assignment, grades: dict[str, Grade]) -> ClassSummary:
    scores = [g.score for g in grades.values()] or [0.0]
    rates: dict[str, float] = {}
    for grade in grades.values():
        for c in grade.checks:
            rates[c.id] = rates.get(c.id, 0.0) + (c.outcome.value == "passed") / len(grades)
    return ClassSummary(
        assignment=assignment.id, submissions=len(grades),
        max_score=max((g.max_score for g in grades.values()), default=0.0),
        mean=round(statistics.fmean(scores), 4), median=statistics.median(scores),
        full_marks=sum(g.full_marks for g in grades.values()),
        harness_errors=[s for s, g in grades.items() if g.grader_failed],
        check_pass_rates={k: round(v, 4) for k, v in rates.items()},
    )
