"""Q2 of fa24-dl-hw7 (a Gaussian autoencoder): the reference passes every check on a fake MNIST of
digit-like strokes and on the real one, the template scores 0 with "not implemented", and each fault
of a real submission loses exactly its checks, with a message that names it. The report shows the
digits generated after the grader's training budget, the student's and the reference's, and the
student's `generate` on the reference's weights trained offline, which draws digits.

The training check runs 60 SGD steps (seconds): a fault is graded with the data root only where it
loses that check; elsewhere it is left out, visibly, and not lost.
"""

from __future__ import annotations

import io

import numpy as np
import pytest
from conftest import Fault, _temporary_root, by_id, figures_shown, lost, real_data_root, reference_text
from fa24_hw7_data import write_fake_digits

from autograder.assignments.fa24_dl_hw7 import q2
from autograder.config import REPO_ROOT
from autograder.data import mnist

AID, FILE = "fa24-dl-hw7", "hw7_q2.py"
ALL = {c.id for c in q2.PROBLEM.checks}
TRAINING = "q2.train.loss_falls"
NOISE = "        z2 = enc_mode * z + (2 - enc_mode) * torch.randn(z.shape)\n"
RETURN = "        return torch.cat((z, torch.flatten(f - x, 1)), 1)\n"
FORWARD_CHECKS = {"q2.forward.output_shape", "q2.forward.concatenation", "q2.forward.enc_mode_noise",
                  "q2.generate.images", TRAINING}

FAULTS: dict[str, Fault] = {
    # 16 x 16 images come out: every check that runs the forward pass fails on f - x.
    "decoder_stride_1_where_2_is_required": Fault(
        [("nn.ConvTranspose2d(20, 20, 4, stride=2, output_padding=1)", "nn.ConvTranspose2d(20, 20, 4, stride=1)")],
        {"q2.autoencoder.layers", "q2.autoencoder.shapes"} | FORWARD_CHECKS,
        ["The decoder's layer 10 is ConvTranspose2d(20, 20, kernel_size=(4, 4), stride=(1, 1)); the handout's is "
         "ConvTranspose2d(20, 20, kernel_size=(4, 4), stride=(2, 2), output_padding=(1, 1))",
         "stride 2 and output_padding 1", "(3, 20, 15, 15)"]),
    "no_noise_in_training": Fault(
        [(NOISE, "        z2 = enc_mode * z + (1 - enc_mode) * torch.randn(z.shape)\n")],
        {"q2.forward.enc_mode_noise"}, ["At enc_mode=1 (training) the decoder got z without noise"]),
    "noise_of_sd_1_in_generation": Fault(
        [(NOISE, "        z2 = z + torch.randn(z.shape) if enc_mode else torch.randn(z.shape)\n")],
        {"q2.forward.enc_mode_noise"}, ["At enc_mode=0 the noise must be (2 - enc_mode) * randn = 2 randn"]),
    # The reference's generate keeps out[:, 10:] of its own forward: it inherits the next two faults.
    "z_last": Fault(
        [(RETURN, "        return torch.cat((torch.flatten(f - x, 1), z), 1)\n")],
        {"q2.forward.concatenation", "q2.generate.images"},
        ["z is at the end: it goes first", "returned values outside [0, 1]"]),
    "x_minus_f": Fault(
        [(RETURN, "        return torch.cat((z, torch.flatten(x - f, 1)), 1)\n")],
        {"q2.forward.concatenation", "q2.generate.images"},
        ["The last 784 outputs are x - f", "returned values outside [0, 1]"]),
    "noisy_z_returned": Fault(
        [(RETURN, "        return torch.cat((z2, torch.flatten(f - x, 1)), 1)\n")],
        {"q2.forward.concatenation"}, ["not z2, the noisy one"]),
    "dropout_before_batch_norm": Fault(
        [("nn.Linear(10, 360), nn.ReLU(), nn.BatchNorm1d(360), nn.Dropout(0.1)",
          "nn.Linear(10, 360), nn.ReLU(), nn.Dropout(0.1), nn.BatchNorm1d(360)")],
        {"q2.autoencoder.layers"}, ["The decoder's layer 2 is Dropout(p=0.1); the handout's is BatchNorm1d(360)",
                                    "batch normalisation, then Dropout(0.1)"]),
    "handouts_slice_of_one_sample": Fault(
        [("    return out[:, 10:].reshape(n, 1, 28, 28)\n", "    return out[0, 10:]\n")],
        {"q2.generate.images"}, ["returned shape (784,)", "[0, 10:] keeps only the first sample"]),
    "decoder_that_does_not_learn": Fault(
        [("        f = self.decoder(z2)\n", "        with torch.no_grad():\n            f = self.decoder(z2)\n")],
        {TRAINING}, ["did not lower your autoencoder's loss enough", "no torch.no_grad() or .detach()"]),
}
"""Mistakes real submissions make, graded on the fake MNIST, each losing exactly its checks."""


@pytest.fixture(scope="module")
def fake_root():
    yield from _temporary_root("hw7-data-", write_fake_digits)


@pytest.fixture(scope="module")
def ref():
    return reference_text(AID, FILE)


@pytest.fixture(scope="module")
def graded_reference(grade_q2, ref):
    return grade_q2(ref)


