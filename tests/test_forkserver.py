"""Workers forked from one trusted server: each grading starts from the server's clean state, so
one student's code cannot reach the next; a server or a worker that fails before any student code
ran is the grader's failure, never a student's; nothing of the server outlives the work.

Attacks are written in the student's own file, as in test_attacks.py.
"""

from __future__ import annotations

import csv
import textwrap
from pathlib import Path

import psutil
import pytest

from autograder import forkserver
from autograder.assignments import load_assignment
from autograder.batch import grade_class
from autograder.isolation import processes_of
from autograder.runner import grade_safely
from conftest import HW3, grading_uid, needs_isolation, reference_text, world_writable

pytestmark = [needs_isolation, pytest.mark.slow]
FILE = "hw3_p1.py"


@pytest.fixture
def drop() -> Path:
    """Outside /tmp, which is the worker's own (its second layer), so that the marks are seen here."""
    yield from world_writable("fork-drop-", Path.home())


@pytest.fixture
def started(monkeypatch) -> list[forkserver.ForkServer]:
    """Every fork server this process starts during the test."""
    servers: list[forkserver.ForkServer] = []
    original = forkserver.ForkServer.__init__

    def record(self, key) -> None:
        original(self, key)
        servers.append(self)

    monkeypatch.setattr(forkserver.ForkServer, "__init__", record)
    return servers


def no_server_left() -> bool:
    return not forkserver._servers and not any("autograder.forkserver" in " ".join(_command(c))
                                               for c in psutil.Process().children(recursive=True))


def _command(process: psutil.Process) -> list[str]:
    try:
        return process.cmdline()
    except psutil.Error:  # ended since it was listed
        return []


def tampering(drop: Path) -> str:
    """At import: change what a worker inherits (builtins, numpy's and torch's seeding, the worker's
    own module, the environment), try to kill the fork server, and note any descriptor beyond the
    worker's own five (stdin, log twice, its two pipes)."""
    return textwrap.dedent(f"""
        import builtins, os, signal, sys
        import numpy, torch
        builtins.ANSWER_KEY = "alice's"
        numpy.random.seed = lambda *a, **k: None
        torch.manual_seed = lambda *a: None
        sys.modules["autograder.worker"].seed_everything = lambda seed: None
        os.environ["LEFT_BY_ALICE"] = "1"
        for pid in set(os.listdir("/proc")) - {{str(os.getpid())}}:  # a forked worker's command line is the server's
            try:
                if b"autograder.forkserver" in open(f"/proc/{{pid}}/cmdline", "rb").read():
                    os.kill(int(pid), signal.SIGKILL)
                    open({str(drop / "killed")!r}, "a").write(pid)
            except PermissionError:
                open({str(drop / "refused")!r}, "a").write(pid)
            except (OSError, ValueError):
                pass
        extra = set(os.listdir("/proc/self/fd")) - {{"0", "1", "2", "3", "4"}}
        if len(extra) > 1:  # the listing's own descriptor is one
            open({str(drop / "descriptors")!r}, "a").write(repr(sorted(extra)))
        """)


def detecting(drop: Path) -> str:
    """At import: fail, and say so, if anything of Alice's is here."""
    return textwrap.dedent(f"""
        import builtins, os, sys
        import numpy, torch
        _seen = [name for name, found in {{
            "builtins": hasattr(builtins, "ANSWER_KEY"),
            "numpy": numpy.random.seed.__name__ == "<lambda>",
            "torch": torch.manual_seed.__name__ == "<lambda>",
            "worker": sys.modules["autograder.worker"].seed_everything.__name__ == "<lambda>",
            "environment": "LEFT_BY_ALICE" in os.environ}}.items() if found]
        if _seen:
            open({str(drop / "seen")!r}, "a").write(repr(_seen))
            raise RuntimeError(f"Alice's changes are here: {{_seen}}")
        """)


def test_one_students_state_never_reaches_the_next(p1_config, tmp_path, drop, started):
    """Alice and Bob are graded one after the other, their workers forked from one server: what
    Alice's code changed in its process is not in Bob's, and it could neither kill the server nor
    find a descriptor of it."""
    reference = reference_text(HW3, FILE)
    class_dir, out = tmp_path / "class", tmp_path / "out"
    for name, text in {"alice": reference + tampering(drop), "bob": reference + detecting(drop)}.items():
        (class_dir / name).mkdir(parents=True)
        (class_dir / name / FILE).write_text(text)

    summary = grade_class(class_dir, load_assignment(HW3), p1_config(), out, jobs=1)

    rows = {r["student"]: float(r["score"]) for r in csv.DictReader(open(out / "gradebook.csv", encoding="utf-8"))}
    assert rows == {"alice": 4.5, "bob": 4.5} and not summary.harness_errors
    assert sorted(p.name for p in drop.iterdir()) == ["refused"]  # she found the server, and could not kill it
    assert len(started) == 1  # both (and the reference's values) from one server, never restarted
    assert no_server_left()


