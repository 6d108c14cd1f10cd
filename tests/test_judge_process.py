"""The judge's process stays small: loading every assignment and the CLI never imports torch."""

from __future__ import annotations

import subprocess
import sys

from autograder.config import REPO_ROOT


def test_the_parent_never_imports_torch():
    code = ("import sys, autograder.cli, autograder.runner\n"
            "from autograder.assignments import assignment_ids, load_assignment\n"
            "for a in assignment_ids():\n    load_assignment(a)\n"
            "print(sorted(m for m in sys.modules if m == 'torch' or m.startswith('torch.')))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO_ROOT)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
