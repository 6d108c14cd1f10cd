"""Grades of the bundled references and templates, check by check, pinned: a change to the engine or
to a check's declaration (a refactor, say) that moves any of them fails here, naming the check.

After a deliberate change of a grade, write the file again and review its diff:

    AUTOGRADER_DATA_ROOT=../shared/data python tests/test_golden_grades.py [ASSIGNMENT ...]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from autograder.assignments import assignment_ids, load_assignment
from autograder.config import REPO_ROOT, GradingConfig
from autograder.results import Outcome
from autograder.runner import grade

GOLDEN = Path(__file__).parent / "golden_grades.json"
KINDS = ("reference", "student_template")


def scores(aid: str, kind: str, config: GradingConfig) -> dict[str, tuple[str, float]]:
    """{check id: (outcome, score)} of the bundled submission; checks left out here are not scored."""
    g = grade(REPO_ROOT / kind / aid, load_assignment(aid), config)
    assert g.harness_error is None, g.harness_error
    return {c.id: (c.outcome.value, c.score) for c in g.checks if c.outcome is not Outcome.left_out}


@pytest.mark.slow
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("aid", assignment_ids())
def test_grades_of_the_bundled_submissions_are_unchanged(aid, kind, make_config):
    pinned = json.loads(GOLDEN.read_text())[aid][kind]
    got = scores(aid, kind, make_config())
    assert set(got) <= set(pinned), f"checks without a pinned grade: {sorted(set(got) - set(pinned))}"
    moved = {cid: (pinned[cid], list(value)) for cid, value in got.items() if list(value) != pinned[cid]}
    assert moved == {}


if __name__ == "__main__":
    config = GradingConfig()
    if config.data_root is None:
        sys.exit("Set AUTOGRADER_DATA_ROOT: the pinned grades cover the real-data checks too.")
    # Assignment ids as arguments pin those alone (a new assignment), keeping the others' grades.
    table = json.loads(GOLDEN.read_text()) if sys.argv[1:] else {}
    table.update({aid: {kind: scores(aid, kind, config) for kind in KINDS} for aid in sys.argv[1:] or assignment_ids()})
    GOLDEN.write_text(json.dumps(table, indent=1, sort_keys=True) + "\n")
    print(f"wrote {GOLDEN}")
