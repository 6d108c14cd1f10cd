"""Loading a submitted checkpoint into the model the student's own code builds (worker side).

`weights_only=True` refuses pickled code: a checkpoint must be a plain state_dict. What goes
wrong (an unreadable file, a pickle of a whole model, keys or shapes that do not fit) comes back
as a sentence for the student, never a traceback.
"""

from __future__ import annotations

from typing import Any

from autograder.student import Subject, SubmissionError


def load_checkpoint(subject: Subject, file: str, model: Any, factory: str) -> str | None:
    """Load `file` into `model` (built by the student's `factory`); None, or what went wrong."""
    import torch

    try:
        state = torch.load(subject.path(file), map_location="cpu", weights_only=True)
    except SubmissionError:
        raise
    except Exception as exc:  # noqa: BLE001 - any failure to read is the file's fault; say so
        return (f"{file} could not be loaded with torch.load(..., weights_only=True): {first_line(exc)}. "
                f"Save it with torch.save(model.state_dict(), {file!r}).")
    if not isinstance(state, dict):
        return f"{file} holds a {type(state).__name__}, not a state_dict; save model.state_dict()."
    try:
        model.load_state_dict(state)
    except Exception as exc:  # noqa: BLE001 - key or shape mismatch: torch's message lists them
        return (f"{file} does not fit the model built by {factory}: {first_line(exc, 600)} "
                f"Save the state_dict of the model that {factory} builds, and keep that function unchanged.")
    return None


def load_into(subject: Subject, file: str, model: Any, factory: str) -> Any:
    """`model` with `file` loaded and in eval mode, or a SubmissionError saying what went wrong."""
    problem = load_checkpoint(subject, file, model, factory)
    if problem is not None:
        raise SubmissionError(problem)
    model.eval()
    return model


def first_line(exc: BaseException, limit: int = 300) -> str:
    text = " ".join(str(exc).split())
    return text if len(text) <= limit else text[:limit] + " ..."
