"""A fault costs only the checks it touches, with a message that names it; nothing crashes."""

from __future__ import annotations

import importlib.metadata
import zipfile

import pytest

from autograder.assignments import load_assignment
from autograder.assignments.umn_csci5527_hw3 import p1
from autograder.runner import grade
from conftest import HW3, by_id, lost, mutate, outcomes, reference_text

pytestmark = pytest.mark.slow  # what only the sandbox can show: graded by the real worker

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


# --- what the grader lacks: a GPU, names that numpy and torch removed ------------------------------
# The student cannot reproduce these at home: the message says what the grader runs and what to use.

AUTOGRAD = {"p1.autograd.handout_seed", "p1.autograd.other_seeds", "p1.autograd.agrees_with_backward"}
RUNS = (f"The grader runs on CPU only, with torch {importlib.metadata.version('torch')} and numpy "
        f"{importlib.metadata.version('numpy')}: ")
PICK_THE_DEVICE = 'choose the device with `device = torch.device("cuda" if torch.cuda.is_available() else "cpu")`'
UNAVAILABLE = {
    # name: (the submission made from the reference, lost checks, summary, the hint after RUNS)
    "cuda_in_a_check": (
        lambda ref: mutate(ref, "    x, y = torch.from_numpy(X), torch.from_numpy(Y)\n",
                           "    x, y = torch.from_numpy(X).cuda(), torch.from_numpy(Y).cuda()\n"), AUTOGRAD,
        "`autograd_gradients` in hw3_p1.py raised AssertionError: Torch not compiled with CUDA enabled: it used a "
        "GPU (CUDA), which the grader does not have.", PICK_THE_DEVICE),
    "cuda_at_import": (
        lambda ref: ref + "\nDEVICE = torch.zeros(1, device='cuda').device\n", ALL,
        "Importing hw3_p1.py raised AssertionError: Torch not compiled with CUDA enabled: it used a GPU (CUDA), "
        "which the grader does not have.", PICK_THE_DEVICE),
    "numpy_alias_in_a_check": (
        lambda ref: mutate(ref, "    z = 0.5 * float(np.sum(D * D))\n", "    z = 0.5 * np.float(np.sum(D * D))\n"),
        FORWARD, "`forward` in hw3_p1.py raised AttributeError: module 'numpy' has no attribute 'float': it used "
                 "`np.float`, which the grader does not have.", "use `float` (or `np.float64`) instead."),
    "numpy_alias_at_import": (
        lambda ref: mutate(ref, "HANDOUT_SEED = 55272022\n", "HANDOUT_SEED = 55272022\nDTYPE = np.float\n"), ALL,
        "Importing hw3_p1.py raised AttributeError: module 'numpy' has no attribute 'float': it used `np.float`, "
        "which the grader does not have.", "use `float` (or `np.float64`) instead."),
    "removed_torch_function_at_import": (  # torch's stub does not name itself: the student's line does
        lambda ref: ref + "\nprint('rank of W1:', torch.matrix_rank(torch.from_numpy(make_data()['W1'])))\n", ALL,
        "Importing hw3_p1.py raised RuntimeError: This function was deprecated since version 1.9 and is now "
        "removed: it used `torch.matrix_rank`, which the grader does not have.",
        "use `torch.linalg.matrix_rank` instead."),
}


@pytest.mark.parametrize("name", list(UNAVAILABLE))
def test_what_the_grader_lacks_is_named_with_its_versions_and_the_replacement(grade_p1, reference, name):
    edit, expected_lost, summary, advice = UNAVAILABLE[name]
    g = grade_p1({FILE: edit(reference)})
    assert lost(g) == expected_lost
    first = next(c for c in g.checks if c.id in expected_lost)
    assert first.outcome.value == "error"
    assert first.feedback.summary == summary
    assert first.feedback.hint.startswith(RUNS + advice)
    assert "reproduce" not in first.feedback.hint


