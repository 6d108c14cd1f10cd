"""Q4: the VAE (reconstruct 5, elbo 2 + KL 4 + BCE 4, train 10), graded from `hw4_vae.py`.

The handed-out `Encoder` and `VAE` classes carry the grader's own small networks with weights set
here, so that `reconstruct` and `elbo` are graded apart from `make_mnist_vae`. The KL divergence and
the log-likelihood are compared with the reference's on fixed inputs (tests/test_ualberta_q4.py
shows that the reference's values are torch.distributions' KL and -F.binary_cross_entropy(...,
reduction="sum") / n there); nothing here computes either, since this module ships in the students'
self-check bundle. `reconstruct` is graded on properties any correct sampler has (mu and logvar are
the encoder's; h ~ N(mu, exp(logvar)); gradients reach both heads through h), never on the noise
drawn, and `elbo` on its composition of the student's own `kl_divergence` and `binary_cross_entropy`,
so that a mistake in one of them costs its own check and not elbo's too.

Training runs the student's `train_mnist_vae` on binarised MNIST under a small budget set here
(common.py), then the judge computes the negative ELBO of the trained model in numpy.
"""

from __future__ import annotations

import numpy as np

from autograder.assignments.ualberta_hw4 import common
from autograder.compare import Tolerance, compare_arrays
from autograder.data import mnist
from autograder.model import Check, Problem, Verdict, Visibility
from autograder.records import Record
from autograder.student import Subject, SubmissionError, returned_tuple, to_array

MODULE = common.VAE_MODULE
D, H, K = 784, 5, 3
"""The grader's small VAE: MNIST's 784 pixels in (code written for MNIST, `x.view(-1, 784)` as in
PyTorch's own VAE example, must run on it), a tanh layer of 5, a latent of 3."""
FEATURES_STD = 0.6 * np.sqrt(6 / D)
"""The first layer's weights, scaled so that its tanh is neither flat nor saturated on binary images."""
CLOSE = Tolerance(atol=1e-5, rtol=1e-4)


def weights(seed: int = 55) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {"features": rng.normal(0, FEATURES_STD, (H, D)), "features bias": rng.normal(0, 0.2, H),
            "mu": rng.normal(0, 0.6, (K, H)), "mu bias": rng.normal(0, 0.2, K),
            "logvar": rng.normal(0, 0.4, (K, H)), "logvar bias": rng.normal(-0.3, 0.2, K),
            "decoder": rng.normal(0, 0.8, (D, K)), "decoder bias": rng.normal(0, 0.2, D)}


def inputs(n: int, seed: int = 1) -> np.ndarray:
    """(n, D) binary images."""
    return (np.random.default_rng(seed).random((n, D)) < 0.4).astype(np.float32)


def _linear(n_in: int, n_out: int, weight: np.ndarray | None = None, bias: np.ndarray | None = None):
    import torch

    layer = torch.nn.Linear(n_in, n_out)
    with torch.no_grad():
        if weight is not None:
            layer.weight.copy_(torch.from_numpy(weight))
        if bias is not None:
            layer.bias.copy_(torch.from_numpy(bias))
    return layer


def build_vae(subject: Subject, w: dict[str, np.ndarray], decoder=None, extra_in: int = 0,
              module: str = MODULE, cls: str = "VAE"):
    """The student's handed-out classes around the grader's layers: Encoder(tanh layer, H, K), then
    the heads' weights set (the Encoder makes them), and a decoder (K -> D, sigmoid) unless given.
    `extra_in` widens the two first layers by the one-hot class (Q5's CVAE), their extra columns random."""
    import torch

    rng = np.random.default_rng(7)
    features = torch.nn.Sequential(_linear(D + extra_in, H, np.hstack([w["features"], rng.normal(0, 0.6, (H, extra_in))]),
                                           w["features bias"]), torch.nn.Tanh())
    encoder = subject.call(common.VAE_MODULE, "Encoder", features, H, K)
    for head in ("mu", "logvar"):
        layer = getattr(encoder, head, None)
        if not isinstance(layer, torch.nn.Linear) or tuple(layer.weight.shape) != (K, H):
            raise SubmissionError(f"Encoder(features, {H}, {K}) should make the linear heads `mu` and `logvar`, "
                                  f"nn.Linear({H}, {K}): keep the handed-out Encoder class.")
        with torch.no_grad():
            layer.weight.copy_(torch.from_numpy(w[head]))
            layer.bias.copy_(torch.from_numpy(w[f"{head} bias"]))
    if decoder is None:
        decoder = torch.nn.Sequential(_linear(K + extra_in, D, np.hstack([w["decoder"], rng.normal(0, 0.8, (D, extra_in))]),
                                              w["decoder bias"]), torch.nn.Sigmoid())
    return subject.call(module, cls, encoder, decoder)


