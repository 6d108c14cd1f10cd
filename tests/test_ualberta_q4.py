"""Q4 of ualberta-hw4 (the VAE): the reference scores full marks, the template 0 with clear messages,
the reference's KL and log-likelihood are torch's on the checks' inputs, and each fault of a real
submission loses exactly its checks with a message that names it. The training check runs on a
synthetic MNIST the VAE can learn (tests/ualberta_fake_mnist.py); on the real one in the slow lane."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
import ualberta_fake_mnist
from conftest import Fault, by_id, edited, lost_in, readable, real_data_root, reference_text

from autograder.assignments.ualberta_hw4 import q4
from autograder.config import REPO_ROOT
from autograder.data import mnist

AID = "ualberta-hw4"
FILE = "hw4_vae.py"
ALL = {c.id for c in q4.PROBLEM.checks}
TRAIN = "q4.train_mnist_vae.lowers_negative_elbo"


@pytest.fixture(scope="session")
def ualberta_root():
    root = Path(tempfile.mkdtemp(prefix="ualberta-hw4-data-"))
    ualberta_fake_mnist.write(root)
    yield readable(root)
    shutil.rmtree(root)


@pytest.fixture(scope="module")
def ref():
    return reference_text(AID, FILE)


@pytest.fixture(scope="module")
def grade_q4(grade_files, ualberta_root):
    def run(text: str, real: bool = False):
        return grade_files({FILE: text}, AID, problems=("q4",),
                           data_root=real_data_root(mnist.DATASET) if real else ualberta_root)
    return run


def test_reference_scores_full_marks(grade_q4, ref):
    g = grade_q4(ref)
    assert {c.id for c in g.checks} == ALL
    assert all(c.outcome.value == "passed" for c in g.checks), [(c.id, c.feedback.summary) for c in g.checks]
    assert g.score == 25.0


def test_template_scores_zero_with_clear_messages(grade_q4):
    g = grade_q4((REPO_ROOT / "student_template" / AID / FILE).read_text())
    assert lost_in(g, "q4") == ALL and g.score == 0
    for c in g.checks:
        assert c.outcome.value == "error", c.id
        assert "is not implemented yet: it raises NotImplementedError" in c.feedback.summary, c.id


def _reference_module():
    namespace: dict = {}
    exec(compile(reference_text(AID, FILE), FILE, "exec"), namespace)
    return namespace


@pytest.mark.parametrize("shape, seed", [(q4.KL_SHAPE, 1), (q4.OTHER_KL_SHAPE, 2)])
def test_the_references_kl_is_torch_distributions_on_the_checks_inputs(shape, seed):
    mu, logvar = (torch.from_numpy(a) for a in q4.kl_inputs(shape, seed))
    theirs = torch.distributions.kl_divergence(torch.distributions.Normal(mu, torch.exp(logvar / 2)),
                                               torch.distributions.Normal(0.0, 1.0)).sum(dim=1).mean()
    assert _reference_module()["kl_divergence"](mu, logvar).item() == pytest.approx(theirs.item(), rel=1e-6)


@pytest.mark.parametrize("shape, seed", [(q4.BCE_SHAPE, 1), (q4.OTHER_BCE_SHAPE, 2)])
def test_the_references_log_likelihood_is_minus_torchs_summed_cross_entropy_on_the_checks_inputs(shape, seed):
    x_hat, x = (torch.from_numpy(a) for a in q4.bce_inputs(shape, seed))
    theirs = -F.binary_cross_entropy(x_hat, x, reduction="sum") / len(x)
    ours = _reference_module()["binary_cross_entropy"](x_hat, x).item()
    assert ours == pytest.approx(theirs.item(), rel=1e-6) and ours < 0


FAULTS: dict[str, Fault] = {
    "kl_with_the_variance_where_the_log_variance_belongs": Fault(
        [("mu ** 2 + torch.exp(logvar) - logvar - 1", "mu ** 2 + torch.exp(logvar) - torch.exp(logvar) - 1")],
        {"q4.kl_divergence.closed_form", "q4.kl_divergence.other_inputs"},
        ["kl_divergence returned", "uses the variance sigma^2 = exp(logvar) where the log-variance belongs"]),
    "bce_averaged_over_pixels": Fault(
        [("(1 - x) * torch.log(1 - x_hat), dim=1)", "(1 - x) * torch.log(1 - x_hat), dim=1) / x.shape[1]")],
        {"q4.binary_cross_entropy.log_likelihood", "q4.binary_cross_entropy.other_inputs", TRAIN},
        ["It averages over the 784 pixels of each image"], read="q4.binary_cross_entropy.log_likelihood"),
    "elbo_with_the_wrong_sign": Fault(
        [("return kl_divergence(mu, logvar) - binary_cross_entropy(x_hat, x)",
          "return binary_cross_entropy(x_hat, x) - kl_divergence(mu, logvar)")],
        {"q4.elbo.kl_minus_log_likelihood", TRAIN},
        ["has the wrong sign: it returns the ELBO itself"]),
    "sampling_without_the_reparameterisation": Fault(
        [("h = mu + torch.exp(logvar / 2) * torch.randn_like(mu)",
          "h = torch.distributions.Normal(mu, torch.exp(logvar / 2)).sample()")],
        {"q4.reconstruct.gradients_reach_mu_and_logvar", TRAIN},
        ["No gradient of x_hat reaches the encoder's mu and logvar heads", ".rsample()",
         "The trained encoder's latent carries nothing", "of reconstruct (gradients must reach mu and logvar"]),
    "noise_scaled_by_the_variance": Fault(
        [("h = mu + torch.exp(logvar / 2) * torch.randn_like(mu)", "h = mu + torch.exp(logvar) * torch.randn_like(mu)")],
        {"q4.reconstruct.samples_from_posterior"},
        ["do not have the standard deviation exp(logvar / 2)", "scaled by the variance exp(logvar)"]),
    "mu_and_logvar_returned_swapped": Fault(
        [("return mu, logvar, vae.decoder(h)", "return logvar, mu, vae.decoder(h)")],
        {"q4.reconstruct.returns_encoding"}, ["mu and logvar are swapped"]),
    "encoder_features_of_the_latent_size": Fault(  # the notebook's own solution: Dense(input_dim, latent_dim, tanh)
        [("Encoder(nn.Sequential(nn.Linear(input_dim, hidden_dim), nn.Tanh()), hidden_dim, latent_dim)",
          "Encoder(nn.Sequential(nn.Linear(input_dim, latent_dim), nn.Tanh()), latent_dim, latent_dim)")],
        {"q4.make_mnist_vae.architecture"},
        ["the shared part's output is hidden_dim, not latent_dim"]),
    "training_never_steps": Fault(
        [("            optimizer.step()\n", "")],
        {TRAIN}, ["the negative ELBO is", "optimizer.step()"]),
}
"""Mistakes real submissions make. Training uses the student's own elbo, reconstruct, kl_divergence and
binary_cross_entropy, so a mistake there that ruins training costs the training check too: a loss that
maximises the error, and the two that leave the latent unused (no gradient from the reconstruction to
the encoder; a log-likelihood 784 times too weak beside the KL), which collapse the VAE onto the mean
image (+79 nats over the reference on the real MNIST, +60 allowed). A KL without its pull on logvar
(+50 on the real MNIST) and a swap used consistently (+34) still train: they cost their own check only."""


@pytest.mark.parametrize("name", sorted(FAULTS))
def test_fault_loses_exactly_its_checks(grade_q4, ref, name):
    FAULTS[name].assert_graded(grade_q4(FAULTS[name].apply(ref)), "q4")


VALID: dict[str, list[tuple[str, str]]] = {
    # Nothing in the spec fixes the dtype: a VAE trained in float64 is evaluated on float64 images.
    "trained_in_float64": [
        ("X = (torch.as_tensor(X, dtype=torch.float32).reshape(len(X), -1) > 0.5).float()",
         "X = (torch.as_tensor(X, dtype=torch.float32).reshape(len(X), -1) > 0.5).double()"),
        ("vae = make_mnist_vae(input_dim=X.shape[1])", "vae = make_mnist_vae(input_dim=X.shape[1]).double()")],
    # An epsilon inside the logs, for stability: 4.5e-5 of the value on the check's inputs.
    "log_likelihood_with_an_epsilon": [
        ("x * torch.log(x_hat) + (1 - x) * torch.log(1 - x_hat)",
         "x * torch.log(x_hat + 1e-5) + (1 - x) * torch.log(1 - x_hat + 1e-5)")],
    # torch's own: Normal(...).rsample(), distributions' KL, minus F.binary_cross_entropy summed / n.
    "torch_distributions_and_functional": [
        ("h = mu + torch.exp(logvar / 2) * torch.randn_like(mu)",
         "h = torch.distributions.Normal(mu, torch.exp(0.5 * logvar)).rsample()"),
        ("    per_instance = 0.5 * torch.sum(mu ** 2 + torch.exp(logvar) - logvar - 1, dim=1)\n    return per_instance.mean()",
         "    return torch.distributions.kl_divergence(torch.distributions.Normal(mu, (0.5 * logvar).exp()),\n"
         "                                             torch.distributions.Normal(0.0, 1.0)).sum(-1).mean()"),
        ("    per_instance = torch.sum(x * torch.log(x_hat) + (1 - x) * torch.log(1 - x_hat), dim=1)\n"
         "    return per_instance.mean()",
         "    return -torch.nn.functional.binary_cross_entropy(x_hat, x, reduction=\"sum\") / x.shape[0]")],
    # PyTorch's own VAE example (pytorch/examples, vae/main.py): MNIST's 784 pixels written into the code.
    "pytorch_example_with_784_written_in": [
        ("mu, logvar = vae.encoder.encode(x)", "mu, logvar = vae.encoder.encode(x.view(-1, 784))"),
        ("h = mu + torch.exp(logvar / 2) * torch.randn_like(mu)",
         "std = torch.exp(0.5 * logvar)\n    h = mu + torch.randn_like(std) * std"),
        ("    per_instance = torch.sum(x * torch.log(x_hat) + (1 - x) * torch.log(1 - x_hat), dim=1)\n"
         "    return per_instance.mean()",
         "    BCE = torch.nn.functional.binary_cross_entropy(x_hat, x.view(-1, 784), reduction=\"sum\")\n"
         "    return -BCE / x.size(0)")],
}
"""Valid submissions written otherwise than the reference: each scores full marks."""


@pytest.mark.parametrize("name", sorted(VALID))
def test_valid_variant_scores_full_marks(grade_q4, ref, name):
    g = grade_q4(edited(ref, VALID[name]))
    assert lost_in(g, "q4") == set(), [(c.id, c.feedback.summary) for c in g.checks if c.score < c.points]
    assert g.score == 25.0


def test_a_number_written_into_kl_divergence_passes_only_the_visible_check(grade_q4, ref):
    """The value the visible check's feedback shows, returned whatever the inputs: the hidden check fails,
    without showing its own expected value. (Training, left without a KL term, fails too.)"""
    namespace = _reference_module()
    shown = namespace["kl_divergence"](*(torch.from_numpy(a) for a in q4.kl_inputs())).item()
    g = grade_q4(ref.replace("    per_instance = 0.5 * torch.sum(mu ** 2", f"    return torch.tensor({shown!r})\n"
                                                                           "    per_instance = 0.5 * torch.sum(mu ** 2", 1))
    assert lost_in(g, "q4") == {"q4.kl_divergence.other_inputs", TRAIN}
    hidden = by_id(g, "q4.kl_divergence.other_inputs")
    assert "(hidden)" in hidden.feedback.summary


def test_the_judge_computes_the_negative_elbo_of_a_known_model():
    """The training checks' metric: an image of 0s and 1s under probabilities 1/2 costs 784 ln 2 nats, and
    mu = 0, logvar = 0 has no KL."""
    x = (np.random.default_rng(0).random((5, 784)) < 0.5).astype(float)
    value, kl, ll = q4.common.negative_elbo(x, np.zeros((5, 3)), np.zeros((5, 3)), np.full((5, 784), 0.5))
    assert kl == 0 and value == pytest.approx(784 * np.log(2))
    assert q4.common.negative_elbo(x, np.ones((5, 2)), np.zeros((5, 2)), np.full((5, 784), 0.5))[1] == pytest.approx(1.0)


@pytest.mark.realdata
def test_reference_trains_on_the_real_mnist(grade_q4, ref):
    g = grade_q4(ref, real=True)
    assert lost_in(g, "q4") == set(), [(c.id, c.feedback.summary) for c in g.checks]
    assert "nats per image" in by_id(g, TRAIN).feedback.summary


@pytest.mark.realdata
@pytest.mark.parametrize("name", ["training_never_steps", "sampling_without_the_reparameterisation",
                                  "kl_with_the_variance_where_the_log_variance_belongs"])
def test_faults_lose_the_same_checks_on_the_real_mnist(grade_q4, ref, name):
    """The bar (reference + 60 nats) tells a collapsed VAE (+79) from the worst valid one (+47) there too."""
    FAULTS[name].assert_graded(grade_q4(FAULTS[name].apply(ref), real=True), "q4")
