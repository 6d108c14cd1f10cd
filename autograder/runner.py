"""Grading one submission: stage it, run the student halves in the sandbox, judge in this process."""

from __future__ import annotations

import tempfile
import time
import traceback
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from autograder import __version__, faults, forkserver, versions
from autograder.compare import redact, revealing
from autograder.config import GradingConfig
from autograder.expected import ExpectedValues, absent_dataset, missing_data
from autograder.faults import Fault
from autograder.isolation import keep_private
from autograder.model import Assignment, Check, Verdict, Visibility
from autograder.records import MissingEntry, RecordError
from autograder.notebooks import TopLevel
from autograder.results import CheckResult, Feedback, Grade, Outcome, ProblemResult, Timing
from autograder.session import Ran, WorkerSession
from autograder.submission import Staged, SubmissionUnreadable, stage

Progress = Callable[[CheckResult], None]
UNREADABLE = "The submission could not be read"
"""How a grade's message begins when the upload itself could not be unpacked (the class report counts them)."""


def selected_checks(assignment: Assignment, config: GradingConfig) -> list[Check]:
    unknown = set(config.problems or ()) - {p.id for p in assignment.problems}
    if unknown:
        raise ValueError(f"unknown problem {sorted(unknown)} for {assignment.id}; valid problems are: "
                         f"{', '.join(p.id for p in assignment.problems)}")
    return [c for c in assignment.checks
            if (not config.visible_only or c.visibility is Visibility.visible)
            and (config.problems is None or c.problem_id in config.problems)]


def _result(check: Check, outcome: Outcome, fraction: float, feedback, *, seconds: float = 0.0,
            printed: str = "", debug: str = "", peak_bytes: int = 0) -> CheckResult:
    return CheckResult(
        id=check.id, problem=check.problem_id, part=check.part, claim=check.claim,
        visibility=check.visibility.value, outcome=outcome,
        score=round(check.points * fraction, 6), max_score=check.points,
        feedback=feedback, seconds=seconds, student_output=printed, debug=debug, extra_credit=check.extra_credit,
        peak_mb=round(peak_bytes / 2**20, 1),
    )


def _left_out(check: Check, reason: str, self_check: bool) -> CheckResult:
    """A check this machine cannot run: shown, worth nothing either way, never the student's loss."""
    feedback = (Feedback(summary=f"Runs when you submit: {reason}. It counts neither for nor against you here.")
                if self_check else
                Feedback(summary=f"Not graded here: {reason}. This check counts neither for nor against you in "
                                 "this total.", hint="It runs on the course's grader, which has the data set."))
    return _result(check, Outcome.left_out, 0.0, feedback).model_copy(update={"max_score": 0.0})


def _cannot_run_here(checks: list[Check], config: GradingConfig, expected: ExpectedValues) -> dict[str, str]:
    """Check id -> why this machine cannot grade it. In a self-check (a student's bundle) that
    includes every check whose expected values were not shipped: they run on the course's grader."""
    if not config.visible_only:
        return {c.id: reason for c in checks if (reason := missing_data(c, config))}
    absent = {c.id: f"it needs the course's data set {name!r}" for c in checks
              if (name := absent_dataset(c, config))}
    absent.update({c.id: "its expected values are not part of this self-check" for c in checks
                   if c.id not in absent and not expected.available(c)})
    return absent


def _left_out_message(absent: dict[str, str], self_check: bool) -> str:
    if self_check:
        by_reason: dict[str, list[str]] = {}
        for check_id, reason in absent.items():
            by_reason.setdefault(reason, []).append(check_id)
        groups = "; ".join(f"{', '.join(ids)} ({reason.removeprefix('it ')})" for reason, ids in by_reason.items())
        return (f"{len(absent)} visible checks run when you submit, not here: {groups}. "
                "They count neither for nor against you in this total.")
    reasons = "; ".join(sorted(set(absent.values())))
    return (f"{len(absent)} checks were left out of the total because they cannot run on this machine "
            f"({reasons}): {', '.join(absent)}.")


def _hidden_message(assignment: Assignment, config: GradingConfig) -> str | None:
    """What a self-check does not run at all: said with the count and points, never the checks' names."""
    hidden = [c for c in assignment.checks if c.visibility is not Visibility.visible
              and (config.problems is None or c.problem_id in config.problems)]
    if not hidden:
        return None
    return (f"{len(hidden)} hidden checks ({sum(c.points for c in hidden):g} points) also run when you submit: "
            "passing every check here does not guarantee full marks.")