RECONSTRUCTION = ("mu", "logvar", "x_hat")


def reconstructed(subject: Subject, vae, x, what: str = "reconstruct(vae, x)"):
    return returned_tuple(subject.call(MODULE, "reconstruct", vae, x), RECONSTRUCTION, what)


# --- part 1: reconstruct -----------------------------------------------------------------------------

class Encoding(Record):
    """What reconstruct (Q5: reconstruct_cvae) returns for 8 images, as returned."""
    mu: np.ndarray
    logvar: np.ndarray
    x_hat: np.ndarray
    """The decoder's output for the sample h: (8, 784) when right."""


def run_returns_encoding(subject: Subject) -> Encoding:
    import torch

    vae = build_vae(subject, weights())
    with torch.no_grad():
        mu, logvar, x_hat = reconstructed(subject, vae, torch.from_numpy(inputs(8)))
    return Encoding(mu=to_array(mu, "mu"), logvar=to_array(logvar, "logvar"), x_hat=to_array(x_hat, "x_hat"))


def returns_encoding_judge(call: str = "reconstruct", encode: str = "vae.encoder.encode(x)",
                           encoding: str = "the encoder's (mu, logvar)",
                           unchanged_hint: str = "Return mu and logvar as the encoder gives them, before any sampling."):
    """The judge of a reconstruction's (mu, logvar, x_hat): `call` the function's name, `encode` the call whose
    (mu, logvar) it must return unchanged, `encoding` what they are (Q5's CVAE: of x with its class)."""
    def judge(got: Encoding, expected: Encoding, check: Check) -> Verdict:
        mu = compare_arrays("mu", got.mu, expected.mu, CLOSE)
        logvar = compare_arrays("logvar", got.logvar, expected.logvar, CLOSE)
        if not (mu.equal and logvar.equal):
            swapped = got.mu.shape == expected.logvar.shape and np.allclose(got.mu, expected.logvar, atol=1e-4)
            first = mu if not mu.equal else logvar
            return Verdict.failed(f"{call}'s {first.report.name} is not the encoder's: the first two returned "
                                  f"values should be {encode}, (mu, logvar), unchanged.",
                                  details=tuple(first.lines()), arrays=(first.report,),
                                  hint="mu and logvar are swapped: return (mu, logvar, x_hat) in this order." if swapped
                                  else unchanged_hint)
        x_hat = got.x_hat
        if x_hat.shape != expected.x_hat.shape:
            return Verdict.failed(f"{call}'s x_hat has shape {x_hat.shape}; the decoder's output for {D}-pixel "
                                  f"inputs has shape {expected.x_hat.shape}.",
                                  hint="x_hat = vae.decoder(h), where h (n, latent) is the sample.")
        if not (np.all(np.isfinite(x_hat)) and np.all((x_hat >= 0) & (x_hat <= 1))):
            return Verdict.failed(f"{call}'s x_hat is not the decoder's output: the decoder ends in a sigmoid, "
                                  "so every value lies in [0, 1], but these do not.",
                                  hint="x_hat = vae.decoder(h); do not transform it afterwards.")
        return Verdict.passed(f"{call} returns {encoding} and a decoded x_hat of the input's shape.")
    return judge


judge_returns_encoding = returns_encoding_judge()


SAMPLES = 4000
MEANS = np.array([0.5, -1.0, 2.0])
LOGVARS = np.array([-1.0, 0.6, 1.4])
"""The posterior the sampling check sets: std exp(logvar / 2) = 0.61, 1.35, 2.01, told apart from
the variance exp(logvar) = 0.37, 1.82, 4.06, from logvar itself and from an unscaled eps (1, 1, 1)."""


class Samples(Record):
    h: np.ndarray
    """reconstruct's x_hat with a decoder that is the identity: the samples h, (SAMPLES, K) when right."""


def run_samples(subject: Subject) -> Samples:
    """Heads that give every input the same (mu, logvar), and a decoder that is the identity: x_hat is h."""
    import torch

    w = {**weights(), "mu": np.zeros((K, H)), "mu bias": MEANS, "logvar": np.zeros((K, H)), "logvar bias": LOGVARS}
    vae = build_vae(subject, w, decoder=torch.nn.Identity())
    with torch.no_grad():
        _, _, h = reconstructed(subject, vae, torch.from_numpy(np.tile(inputs(1), (SAMPLES, 1))))
    return Samples(h=to_array(h, "x_hat (the sample h, the decoder being the identity)"))


