"""Q5 of ualberta-hw4 (the conditional VAE): the reference scores full marks, the template 0 with clear
messages, and each fault of a real submission loses exactly its checks with a message that names it.
The training checks run on the synthetic MNIST of tests/ualberta_fake_mnist.py, whose ten prototypes
the reference classifier reads; on the real MNIST in the slow lane."""

from __future__ import annotations

import io

import numpy as np
import pytest
from conftest import Fault, by_id, edited, figures_shown, lost_in, real_data_root, reference_text
from test_ualberta_q4 import AID, ualberta_root  # noqa: F401 - the fixture, shared

from autograder.assignments.ualberta_hw4 import classifier, common, q5
from autograder.config import REPO_ROOT
from autograder.data import mnist

FILE, VAE_FILE = "hw4_cvae.py", "hw4_vae.py"
ALL = {c.id for c in q5.PROBLEM.checks}
CONDITIONS = "q5.reconstruct_cvae.conditions_on_y"
TRAIN = "q5.train_mnist_cvae.lowers_negative_elbo"
GENERATES = "q5.train_mnist_cvae.generates_the_class_asked"


@pytest.fixture(scope="module")
def ref():
    return reference_text(AID, FILE)


@pytest.fixture(scope="module")
def grade_q5(grade_files, ualberta_root):  # noqa: F811
    def run(text: str, vae_text: str | None = None, real: bool = False):
        return grade_files({FILE: text, VAE_FILE: vae_text or reference_text(AID, VAE_FILE)}, AID, problems=("q5",),
                           data_root=real_data_root(mnist.DATASET) if real else ualberta_root)
    return run


def test_reference_scores_full_marks(grade_q5, ref):
    g = grade_q5(ref)
    assert {c.id for c in g.checks} == ALL
    assert all(c.outcome.value == "passed" for c in g.checks), [(c.id, c.feedback.summary) for c in g.checks]
    assert g.score == 15.0


def test_template_scores_zero_with_clear_messages(grade_q5):
    template = REPO_ROOT / "student_template" / AID
    g = grade_q5((template / FILE).read_text(), (template / VAE_FILE).read_text())
    assert lost_in(g, "q5") == ALL and g.score == 0
    for c in g.checks:
        assert c.outcome.value == "error", c.id
        assert "is not implemented yet: it raises NotImplementedError" in c.feedback.summary, c.id


FAULTS: dict[str, Fault] = {
    # The decoder is always told class 0: it trains, but never learns to draw the class it is given.
    "decoder_ignores_the_class": Fault(
        [("return mu, logvar, cvae.decoder(append_class(h, y))",
          "return mu, logvar, cvae.decoder(append_class(h, 0 * y))")],
        {CONDITIONS, GENERATES},
        ["reconstruct_cvae's decoder ignores the class", "Decode append_class(h, y) with the true classes y",
         "of the digits your trained CVAE generates are read as the class asked"]),
    "encoder_ignores_the_class": Fault(
        [("mu, logvar = cvae.encoder.encode(append_class(x, y))",
          "mu, logvar = cvae.encoder.encode(append_class(x, 0 * y))")],
        {"q5.reconstruct_cvae.returns_encoding", CONDITIONS},
        ["reconstruct_cvae's encoder ignores the class", "Encode append_class(x, y), not x",
         "Encode append_class(x, y), x with the one-hot of its own class y appended"]),
    "class_not_appended_to_x": Fault(
        [("mu, logvar = cvae.encoder.encode(append_class(x, y))", "mu, logvar = cvae.encoder.encode(x)")],
        {"q5.reconstruct_cvae.returns_encoding", CONDITIONS, "q5.celbo.kl_minus_log_likelihood", TRAIN, GENERATES},
        ["The grader's encoder takes x with the one-hot class appended"], read=CONDITIONS),
    "celbo_with_the_wrong_sign": Fault(
        [("return kl_divergence(mu, logvar) - binary_cross_entropy(x_hat, x)",
          "return binary_cross_entropy(x_hat, x) - kl_divergence(mu, logvar)")],
        {"q5.celbo.kl_minus_log_likelihood", TRAIN, GENERATES},
        ["celbo(cvae, x, y) has the wrong sign"], read="q5.celbo.kl_minus_log_likelihood"),
    "training_never_steps": Fault(
        [("            optimizer.step()\n", "")],
        {TRAIN, GENERATES}, ["the negative conditional ELBO is", "optimizer.step()"], read=TRAIN),
}
"""Mistakes real submissions make. Training runs through the student's own reconstruct_cvae and celbo,
so a mistake there that misleads training costs the training checks too."""


@pytest.mark.parametrize("name", sorted(FAULTS))
def test_fault_loses_exactly_its_checks(grade_q5, ref, name):
    FAULTS[name].assert_graded(grade_q5(FAULTS[name].apply(ref)), "q5")


def test_a_class_not_appended_is_blamed_on_reconstruct_cvae_not_on_the_handed_out_encoder(grade_q5, ref):
    """The shape error is raised in the handed-out Encoder.encode; every check it costs names reconstruct_cvae."""
    g = grade_q5(FAULTS["class_not_appended_to_x"].apply(ref))
    for cid in ("q5.celbo.kl_minus_log_likelihood", TRAIN, GENERATES):
        summary = by_id(g, cid).feedback.summary
        assert "reconstruct_cvae must encode append_class(x, y)" in summary or "Look at reconstruct_cvae" in summary, summary
        assert "Encoder.encode" not in summary, summary


