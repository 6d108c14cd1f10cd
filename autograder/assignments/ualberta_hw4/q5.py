"""Q5 (c): the conditional VAE (reconstruct 5, celbo 5, train 5), graded from `hw4_cvae.py` (which
imports `hw4_vae.py`, as the notebook's CVAE reuses the VAE's Encoder, kl_divergence and
binary_cross_entropy). Parts (a), (b) (the derivation, 10) and (d) (which digits are hardest to
generate, 5) are written, graded by hand.

The grader's small CVAE is the handed-out classes around layers whose first inputs are widened by
the one-hot class (Q4's networks, common to both modules). `reconstruct_cvae` is graded on the
encoder's values, and on the property that makes it conditional: changing y changes mu (the encoder
sees y) and, with an encoder blind to y and the same noise, x_hat (the decoder sees y). `celbo` is
graded on its composition of the student's own kl_divergence and binary_cross_entropy, as Q4's elbo.

Training runs the student's `train_mnist_cvae` on binarised MNIST under Q4's budget; one check
computes the trained model's negative ELBO, and one asks the reference classifier (classifier.py,
numpy) which digit each image that the handed-out `generate` draws for each class is.
"""

from __future__ import annotations

import numpy as np

from autograder import figures
from autograder.assignments.ualberta_hw4 import classifier, common, q4
from autograder.data import mnist
from autograder.model import Check, Problem, Verdict
from autograder.records import Record
from autograder.student import Subject, SubmissionError, returned_tuple, to_array

MODULE = common.CVAE_MODULE
D, H, K, C = q4.D, q4.H, q4.K, common.CLASSES


def build_cvae(subject: Subject, w: dict[str, np.ndarray]):
    return q4.build_vae(subject, w, extra_in=C, module=MODULE, cls="CVAE")


def labels(n: int, seed: int = 2) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, C, n)


def explained(subject: Subject, name: str, *args, widths: str | None = None, **kwargs):
    """subject.call(MODULE, name, ...), a failure on a wrong width (a shape error) explained by what the widths
    must be, not by the handed-out Encoder.encode in which it was raised (`widths`: the explanation, when it
    is not the grader's small CVAE's)."""
    try:
        return subject.call(MODULE, name, *args, **kwargs)
    except RuntimeError as exc:
        if "shape" not in str(exc):
            raise
        raise SubmissionError(
            f"{name} failed on a shape ({type(exc).__name__}: {exc}). " + (widths or (
                f"The grader's encoder takes x with the one-hot class appended ({D} + {C} inputs: append_class(x, y)), "
                f"and its decoder takes h with the class appended ({K} + {C}: append_class(h, y)). Look at "
                f"reconstruct_cvae: it must encode append_class(x, y) and decode append_class(h, y)."))) from exc


def reconstructed(subject: Subject, cvae, x, y):
    """reconstruct_cvae(cvae, x, y), a failure of the grader's layers on a wrong width explained."""
    return returned_tuple(explained(subject, "reconstruct_cvae", cvae, x, y), q4.RECONSTRUCTION,
                          "reconstruct_cvae(cvae, x, y)")


def _tensors(n: int):
    import torch

    return torch.from_numpy(q4.inputs(n)), torch.from_numpy(labels(n))


# --- reconstruct_cvae ------------------------------------------------------------------------------

def run_returns_encoding(subject: Subject) -> q4.Encoding:
    import torch

    cvae = build_cvae(subject, q4.weights())
    x, y = _tensors(8)
    with torch.no_grad():
        mu, logvar, x_hat = reconstructed(subject, cvae, x, y)
    return q4.Encoding(mu=to_array(mu, "mu"), logvar=to_array(logvar, "logvar"), x_hat=to_array(x_hat, "x_hat"))


judge_returns_encoding = q4.returns_encoding_judge(
    "reconstruct_cvae", "cvae.encoder.encode(append_class(x, y))", "the encoder's (mu, logvar) of x with its class",
    "Encode append_class(x, y), x with the one-hot of its own class y appended, and return mu and logvar as the "
    "encoder gives them, before any sampling.")


class Reconstructed(Record):
    """reconstruct_cvae(cvae, x, classes) of the 8 images under torch seed 2022, as returned."""
    mu: np.ndarray
    x_hat: np.ndarray