def test_a_removed_torch_function_inside_a_check_names_its_replacement(grade_files):
    text = mutate(reference_text(HW3, "hw3_p3.py"),
                  "    _, _, vt = np.linalg.svd(X, full_matrices=False)\n    return vt[:k].T\n",
                  "    _, vectors = torch.symeig(torch.from_numpy(X.T @ X), eigenvectors=True)\n"
                  "    return vectors.flip(1)[:, :k].numpy()\n")
    g = grade_files({"hw3_p3.py": text}, problems=("p3",), data_root=None)  # the checkpoint check left out
    assert lost(g) == {"p3.pca_basis.top_singular_subspace"}
    c = by_id(g, "p3.pca_basis.top_singular_subspace")
    assert c.outcome.value == "error"
    assert c.feedback.summary == ("`pca_basis` in hw3_p3.py raised RuntimeError: This function was deprecated since "
                                  "version 1.9 and is now removed. The default behavior has changed from using the "
                                  "upper triangular portion of the matrix by default to using the lower triangular "
                                  "portion: it used `torch.symeig`, which the grader does not have.")
    assert c.feedback.hint == RUNS + "use `torch.linalg.eigh` instead."


def test_a_judge_that_raises_is_the_graders_fault_on_its_check_alone(p1_config, tmp_path, reference):
    broken_id = "p1.backward.handout_seed"

    def judge_reading_a_missing_output(got, expected, check):
        return got.V6  # a bug of the grader: no record declares V6

    checks = tuple(c.model_copy(update={"judge": judge_reading_a_missing_output}) if c.id == broken_id else c
                   for c in p1.PROBLEM.checks)
    assignment = load_assignment(HW3).model_copy(
        update={"problems": (p1.PROBLEM.model_copy(update={"checks": checks}),)})
    (tmp_path / FILE).write_text(reference)
    g = grade(tmp_path, assignment, p1_config())
    broken = by_id(g, broken_id)
    assert broken.outcome.value == "harness_error" and broken.score == 0
    assert broken.feedback.summary == "The autograder failed on this check: its judge raised an exception."
    assert broken.feedback.hint == "This is not your fault: tell your instructor, who will regrade it."
    assert broken.debug.startswith("Traceback") and "judge_reading_a_missing_output" in broken.debug
    assert broken.debug.rstrip().endswith("AttributeError: 'Backward' object has no attribute 'V6'")
    assert outcomes(g) == {i: "harness_error" if i == broken_id else "passed" for i in ALL}
    assert g.harness_error is None


def test_a_reference_that_fails_a_check_is_the_graders_fault_on_that_check_alone(p1_config, tmp_path, reference):
    """The instructor's reference raises in `forward`: no expected values for the forward checks, so
    every student would be charged for them. They are the grader's error instead, and the rest grade."""
    broken_reference = tmp_path / "reference"
    (broken_reference / HW3).mkdir(parents=True)
    (broken_reference / HW3 / FILE).write_text(
        mutate(reference, "    V1 = W1 @ X\n", "    raise RuntimeError('unfinished')\n"))
    submission = tmp_path / "submission"
    submission.mkdir()
    (submission / FILE).write_text(reference)
    g = grade(submission, load_assignment(HW3), p1_config(reference_root=broken_reference,
                                                          cache_dir=tmp_path / "cache"))
    assert {i for i, o in outcomes(g).items() if o == "harness_error"} == FORWARD
    summary = by_id(g, "p1.forward.handout_seed").feedback.summary
    assert summary.startswith("The autograder failed on this check: the reference solution failed (")
    assert "RuntimeError: unfinished" in summary
    assert by_id(g, "p1.forward.handout_seed").feedback.hint == "This is not your fault: tell your instructor, who will regrade it."
    assert {i: o for i, o in outcomes(g).items() if i not in FORWARD} == {i: "passed" for i in ALL - FORWARD}
