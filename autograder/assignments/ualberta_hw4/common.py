"""What Q4 and Q5 of ualberta-hw4 share: the grader's small networks with set weights, the MNIST
input set of the training checks, their budget, the record of a trained model's evaluation, and the
negative ELBO the judges compute in numpy.

Nothing here computes a KL divergence, a log-likelihood or a reconstruction for a student to copy:
the judges' numpy ELBO is the metric of the training checks, computed in the trusted parent from
what the student's trained model returns (the ELBO's formula is the handout's own).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from autograder.data import mnist
from autograder.inputs import InputSet
from autograder.records import Record
from autograder.student import Subject, SubmissionError, returned_tuple, to_array

VAE_MODULE, CVAE_MODULE = "hw4_vae", "hw4_cvae"
CLASSES = 10

# --- the training checks' budget -------------------------------------------------------------------
# The first TRAIN_IMAGES images of MNIST's training split, binarised at 0.5 as the notebook's
# get_mnist_data does, EPOCHS passes in batches of BATCH at Adam LR, with the function's seed SEED;
# then the trained model is evaluated on the EVAL_IMAGES images at the end of the training split,
# which it never saw. One CPU thread: about 2 s a training (the reference's VAE and CVAE).
# The handout's own run (20 epochs of all 60,000 at 1e-3) takes minutes: benchmarks/ualberta_hw4_quality.py.
TRAIN_IMAGES, EVAL_IMAGES = 20_000, 1_000
EPOCHS, BATCH, LR, SEED = 5, 128, 5e-3, 1
PROBABILITY_FLOOR = 1e-6
"""x_hat is clipped to [1e-6, 1 - 1e-6] before its log in the judges' ELBO: a float32 sigmoid
reaches exactly 1 for a confident pixel, and one such pixel would make the whole estimate infinite."""


def _training_images(root: Path) -> dict[str, np.ndarray]:
    images, labels = mnist.load(Path(root) / mnist.DATASET, "train")
    n_eval = min(EVAL_IMAGES, len(images) // 5)
    n_train = min(TRAIN_IMAGES, len(images) - n_eval)
    binary = (images.reshape(len(images), -1) > 127).astype(np.uint8)  # pixel / 255 > 0.5
    return {"train images": binary[:n_train], "train labels": labels[:n_train].astype(np.int64),
            "eval images": binary[len(images) - n_eval:], "eval labels": labels[len(images) - n_eval:].astype(np.int64)}


TRAINING_SET = InputSet("ualberta-hw4-mnist-binarised", mnist.DATASET, _training_images)
"""Binarised MNIST training images with their labels (the training split's labels are no secret): the
first 20,000 to train on, the last 1,000 to evaluate on (a synthetic MNIST: what there is)."""


def training_data(subject: Subject):
    """(train images, train labels, eval images, eval labels) as torch tensors (images float32 in {0, 1})."""
    import torch

    data = subject.inputs(TRAINING_SET.name)
    return (torch.from_numpy(data["train images"].astype(np.float32)), torch.from_numpy(data["train labels"]),
            torch.from_numpy(data["eval images"].astype(np.float32)), torch.from_numpy(data["eval labels"]))


def eval_images(subject: Subject) -> np.ndarray:
    """The evaluation images, float32 in {0, 1} as `training_data` hands them to the model, for the judge;
    the 20,000 training images are not converted again for them."""
    return subject.inputs(TRAINING_SET.name)["eval images"].astype(np.float32)


# --- the trained model's parts, reached through the handed-out classes --------------------------------

def parts(subject: Subject, model, what: str):
    """(encode, decoder) of a model built on the handed-out classes: `model.encoder.encode` and
    `model.decoder`, each called through `subject.invoke`."""
    import torch

    if not isinstance(model, torch.nn.Module):
        raise SubmissionError(f"{what} should return the model (an nn.Module), but it returned {type(model).__name__}.")
    encoder, decoder = getattr(model, "encoder", None), getattr(model, "decoder", None)
    if encoder is None or decoder is None:
        raise SubmissionError(f"{what} returned a {type(model).__name__} without `.encoder` and `.decoder`: build it "
                              f"with the handed-out classes (an Encoder and a decoder in a VAE or CVAE).")
    return subject.method(encoder, "encode"), decoder


def encoded(subject: Subject, encode, x, what: str):
    """(mu, logvar) of the student's encoder, checked to be two tensors of one shape (n, latent)."""
    mu, logvar = returned_tuple(subject.invoke(encode, x), ("mu", "logvar"), f"{what}.encoder.encode(x)")
    if tuple(mu.shape) != tuple(logvar.shape) or mu.ndim != 2 or mu.shape[0] != x.shape[0]:
        raise SubmissionError(f"{what}.encoder.encode(x) for x of shape {tuple(x.shape)} returned mu of shape "
                              f"{tuple(mu.shape)} and logvar of shape {tuple(logvar.shape)}; both should be "
                              f"(n, latent).")
    return mu, logvar


def dtype(model):
    """The floating dtype of the trained model's first parameter (float32 when it has none): a model the
    student trained in float64 is evaluated on float64 images, since nothing in the spec fixes the dtype."""
    import torch

    try:
        return next(p.dtype for p in model.parameters() if p.is_floating_point())
    except Exception:  # no floating parameter, or parameters() overridden: the handout's float32
        return torch.float32


def one_hot(labels, classes: int = CLASSES):
    import torch

    return torch.nn.functional.one_hot(labels.long(), classes).float()


class Evaluation(Record):
    """The trained model on the evaluation images (`evaluation`): what the training checks' judges read."""
    mu: np.ndarray
    """Its encoder's mu, float32 (n, latent) when right."""
    logvar: np.ndarray
    """Its encoder's logvar, float32 (n, latent) when right."""
    x_hat: np.ndarray
    """Its decoder's output for one sample h drawn with the grader's noise, float32 (n, 784) when right."""


class ReferenceEvaluation(Evaluation):
    """The reference's `Evaluation`, and the evaluation images the judge computes the ELBO on."""
    images: np.ndarray
    """The evaluation images, float32 in {0, 1}, (EVAL_IMAGES, 784)."""


def evaluation(subject: Subject, model, x, labels=None, what: str = "the model") -> Evaluation:
    """The trained model on the evaluation images: mu and logvar of its encoder, and x_hat, its decoder's
    output for one sample h = mu + exp(logvar / 2) * eps drawn here (the handout's sampling, with the
    grader's own noise, so that the metric depends on the trained weights alone). With `labels`, the
    CVAE's inputs: the one-hot class appended to x and to h, as the handed-out append_class does."""
    import torch

    encode, decoder = parts(subject, model, what)
    x = x.to(dtype(model))
    condition = (lambda t: torch.cat([t, one_hot(labels).to(x.dtype)], dim=1)) if labels is not None else (lambda t: t)
    with torch.no_grad():
        mu, logvar = encoded(subject, encode, condition(x), what)
        noise = torch.randn(mu.shape, generator=torch.Generator().manual_seed(2022))
        sample = mu + torch.exp(0.5 * logvar) * noise
        x_hat = subject.invoke(decoder, condition(sample))
    return Evaluation(mu=to_array(mu, f"{what}'s mu").astype(np.float32),
                      logvar=to_array(logvar, f"{what}'s logvar").astype(np.float32),
                      x_hat=to_array(x_hat, f"{what}'s decoder output").astype(np.float32))


def negative_elbo(x: np.ndarray, mu: np.ndarray, logvar: np.ndarray, x_hat: np.ndarray) -> tuple[float, float, float]:
    """(negative ELBO, KL, reconstruction log-likelihood), nats per image, averaged over the images:
    the metric of the training checks, in the trusted parent."""
    mu, logvar = mu.astype(np.float64), logvar.astype(np.float64)
    p = np.clip(x_hat.astype(np.float64), PROBABILITY_FLOOR, 1 - PROBABILITY_FLOOR)
    kl = float(np.mean(0.5 * np.sum(mu ** 2 + np.exp(logvar) - logvar - 1, axis=1)))
    log_likelihood = float(np.mean(np.sum(x * np.log(p) + (1 - x) * np.log1p(-p), axis=1)))
    return kl - log_likelihood, kl, log_likelihood


def shapes_problem(got: Evaluation, n: int, d: int) -> str | None:
    """What is wrong with the trained model's outputs' shapes, or None."""
    mu, logvar, x_hat = got.mu, got.logvar, got.x_hat
    if mu.ndim != 2 or logvar.shape != mu.shape or mu.shape[0] != n:
        return f"its encoder returned mu of shape {mu.shape} and logvar of shape {logvar.shape} for {n} images"
    if x_hat.shape != (n, d):
        return f"its decoder returned shape {x_hat.shape} for {n} images; expected ({n}, {d})"
    return None
