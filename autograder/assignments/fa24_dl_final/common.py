"""What the mock final's problems share: the student's file."""

from __future__ import annotations

MODULE = "final"
FILE = "final.py"