class UnderTwoClasses(Record):
    """One CVAE's reconstructions of the same images and noise, under their classes y and other ones."""
    y: Reconstructed
    other_y: Reconstructed
    """Under a class other than y for every image."""


class Conditions(Record):
    full: UnderTwoClasses
    """The grader's CVAE."""
    blind_encoder: UnderTwoClasses
    """The grader's CVAE with its encoder blind to the class (the one-hot's columns zeroed)."""


def run_conditions(subject: Subject) -> Conditions:
    """Two classes for the same images, each call under the same torch seed (the same noise): once with
    the grader's CVAE, once with its encoder blind to the class (the one-hot's columns zeroed)."""
    import torch

    x, y = _tensors(8)
    other = (y + 1 + torch.from_numpy(labels(8, seed=3) % (C - 1))) % C  # a different class for every image

    def under_two_classes(blind: bool) -> UnderTwoClasses:
        cvae = build_cvae(subject, q4.weights())
        if blind:
            with torch.no_grad():
                cvae.encoder.features[0].weight[:, D:] = 0

        def reconstruct(classes) -> Reconstructed:
            torch.manual_seed(2022)
            with torch.no_grad():
                mu, _, x_hat = reconstructed(subject, cvae, x, classes)
            return Reconstructed(mu=to_array(mu, "mu"), x_hat=to_array(x_hat, "x_hat"))
        return UnderTwoClasses(y=reconstruct(y), other_y=reconstruct(other))

    return Conditions(full=under_two_classes(blind=False), blind_encoder=under_two_classes(blind=True))


def judge_conditions(got: Conditions, expected: Conditions, check: Check) -> Verdict:
    def moved(a: np.ndarray, b: np.ndarray) -> bool:
        return a.shape == b.shape and not np.allclose(a, b, atol=1e-6)
    encoder = moved(got.full.y.mu, got.full.other_y.mu)
    decoder = moved(got.blind_encoder.y.x_hat, got.blind_encoder.other_y.x_hat)
    if encoder and decoder:
        return Verdict.passed("reconstruct_cvae conditions both on the class: changing y changes mu (the encoder "
                              "sees it) and, with the same noise and an encoder blind to y, x_hat (the decoder sees it).")
    blind = [part for part, seen in (("encoder", encoder), ("decoder", decoder)) if not seen]
    hints = {"encoder": "Encode append_class(x, y), not x: q(h | x, y) is conditioned on the class.",
             "decoder": "Decode append_class(h, y) with the true classes y: p(x | h, y) is conditioned on the class; "
                        "a decoder given no class, or always the same one, generates digits of no class asked."}
    return Verdict.failed(f"reconstruct_cvae's {' and '.join(blind)} ignore{'s' if len(blind) == 1 else ''} the class: "
                          + ("changing y leaves mu unchanged" if not encoder else "")
                          + ("; " if len(blind) == 2 else "")
                          + ("with an encoder blind to y and the same noise, changing y leaves x_hat unchanged"
                             if not decoder else "") + ".",
                          hint=" ".join(hints[part] for part in blind))


# --- celbo -----------------------------------------------------------------------------------------

def run_celbo(subject: Subject) -> q4.Composition:
    import torch

    w = {**q4.weights(), "logvar": np.zeros((K, H)), "logvar bias": np.full(K, q4.DETERMINISTIC_LOGVAR)}
    cvae = build_cvae(subject, w)
    x, y = _tensors(12)
    with torch.no_grad():
        value = explained(subject, "celbo", cvae, x, y)
        mu, logvar, x_hat = reconstructed(subject, cvae, x, y)
        kl = subject.call(common.VAE_MODULE, "kl_divergence", mu, logvar)
        log_likelihood = subject.call(common.VAE_MODULE, "binary_cross_entropy", x_hat, x)
    return q4.Composition(loss=to_array(value, "celbo(cvae, x, y)"), kl=to_array(kl, "kl_divergence(mu, logvar)"),
                          log_likelihood=to_array(log_likelihood, "binary_cross_entropy(x_hat, x)"))


judge_celbo = q4.judge_composition("celbo(cvae, x, y)", "reconstruct_cvae(cvae, x, y)")


# --- training on MNIST -----------------------------------------------------------------------------

