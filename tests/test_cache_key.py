"""Values the cache can be trusted with: the key moves with everything the expected values depend
on, and nothing runs on the reference for a check whose judge never reads it."""

from __future__ import annotations

import shutil

import pytest

from autograder import versions
from autograder.assignments import load_assignment
from autograder.config import REPO_ROOT, GradingConfig
from autograder.expected import ExpectedValues, fingerprint

HW4 = "uw-cse446-hw4"


@pytest.fixture
def reference_copy(tmp_path):
    shutil.copytree(REPO_ROOT / "reference" / HW4, tmp_path / HW4)
    return tmp_path


def test_the_key_moves_with_a_reference_checkpoint_and_with_the_library_versions(reference_copy, monkeypatch):
    assignment = load_assignment(HW4)
    config = GradingConfig(reference_root=reference_copy)
    before = fingerprint(assignment, config)
    checkpoint = reference_copy / HW4 / "a4_c.pt"
    data = bytearray(checkpoint.read_bytes())
    data[len(data) // 2] ^= 0xFF
    checkpoint.write_bytes(bytes(data))  # same size, one byte changed: a retrained checkpoint, say
    retrained = fingerprint(assignment, config)
    assert retrained != before
    monkeypatch.setattr(versions, "installed", lambda: {"torch": "9.9.9", "torchvision": None, "numpy": "1.0"})
    assert fingerprint(assignment, config) not in (before, retrained)


def test_the_bundles_key_is_the_engines_alone(reference_copy):
    assignment = load_assignment(HW4)
    config = GradingConfig(reference_root=reference_copy)
    bundled = fingerprint(assignment, config, with_reference=False)
    (reference_copy / HW4 / "hw4_a1.py").write_text("ANSWERS = {}\n")
    assert fingerprint(assignment, config, with_reference=False) == bundled
    assert fingerprint(assignment, config) != bundled


def test_a_check_whose_judge_never_reads_the_reference_is_never_run_on_it(tmp_path):
    """A3's structure checks judge the student's model by rules alone: no reference, no cache, no
    fault of the reference can reach them; its accuracy checks do compare with the reference."""
    assignment = load_assignment(HW4)
    structure = assignment.check("a3.extractor.only_new_layer_trainable")
    accuracy = assignment.check("a3.extractor.pretrained_accuracy")
    assert not structure.needs_expected and accuracy.needs_expected
    nowhere = GradingConfig(reference_root=tmp_path / "no-reference", cache_dir=tmp_path / "cache")
    values = ExpectedValues(assignment, nowhere)
    assert values.get([structure]) == {structure.id: {}}
    assert values.available(structure) and not values.available(accuracy)
    assert not (tmp_path / "cache").exists()


def test_a_lambda_judge_is_taken_to_read_the_reference():
    """A lambda's source is its whole statement, other lambdas included: nothing can be read off it
    for sure, so its check runs on the reference, as every check did before."""
    from autograder.model import Check, Verdict

    check = Check(id="x.lambda.judge", claim="c", points=1, part="a", run=lambda subject: {"a": 1},
                  judge=lambda got, expected, check: Verdict.passed("fine"))
    assert check.needs_expected
