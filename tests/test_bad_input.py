"""The bad-input matrix: every way a submission can be broken gets a plain message on the checks
it touches, and every other check is still graded.

Covered elsewhere: a syntax error, a package the grader lacks, a missing file, a missing function,
an endless loop inside a check, sys.exit at import, a zip with `../` paths (tests/test_faults.py);
notebooks of every shape (tests/test_notebooks.py).
"""

from __future__ import annotations

import os
import re
import stat
import zipfile
from pathlib import Path

import pytest

from autograder.assignments import load_assignment
from autograder.assignments.umn_csci5527_hw3 import p1
from autograder.isolation import processes_of
from autograder.runner import grade
from conftest import HW3, by_id, grading_uid, lost, mutate, needs_isolation, outcomes, reference_text

pytestmark = pytest.mark.slow  # what only the sandbox can show: graded by the real worker

FILE = "hw3_p1.py"
ALL = {c.id for c in p1.PROBLEM.checks}
FORWARD = {"p1.forward.handout_seed", "p1.forward.other_seeds"}
BACKWARD = {"p1.backward.handout_seed", "p1.backward.other_seeds", "p1.autograd.agrees_with_backward"}


@pytest.fixture(scope="module")
def reference():
    return reference_text(HW3, FILE)


def _forward_body(reference: str, body: str) -> str:
    """The reference whose forward starts with `body` (indented one level)."""
    return mutate(reference, "    V1 = W1 @ X\n", "".join(f"    {line}\n" for line in body.splitlines()) + "    V1 = W1 @ X\n")


def _summary(g, check_id: str) -> str:
    return by_id(g, check_id).feedback.summary


def test_wrong_signature_is_named(grade_p1, reference):
    g = grade_p1({FILE: mutate(reference, "def forward(X, Y, W1, W2, W3)", "def forward(X, Y, W)")})
    assert lost(g) == FORWARD
    assert _summary(g, "p1.forward.handout_seed").startswith(
        "`forward` in hw3_p1.py cannot be called as the handout specifies (too many positional arguments)")


def test_wrong_return_type_is_named(grade_p1, reference):
    g = grade_p1({FILE: mutate(reference, 'return {"V1": V1, "V2": V2,', 'return [V1, V2,').replace(
        '"V3": V3, "V4": V4, "V5": V5, "D": D, "z": z}', 'V3, V4, V5, D, z]')})
    assert lost(g) == FORWARD
    assert _summary(g, "p1.forward.handout_seed") == \
        "forward(X, Y, W1, W2, W3) should return a dict, but it returned a list."


def test_nan_and_inf_outputs_are_pointed_out(grade_p1, reference):
    text = mutate(reference, 'g["V3"] = g["V4"] * (values["V3"] > 0)', 'g["V3"] = g["V4"] * np.nan')
    text = mutate(text, "    z = 0.5 * float(np.sum(D * D))\n", "    z = float('inf')\n")
    g = grade_p1({FILE: text})
    assert lost(g) == FORWARD | BACKWARD
    assert _summary(g, "p1.forward.handout_seed") == "z is the first node value that differs (1 of 7 wrong)."
    assert by_id(g, "p1.backward.handout_seed").feedback.hint == \
        "V3.g contains NaN or inf: look for a division by zero or an overflow."


def test_huge_output_is_refused_with_its_size(grade_p1, reference):
    g = grade_p1({FILE: mutate(reference, 'return {"V1": V1,', 'return {"V1": np.ones((6000, 6000)),')})
    assert lost(g) == FORWARD
    assert _summary(g, "p1.forward.handout_seed") == (
        "forward(X, Y, W1, W2, W3)['V1'] is an array of shape (6000, 6000) (274 MiB); at most 256 MiB is read. "
        "Check its shape.")


def test_endless_loop_at_import_times_out_for_that_file(grade_p1, reference):
    g = grade_p1({FILE: reference + "\nwhile True:\n    pass\n"}, import_timeout=3)
    assert lost(g) == ALL and set(outcomes(g).values()) == {"timeout"}
    assert _summary(g, "p1.forward.handout_seed") == "Importing hw3_p1.py did not finish within 3 s; the grader stopped it."
    lines = (reference + "\nwhile True:\n    pass\n").splitlines()
    loop = {lines.index("while True:") + 1, lines.index("    pass") + 1}  # either line of the loop
    assert by_id(g, "p1.forward.handout_seed").feedback.details in {
        (f"It was running hw3_p1.py, line {n}, in <module> when it was stopped.",) for n in loop}


