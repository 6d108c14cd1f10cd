"""The command line: thin commands over the library.

Exit codes, as pytest users expect them:
  0  graded, full marks          1  graded, some checks lost points
  2  usage error (bad option, unknown assignment)
  3  the autograder itself failed (results.json still written, saying so)
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING
from pathlib import Path

import click
from autograder import CONTAINER_MB, forkserver, versions
from autograder.text import printable

# The rest of the grader is imported inside the commands, after `grade` and `check` have started
# the fork server: torch then loads there while this process loads pydantic, jinja2 and the checks.
if TYPE_CHECKING:
    from autograder import trial
    from autograder.config import GradingConfig
    from autograder.results import CheckResult, Grade

EXIT_FULL_MARKS, EXIT_POINTS_LOST, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3

_COLOURS = {"passed": "green", "partial": "yellow"}


def _assignment(assignment_id: str):
    from autograder.assignments import UnknownAssignment, load_assignment

    try:
        return load_assignment(assignment_id)
    except UnknownAssignment as exc:
        raise click.BadParameter(str(exc), param_hint="--assignment") from None


def _config(**options) -> GradingConfig:
    from pydantic import ValidationError

    from autograder.config import GradingConfig, config_errors

    try:
        return GradingConfig.from_options(**options)
    except ValidationError as exc:
        raise click.UsageError(config_errors(exc)) from None


def _progress(total: int):
    from autograder.results import Outcome

    done = [0]

    def show(result: CheckResult) -> None:
        done[0] += 1
        label = "not here" if result.outcome is Outcome.left_out else result.outcome.value
        outcome = click.style(f"{label:<8}", fg=_COLOURS.get(result.outcome.value, "red"))
        click.echo(f"[{done[0]:>3}/{total}] {outcome} {result.score:g}/{result.max_score:g}  "
                   f"{printable(result.id)}", err=True)

    return show


def _explain(grade: Grade) -> None:
    """After the progress lines: what went wrong, check by check, then the total.

    Feedback quotes the student's exception messages and source lines, and messages name the files
    of the upload: all printed through `printable`, so that no escape sequence reaches the terminal.
    """
    from autograder.results import Outcome

    for check in grade.checks:
        if check.outcome in (Outcome.passed, Outcome.left_out):  # left-out checks: one message names them all
            continue
        click.echo(f"\n{click.style(check.id, bold=True)} ({check.claim})")
        click.echo(f"  {printable(check.feedback.summary)}")
        for line in check.feedback.details:
            click.echo(f"  {printable(line)}")
        if check.feedback.hint:
            click.echo(f"  Hint: {printable(check.feedback.hint)}")
    for message in grade.messages:
        click.echo(f"\nNote: {printable(message)}")
    if grade.harness_error:
        click.echo("\nThe autograder failed while grading:\n" + printable(grade.harness_error), err=True)
    ran = [c for c in grade.checks if c.outcome is not Outcome.left_out]
    not_run = f"; {len(grade.left_out)} not run here" if grade.left_out else ""
    click.echo(f"\n{grade.title}: {grade.score:g} / {grade.max_score:g} points "
               f"({sum(c.outcome is Outcome.passed for c in ran)} of {len(ran)} checks passed{not_run}, "
               f"in {grade.timing.total:.1f} s)")


def _write_all(grade: Grade, out: Path) -> None:
    from autograder.writers import write_gradescope, write_html, write_summary

    out.mkdir(parents=True, exist_ok=True)
    write_gradescope(grade, out / "results.json")
    write_summary(grade, out / "summary.json")
    write_html(grade, out / "report.html")


def _run(submission: Path, assignment_id: str, out: Path | None, quiet: bool, problems: tuple[str, ...],
         **options) -> int:
    forkserver.warm(assignment_id)  # before the imports below, which it overlaps
    from autograder.runner import grade_safely, selected_checks

    assignment = _assignment(assignment_id)
    config = _config(problems=problems or None, **options)
    try:
        checks = selected_checks(assignment, config)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--problem") from None
    if differ := versions.mismatch(config.cache_dir / assignment.id):  # before minutes of progress lines
        click.echo(click.style("Warning: ", fg="yellow") + differ, err=True)
    grade = grade_safely(submission, assignment, config, progress=None if quiet else _progress(len(checks)))
    if out is not None:
        _write_all(grade, out)
        click.echo(f"Wrote {out / 'results.json'}, {out / 'report.html'} and {out / 'summary.json'}.", err=True)
    _explain(grade)
    if grade.harness_error:
        return EXIT_INTERNAL
    return EXIT_FULL_MARKS if grade.full_marks else EXIT_POINTS_LOST


_common = [
    click.option("--assignment", "-a", "assignment_id", required=True, metavar="ID",
                 help="Assignment id; `autograder list` shows them."),
    click.option("--problem", "-p", "problems", multiple=True, metavar="ID",
                 help="Grade only this problem (repeatable); `autograder list` shows them."),
    click.option("--data-root", type=click.Path(file_okay=False, path_type=Path),
                 help="Folder with the real data sets [env AUTOGRADER_DATA_ROOT]."),
    click.option("--cache-dir", type=click.Path(file_okay=False, path_type=Path),
                 help="Cache of expected values [env AUTOGRADER_CACHE]."),
    click.option("--timeout-scale", type=float, help="Multiply every check's time limit (slow machines)."),
    click.option("--resident-limit-mb", type=int,
                 help="Stop the worker above this resident memory [default 2048; 600 on Gradescope's 768 MB]."),
    click.option("--time-budget", "time_budget_s", type=float, metavar="SECONDS",
                 help="Time for the whole submission [default: its checks' limits plus one import per module]."),
    click.option("--disk-limit-mb", type=int, help="Disk the student's code may fill, in MiB [default 1024]."),
    click.option("--notebook-top-level", type=click.Choice(["skip", "run"]),
                 help="Top-level code of notebook submissions: skip it (default) or run it at import."),
    click.option("--no-namespaces", "namespaces", is_flag=True, flag_value=False, default=None,
                 help="Only the first layer of the sandbox: no network or mount namespaces (what Docker may refuse)."),
    click.option("--no-isolation", "isolate", is_flag=True, flag_value=False, default=None,
                 help="As root, run student code with root's rights (for debugging the grader only)."),
    click.option("--quiet", "-q", is_flag=True, help="No progress lines."),
]


def common_options(fn):
    for option in reversed(_common):
        fn = option(fn)
    return fn


@click.group(epilog="Exit codes: 0 full marks, 1 points lost, 2 usage error, 3 autograder failure.")
@click.version_option(package_name="dl-autograder")
def main() -> None:
    """Grade deep-learning homework against reference solutions, in a sandbox."""


@main.command()
@click.argument("submission", type=click.Path(exists=True, path_type=Path))
@common_options
@click.option("--out", "-o", type=click.Path(file_okay=False, path_type=Path), default=Path("autograder-results"),
              show_default=True, help="Folder for results.json, report.html and summary.json.")
def grade(submission: Path, assignment_id: str, out: Path, quiet: bool, **options) -> None:
    """Grade SUBMISSION (a folder, a .zip or a .py file) on every check."""
    sys.exit(_run(submission, assignment_id, out, quiet, **options))


@main.command()
# A self-check bundle's `self_check.py` points the default at the bundle's homework/ folder.
@click.argument("submission", type=click.Path(exists=True, path_type=Path), default=".",
                envvar="AUTOGRADER_SUBMISSION")
@common_options
@click.option("--out", "-o", type=click.Path(file_okay=False, path_type=Path),
              help="Also write the reports to this folder.")
def check(submission: Path, assignment_id: str, out: Path | None, quiet: bool, **options) -> None:
    """Self-check: run only the checks visible to students on SUBMISSION (default: this folder)."""
    sys.exit(_run(submission, assignment_id, out, quiet, visible_only=True, **options))


@main.command()
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@common_options
@click.option("--out", "-o", type=click.Path(file_okay=False, path_type=Path), default=Path("autograder-batch"),
              show_default=True, help="Reports go to OUT/<student>/; OUT/gradebook.csv, OUT/class_summary.json and "
                                      "OUT/class_report.html. "
                                      "Run again on the same OUT, only what changed is graded again.")
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=None,
              help="Submissions graded at once, each in its own sandbox [default: the cores].")
@click.option("--scheduler", metavar="tcp://HOST:PORT",
              help="Grade on this Dask cluster's workers (each with the project installed) instead of here.")
def batch(folder: Path, assignment_id: str, out: Path, quiet: bool, problems: tuple[str, ...], jobs: int | None,
          scheduler: str | None, **options) -> None:
    """Grade every submission in FOLDER (sub-folders, zips, notebooks), one per student."""
    from tqdm import tqdm

    from autograder.batch import BatchInputError, grade_class, submissions_in

    assignment = _assignment(assignment_id)
    config = _config(problems=problems or None, **options)
    total = len(submissions_in(folder))
    # A bar where a person watches (done/total, rate, time left); a line per submission in any case,
    # numbered, so that a log says as much.
    bar = tqdm(total=total, unit="submission", disable=quiet or not sys.stderr.isatty(), file=sys.stderr,
               dynamic_ncols=True)
    done = 0

    def show(student: str, grade: Grade, graded: bool) -> None:
        nonlocal done
        done += 1
        bar.update(1)
        if not quiet:
            bar.write(f"[{done}/{total}] {printable(student):<30} {grade.score:>7g} / {grade.max_score:g}"
                      + ("" if graded else "  (unchanged: kept)")
                      + ("  AUTOGRADER ERROR" if grade.harness_error else ""), file=sys.stderr)

    try:
        with bar:
            summary = grade_class(folder, assignment, config, out, progress=show, jobs=jobs or os.cpu_count() or 1,
                                  scheduler=scheduler)
    except BatchInputError as exc:
        raise click.UsageError(str(exc)) from None
    for change in summary.changed:
        moved = ", ".join(f"{check} {old:g} -> {new:g}" for check, (old, new) in change.checks.items())
        click.echo(f"changed since the last run: {printable(change.student)} {change.before:g} -> {change.after:g} "
                   f"({change.after - change.before:+g}): {moved}")
    click.echo(f"{summary.submissions} submissions: mean {summary.mean:g}, median {summary.median:g} of "
               f"{summary.max_score:g}; {summary.full_marks} with full marks. Gradebook: {out / 'gradebook.csv'}")
    sys.exit(EXIT_INTERNAL if summary.harness_errors else EXIT_FULL_MARKS)


@main.command()
@click.option("--out", "-o", type=click.Path(file_okay=False, path_type=Path), default=Path("autograder-results"),
              show_default=True, help="Reports go to OUT/<assignment>/<reference|student_template>/.")
@click.option("--cache-dir", type=click.Path(file_okay=False, path_type=Path),
              help="Cache of expected values [env AUTOGRADER_CACHE].")
@click.option("--data-root", type=click.Path(file_okay=False, path_type=Path),
              help="Folder with the real data sets [env AUTOGRADER_DATA_ROOT]; checks whose data is absent are left out.")
def demo(out: Path, cache_dir: Path | None, data_root: Path | None) -> None:
    """Grade the bundled reference and student template of every assignment and write their reports.

    Exits 0 when every reference scores full marks and every template scores 0.
    """
    from autograder.assignments import assignment_ids
    from autograder.config import content_dir
    from autograder.runner import grade_safely

    config = _config(cache_dir=cache_dir, data_root=data_root)
    healthy = True
    for aid in assignment_ids():
        assignment = _assignment(aid)
        for kind in ("reference", "student_template"):
            result = grade_safely(content_dir(kind) / aid, assignment, config)
            _write_all(result, out / aid / kind)
            ok = result.full_marks if kind == "reference" else result.harness_error is None and result.score == 0
            healthy &= ok
            mark = click.style("ok" if ok else "UNEXPECTED", fg="green" if ok else "red")
            click.echo(f"{aid:<20} {kind:<17} {result.score:>6g} / {result.max_score:<6g} {mark}  "
                       f"{out / aid / kind / 'report.html'}")
            if kind == "reference" and result.messages:
                click.echo(f"{'':<20} note: {result.messages[0]}")
    sys.exit(EXIT_FULL_MARKS if healthy else EXIT_POINTS_LOST)


@main.group()
def gradescope() -> None:
    """Gradescope packaging."""


@gradescope.command(name="build")
@click.option("--assignment", "-a", "assignment_id", required=True, metavar="ID", help="Assignment id.")
@click.option("--out", "-o", type=click.Path(dir_okay=False, path_type=Path), default=Path("autograder.zip"),
              show_default=True, help="Where to write the zip.")
@click.option("--data-root", type=click.Path(file_okay=False, path_type=Path),
              help="Data sets for the expected values of real-data checks [env AUTOGRADER_DATA_ROOT].")
@click.option("--leave-out-missing-data", is_flag=True,
              help="Build even when some checks' data sets are absent; those checks are then not graded.")
def gradescope_build(assignment_id: str, out: Path, data_root: Path | None, leave_out_missing_data: bool) -> None:
    """Build autograder.zip (setup.sh, run_autograder, engine, precomputed expected values)."""
    from autograder import gradescope as packaging  # instructors' tools: not in a student's bundle

    assignment = _assignment(assignment_id)
    config = _config(data_root=data_root)
    try:
        _, deferred = packaging.build(assignment, out, config, leave_out_missing_data=leave_out_missing_data)
    except packaging.MissingData as exc:
        click.echo(f"Error: nothing was built: {exc}", err=True)
        sys.exit(EXIT_USAGE)
    except RuntimeError as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(EXIT_INTERNAL)
    shipped = packaging.shipped_data(assignment, config)
    click.echo(f"Wrote {out} ({out.stat().st_size >> 10} KiB"
               + (f"; data sets in it: {', '.join(f.name for f in shipped)}" if shipped else "; no data set in it") + "). Try it with "
               f"`autograder gradescope test {out} SUBMISSION...`, then upload it as the assignment's autograder.")
    if deferred:
        click.echo(f"Left out, their data sets being absent: {', '.join(deferred)}. Students see them as not "
                   f"graded; add the data sets under data/ in the zip to grade them.", err=True)


@gradescope.command(name="test")
@click.argument("archive", metavar="ZIP", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("submissions", metavar="SUBMISSION...", nargs=-1, required=True,
                type=click.Path(exists=True, path_type=Path))
@click.option("--memory-mb", type=click.IntRange(min=256), default=CONTAINER_MB, show_default=True,
              help="Memory of the container (a memory cgroup, where this machine allows one).")
@click.option("--python", "base_python", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              envvar="AUTOGRADER_BASE_PYTHON", help="Python 3.11 that setup.sh creates its virtual environment "
              "from, instead of installing one with apt [default: /usr/bin/python3.11 if present, else this Python].")
@click.option("--workdir", type=click.Path(exists=True, file_okay=False, path_type=Path), default=Path("."),
              help="Where the temporary root standing for /autograder is made: outside /tmp, as /autograder is "
                   "[default: this folder].")
@click.option("--keep", is_flag=True, help="Keep the temporary root (its setup.log, results/) and print where it is.")
def gradescope_test(archive: Path, submissions: tuple[Path, ...], memory_mb: int, base_python: Path | None,
                    workdir: Path, keep: bool) -> None:
    """Try ZIP as Gradescope would, before students see it: run its setup.sh once, then its
    run_autograder on each SUBMISSION (a folder, a .zip or a .py file), on one CPU within the container's
    memory. Prints each score, wall time and peak memory.

    Exits 0 when every submission got a results.json, 3 otherwise (or when setup.sh fails).
    """
    from autograder import container, trial  # instructors' tools: not in a student's bundle

    memory_bytes = memory_mb * 10**6
    click.echo(_confinement(container.cgroup_available(memory_bytes), memory_mb), err=True)
    base_python = base_python or trial.default_base_python()
    with trial.trial_root(workdir, keep) as root:
        try:
            trial.unpack(archive, root)
        except trial.NotAnAutograderZip as exc:
            click.echo(f"Error: {exc}", err=True)
            sys.exit(EXIT_USAGE)
        click.echo(f"Running setup.sh in {root}: a virtual environment from {base_python}, then torch and the "
                   f"engine's dependencies (a minute or more)...", err=True)
        try:
            click.echo(f"setup.sh done in {trial.run_setup(root, base_python):.0f} s.", err=True)
        except trial.SetupFailed as exc:
            click.echo(f"Error: {exc}\nGradescope would fail to build the autograder image.", err=True)
            sys.exit(EXIT_INTERNAL)
        graded: list[trial.Graded] = []
        for submission in submissions:
            graded.append(trial.grade(root, submission, memory_bytes))
            _show_trial(graded[-1], memory_mb)
        if keep:
            click.echo(f"\nKept {root} (setup.log, run_autograder.log and results/ of the last submission).",
                       err=True)
    sys.exit(EXIT_FULL_MARKS if all(g.score is not None for g in graded) else EXIT_INTERNAL)


def _confinement(cgroup: str | None, memory_mb: int) -> str:
    from autograder.gradescope import GRADESCOPE_RESIDENT_MB

    if cgroup:
        return f"Each submission runs on one CPU, in a memory cgroup ({cgroup}) of {memory_mb} MB, as in the container."
    return (f"Each submission runs on one CPU but with NO {memory_mb} MB limit: no memory cgroup can be made here "
            f"(it needs root and a memory controller), so only the grader's own resident watch "
            f"({GRADESCOPE_RESIDENT_MB} MB, set by run_autograder) limits it.")


def _show_trial(graded: trial.Graded, memory_mb: int) -> None:
    """One submission's figures, each saying what it measured."""
    from autograder.container import SAMPLE_S

    run = graded.run
    click.echo(f"\n{click.style(printable(str(graded.submission)), bold=True)}")
    if graded.score is None:
        click.echo(click.style("  no results.json", fg="red") + f": run_autograder exited {run.returncode}"
                   + (" after an out-of-memory kill" if run.oom_kills else "")
                   + "; on Gradescope this student would see an error, not a score.")
    else:
        out_of = f" / {graded.max_score:g}" if graded.max_score is not None else " (no summary.json: maximum unknown)"
        click.echo(f"  score        {graded.score:g}{out_of}")
    if graded.harness_error:
        click.echo(click.style("  autograder error: ", fg="red") + printable(graded.harness_error.splitlines()[0]))
    for check_id, summary in graded.autograder_errors:  # the zip's fault, whatever was submitted
        click.echo(click.style("  autograder error ", fg="red") + f"on {check_id}: {printable(summary)}")
    over = "  (over Gradescope's default limit of 10 minutes)" if run.seconds > 600 else ""
    click.echo(f"  wall time    {run.seconds:.1f} s, pinned to CPU {run.cpu}{over}")
    sampled = (f"{run.tree_peak / 2**20:.0f} MiB: the process tree's resident memory at its largest sample "
               f"(every {SAMPLE_S:g} s)")
    if run.cgroup_peak is not None:
        oom = f"{run.oom_kills} out-of-memory kills" if run.oom_kills else "no out-of-memory kill"
        click.echo(f"  peak memory  {run.cgroup_peak / 2**20:.0f} MiB: the memory cgroup's peak (cgroup "
                   f"v{run.cgroup_version}; with the page cache this run brought in), {oom}")
        click.echo(f"               {sampled}")
    else:
        click.echo(f"  peak memory  {sampled}; no memory cgroup here, so no exact peak")
    if graded.worker_peak_mb is not None:
        click.echo(f"               {graded.worker_peak_mb:.0f} MiB: the worker's largest check, as the grader "
                   f"measured it")
    for message in graded.messages:
        click.echo(f"  note: {printable(message)}")
    for off in graded.protections_off:
        click.echo(f"  sandbox layer off: {printable(off)}")