def _from_fault(check: Check, fault: Fault) -> CheckResult:
    return _result(check, fault.outcome, 0.0, fault.feedback, debug=fault.debug)


def _judge(check: Check, decide: Callable[[], Verdict], ran: Ran, expected: Mapping[str, Any] | None = None
           ) -> CheckResult:
    try:
        with revealing(check.reveals_expected):  # by the check's visibility, whatever the judge does
            verdict = decide()
        if not check.reveals_expected:
            verdict = verdict.model_copy(update={"feedback": redact(verdict.feedback, expected or {})})
    except MissingEntry as exc:  # the student's record lacks what its own half always builds: forged
        return _from_fault(check, faults.unreadable_outputs(f"the entry {exc.args[0]!r} that this check reads "
                                                            f"is missing from them"))
    except Exception:  # noqa: BLE001 - a judge bug must cost the student nothing but a regrade
        return _from_fault(check, faults.harness_fault("its judge raised an exception", traceback.format_exc()))
    if verdict.fraction >= 1.0:
        outcome = Outcome.passed
    elif verdict.fraction > 0.0:
        outcome = Outcome.partial
    else:
        outcome = Outcome.failed
    return _result(check, outcome, verdict.fraction, verdict.feedback, seconds=ran.seconds, printed=ran.printed,
                   peak_bytes=ran.peak_bytes)


def grade(submission: Path, assignment: Assignment, config: GradingConfig,
          progress: Progress | None = None, *, session_type: type[WorkerSession] = WorkerSession) -> Grade:
    with forkserver.held(assignment.id, config.threads):  # a batch holds it longer: its workers fork from one
        return _grade(submission, assignment, config, progress, session_type)


def _grade(submission: Path, assignment: Assignment, config: GradingConfig, progress: Progress | None,
           session_type: type[WorkerSession]) -> Grade:
    """Grade `submission` (a folder, a zip or a file) on every selected check of `assignment`.

    `session_type` runs the student halves: the sandboxed worker, or for the engine's own tests of
    judges, a stand-in with the same interface in the tests' process (tests/inprocess.py)."""
    start = time.perf_counter()
    checks = selected_checks(assignment, config)
    selected = {c.id for c in checks}
    grade = Grade(assignment=assignment.id, title=assignment.title, submission=str(submission),
                  problems=[], autograder_version=__version__)
    if differ := versions.mismatch(config.cache_dir / assignment.id):  # recorded where the values were computed
        grade.messages.append(differ)
    expected_values = ExpectedValues(assignment, config)
    absent = _cannot_run_here(checks, config, expected_values)
    if absent:
        grade.messages.append(_left_out_message(absent, config.visible_only))
    if config.visible_only and (hidden := _hidden_message(assignment, config)):
        grade.messages.append(hidden)
    runnable = [c for c in checks if c.id not in absent]

    with tempfile.TemporaryDirectory(prefix="autograder-") as tmp:
        scratch = Path(tmp)
        folder = scratch / "submission"
        folder.mkdir()
        # As root, closed to every grading's uid before any worker starts: held-out labels stay in the
        # data root, which only trusted code reads.
        private = keep_private(config.reference_root, config.cache_dir, config.data_root)
        session = session_type(folder, scratch, config, assignment=assignment.id)
        try:
            if expected_values.cached(runnable):
                session.prestart()  # torch imports in the worker while this process stages and loads
            expected = expected_values.get(runnable)
            staged = _stage(submission, assignment, folder, scratch, grade.messages, config.notebook_top_level)
            if staged is not None:
                session.locate = staged.locate
                session.staged = {p.name for p in folder.iterdir()}
            # From here on the time is the submission's (computing expected values is not).
            session.set_budget(time_budget(checks, assignment, config))
            for problem in (p for p in assignment.problems if config.problems is None or p.id in config.problems):
                session.lighten()
                results = []
                for check in (c for c in problem.checks if c.id in selected):
                    result = (_left_out(check, absent[check.id], config.visible_only) if check.id in absent else
                              _grade_check(check, problem.files, staged, session, expected[check.id],
                                           expected_values.peaks.get(check.id)))
                    results.append(result)
                    if progress:
                        progress(result)
                grade.problems.append(ProblemResult(id=problem.id, title=problem.title, files=problem.files,
                                                    checks=results))
        finally:
            session.close()
        grade.protections = session.protections() + private
        grade.timing = Timing(total=time.perf_counter() - start, worker_start=session.start_seconds,
                              imports=session.import_seconds, expected=expected_values.seconds,
                              checks=sum(c.seconds for c in grade.checks))
    return grade