def judge_samples(got: Samples, expected: Samples, check: Check) -> Verdict:
    h = got.h
    if h.shape != (SAMPLES, K):
        return Verdict.failed(f"With a decoder that is the identity, reconstruct's x_hat should be the sample h, of "
                              f"shape ({SAMPLES}, {K}); it has shape {h.shape}.",
                              hint="x_hat = vae.decoder(h), with h of the latent's shape (n, latent).")
    mean, std = h.mean(axis=0), h.std(axis=0)
    want = np.exp(LOGVARS / 2)
    details = (f"Over {SAMPLES} samples of one input with mu = {MEANS.tolist()} and logvar = {LOGVARS.tolist()}: "
               f"mean {np.round(mean, 3).tolist()}, standard deviation {np.round(std, 3).tolist()}; "
               f"expected the standard deviation exp(logvar / 2) = {np.round(want, 3).tolist()}.",)
    # Tolerances: 6 standard errors of the sample's mean (std / sqrt(4000) = 1.6 %) and 5 % of the std
    # (its standard error is 1.1 %); the grader's seed is fixed, so the verdict is too.
    mean_ok = np.all(np.abs(mean - MEANS) <= 6 * want / np.sqrt(SAMPLES))
    std_ok = np.all(np.abs(std - want) <= 0.05 * want)
    if mean_ok and std_ok:
        return Verdict.passed("reconstruct samples h ~ N(mu, exp(logvar)): mean mu, standard deviation "
                              "exp(logvar / 2).", details=details)
    guesses = [(np.zeros(K), "h is mu itself: no noise is added. h = mu + exp(logvar / 2) * eps with "
                             "eps = torch.randn_like(mu)."),
               (np.exp(LOGVARS), "The noise is scaled by the variance exp(logvar), not by the standard deviation "
                                 "exp(logvar / 2)."),
               (np.abs(LOGVARS), "The noise is scaled by logvar itself: logvar is the log of the variance, so the "
                                 "standard deviation is exp(logvar / 2)."),
               (np.ones(K), "The noise eps is not scaled: multiply it by the standard deviation exp(logvar / 2)."),
               (np.exp(LOGVARS / 4), "The noise is scaled by exp(logvar / 4): the standard deviation is "
                                     "exp(logvar / 2), the square root of the variance exp(logvar).")]
    hint = next((text for scale, text in guesses if np.all(np.abs(std - scale) <= 0.05 * scale + 0.01)), None)
    if not std_ok:
        return Verdict.failed("reconstruct's samples h do not have the standard deviation exp(logvar / 2).",
                              details=details, hint=hint or "h = mu + exp(logvar / 2) * eps, with eps ~ N(0, I) "
                                                            "drawn afresh for every entry (torch.randn_like(mu)).")
    return Verdict.failed("reconstruct's samples h are not centred on mu.", details=details,
                          hint="h = mu + exp(logvar / 2) * eps: the mean of h is mu.")


HEADS = ("mu", "logvar")
"""The encoder's heads, whose weights' gradients the gradients check reads."""


class HeadGradients(Record):
    graph: bool
    """Whether reconstruct's x_hat carries a graph (requires_grad)."""
    grads: dict[str, np.ndarray]
    """d(sum of w * x_hat)/d(encoder.<head>.weight), by head (HEADS), zeros where none reached it; empty
    without a graph."""


def run_gradients(subject: Subject) -> HeadGradients:
    """d(sum of w * x_hat)/d(the heads' weights) after one call of reconstruct: only through h."""
    import torch

    vae = build_vae(subject, weights())
    x_hat = reconstructed(subject, vae, torch.from_numpy(inputs(16)))[2]
    if not isinstance(x_hat, torch.Tensor) or not x_hat.requires_grad:
        return HeadGradients(graph=False, grads={})
    weighting = torch.from_numpy(np.random.default_rng(3).normal(size=tuple(x_hat.shape)).astype(np.float32))
    (x_hat * weighting).sum().backward()
    grads = {}
    for head in HEADS:
        grad = getattr(vae.encoder, head).weight.grad
        grads[head] = to_array(grad, f"the gradient of encoder.{head}.weight") if grad is not None else np.zeros((K, H))
    return HeadGradients(graph=True, grads=grads)


def judge_gradients(got: HeadGradients, expected: HeadGradients, check: Check) -> Verdict:
    hint = ("Sample with the reparameterisation h = mu + exp(logvar / 2) * eps, eps = torch.randn_like(mu), "
            "inside the graph: no .sample() of torch.distributions (use .rsample()), no .detach(), no "
            "torch.no_grad(), no numpy.")
    if not got.graph:
        return Verdict.failed("reconstruct's x_hat carries no gradient at all: it was computed outside autograd.",
                              hint=hint)
    dead = [head for head in HEADS if not np.any(got.grads[head] != 0) or not np.all(np.isfinite(got.grads[head]))]
    if not dead:
        return Verdict.passed("Gradients of x_hat reach the encoder's mu and logvar heads through the sample h "
                              "(the reparameterisation).")
    return Verdict.failed(f"No gradient of x_hat reaches the encoder's {' and '.join(dead)} head"
                          f"{'s' if len(dead) > 1 else ''}: the sample h is cut from "
                          f"{' and '.join(dead)}, so training could not learn the encoder from the reconstruction.",
                          hint=hint)