@main.command(name="student-bundle")
@click.option("--assignment", "-a", "assignment_id", required=True, metavar="ID", help="Assignment id.")
@click.option("--out", "-o", type=click.Path(dir_okay=False, path_type=Path), default=Path("self-check.zip"),
              show_default=True, help="Where to write the zip.")
def student_bundle(assignment_id: str, out: Path) -> None:
    """Build the students' self-check zip: templates, engine, visible checks' expected values."""
    from autograder.bundle import build_bundle

    try:
        build_bundle(_assignment(assignment_id), out, _config())
    except RuntimeError as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(EXIT_INTERNAL)
    click.echo(f"Wrote {out} ({out.stat().st_size >> 10} KiB): no reference code, no hidden values.")


@main.command(name="list")
@click.option("--assignment", "-a", "assignment_id", metavar="ID", help="Show only this assignment.")
def list_(assignment_id: str | None) -> None:
    """Assignments, their problems, checks and points."""
    from autograder.assignments import assignment_ids

    ids = [assignment_id] if assignment_id else assignment_ids()
    for aid in ids:
        assignment = _assignment(aid)
        click.echo(f"{click.style(aid, bold=True)}  {assignment.title}  ({_points(assignment)})")
        for problem in assignment.problems:
            click.echo(f"  {problem.id}  {problem.title}  [{', '.join(problem.files)}]  ({_points(problem)})")
            for c in problem.checks:
                click.echo(f"    {c.id:<40} {c.part:>2} {c.points:>5g}  {c.visibility.value:<15} {c.claim}")


def _points(declared) -> str:
    extra = f" + {declared.extra_credit:g} extra credit" if declared.extra_credit else ""
    return f"{declared.points:g} points{extra}"


if __name__ == "__main__":
    main()
