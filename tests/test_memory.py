"""Memory a problem leaves in the worker is not charged to the next one, and a memory stop says
which check, under what budget, against what the reference needs."""

from __future__ import annotations

import pytest

from autograder.assignments import load_assignment
from autograder.config import REPO_ROOT
from autograder.runner import grade
from autograder.sandbox import Worker
from conftest import HW3

pytestmark = pytest.mark.slow  # what only the sandbox can show: graded by the real worker


def _count(spawned: list, worker: Worker) -> None:
    """Workers of the submission only (the reference's, computing expected values, are others)."""
    if worker.student_dir.name == "submission":
        spawned.append(worker)


def _graded_with(monkeypatch, make_config, resident) -> tuple:
    """P1 and P2 of the reference under a 600 MiB limit, the workers' size given by `resident(worker)`."""
    spawned = []
    spawn = Worker.spawn
    monkeypatch.setattr(Worker, "spawn", lambda self: (_count(spawned, self), spawn(self))[1])
    monkeypatch.setattr(Worker, "resident", resident)
    g = grade(REPO_ROOT / "reference" / HW3, load_assignment(HW3),
              make_config(problems=("p1", "p2"), data_root=None, resident_limit_mb=LIMIT_MB))
    return g, spawned


LIMIT_MB = 600


def test_a_worker_grown_by_a_problem_is_replaced_before_the_next(monkeypatch, make_config):
    # Grown by a fifth of the limit since it was ready, and below the limit: kept through a problem,
    # replaced between two.
    g, spawned = _graded_with(monkeypatch, make_config, lambda self: (100 << 20) + (
        int(0.2 * (LIMIT_MB << 20)) if self.ready_bytes else 0))
    assert g.full_marks
    assert len(spawned) == 2  # one worker per problem


def test_a_large_worker_that_did_not_grow_is_kept(monkeypatch, make_config):
    """A forked worker's size is mostly pages it shares: large is not kept memory."""
    g, spawned = _graded_with(monkeypatch, make_config, lambda self: int(0.75 * (LIMIT_MB << 20)))
    assert g.full_marks and len(spawned) == 1


def test_a_light_worker_serves_every_problem(monkeypatch, make_config):
    spawned = []
    spawn = Worker.spawn
    monkeypatch.setattr(Worker, "spawn", lambda self: (_count(spawned, self), spawn(self))[1])
    g = grade(REPO_ROOT / "reference" / HW3, load_assignment(HW3),
              make_config(problems=("p1", "p2"), data_root=None, resident_limit_mb=2048))
    assert g.full_marks and len(spawned) == 1
