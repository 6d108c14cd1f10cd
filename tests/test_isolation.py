"""Taking a uid for a grading."""

from __future__ import annotations

from autograder import isolation
from conftest import needs_isolation


@needs_isolation
def test_a_uid_that_keeps_a_process_no_one_can_remove_is_passed_over(monkeypatch):
    """A zombie whose parent died, under an init that never reaps it, cannot be killed: a grading
    that took its uid would count it as the student's. The uid is left for the next free one."""
    first, why = isolation.acquire_identity()
    assert first is not None, why
    stuck = first.uid
    first.release()
    real = isolation.processes_of
    # A pid above any pid_max: listed, as a zombie is, yet nothing that any kill could reach.
    monkeypatch.setattr(isolation, "processes_of", lambda uid: [2**22 + 1] if uid == stuck else real(uid))
    second, why = isolation.acquire_identity()
    try:
        assert second is not None, why
        assert second.uid != stuck
    finally:
        second.release()