def _trained(subject: Subject):
    x, y, x_eval, y_eval = common.training_data(subject)
    cvae = explained(subject, "train_mnist_cvae", x, y, epochs=common.EPOCHS, batch_size=common.BATCH,
                     lr=common.LR, seed=common.SEED,
                     widths="make_mnist_cvae's encoder takes the 784 pixels with the one-hot class appended "
                            "(784 + 10 inputs), and its decoder the latent with the class appended (latent + 10): "
                            "reconstruct_cvae must encode append_class(x, y) and decode append_class(h, y), and "
                            "make_mnist_cvae's two first layers be that wide.")
    return cvae, x_eval, y_eval


def run_training(subject: Subject) -> common.Evaluation:
    cvae, x_eval, y_eval = _trained(subject)
    return common.evaluation(subject, cvae, x_eval, y_eval, what="train_mnist_cvae(X, y, ...)")


def expected_training(subject: Subject) -> common.ReferenceEvaluation:
    return common.ReferenceEvaluation(**dict(run_training(subject)), images=common.eval_images(subject))


TRAIN_HINT = ("Build make_mnist_cvae(), an Adam optimiser over its parameters at lr, and for each epoch and each "
              "batch of images (binarised, pixel > 0.5) and their classes: loss = celbo(cvae, batch, classes), then "
              "optimizer.zero_grad(), loss.backward(), optimizer.step(). Return the trained CVAE.")

# The bar: the reference's negative conditional ELBO under the same budget (at the check's seed:
# 123.3 nats per image on the real MNIST) plus MARGIN nats. benchmarks/ualberta_hw4_training.py
# (docs/ualberta-hw4.md, "Thresholds"), excess over the reference's, seeds 1-10: the reference -1.9 to
# +2.3, latent 2 +17.1 to +21.0, hidden 32 +19.0 to +23.2, hidden 128 -15.8 to -14.2, latent 2 and
# hidden 32 +24.4 to +28.6, batches in order +2.5 to +6.2; a decoder always told class 0 in training
# +47.6 to +49.9, a trainer that never steps +427. The bar lies 11.4 above the worst valid run.
MARGIN = 40.0

GENERATED = 50
"""Images generate() draws for each class; the judge reads all 500 with the reference classifier."""


class Generation(Record):
    images: np.ndarray
    """generate(cvae, digit, GENERATED) for the digits 0 to 9 in turn, stacked: float32 (10 * GENERATED, 784)."""


def run_generation(subject: Subject) -> Generation:
    import torch

    cvae, _, _ = _trained(subject)
    images = []
    for digit in range(C):
        with torch.no_grad():
            out = to_array(subject.call(MODULE, "generate", cvae, digit, GENERATED), f"generate(cvae, {digit}, {GENERATED})")
        if out.shape != (GENERATED, 784):
            raise SubmissionError(f"generate(cvae, {digit}, {GENERATED}) returned shape {out.shape}; expected "
                                  f"({GENERATED}, 784), one image a row.")
        images.append(out.astype(np.float32))
    return Generation(images=np.concatenate(images))


def expected_generation(subject: Subject) -> Generation:
    return run_generation(subject)


# The bar: the share of generated images that the classifier reads as the class asked, at least
# RATE_FRACTION of the reference's share under the same budget (at the check's seed: 79 % on the real
# MNIST, so 40 %). benchmarks/ualberta_hw4_training.py (docs/ualberta-hw4.md, "Thresholds"): valid
# variants under seeds 1-10 reach 63 % to 99 % (the worst, hidden 128: 63 %); a CVAE that never steps,
# or whose decoder was always told class 0 in training, 9 % to 11 %, chance. The bar lies 23 points
# below the worst valid run and 28 above the best faulty one.
RATE_FRACTION = 0.5
SHOWN = 3
"""Generated images of each class drawn in the report: 5 classes a row, 2 rows."""


