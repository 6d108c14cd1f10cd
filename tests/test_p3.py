"""P3 of umn-csci5527-hw3: the reference passes, the template fails cleanly, and each fault loses
exactly its checks with a message that names it. The autoencoder checkpoint is judged on the real
MNIST test set against 30-component PCA (skipped without the data); loading faults on a synthetic one."""

from __future__ import annotations

import dataclasses
import io

import pytest
from conftest import HW3, Fault, by_id, lost, reference_text

from autograder.assignments.umn_csci5527_hw3 import p3
from autograder.config import REPO_ROOT

FILE = "hw3_p3.py"
CHECKPOINT = "p3_autoencoder.pt"
CHECKPOINT_CHECK = "p3.autoencoder.beats_pca30"
ALL = {c.id for c in p3.PROBLEM.checks}
REFERENCE_CHECKPOINT = REPO_ROOT / "reference" / HW3 / CHECKPOINT
FAILED_BY_TEST = {CHECKPOINT_CHECK: "test_untrained_autoencoder_loses_only_the_checkpoint_check"}


def p3_lost(g) -> set[str]:
    return {i for i in lost(g) if i.startswith("p3.")}


def explain(g) -> list[str]:
    return [f"{c.id}: {c.feedback.summary}" for c in g.checks if c.id in p3_lost(g)]


@pytest.fixture(scope="module")
def reference():
    return reference_text(HW3, FILE)


def test_reference_passes_every_code_check(grade_hw3, reference):
    g = grade_hw3({FILE: reference})
    assert p3_lost(g) == {CHECKPOINT_CHECK}, explain(g)
    assert by_id(g, CHECKPOINT_CHECK).feedback.summary == "p3_autoencoder.pt was not found in the submission."
    robust = by_id(g, "p3.robust_basis.closer_than_pca").feedback.details
    print("\n".join(robust))  # the figures behind ROBUST_RATIO (pytest -s)
    assert all(float(line.split("robust basis ")[1].split(",")[0]) < 1e-8 for line in robust)


def test_template_scores_zero_with_clear_messages(grade_hw3):
    g = grade_hw3({FILE: (REPO_ROOT / "student_template" / HW3 / FILE).read_text()})
    checks = [c for c in g.checks if c.problem == "p3"]
    assert sum(c.score for c in checks) == 0 and {c.id for c in checks} == ALL
    for c in checks:
        expected = "was not found in the submission" if c.id == CHECKPOINT_CHECK else \
            "is not implemented yet: it raises NotImplementedError"
        assert expected in c.feedback.summary, (c.id, c.feedback.summary)


FAULTS = {  # each mistake, the p3 checks it loses besides the checkpoint (absent here), and what they say
    "pca_with_centring": Fault(
        [("_, _, vt = np.linalg.svd(X, full_matrices=False)\n    return vt[:k].T",
          "_, _, vt = np.linalg.svd(X - X.mean(axis=0), full_matrices=False)\n    return vt[:k].T")],
        {"p3.pca_basis.top_singular_subspace"}, ["pca_basis spans a different subspace", "Your basis is the PCA of the centred data"]),
    "robust_fit_squares_the_norm": Fault(
        [("weights = 1.0 / np.maximum(residual, 1e-12)",
          "weights = np.ones_like(residual)")],
        {"p3.robust_basis.closer_than_pca"}, ["robust_basis is not much closer to B than PCA's basis", "not of their squares"]),
    "distance_without_pseudo_inverse": Fault(
        [("B1 @ np.linalg.pinv(B1) - B2 @ np.linalg.pinv(B2)",
          "B1 @ B1.T - B2 @ B2.T")],
        {"p3.subspace_distance.projector_formula"}, ["non-orthonormal pair is the first distance that differs", "np.linalg.pinv"]),
    "subspace_data_centred": Fault(
        [("    X = np.vstack([inliers, outliers])\n",
          "    X = np.vstack([inliers, outliers])\n    X = X - X.mean(axis=0)\n")],
        {"p3.make_subspace_data.properties"}, ["rows of X lie in span(B)", "centring X"]),
    "code_layer_logistic": Fault(
        [("nn.Linear(250, code_dim),\n",
          "nn.Linear(250, code_dim), nn.Sigmoid(),\n")],
        {"p3.autoencoder.activations"}, ["the code layer must be linear"]),
    "encoder_width_wrong": Fault(
        [("nn.Linear(1000, 500), nn.Sigmoid(),\n            nn.Linear(500, 250)",
          "nn.Linear(1000, 400), nn.Sigmoid(),\n            nn.Linear(400, 250)")],
        {"p3.autoencoder.layer_sizes"}, ["784 -> 1000 -> 400 -> 250", "expected 784 -> 1000 -> 500 -> 250"]),
    "pca_reconstruct_forgets_the_mean": Fault(
        [("    return (X - mean) @ V @ V.T + mean\n",
          "    return (X - mean) @ V @ V.T\n")],
        {"p3.pca_reconstruct.values"}, ["neither the centred nor the uncentred"]),
}


