"""Tamper attempts: whatever the student's code does inside the worker, the grade stays the judge's."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from autograder.config import REPO_ROOT
from conftest import HW3, by_id, lost, mutate, needs_isolation, reference_text

pytestmark = pytest.mark.slow  # what only the sandbox can show: graded by the real worker

FILE = "hw3_p1.py"
FORWARD = {"p1.forward.handout_seed", "p1.forward.other_seeds"}
BACKWARD = {"p1.backward.handout_seed", "p1.backward.other_seeds", "p1.autograd.agrees_with_backward"}
WRONG_V5_GRADIENT = ('g["V5"] = -g["D"]', 'g["V5"] = g["D"]')


@pytest.fixture(scope="module")
def reference():
    return reference_text(HW3, FILE)


@pytest.fixture(scope="module")
def faulty(reference):
    """A submission that should lose the backward checks, to which each attack is added."""
    return mutate(reference, *WRONG_V5_GRADIENT)


def test_writing_results_json_or_the_report_changes_nothing(tmp_path, faulty, cache_dir, grade_p1):
    out = tmp_path / "out"
    out.mkdir()
    forged = json.dumps({"score": 100, "tests": []})
    attack = (f"for _p in [{str(out / 'results.json')!r}, {str(out / 'report.html')!r}, 'results.json']:\n"
              f"    try:\n        open(_p, 'w').write({forged!r})\n    except OSError:\n        pass\n")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / FILE).write_text(faulty + attack)
    subprocess.run([sys.executable, "-m", "autograder.cli", "grade", str(tmp_path / "sub"), "-a", HW3,
                    "-p", "p1", "-o", str(out), "-q", "--cache-dir", str(cache_dir)], cwd=REPO_ROOT, capture_output=True)
    results = json.loads((out / "results.json").read_text())
    assert results["score"] == grade_p1({FILE: faulty}).score == 2.25  # the judge's, not the forged 100
    assert "<!DOCTYPE html>" in (out / "report.html").read_text()


@needs_isolation
def test_reading_the_reference_or_the_expected_values_is_refused(grade_p1, reference, cache_dir):
    steal = (f"    import glob\n    _ = open({str(REPO_ROOT / 'reference' / HW3 / FILE)!r}).read()\n")
    g = grade_p1({FILE: mutate(reference, "    V1 = W1 @ X\n", steal + "    V1 = W1 @ X\n")})
    assert lost(g) == FORWARD
    assert "raised PermissionError" in by_id(g, "p1.forward.handout_seed").feedback.summary
    peek = f"    _ = list(__import__('pathlib').Path({str(cache_dir)!r}).rglob('*.npy'))\n    assert _, 'nothing'\n"
    g = grade_p1({FILE: mutate(reference, "    V1 = W1 @ X\n", peek + "    V1 = W1 @ X\n")})
    assert lost(g) == FORWARD


def test_a_tensor_subclass_that_lies_in_eq_gains_nothing(grade_p1, faulty):
    liar = ("\nclass Liar(torch.Tensor):\n    def __eq__(self, other):\n        return True\n"
            "    def __float__(self):\n        return 0.0\n\n_backward = backward\n\n"
            "def backward(*args):\n"
            "    return {k: torch.as_tensor(v).as_subclass(Liar) for k, v in _backward(*args).items()}\n")
    g = grade_p1({FILE: faulty.split('\nif __name__')[0] + liar})
    assert lost(g) == BACKWARD
    assert "V5.g is the first gradient that differs" in by_id(g, "p1.backward.handout_seed").feedback.summary


def test_an_object_that_overrides_eq_and_float_is_refused(grade_p1, reference):
    cheat = ("\nclass Always:\n    def __eq__(self, other):\n        return True\n    def __float__(self):\n"
             "        return 1.0\n\ndef autograd_gradients(*args):\n    return {k: Always() for k in ('W1', 'W2', 'W3')}\n")
    g = grade_p1({FILE: reference.split('\nif __name__')[0] + cheat})
    assert lost(g) == {"p1.autograd.handout_seed", "p1.autograd.other_seeds", "p1.autograd.agrees_with_backward"}
    assert by_id(g, "p1.autograd.handout_seed").feedback.summary == \
        "autograd_gradients(X, Y, W1, W2, W3)['W1'] should be a numeric array, but it is a Always."


def test_monkeypatching_numpy_torch_or_the_harness_changes_nothing(grade_p1, faulty):
    patch = ("\nimport autograder.compare, autograder.judges, autograder.student\n"
             "np.allclose = np.isclose = lambda *a, **k: True\n"
             "torch.allclose = lambda *a, **k: True\n"
             "autograder.compare.compare_arrays = lambda *a, **k: None\n"
             "autograder.judges.values_match = lambda *a, **k: (lambda *x: None)\n")
    g = grade_p1({FILE: faulty + patch})
    assert lost(g) == BACKWARD


def test_a_crafted_pickle_in_a_returned_value_is_never_loaded(grade_p1, faulty, tmp_path):
    """The student's code replaces the worker's packing with one that declares an object array and
    sends a pickle as its bytes (bypassing pydantic's validation on its side)."""
    marker = tmp_path / "unpickled"
    attack = ("\nimport pickle, autograder.transport as _t\n"
              "class Boom:\n    def __reduce__(self):\n"
              f"        return (open, ({str(marker)!r}, 'w'))\n"
              "def _evil_pack(outputs):\n"
              "    blob = pickle.dumps([Boom()])\n"
              "    spec = _t.ArraySpec.model_construct(dtype='object', shape=(len(blob),))\n"
              "    return _t.OutputsManifest.model_construct(values={}, arrays={'V1': spec}), [memoryview(blob)]\n"
              "_t.pack_outputs = _evil_pack\n")
    g = grade_p1({FILE: faulty + attack})
    assert lost(g) == {c.id for c in g.checks}
    assert by_id(g, "p1.forward.handout_seed").feedback.summary.startswith(
        "The values returned during this check could not be read by the grader: malformed message")
    assert not marker.exists()


HW5 = "fa24-dl-hw5"


@pytest.mark.parametrize(("forged", "words"), [
    ("{'[\"R\"]': 'full marks'}", "R of Values: "),  # a string where the judge reads an array
    ("{}", "R of Values: Field required"),
    ("{**flat, '[\"score\"]': 1.0}", "score of Values: Extra inputs are not permitted"),
])
def test_outputs_forged_outside_the_record_are_the_students_error_not_a_regrade(grade_files, forged, words):
    """The student's code replaces the worker's flattening of records: a field of the wrong type,
    none, or one more. Before records, a judge handed a string where it reads an array raised, and
    the check became the grader's error ("not your fault, regraded"): a way to dodge a failure.
    Now the parent refuses what does not fit the check's record before any judge runs, naming the
    field; the forged check scores 0 as an error of the submission, and the other checks grade."""
    reference = reference_text(HW5, "hw5_q1.py")
    attack = ("\nimport autograder.transport as _t\n_flatten = _t.flatten\n"
              "def _forge(record):\n"
              "    flat = _flatten(record)\n"
              f"    return {forged} if type(record).__name__ == 'Values' else flat\n"
              "_t.flatten = _forge\n")
    g = grade_files({"hw5_q1.py": reference + attack}, assignment=HW5, problems=("q1",))
    forged_check = by_id(g, "q1.r.values")
    assert forged_check.outcome.value == "error" and forged_check.score == 0
    assert forged_check.feedback.summary.startswith(
        f"The values returned during this check could not be read by the grader: {words}")
    assert {c.id for c in g.checks if c.score < c.max_score} == {"q1.r.values"}


def test_an_entry_forged_out_of_a_record_is_the_students_error_not_a_regrade(grade_files):
    """The record's types fit, but an entry its judge reads (the 3-D point set of the hidden check)
    is left out: a lookup the legitimate half always satisfies. The check scores 0 as an error of
    the submission, naming the entry, and not as the grader's fault; the other checks grade."""
    reference = reference_text("fa24-dl-final", "final.py")
    attack = ("\nimport autograder.transport as _t\n_flatten = _t.flatten\n"
              "def _forge(record):\n"
              "    flat = _flatten(record)\n"
              "    if type(record).__name__ == 'OtherSets':\n"
              "        flat = {k: v for k, v in flat.items() if '\"3-D\"' not in k}\n"
              "    return flat\n"
              "_t.flatten = _forge\n")
    g = grade_files({"final.py": reference + attack}, assignment="fa24-dl-final", problems=("q1",))
    forged = by_id(g, "q1.lloyd.other_points")
    assert forged.outcome.value == "error" and forged.score == 0
    assert forged.feedback.summary == ("The values returned during this check could not be read by the grader: "
                                       "the entry '3-D' that this check reads is missing from them.")
    assert {c.id for c in g.checks if c.score < c.max_score} == {"q1.lloyd.other_points"}


def test_printing_lines_that_look_like_scores_changes_nothing(grade_p1, faulty):
    noise = '\nprint(\'{"score": 4.5, "tests": []}\')\nprint("Score: 4.5/4.5 -- all tests passed")\n'
    g = grade_p1({FILE: faulty + noise})
    assert lost(g) == BACKWARD


def test_changing_the_seed_or_the_clock_changes_nothing(grade_p1, reference):
    meddle = ("\nimport random, time\nnp.random.seed(0)\nrandom.seed(0)\ntorch.manual_seed(0)\n"
              "time.time = time.perf_counter = time.monotonic = lambda: 0.0\n")
    g = grade_p1({FILE: reference + meddle})
    assert g.score == g.max_score
    looping = mutate(reference, "    V1 = W1 @ X\n", "    while True:\n        pass\n") + meddle
    g = grade_p1({FILE: looping}, timeout_scale=0.1)
    assert lost(g) == FORWARD and by_id(g, "p1.forward.handout_seed").outcome.value == "timeout"


def test_the_network_is_out_of_reach(grade_p1, reference):
    import socket

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    port = server.getsockname()[1]
    call = f"    import socket\n    socket.create_connection(('127.0.0.1', {port}), timeout=2).sendall(b'answers')\n"
    try:
        g = grade_p1({FILE: mutate(reference, "    V1 = W1 @ X\n", call + "    V1 = W1 @ X\n")})
    finally:
        server.close()
    network = next(p for p in g.protections if p.name == "no network")
    if not network.active:
        pytest.skip(f"no network namespace on this machine: {network.detail}")
    assert lost(g) == FORWARD
    assert "Network is unreachable" in by_id(g, "p1.forward.handout_seed").feedback.summary


def test_protections_that_cannot_apply_are_reported_off_and_grading_still_works(grade_p1, reference):
    g = grade_p1({FILE: reference}, isolate=False)
    assert g.score == g.max_score
    off = {p.name: p.detail for p in g.protections if not p.active}
    assert off["unprivileged user"] == "isolation is switched off (trusted or --no-isolation)"
    assert off["no network"] == "not requested"