@pytest.fixture(scope="module")
def grade_q2(grade_files, fake_root):
    def run(text, data: bool = True, real: bool = False, **kw):
        root = real_data_root(mnist.DATASET) if real else fake_root if data else None
        return grade_files({FILE: text}, AID, problems=("q2",), data_root=root, **kw)
    return run


def test_reference_scores_full_marks(graded_reference):
    g = graded_reference
    assert {c.id for c in g.checks} == ALL
    assert lost(g) == set(), [(c.id, c.feedback.summary) for c in g.checks if c.score < c.max_score]
    assert sum(c.score for c in g.checks) == 10.0


@pytest.mark.realdata
def test_reference_passes_on_real_mnist(grade_q2, ref):
    g = grade_q2(ref, real=True)
    assert lost(g) == set(), [(c.id, c.feedback.summary) for c in g.checks if c.score < c.max_score]
    assert "Mean loss of the first 10 steps 0.29" in by_id(g, TRAINING).feedback.details[0]


def test_template_scores_zero_with_clear_messages(grade_q2):
    g = grade_q2((REPO_ROOT / "student_template" / AID / FILE).read_text())
    assert lost(g) == ALL and sum(c.score for c in g.checks) == 0
    for c in g.checks:
        assert "is not implemented yet: it raises NotImplementedError" in c.feedback.summary, (c.id, c.feedback.summary)


@pytest.mark.parametrize("name", sorted(FAULTS))
def test_fault_loses_exactly_its_checks(grade_q2, ref, name):
    fault = FAULTS[name]
    g = grade_q2(fault.apply(ref), data=TRAINING in fault.lost)
    fault.assert_graded(g, "q2")


def test_the_report_shows_generated_digits_after_the_budget(graded_reference):
    from PIL import Image

    g = graded_reference
    (figure,) = figures_shown(g, TRAINING)
    assert [label for label, _ in figure.rows] == ["your autoencoder", "", "the reference's", ""]
    assert [len(tiles) for _, tiles in figure.rows] == [10] * 4
    assert {Image.open(io.BytesIO(png)).size for _, tiles in figure.rows for png, _ in tiles} == {(28, 28)}
    assert figure.rows[0][1] == figure.rows[2][1]  # the reference's model, trained alike, draws the same digits


GENERATE = "q2.generate.images"


def _digit_like(tiles) -> bool:
    """Dark background and bright strokes, as MNIST digits: most pixels near 0 and a mean near MNIST's
    0.13. An untrained decoder's noise sits around 0.5 everywhere."""
    from PIL import Image

    pixels = np.stack([np.asarray(Image.open(io.BytesIO(png)).convert("L"), dtype=np.float64) / 255
                       for png, _ in tiles])
    return pixels.mean() < 0.25 and (pixels < 0.1).mean() > 0.5


def test_the_report_shows_generate_on_the_reference_weights_as_digits(graded_reference):
    (figure,) = figures_shown(graded_reference, GENERATE)
    assert figure.title == "generate(model, 20) with the reference's weights after 3 epochs on MNIST"
    assert [label for label, _ in figure.rows] == ["yours", "", "reference", ""]
    assert [len(tiles) for _, tiles in figure.rows] == [10] * 4
    assert figure.rows[0][1] == figure.rows[2][1] and figure.rows[1][1] == figure.rows[3][1]
    assert _digit_like(figure.rows[0][1] + figure.rows[1][1])


def test_the_weights_load_whatever_the_halves_are_named(grade_q2, ref):
    renamed = ref.replace("self.encoder", "self.features").replace("self.decoder", "self.generator")
    assert renamed != ref
    g = grade_q2(renamed, data=False)
    (figure,) = figures_shown(g, GENERATE)
    assert figure.title.startswith("generate(model, 20) with the reference's weights")
    assert figure.rows[0][1] == figure.rows[2][1]


def test_weights_that_do_not_fit_show_the_untrained_model_and_cost_nothing(grade_q2, ref):
    g = grade_q2(FAULTS["dropout_before_batch_norm"].apply(ref), data=False)
    assert by_id(g, GENERATE).outcome.value == "passed"
    (figure,) = figures_shown(g, GENERATE)
    assert figure.title.startswith("generate(model, 20) of an untrained model (the trained weights did not load")
    assert [label for label, _ in figure.rows] == ["yours", ""]
    assert not _digit_like(figure.rows[0][1] + figure.rows[1][1])


def test_running_out_of_memory_while_drawing_the_picture_is_still_the_memory_error(grade_q2, ref):
    """The picture's own failures cost nothing, but a MemoryError is the check's, whichever call raised it."""
    third_call_fails = ref.replace('def generate(model: GaussianAutoencoder, n: int = 20) -> torch.Tensor:\n',
                                   'def generate(model: GaussianAutoencoder, n: int = 20) -> torch.Tensor:\n'
                                   '    generate.calls = getattr(generate, "calls", 0) + 1\n'
                                   '    if generate.calls == 3:\n'
                                   '        raise MemoryError\n')
    assert third_call_fails != ref
    check = by_id(grade_q2(third_call_fails, data=False), GENERATE)
    assert check.outcome.value != "passed"
    assert "ran out of memory (MemoryError) during this check" in check.feedback.summary