@pytest.mark.parametrize("name", list(FAULTS))
def test_fault_loses_exactly_its_checks(grade_hw3, reference, name):
    fault = FAULTS[name]
    g = grade_hw3({FILE: fault.apply(reference)})
    dataclasses.replace(fault, lost=fault.lost | {CHECKPOINT_CHECK}).assert_graded(g, "p3")


def _state_dict_bytes(code_dim: int) -> bytes:
    import torch

    namespace: dict = {}
    exec(compile(reference_text(HW3, FILE), FILE, "exec"), namespace)
    torch.manual_seed(0)
    buffer = io.BytesIO()
    torch.save(namespace["DeepAutoencoder"](code_dim).state_dict(), buffer)
    return buffer.getvalue()


def test_checkpoint_of_another_network_is_named(grade_hw3, reference):
    g = grade_hw3({FILE: reference, CHECKPOINT: _state_dict_bytes(2)})
    assert p3_lost(g) == {CHECKPOINT_CHECK}, explain(g)
    summary = by_id(g, CHECKPOINT_CHECK).feedback.summary
    assert "p3_autoencoder.pt does not fit the model built by DeepAutoencoder(code_dim=30)" in summary
    assert "size mismatch" in summary


@pytest.mark.realdata
def test_reference_scores_full_marks_on_real_mnist(grade_hw3, reference, real_root):
    g = grade_hw3({FILE: reference, CHECKPOINT: REFERENCE_CHECKPOINT}, real=True)
    assert p3_lost(g) == set(), explain(g)
    assert sum(c.score for c in g.checks if c.problem == "p3") == 6
    figures = by_id(g, CHECKPOINT_CHECK).feedback.details[0]
    print(figures)
    mine, pca = (float(part.split()[-1]) for part in figures.split(" (the paper")[0].split(","))
    assert mine < 0.8 * pca and 13.8 < pca < 13.9  # PCA-30: 13.87 in the paper, 13.866 here


@pytest.mark.realdata
def test_untrained_autoencoder_loses_only_the_checkpoint_check(grade_hw3, reference, real_root):
    g = grade_hw3({FILE: reference, CHECKPOINT: _state_dict_bytes(30)}, real=True)
    assert p3_lost(g) == {CHECKPOINT_CHECK}, explain(g)
    result = by_id(g, CHECKPOINT_CHECK)
    assert result.feedback.summary == "p3_autoencoder.pt reconstructs the MNIST test set worse than 30-component PCA."
    assert "PCA with 30 components 13.866" in result.feedback.details[0]


def test_the_stored_subspace_data_is_the_references():
    """p3.handout_data is the reference's make_subspace_data at the checks' seeds, stored in float32
    (scripts/make_fixtures.py writes it): run the script again if this fails."""
    import numpy as np

    namespace: dict = {}
    exec(compile(reference_text(HW3, FILE), FILE, "exec"), namespace)
    for seed in p3.SEEDS:
        B, X = namespace["make_subspace_data"](seed)
        stored_B, stored_X = p3.handout_data(seed)
        assert np.abs(stored_B - B).max() < 1e-7 and np.abs(stored_X - X).max() < 1e-7, seed
        inliers = stored_X[:-p3.OUTLIERS]
        assert np.abs(inliers - inliers @ np.linalg.pinv(stored_B).T @ stored_B.T).max() < 1e-12