def _stage(submission: Path, assignment: Assignment, folder: Path, scratch: Path,
           messages: list[str], top_level: TopLevel) -> Staged | None:
    try:
        staged = stage(submission, assignment, folder, scratch, top_level)
    except SubmissionUnreadable as exc:
        messages.append(f"{UNREADABLE}: {exc}")
        return None
    messages.extend(staged.notes)
    return staged


def _grade_check(check: Check, files: tuple[str, ...], staged: Staged | None, session: WorkerSession,
                 expected, reference_peak: int | None = None) -> CheckResult:
    if isinstance(expected, Fault):
        return _from_fault(check, faults.harness_fault(
            f"the reference solution failed ({expected.feedback.summary})", expected.debug))
    if staged is None:
        return _from_fault(check, faults.missing_file(f"{UNREADABLE}; see the message above."))
    unusable = [staged.unusable[f] for f in (*files, *check.artifacts) if f in staged.unusable]
    if unusable:
        return _from_fault(check, faults.missing_file(unusable[0]))
    if check.static is not None:  # the source as staged, before any student code could change it
        sources = {f: staged.sources[f] for f in files if f in staged.sources}
        return _judge(check, lambda: check.static(sources, check), Ran({}, 0.0, ""))
    fault = session.ensure_imported(files)
    if fault is not None:
        return _from_fault(check, fault)
    ran = session.run(check, "run", files[0])
    if isinstance(ran, Fault):
        return _from_fault(check, faults.with_reference_peak(ran, check.id, session.config.resident_limit_mb,
                                                             reference_peak))
    try:
        got = check.read(ran.outputs, "run")
    except RecordError as exc:
        return _from_fault(check, faults.unreadable_outputs(str(exc)))
    try:
        wanted = check.read(expected, "expected") if check.needs_expected else None
    except RecordError as exc:
        return _from_fault(check, faults.harness_fault(f"the reference's values do not fit the check ({exc})"))
    return _judge(check, lambda: check.judge(got, wanted, check), ran, expected)


def time_budget(checks: list[Check], assignment: Assignment, config: GradingConfig) -> float:
    """The whole submission's time: every selected check's limit and one import of each module. A
    submission that crashes its worker in every check pays each restart out of this, instead of
    turning minutes into hours."""
    if config.time_budget_s is not None:
        return config.time_budget_s
    modules = {f for c in checks if c.static is None for f in assignment.problem_of(c).files if f.endswith(".py")}
    own = sum(c.timeout for c in checks if c.static is None)
    return (own + config.import_timeout * len(modules)) * config.timeout_scale + config.start_timeout


def compute_expected(assignment: Assignment, config: GradingConfig) -> None:
    """Compute, or find cached, the expected values a grading of `assignment` reads: before a batch
    grades in parallel, so that its gradings find them instead of each computing them again."""
    checks = selected_checks(assignment, config)
    expected = ExpectedValues(assignment, config)
    absent = _cannot_run_here(checks, config, expected)
    expected.get([c for c in checks if c.id not in absent])


def grade_safely(submission: Path, assignment: Assignment, config: GradingConfig,
                 progress: Progress | None = None) -> Grade:
    """`grade`, but a failure of the harness itself becomes a Grade that says so, never a crash."""
    try:
        return grade(submission, assignment, config, progress)
    except Exception as exc:  # noqa: BLE001 - the writers must always have something to write
        return failed_grade(submission, assignment, f"{type(exc).__name__}: {exc}\n\n{traceback.format_exc()}")


def failed_grade(submission: Path, assignment: Assignment, why: str) -> Grade:
    """The Grade of a submission the grader itself failed to grade (regraded, never the student's loss)."""
    return Grade(assignment=assignment.id, title=assignment.title, submission=str(submission), problems=[],
                 autograder_version=__version__, harness_error=why)