def rates(images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(read, per-class rate): the classifier's digit for each image, and the share read as asked, by class."""
    read = classifier.predict(images.astype(np.float64))
    asked = np.repeat(np.arange(C), len(images) // C)
    return read, np.array([np.mean(read[asked == c] == c) for c in range(C)])


def judge_generation(got: Generation, expected: Generation, check: Check) -> Verdict:
    images = got.images
    if images.shape != (C * GENERATED, 784) or not np.all(np.isfinite(images)):
        return Verdict.failed(f"The generated images should be {C} x {GENERATED} finite rows of 784 pixels; got shape "
                              f"{images.shape}.")
    read, per_class = rates(images)
    rate, reference = float(per_class.mean()), float(rates(expected.images)[1].mean())
    limit = RATE_FRACTION * reference
    table = ", ".join(f"{c}: {r:.0%}" for c, r in enumerate(per_class))
    details = (f"Read as the class asked, by class: {table}.",
               f"The reference's CVAE, trained under the same budget: {reference:.0%}; chance: 10%.")
    pictures = grid(images, read)
    if rate >= limit:
        return Verdict.passed(f"{rate:.0%} of the digits your trained CVAE generates are read as the class asked by "
                              f"the reference classifier (at least {limit:.0%} needed).", details=details,
                              figures=pictures)
    return Verdict.failed(f"Only {rate:.0%} of the digits your trained CVAE generates are read as the class asked by "
                          f"the reference classifier; at least {limit:.0%} is needed.", details=details,
                          figures=pictures,
                          hint="The decoder must learn to draw the class it is given: in training, decode "
                               "append_class(h, y) with each image's own class (reconstruct_cvae), and train long "
                               "enough (see the training check).")


def grid(images: np.ndarray, read: np.ndarray):
    """One column per class asked (0 to 9), one row per sample: ten tiles wide, as the report's column is."""
    rows = []
    for i in range(SHOWN):
        picked = [c * GENERATED + i for c in range(C)]
        rows.append((f"sample {i + 1}", images[picked], [f"{c // GENERATED}: read {read[c]}" for c in picked]))
    return figures.image_grid("Digits your CVAE generates for the classes 0 to 9 (columns), and what the reference "
                              "classifier reads", [(label, tiles) for label, tiles, _ in rows], shape=(28, 28),
                              captions={i: captions for i, (_, _, captions) in enumerate(rows)})


PROBLEM = Problem(
    id="q5",
    title="Conditional VAE (CVAE) on MNIST",
    files=("hw4_cvae.py", "hw4_vae.py"),
    # Handout ../shared/seeds/004_24d4f9546b553845.txt, Question 5 [30 MARKS] (line 94): (c) [15 MARKS]
    # (line 108): 1. reconstruct 5, 2. celbo 5, 3. train_mnist_cvae 5 (lines 112-114). (a) [8] and (b) [2]
    # (the derivation, lines 98 and 106) and (d) [5] (line 116) are written, graded by hand.
    parts={"c": 15.0},
    checks=(
        Check(id="q5.reconstruct_cvae.returns_encoding", part="c", points=2,
              claim="reconstruct_cvae returns the encoder's (mu, logvar) of x with its class, and a decoded x_hat",
              run=run_returns_encoding, judge=judge_returns_encoding),
        Check(id="q5.reconstruct_cvae.conditions_on_y", part="c", points=3,
              claim="reconstruct_cvae conditions both the encoder and the decoder on the class y",
              run=run_conditions, judge=judge_conditions),
        Check(id="q5.celbo.kl_minus_log_likelihood", part="c", points=5,
              claim="celbo returns kl_divergence - binary_cross_entropy of the CVAE's reconstruction, one number",
              run=run_celbo, judge=judge_celbo),
        Check(id="q5.train_mnist_cvae.lowers_negative_elbo", part="c", points=2, timeout=120.0,
              data=(mnist.DATASET,), inputs=(common.TRAINING_SET,),
              claim="train_mnist_cvae, under a small budget, lowers the negative conditional ELBO on unseen MNIST "
                    "images near the reference's",
              run=run_training, expected=expected_training,
              judge=q4.judge_training("conditional ELBO", "train_mnist_cvae", TRAIN_HINT, MARGIN,
                                     reconstruction="reconstruct_cvae")),
        Check(id="q5.train_mnist_cvae.generates_the_class_asked", part="c", points=3, timeout=120.0,
              data=(mnist.DATASET,), inputs=(common.TRAINING_SET,),
              claim="the trained CVAE generates digits that the reference classifier reads as the class asked",
              run=run_generation, expected=expected_generation, judge=judge_generation),
    ),
)
