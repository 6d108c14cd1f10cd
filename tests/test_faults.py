"""A fault costs only the checks it touches, with a message that names it; nothing crashes."""

from __future__ import annotations

import zipfile

import pytest

from autograder.assignments import load_assignment
from autograder.assignments.umn_csci5527_hw3 import p1
from autograder.runner import grade
from conftest import HW3, by_id, lost, mutate, outcomes, reference_text

FILE = "hw3_p1.py"
ALL = {c.id for c in p1.PROBLEM.checks}
FORWARD = {"p1.forward.handout_seed", "p1.forward.other_seeds"}


@pytest.fixture(scope="module")
def reference():
    return reference_text(HW3, FILE)


def test_infinite_loop_times_out_and_the_other_checks_still_score(grade_p1, reference):
    looping = mutate(reference, "    V1 = W1 @ X\n", "    while True:\n        pass\n")
    g = grade_p1({FILE: looping}, timeout_scale=0.1)
    assert lost(g) == FORWARD
    assert {outcomes(g)[i] for i in FORWARD} == {"timeout"}
    timed_out = by_id(g, "p1.forward.handout_seed").feedback
    assert "did not finish within 3 s; the grader stopped it" in timed_out.summary
    lines = looping.splitlines()
    loop = {lines.index("    while True:") + 1, lines.index("        pass") + 1}  # either line of the loop
    assert timed_out.details in {(f"It was running hw3_p1.py, line {n}, in forward when it was stopped.",) for n in loop}
    assert g.score == 4.5 - 0.75


def test_syntax_error_fails_every_check_of_the_file_with_its_line(grade_p1, reference):
    broken = mutate(reference, "def forward(X, Y, W1, W2, W3)", "def forward(X, Y, W1, W2 W3)")
    g = grade_p1({FILE: broken})
    assert lost(g) == ALL
    line = broken.splitlines().index("def forward(X, Y, W1, W2 W3) -> dict[str, np.ndarray | float]:") + 1
    for c in g.checks:
        assert c.feedback.summary.startswith(f"hw3_p1.py has a syntax error at line {line}")


def test_sys_exit_at_import_is_reported_and_costs_only_that_file(grade_p1, reference):
    g = grade_p1({FILE: reference.replace("HANDOUT_SEED = 55272022\n", "HANDOUT_SEED = 55272022\nimport sys\nsys.exit(0)\n")})
    assert lost(g) == ALL
    summary = by_id(g, "p1.forward.handout_seed").feedback.summary
    assert "hw3_p1.py called sys.exit(0) while being imported" in summary
    assert 'if __name__ == "__main__"' in by_id(g, "p1.forward.handout_seed").feedback.hint


def test_os_exit_inside_a_check_costs_that_check_and_the_worker_restarts(grade_p1, reference):
    dying = mutate(reference, "    V1 = W1 @ X\n", "    import os\n    os._exit(3)\n")
    g = grade_p1({FILE: dying})
    assert lost(g) == FORWARD
    assert outcomes(g)["p1.forward.handout_seed"] == "crashed"
    assert "the worker exited with status 3" in by_id(g, "p1.forward.handout_seed").feedback.summary


def test_exception_at_import_names_the_line(grade_p1, reference):
    g = grade_p1({FILE: reference.replace("HANDOUT_SEED = 55272022\n", "HANDOUT_SEED = 55272022\nX = 1 / 0\n")})
    assert lost(g) == ALL
    c = by_id(g, "p1.make_data.handout_draws")
    assert c.feedback.summary == "Importing hw3_p1.py raised ZeroDivisionError: division by zero"
    assert c.feedback.details == ("hw3_p1.py, line 12, in <module>: `X = 1 / 0`",)


def test_import_of_a_package_the_grader_lacks_is_named(grade_p1, reference):
    g = grade_p1({FILE: "import sklearn_not_here\n" + reference})
    assert lost(g) == ALL
    assert "No module named 'sklearn_not_here'" in g.checks[0].feedback.summary
    assert g.checks[0].feedback.hint == (
        "The grader has Python's standard library, numpy, scipy, torch, matplotlib, pandas, tqdm, seaborn, "
        "sklearn (scikit-learn) and IPython; import only what the handout allows.")


def test_missing_file_scores_zero_with_its_name(grade_p1):
    g = grade_p1({"hw3_p2.py": "x = 1\n"})
    assert g.score == 0
    for c in g.checks:
        assert c.feedback.summary == "hw3_p1.py was not found in the submission."


def test_file_found_twice_with_different_contents_is_reported(p1_config, tmp_path, reference):
    for folder, text in (("a", reference), ("b", reference + "\n# changed\n")):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / FILE).write_text(text)
    g = grade(tmp_path, load_assignment(HW3), p1_config())
    assert g.score == 0
    assert g.checks[0].feedback.summary == (
        "hw3_p1.py was found 2 times, with different contents: a/hw3_p1.py, b/hw3_p1.py. "
        "Keep only the one you want graded.")


def test_zip_with_the_file_in_a_subfolder_is_graded(p1_config, tmp_path, reference):
    archive = tmp_path / "upload.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("my-homework/code/hw3_p1.py", reference)
        zf.writestr("__MACOSX/my-homework/code/._hw3_p1.py", "junk")
        zf.writestr("../escape.py", "print('never extracted')")
    g = grade(archive, load_assignment(HW3), p1_config())
    assert g.score == g.max_score
    assert not (tmp_path.parent / "escape.py").exists()


def test_unreadable_zip_is_a_message_not_a_crash(p1_config, tmp_path):
    bad = tmp_path / "upload.zip"
    bad.write_bytes(b"PK\x03\x04 this is not really a zip")
    g = grade(bad, load_assignment(HW3), p1_config())
    assert g.score == 0 and g.harness_error is None
    assert g.checks[0].feedback.summary in {
        "The submission could not be read; see the message above.", "hw3_p1.py was not found in the submission."}


def test_grading_twice_gives_identical_results(grade_p1, reference):
    faulty = mutate(reference, 'g["V5"] = -g["D"]', 'g["V5"] = g["D"]')
    first, second = grade_p1({FILE: faulty}), grade_p1({FILE: faulty})

    def stable(g):
        return [c.model_dump(exclude={"seconds", "peak_mb"}) for c in g.checks]  # measurements, not results

    assert stable(first) == stable(second)
    assert first.score == second.score


def test_a_method_is_named_with_its_class(grade_p1, reference):
    helper = "\nclass Chain:\n    def step(self):\n        raise NotImplementedError\n"
    g = grade_p1({FILE: mutate(reference, "    V1 = W1 @ X\n", "    Chain().step()\n    V1 = W1 @ X\n") + helper})
    assert by_id(g, "p1.forward.handout_seed").feedback.summary == \
        "`Chain.step` in hw3_p1.py is not implemented yet: it raises NotImplementedError."


def test_two_gradings_at_once_do_not_disturb_each_other(grade_p1, reference):
    """Gradings share the sandbox user; a kill in one (a timeout) must not reach the other's worker."""
    from concurrent.futures import ThreadPoolExecutor

    looping = mutate(reference, "    V1 = W1 @ X\n", "    while True:\n        pass\n")
    with ThreadPoolExecutor(2) as pool:
        slow = pool.submit(grade_p1, {FILE: looping}, timeout_scale=0.1)
        clean = pool.submit(grade_p1, {FILE: reference})
        assert clean.result().score == 4.5
        assert lost(slow.result()) == FORWARD