VALID: dict[str, list[tuple[str, str]]] = {
    # A CVAE trained in float64 (generate drawing h in the model's dtype): evaluated on float64 inputs.
    "trained_in_float64": [
        ("X = (torch.as_tensor(X, dtype=torch.float32).reshape(len(X), -1) > 0.5).float()",
         "X = (torch.as_tensor(X, dtype=torch.float32).reshape(len(X), -1) > 0.5).double()"),
        ("cvae = make_mnist_cvae(input_dim=X.shape[1])", "cvae = make_mnist_cvae(input_dim=X.shape[1]).double()"),
        ("h = torch.randn(n, cvae.encoder.mu.out_features)",
         "h = torch.randn(n, cvae.encoder.mu.out_features, dtype=cvae.encoder.mu.weight.dtype)")],
    # The one-hot written with F.one_hot and torch.cat, the sample drawn by Normal(...).rsample().
    "one_hot_and_rsample": [
        ("    mu, logvar = cvae.encoder.encode(append_class(x, y))\n"
         "    h = mu + torch.exp(logvar / 2) * torch.randn_like(mu)\n"
         "    return mu, logvar, cvae.decoder(append_class(h, y))",
         "    c = F.one_hot(y.long(), num_classes=10).float()\n"
         "    mu, logvar = cvae.encoder(torch.cat((x, c), 1))\n"
         "    h = torch.distributions.Normal(mu, torch.exp(0.5 * logvar)).rsample()\n"
         "    return mu, logvar, cvae.decoder(torch.cat((h, c), 1))")],
}
"""Valid submissions written otherwise than the reference: each scores full marks."""


@pytest.mark.parametrize("name", sorted(VALID))
def test_valid_variant_scores_full_marks(grade_q5, ref, name):
    g = grade_q5(edited(ref, VALID[name]))
    assert lost_in(g, "q5") == set(), [(c.id, c.feedback.summary) for c in g.checks if c.score < c.points]
    assert g.score == 15.0


def test_the_report_shows_generated_digits_of_every_class(grade_q5, ref):
    from PIL import Image

    g = grade_q5(ref)
    (figure,) = figures_shown(g, GENERATES)
    assert [label for label, _ in figure.rows] == [f"sample {i + 1}" for i in range(q5.SHOWN)]
    assert [[caption.split(":")[0] for _, caption in row] for _, row in figure.rows] == [
        [str(c) for c in range(10)]] * q5.SHOWN
    tiles = [tile for _, row in figure.rows for tile in row]
    assert all(Image.open(io.BytesIO(png)).size == (28, 28) for png, _ in tiles)


def test_the_classifier_reads_its_own_prototypes():
    """The judge's classifier in numpy: the synthetic MNIST's prototypes are read as their class."""
    import ualberta_fake_mnist

    assert classifier.predict(ualberta_fake_mnist.prototypes()).tolist() == list(range(10))


def test_the_collapse_hint_names_reconstruct_cvae():
    """A trained CVAE whose latent carries nothing is pointed to Q5's own function, not Q4's reconstruct."""
    x = (np.random.default_rng(0).random((4, 784)) < 0.4).astype(np.float32)
    zeros = np.zeros((4, 3), np.float32)
    got = common.Evaluation(mu=zeros, logvar=zeros, x_hat=np.full_like(x, 0.5))
    expected = common.ReferenceEvaluation(mu=zeros, logvar=zeros, x_hat=x, images=x)
    check = next(c for c in q5.PROBLEM.checks if c.id == TRAIN)
    hint = check.judge(got, expected, check).feedback.hint
    assert "The trained encoder's latent carries nothing" in hint and "the checks of reconstruct_cvae (" in hint


@pytest.mark.realdata
def test_the_classifier_reads_the_real_test_set():
    """docs/ualberta-hw4.md quotes this accuracy (scripts/train_ualberta_hw4_classifier.py)."""
    images, labels = mnist.load(real_data_root(mnist.DATASET) / mnist.DATASET, "test")
    accuracy = np.mean(classifier.predict((images.reshape(len(images), -1) > 127).astype(float)) == labels)
    assert accuracy == pytest.approx(0.9706, abs=5e-4)


@pytest.mark.realdata
def test_reference_trains_and_generates_on_the_real_mnist(grade_q5, ref):
    g = grade_q5(ref, real=True)
    assert lost_in(g, "q5") == set(), [(c.id, c.feedback.summary) for c in g.checks]


@pytest.mark.realdata
def test_a_decoder_blind_to_the_class_generates_no_class_on_the_real_mnist(grade_q5, ref):
    """On the real MNIST the class-blind decoder also costs the conditional ELBO 47.6-49.9 nats over the
    reference's, beyond the 40 allowed (benchmarks/ualberta_hw4_training.py); on the synthetic one it
    does not, its ten prototypes being told apart by the latent alone."""
    g = grade_q5(FAULTS["decoder_ignores_the_class"].apply(ref), real=True)
    assert lost_in(g, "q5") == {CONDITIONS, TRAIN, GENERATES}
    assert "Only" in by_id(g, GENERATES).feedback.summary