def test_memory_bomb_is_stopped_and_named(grade_p1, reference):
    bomb = "hog = []\nwhile True:\n    hog.append(bytearray(1 << 24))"
    g = grade_p1({FILE: _forward_body(reference, bomb)}, memory_limit_mb=1024)
    assert lost(g) == FORWARD
    assert _summary(g, "p1.forward.handout_seed") == "`forward` in hw3_p1.py ran out of memory (MemoryError) during this check."


def test_memory_bomb_is_stopped_by_the_resident_memory_watch(grade_p1, reference):
    bomb = "hog = []\nwhile True:\n    hog.append(bytearray(1 << 24))"
    g = grade_p1({FILE: _forward_body(reference, bomb)}, memory_limit_mb=None, resident_limit_mb=600)
    assert lost(g) == FORWARD and outcomes(g)["p1.forward.handout_seed"] == "crashed"
    assert _summary(g, "p1.forward.handout_seed") == (
        "Your code ended the grader's process during this check: "
        "the worker used more than 600 MiB of memory and was stopped.")
    named = by_id(g, "p1.forward.handout_seed").feedback.details[0]
    assert re.fullmatch(r"On p1\.forward\.handout_seed the grader allows 600 MiB; the reference solution peaks at "
                        r"\d+ MiB there\.", named), named


@needs_isolation
def test_fork_bomb_is_stopped_and_leaves_nothing_behind(grade_p1, reference):
    bomb = "import os\nwhile True:\n    os.fork()"
    g = grade_p1({FILE: _forward_body(reference, bomb)}, timeout_scale=0.2)
    assert lost(g) == FORWARD
    assert outcomes(g)["p1.forward.handout_seed"] in {"error", "timeout", "crashed"}
    assert g.score == 4.5 - 0.75
    assert not processes_of(grading_uid(g))  # zombies included: re-parented to the grader and reaped


def test_os_exit_at_import_is_reported(grade_p1, reference):
    g = grade_p1({FILE: reference + "\nimport os\nos._exit(0)\n"})
    assert lost(g) == ALL and set(outcomes(g).values()) == {"crashed"}
    assert _summary(g, "p1.make_data.handout_draws") == \
        "Importing hw3_p1.py ended the grader's process: the worker exited with status 0."


def test_printing_megabytes_costs_nothing_and_is_cut(grade_p1, reference):
    g = grade_p1({FILE: _forward_body(reference, "print('x' * (30 << 20))")})
    assert g.score == g.max_score
    printed = by_id(g, "p1.forward.handout_seed").student_output
    assert printed.startswith("[... earlier output cut ...]") and len(printed) < 5000


@needs_isolation
def test_deleting_or_writing_files_outside_its_folder_is_refused(grade_p1, reference, tmp_path):
    victim = tmp_path / "instructor.txt"
    victim.write_text("keep me")
    os.chmod(tmp_path, 0o755)
    attack = (f"import pathlib\npathlib.Path({str(victim)!r}).unlink()\n")
    g = grade_p1({FILE: _forward_body(reference, attack)})
    assert lost(g) == FORWARD
    assert "raised PermissionError" in _summary(g, "p1.forward.handout_seed")
    assert victim.read_text() == "keep me"


def test_zip_bomb_is_refused(p1_config, tmp_path):
    archive = tmp_path / "bomb.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zf, zf.open("hw3_p1.py", "w", force_zip64=True) as f:
        block = b"\0" * (1 << 20)
        for _ in range(600):
            f.write(block)
    assert archive.stat().st_size < 5 << 20
    g = grade(archive, load_assignment(HW3), p1_config())
    assert g.score == 0
    assert g.messages == ["The submission could not be read: the zip unpacks to more than 512 MB."]


def test_symlink_to_the_reference_is_not_followed(p1_config, tmp_path, reference):
    (tmp_path / FILE).symlink_to(Path(__file__).parents[1] / "reference" / HW3 / FILE)
    g = grade(tmp_path, load_assignment(HW3), p1_config())
    assert g.score == 0
    assert g.checks[0].feedback.summary == "hw3_p1.py was found only as a symbolic link (hw3_p1.py); upload the file itself."


def test_symlink_inside_a_zip_is_not_extracted(p1_config, tmp_path):
    archive = tmp_path / "link.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        info = zipfile.ZipInfo(FILE)
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(info, "/etc/passwd")
    g = grade(archive, load_assignment(HW3), p1_config())
    assert g.score == 0 and g.checks[0].feedback.summary == "hw3_p1.py was not found in the submission."


def test_empty_submission_says_so(p1_config, tmp_path):
    g = grade(tmp_path, load_assignment(HW3), p1_config())
    assert g.score == 0 and g.messages == ["The submission is empty: it holds no files at all."]
    assert {c.feedback.summary for c in g.checks} == {"hw3_p1.py was not found in the submission."}