# --- part 2: the ELBO -------------------------------------------------------------------------------

KL_SHAPE = (10, 3)
BCE_SHAPE = (32, D)
"""Images of MNIST's size: a log-likelihood written for MNIST (`x.view(-1, 784)`) must run on them."""
OTHER_KL_SHAPE, OTHER_BCE_SHAPE = (7, 5), (9, D)
"""The hidden checks' inputs (seed 2): other values and sizes, so that a number written into the code
from the visible check's feedback does not pass them."""


def kl_inputs(shape: tuple[int, int] = KL_SHAPE, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.normal(0, 1, shape).astype(np.float32), rng.normal(0, 1, shape).astype(np.float32)


def bce_inputs(shape: tuple[int, int] = BCE_SHAPE, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = (rng.random(shape) < 0.5).astype(np.float32)
    return rng.uniform(0.02, 0.98, shape).astype(np.float32), x


def _number(value, what: str) -> float | np.ndarray:
    """One number as a float (what a scalar loss should be), anything else as the array it is."""
    array = to_array(value, what)
    return float(array.reshape(-1)[0]) if array.size == 1 else array


class Divergence(Record):
    kl: float | np.ndarray
    """kl_divergence(mu, logvar): a float where it returned one number, else the array it returned."""


def run_kl(shape: tuple[int, int], seed: int):
    def run(subject: Subject) -> Divergence:
        import torch

        mu, logvar = (torch.from_numpy(a) for a in kl_inputs(shape, seed))
        return Divergence(kl=_number(subject.call(MODULE, "kl_divergence", mu, logvar), "kl_divergence(mu, logvar)"))
    return run


def judge_kl(shape: tuple[int, int], seed: int):
    def judge(got: Divergence, expected: Divergence, check: Check) -> Verdict:
        return _judge_kl(got.kl, expected.kl, shape, seed)
    return judge


def _judge_kl(value: float | np.ndarray, right: float | np.ndarray, shape: tuple[int, int], seed: int) -> Verdict:
    value, right = np.asarray(value, dtype=np.float64).reshape(-1), float(right)
    n, k = shape
    rule = "0.5 * sum_j (mu_j^2 + sigma_j^2 - log sigma_j^2 - 1) per instance, averaged over the batch"
    if value.size != 1:
        return Verdict.failed(f"kl_divergence returned {value.size} values for a batch of {n}; it should return one "
                              f"number, {rule}.", hint="Sum over the latent dimensions, then take the mean over the "
                                                       "batch." if value.size == n else None)
    value = float(value[0])
    if np.isfinite(value) and abs(value - right) <= 1e-5 + 1e-4 * abs(right):
        return Verdict.passed(f"kl_divergence gives {rule}.")
    mu, logvar = (a.astype(np.float64) for a in kl_inputs(shape, seed))
    ratios = {n: f"It sums over the batch: average the {n} instances' divergences instead.",
              2: "It is twice the divergence: the formula has a factor 1/2.",
              1 / k: f"It averages over the {k} latent dimensions: sum over them, then average over the batch.",
              1 / (n * k): "It averages over every entry: sum over the latent dimensions, average over the batch.",
              -1: "It has the opposite sign: the divergence is never negative."}
    hint = next((text for ratio, text in ratios.items() if abs(value - ratio * right) <= 1e-4 * abs(ratio * right)), None)
    if hint is None and abs(value - float(np.mean(0.5 * np.sum(mu ** 2 - 1, axis=1)))) <= 1e-4:
        hint = ("It uses the variance sigma^2 = exp(logvar) where the log-variance belongs: the term "
                "-log sigma^2 is -logvar, not -exp(logvar).")
    if hint is None and not np.isfinite(value):
        hint = "It is not finite: logvar is already the log of the variance (sigma^2 = exp(logvar)); take no log of it."
    return Verdict.failed(f"kl_divergence returned {value:.6g}; {rule} is {right:.6g} on these inputs.",
                          hint=hint or f"Compute {rule}, with sigma^2 = exp(logvar) and log sigma^2 = logvar.")


class LogLikelihood(Record):
    log_likelihood: float | np.ndarray
    """binary_cross_entropy(x_hat, x): a float where it returned one number, else the array it returned."""


def run_bce(shape: tuple[int, int], seed: int):
    def run(subject: Subject) -> LogLikelihood:
        import torch

        x_hat, x = (torch.from_numpy(a) for a in bce_inputs(shape, seed))
        return LogLikelihood(log_likelihood=_number(subject.call(MODULE, "binary_cross_entropy", x_hat, x),
                                                    "binary_cross_entropy(x_hat, x)"))
    return run


def judge_bce(shape: tuple[int, int]):
    def judge(got: LogLikelihood, expected: LogLikelihood, check: Check) -> Verdict:
        return _judge_bce(got.log_likelihood, expected.log_likelihood, shape)
    return judge


def _judge_bce(value: float | np.ndarray, right: float | np.ndarray, shape: tuple[int, int]) -> Verdict:
    value, right = np.asarray(value, dtype=np.float64).reshape(-1), float(right)
    n, d = shape
    rule = "sum_j x_j log x_hat_j + (1 - x_j) log(1 - x_hat_j) per instance, averaged over the batch"
    if value.size != 1:
        return Verdict.failed(f"binary_cross_entropy returned {value.size} values for a batch of {n}; it should return "
                              f"one number, {rule}.", hint="Sum over the pixels, then take the mean over the batch."
                              if value.size == n else None)
    value = float(value[0])
    # rtol 1e-4, as the KL's: an epsilon a student adds for stability, torch.log(x_hat + 1e-5), moves the
    # value by 4.5e-5 of it on these inputs; every mistake the hints name is off by a factor.
    if abs(value - right) <= 1e-4 + 1e-4 * abs(right):
        return Verdict.passed(f"binary_cross_entropy gives the log-likelihood {rule}.")
    ratios = {1 / d: f"It averages over the {d} pixels of each image: the log-likelihood of an image is the SUM over "
                     f"its pixels (what is L in the notebook's average? the batch size, not the pixels).",
              -1: "It is the cross entropy, a loss of the opposite sign; in the notebook binary_cross_entropy is the "
                  "log-likelihood (at most 0), which elbo subtracts from the KL divergence.",
              -1 / d: f"It is the cross entropy averaged over the {d} pixels (F.binary_cross_entropy's default): "
                      f"return the log-likelihood (at most 0), summed over the pixels, averaged over the batch.",
              n: "It sums over the batch: average the instances' log-likelihoods instead.",
              -n: "It is the cross entropy summed over the whole batch: return the log-likelihood (at most 0), "
                  "averaged over the batch."}
    hint = next((text for ratio, text in ratios.items() if abs(value - ratio * right) <= 1e-4 * abs(ratio * right)), None)
    return Verdict.failed(f"binary_cross_entropy returned {value:.6g}; the log-likelihood {rule} is {right:.6g} on "
                          f"these inputs.", hint=hint or f"Compute {rule} (a number at most 0).")


DETERMINISTIC_LOGVAR = -20.0
"""The elbo check's encoder gives logvar = -20 everywhere: h = mu + 4.5e-5 eps, so that the noise
drawn, whichever way it is drawn, moves the ELBO by less than the tolerance. The check compares
elbo(vae, x) with the student's own kl_divergence and binary_cross_entropy of what the student's own
reconstruct returns: it grades the composition, and a mistake in any of those three costs their own
checks, not this one."""
COMPOSED = Tolerance(atol=1e-3, rtol=1e-4)


class Composition(Record):
    """The loss of the student's own reconstruction, and its own two terms of the same reconstruction, as
    returned (one number each when right)."""
    loss: np.ndarray
    """elbo(vae, x) (Q5: celbo(cvae, x, y))."""
    kl: np.ndarray
    """kl_divergence(mu, logvar) of what reconstruct returned."""
    log_likelihood: np.ndarray
    """binary_cross_entropy(x_hat, x) of what reconstruct returned."""


def run_elbo(subject: Subject) -> Composition:
    import torch

    w = {**weights(), "logvar": np.zeros((K, H)), "logvar bias": np.full(K, DETERMINISTIC_LOGVAR)}
    vae = build_vae(subject, w)
    x = torch.from_numpy(inputs(12))
    with torch.no_grad():
        value = subject.call(MODULE, "elbo", vae, x)
        mu, logvar, x_hat = reconstructed(subject, vae, x)
        kl = subject.call(MODULE, "kl_divergence", mu, logvar)
        log_likelihood = subject.call(MODULE, "binary_cross_entropy", x_hat, x)
    return Composition(loss=to_array(value, "elbo(vae, x)"), kl=to_array(kl, "kl_divergence(mu, logvar)"),
                       log_likelihood=to_array(log_likelihood, "binary_cross_entropy(x_hat, x)"))


def judge_elbo(got: Composition, expected: Composition, check: Check) -> Verdict:
    return judge_composition("elbo(vae, x)", "reconstruct(vae, x)")(got, expected, check)


def judge_composition(call: str, reconstruction: str):
    """The loss equals the student's own kl_divergence - binary_cross_entropy on the same reconstruction
    (Q4's elbo and Q5's celbo): a scalar, of the right sign."""
    def judge(got: Composition, expected: Composition, check: Check) -> Verdict:
        value, kl, ll = (a.reshape(-1) for a in (got.loss, got.kl, got.log_likelihood))
        if value.size != 1:
            return Verdict.failed(f"{call} returned {value.size} values; it should return one number, the loss "
                                  f"kl_divergence - binary_cross_entropy averaged over the batch.",
                                  hint="kl_divergence and binary_cross_entropy each return one number: subtract them.")
        if kl.size != 1 or ll.size != 1:
            return Verdict.failed(f"{call} cannot be checked: kl_divergence or binary_cross_entropy returns more than "
                                  f"one number (see their own checks).")
        value, kl, ll = float(value[0]), float(kl[0]), float(ll[0])
        details = (f"On the grader's inputs: {call} = {value:.6g}; your kl_divergence = {kl:.6g} and "
                   f"binary_cross_entropy = {ll:.6g} on the same reconstruction, so kl - bce = {kl - ll:.6g}.",)

        def near(a: float, b: float) -> bool:
            return abs(a - b) <= COMPOSED.atol + COMPOSED.rtol * abs(b)
        if near(value, kl - ll):
            return Verdict.passed(f"{call} is the loss to minimise, kl_divergence - binary_cross_entropy of "
                                  f"{reconstruction}.", details=details)
        hints = [(ll - kl, f"{call} has the wrong sign: it returns the ELBO itself (log-likelihood - KL), which "
                           f"training would then lower; the loss to minimise is its negative, kl_divergence - "
                           f"binary_cross_entropy."),
                 (kl + ll, f"{call} adds the log-likelihood: binary_cross_entropy here is a log-likelihood (at "
                           f"most 0), so the loss is kl_divergence MINUS it."),
                 (-ll, f"{call} leaves out the KL divergence: the loss is kl_divergence - binary_cross_entropy."),
                 (kl, f"{call} leaves out the reconstruction term: the loss is kl_divergence - binary_cross_entropy.")]
        hint = next((text for target, text in hints if near(value, target)), None)
        return Verdict.failed(f"{call} is not kl_divergence(mu, logvar) - binary_cross_entropy(x_hat, x) of "
                              f"{reconstruction}.", details=details,
                              hint=hint or f"Call {reconstruction} once, then return kl_divergence(mu, logvar) - "
                                           f"binary_cross_entropy(x_hat, x).")
    return judge


# --- part 3: the MNIST VAE and its training ---------------------------------------------------------

ARCH = {"input_dim": 12, "hidden_dim": 7, "latent_dim": 3}


class Architecture(Record):
    encoder_linears: list[list[int]]
    """(in, out) of each nn.Linear of the encoder, in module order."""
    decoder_linears: list[list[int]]
    """(in, out) of each nn.Linear of the decoder, in module order."""
    latent: int
    """The width of mu for 5 inputs."""
    decoded: np.ndarray
    """decoder(3 * randn(5, latent))."""
    features: np.ndarray
    """encoder.features(x) for 5 inputs; empty where the encoder has no `features`."""


def run_architecture(subject: Subject) -> Architecture:
    import torch

    what = "make_mnist_vae(input_dim=12, hidden_dim=7, latent_dim=3)"
    vae = subject.call(MODULE, "make_mnist_vae", **ARCH)
    encode, decoder = common.parts(subject, vae, what)

    def linears(part) -> list[list[int]]:
        return [list(m.weight.shape)[::-1] for m in part.modules() if isinstance(m, torch.nn.Linear)]
    encoder_linears, decoder_linears = linears(vae.encoder), linears(vae.decoder)
    x = torch.from_numpy((np.random.default_rng(4).random((5, ARCH["input_dim"])) < 0.5).astype(np.float32))
    with torch.no_grad():
        mu, _ = common.encoded(subject, encode, x, what)
        features = getattr(vae.encoder, "features", None)
        hidden = subject.invoke(features, x) if features is not None else None
        out = subject.invoke(decoder, 3 * torch.randn(5, mu.shape[1]))
    return Architecture(encoder_linears=encoder_linears, decoder_linears=decoder_linears,
                        latent=int(mu.shape[1]), decoded=to_array(out, f"{what}.decoder(h)"),
                        features=to_array(hidden, f"{what}.encoder.features(x)") if hidden is not None else np.zeros(0))


def judge_architecture(builder: str):
    """The handout's network (Q4 'Create the VAE model'): encoder input -> hidden (tanh) -> heads; decoder
    latent -> hidden (tanh) -> input (sigmoid)."""
    def judge(got: Architecture, expected: Architecture, check: Check) -> Verdict:
        d, h, k = ARCH["input_dim"], ARCH["hidden_dim"], ARCH["latent_dim"]
        encoder, decoder = sorted(map(tuple, got.encoder_linears)), [tuple(s) for s in got.decoder_linears]
        want_encoder, want_decoder = sorted([(d, h), (h, k), (h, k)]), [(k, h), (h, d)]
        call = f"{builder}(input_dim={d}, hidden_dim={h}, latent_dim={k})"
        if encoder != want_encoder:
            return Verdict.failed(f"{call}'s encoder has the linear layers (in, out) {encoder}; the handout's are a "
                                  f"shared tanh layer ({d}, {h}) and the heads ({h}, {k}) for mu and logvar.",
                                  hint="Encoder(nn.Sequential(nn.Linear(input_dim, hidden_dim), nn.Tanh()), "
                                       "hidden_dim, latent_dim): the shared part's output is hidden_dim, not "
                                       "latent_dim.")
        if decoder != want_decoder:
            return Verdict.failed(f"{call}'s decoder has the linear layers (in, out) {decoder}; the handout's are "
                                  f"({k}, {h}) with tanh, then ({h}, {d}) with sigmoid.")
        decoded, features = got.decoded, got.features
        if not np.all((decoded > 0) & (decoded < 1)):
            return Verdict.failed(f"{call}'s decoder returns values outside (0, 1): it should end in a sigmoid, "
                                  f"giving each pixel's probability.")
        if features.size and not np.all(np.abs(features) < 1):
            return Verdict.failed(f"{call}'s shared encoder layer returns values outside (-1, 1): its activation "
                                  f"should be tanh.")
        return Verdict.passed(f"{call} builds the handout's network: encoder {d} -> {h} (tanh) -> {k} "
                              f"(mu, logvar), decoder {k} -> {h} (tanh) -> {d} (sigmoid).")
    return judge


def run_training(subject: Subject) -> common.Evaluation:
    x, _, x_eval, _ = common.training_data(subject)
    what = "train_mnist_vae(X, ...)"
    vae = subject.call(MODULE, "train_mnist_vae", x, epochs=common.EPOCHS, batch_size=common.BATCH, lr=common.LR,
                       seed=common.SEED)
    return common.evaluation(subject, vae, x_eval, what=what)


def expected_training(subject: Subject) -> common.ReferenceEvaluation:
    return common.ReferenceEvaluation(**dict(run_training(subject)), images=common.eval_images(subject))


# The bar: the reference's negative ELBO under the same budget (at the check's seed: 133.7 nats per
# image on the real MNIST) plus MARGIN nats. benchmarks/ualberta_hw4_training.py ran the check's own
# halves on the reference and on the variants the handout allows, each under the function's seeds 1-10
# (docs/ualberta-hw4.md, "Thresholds"); excess over the reference's: the reference -1.7 to +4.4,
# latent 2 +35.1 to +37.7, hidden 32 +28.5 to +46.9, hidden 128 -20.5 to -18.4, latent 2 and hidden 32
# +41.1 to +46.1, batches in order (the notebook's loop) +2.7 to +9.0; a trainer that never steps
# +416 to +419. A VAE whose latent carries nothing (sampling without the reparameterisation, or a
# log-likelihood averaged over the pixels, both collapse onto the mean image) lands at +79.1. The bar
# lies 13.1 above the worst valid run and 19.1 below the collapsed VAE.
MARGIN = 60.0


def judge_training(noun: str, call: str, hint: str, margin: float, reconstruction: str = "reconstruct"):
    """`reconstruction`: the function whose checks the collapse hint points to (Q5: reconstruct_cvae)."""
    def judge(got: common.Evaluation, expected: common.ReferenceEvaluation, check: Check) -> Verdict:
        x = expected.images.astype(np.float64)
        problem = common.shapes_problem(got, *x.shape)
        if problem:
            return Verdict.failed(f"The model {call} returned cannot be evaluated: {problem}.")
        value, kl, ll = common.negative_elbo(x, got.mu, got.logvar, got.x_hat)
        reference = common.negative_elbo(x, expected.mu, expected.logvar, expected.x_hat)[0]
        limit = reference + margin
        details = (f"On {len(x)} binarised MNIST images it never trained on: negative {noun} {value:.1f} nats per "
                   f"image (KL {kl:.1f}, log-likelihood {ll:.1f}); the reference reaches {reference:.1f} under the "
                   f"same budget, and an untrained model about 550.",)
        if np.isfinite(value) and value <= limit:
            return Verdict.passed(f"{call} trains: negative {noun} {value:.1f} nats per image, at most {limit:.1f} "
                                  f"needed.", details=details)
        diverged = "" if np.isfinite(value) else ("The trained model's outputs are not finite numbers: training "
                                                  "diverged. Look for a loss that grows without bound (a wrong sign) "
                                                  "or a log of 0. ")
        collapsed = (f"The trained encoder's latent carries nothing (KL {kl:.1f} nats per image): "
                     + COLLAPSE_HINT.format(reconstruction=reconstruction) + " ") if np.isfinite(value) and kl < COLLAPSED_KL else ""
        return Verdict.failed(f"After {call} ({common.EPOCHS} epochs of {common.TRAIN_IMAGES} images, batches of "
                              f"{common.BATCH}, lr {common.LR:g}), the negative {noun} is {value:.1f} nats per image; "
                              f"at most {limit:.1f} is needed.", details=details, hint=diverged + collapsed + hint)
    return judge


COLLAPSED_KL = 1.0
"""A trained encoder whose KL stays under 1 nat per image carries nothing in its latent (the reference's KL on
the real MNIST: about 16; a latent of 2: about 5). Either the loss gave the reconstruction no pull on the
encoder (a sample cut from mu and logvar, a log-likelihood averaged over the pixels: the VAE collapses onto
the mean image), or training never stepped (KL 0.3): the hint names both."""
COLLAPSE_HINT = ("if the checks of {reconstruction} (gradients must reach mu and logvar through the sample h: .rsample(), "
                 "not .sample(), no .detach()) or of binary_cross_entropy (summed over the pixels, not averaged) "
                 "above fail, fix them first: the loss then gives the encoder no reason to encode anything. "
                 "Otherwise, look at the training loop:")

TRAIN_HINT = ("Build make_mnist_vae(), an Adam optimiser over its parameters at lr, and for each epoch and each "
              "batch of batch_size images (binarised, pixel > 0.5): loss = elbo(vae, batch), then "
              "optimizer.zero_grad(), loss.backward(), optimizer.step(). Return the trained VAE.")

PROBLEM = Problem(
    id="q4",
    title="Variational autoencoder (VAE) on MNIST",
    files=("hw4_vae.py",),
    # Handout ../shared/seeds/004_24d4f9546b553845.txt, Question 4 [25 MARKS] (line 86): 1. reconstruct
    # (5 marks, line 90), 2. elbo 2 + kl_divergence 4 + binary_cross_entropy 4 (10 marks, line 91),
    # 3. train_mnist_vae (10 marks, line 92).
    parts={"1": 5.0, "2": 10.0, "3": 10.0},
    checks=(
        Check(id="q4.reconstruct.returns_encoding", part="1", points=1,
              claim="reconstruct returns the encoder's (mu, logvar) and a decoded x_hat",
              run=run_returns_encoding, judge=judge_returns_encoding),
        Check(id="q4.reconstruct.samples_from_posterior", part="1", points=2,
              claim="reconstruct samples h = mu + exp(logvar / 2) * eps: mean mu, standard deviation exp(logvar / 2)",
              run=run_samples, judge=judge_samples),
        Check(id="q4.reconstruct.gradients_reach_mu_and_logvar", part="1", points=2,
              claim="gradients of x_hat reach the encoder's mu and logvar through h (the reparameterisation)",
              run=run_gradients, judge=judge_gradients),
        Check(id="q4.kl_divergence.closed_form", part="2", points=3,
              claim="kl_divergence is KL(N(mu, exp(logvar)) || N(0, I)) summed over the latent, averaged over the batch",
              run=run_kl(KL_SHAPE, 1), judge=judge_kl(KL_SHAPE, 1)),
        Check(id="q4.kl_divergence.other_inputs", part="2", points=1, visibility=Visibility.hidden,
              claim="kl_divergence gives the divergence on other inputs, of another size",
              run=run_kl(OTHER_KL_SHAPE, 2), judge=judge_kl(OTHER_KL_SHAPE, 2)),
        Check(id="q4.binary_cross_entropy.log_likelihood", part="2", points=3,
              claim="binary_cross_entropy is the Bernoulli log-likelihood summed over pixels, averaged over the batch",
              run=run_bce(BCE_SHAPE, 1), judge=judge_bce(BCE_SHAPE)),
        Check(id="q4.binary_cross_entropy.other_inputs", part="2", points=1, visibility=Visibility.hidden,
              claim="binary_cross_entropy gives the log-likelihood on other inputs, of another size",
              run=run_bce(OTHER_BCE_SHAPE, 2), judge=judge_bce(OTHER_BCE_SHAPE)),
        Check(id="q4.elbo.kl_minus_log_likelihood", part="2", points=2,
              claim="elbo returns the loss to minimise: kl_divergence - binary_cross_entropy, one number",
              run=run_elbo, judge=judge_elbo),
        Check(id="q4.make_mnist_vae.architecture", part="3", points=2,
              claim="make_mnist_vae builds the handout's network for the sizes given",
              run=run_architecture, judge=judge_architecture("make_mnist_vae")),
        Check(id="q4.train_mnist_vae.lowers_negative_elbo", part="3", points=8, timeout=120.0,
              data=(mnist.DATASET,), inputs=(common.TRAINING_SET,),
              claim="train_mnist_vae, under a small budget, lowers the negative ELBO on unseen MNIST images "
                    "near the reference's",
              run=run_training, expected=expected_training,
              judge=judge_training("ELBO", "train_mnist_vae", TRAIN_HINT, MARGIN)),
    ),
)
