"""What the mock final's problems share: the student's file, and reading a returned tuple."""

from __future__ import annotations

from typing import Any

from autograder.student import SubmissionError

MODULE = "final"
FILE = "final.py"
HANDOUT = "../shared/seeds/003_e3b0b6e208b34aec.txt"


def returned_tuple(value: Any, names: tuple[str, ...], what: str) -> tuple[Any, ...]:
    """`value` as the tuple of len(names) that the handout's function returns, or a clear error."""
    if not isinstance(value, tuple | list) or len(value) != len(names):
        got = f"a {type(value).__name__} of length {len(value)}" if isinstance(value, tuple | list) \
            else f"a {type(value).__name__}"
        raise SubmissionError(f"{what} should return a tuple ({', '.join(names)}), but it returned {got}.")
    return tuple(value)