def test_a_server_that_cannot_start_is_the_graders_failure(p1_config, tmp_path, monkeypatch):
    monkeypatch.setattr(forkserver, "_BOOTSTRAP", "raise SystemExit('the engine is broken on this machine')")
    (tmp_path / FILE).write_text(reference_text(HW3, FILE))

    g = grade_safely(tmp_path, load_assignment(HW3), p1_config(cache_dir=tmp_path / "cache"))

    assert g.harness_error is not None and g.problems == []
    assert "fork server" in g.harness_error and "the engine is broken on this machine" in g.harness_error
    assert no_server_left()


def test_a_worker_that_ends_before_ready_is_the_graders_failure(p1_config, tmp_path, monkeypatch):
    """No student code has run before the worker says ready: its end there costs no check."""
    spec_of = forkserver.spec_of
    monkeypatch.setattr(forkserver, "spec_of", lambda *a, **k: {**spec_of(*a, **k), "cwd": "/no/such/folder"})
    (tmp_path / "submission").mkdir()
    (tmp_path / "submission" / FILE).write_text(reference_text(HW3, FILE))

    g = grade_safely(tmp_path / "submission", load_assignment(HW3), p1_config())

    assert g.harness_error is not None and g.problems == []
    assert "the worker ended before it was ready" in g.harness_error
    assert "FileNotFoundError" in g.harness_error and "/no/such/folder" in g.harness_error
    assert no_server_left()


def test_without_a_fork_server_workers_start_as_fresh_interpreters(p1_config, tmp_path, monkeypatch, started):
    """Where fork servers are not supported (macOS), the same sandbox from a fresh `python -I`."""
    monkeypatch.setattr(forkserver, "SUPPORTED", False)
    (tmp_path / FILE).write_text(reference_text(HW3, FILE))

    g = grade_safely(tmp_path, load_assignment(HW3), p1_config())

    assert g.score == 4.5 and g.full_marks
    assert {p.name for p in g.protections if p.active} >= {"unprivileged user", "no network", "private /tmp"}
    assert not started and not processes_of(grading_uid(g))


def test_a_server_that_dies_between_gradings_is_started_again(p1_config, tmp_path, started):
    """Killed from outside (the machine's OOM killer, say) between two students of a batch: the next
    grading starts a new one, and nobody's grade notices."""
    (tmp_path / FILE).write_text(reference_text(HW3, FILE))
    with forkserver.held(HW3, 1, between_forks=True):  # as a batch holds it
        first = grade_safely(tmp_path, load_assignment(HW3), p1_config())
        started[0].process.kill()
        second = grade_safely(tmp_path, load_assignment(HW3), p1_config())

    assert first.full_marks and second.full_marks
    assert len(started) == 2 and no_server_left()


def test_a_server_that_dies_while_asked_for_a_worker_is_asked_again(p1_config, tmp_path, monkeypatch, started):
    """Killed just after a worker was asked of it: whether it forked that worker or not, the
    grading gets one, from it or from a new server."""
    spawn = forkserver.ForkServer.spawn
    killed = []

    def spawn_then_die(self, spec, fds):
        pending = spawn(self, spec, fds)
        if not killed:
            killed.append(self.process.pid)
            self.process.kill()
        return pending

    monkeypatch.setattr(forkserver.ForkServer, "spawn", spawn_then_die)
    (tmp_path / FILE).write_text(reference_text(HW3, FILE))

    g = grade_safely(tmp_path, load_assignment(HW3), p1_config())

    assert killed and g.full_marks and g.harness_error is None
    assert no_server_left()


def test_a_grading_that_forks_does_not_stop_the_server_another_waits_on(tmp_path, started):
    """Two gradings at once, neither a batch: the first to get its worker must leave the server to
    the one still waiting for its own (the server is stopped after the last fork only)."""
    from autograder.isolation import Limits
    from autograder.sandbox import Worker

    def worker(name: str) -> Worker:
        folder = tmp_path / name
        (folder / "home" / "tmp").mkdir(parents=True)
        return Worker(folder, folder / "home", folder / "worker.log", limits=Limits(memory_bytes=None),
                      assignment=HW3)

    first, second = worker("first"), worker("second")
    with forkserver.held(HW3, 1), forkserver.held(HW3, 1):
        first.spawn()
        second.spawn()
        try:
            assert first.wait_ready().ready and second.wait_ready().ready
        finally:
            first.close()
            second.close()
    assert len(started) == 1 and no_server_left()
