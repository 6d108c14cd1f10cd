"""Q2: a Gaussian autoencoder (model 6, b 4 points, the autograder's split), graded from `hw7_q2.py`.

The encoder and the decoder are found as `model.encoder` and `model.decoder` (the handout builds each
"in one sequence"; a model with exactly two nn.Sequential children is read in that order too). Their
layers are compared with the reference's, and their shapes traced on a batch. The forward pass is
checked in eval mode, where only `enc_mode` decides the noise: the first 10 outputs must be z, the
rest f - x, and f must be the student's own decoder applied to enc_mode z + (2 - enc_mode) randn, with
randn drawn from the same seed. Training is the grader's own loop (the handout's SGD, lr 0.1, batches
of 64, MSE of the output against zeros) for a fixed budget on MNIST; the loss must fall.

Handout mistakes, not rewarded: f comes from the *decoder* (the handout says "through the encoder"),
and part (b)'s slice `[0, 10:]` keeps the first generated sample alone (`[:, 10:]` keeps all n). With
enc_mode = 0 the formula draws noise of standard deviation 2, not the standard Gaussian the text says:
the formula is the interface and is kept.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from autograder import figures
from autograder.assignments.fa24_dl_hw7 import mnist_train
from autograder.assignments.fa24_dl_hw7.mnist_train import digits
from autograder.data import mnist
from autograder.model import Check, Problem, Verdict
from autograder.records import Record
from autograder.student import Subject, SubmissionError, to_array

MODULE = "hw7_q2"
Z, PIXELS = 10, 784
OUT = Z + PIXELS
CLOSE = 1e-4


def binary_images(n: int, seed: int) -> np.ndarray:
    """(n, 1, 28, 28) float32 images of 0s and 1s: f - x and x - f are told apart (f is in (0, 1))."""
    return (np.random.default_rng(seed).random((n, 1, 28, 28)) < 0.3).astype(np.float32)


# --- the student's model ---------------------------------------------------------------------------

def _model(subject: Subject):
    import torch

    model = subject.call(MODULE, "GaussianAutoencoder")
    if not isinstance(model, torch.nn.Module):
        raise SubmissionError(f"GaussianAutoencoder() should build an nn.Module, but it built {type(model).__name__}.")
    return model


def _halves(model):
    """(encoder, decoder): `model.encoder` and `model.decoder`, or its two nn.Sequential children."""
    import torch

    encoder, decoder = getattr(model, "encoder", None), getattr(model, "decoder", None)
    if isinstance(encoder, torch.nn.Module) and isinstance(decoder, torch.nn.Module):
        return encoder, decoder
    sequences = [m for m in model.children() if isinstance(m, torch.nn.Sequential)]
    if len(sequences) == 2:
        return tuple(sequences)
    raise SubmissionError("GaussianAutoencoder should hold its encoder and its decoder as `self.encoder` and "
                          "`self.decoder`, each one nn.Sequential (the handout builds each 'in one sequence'); "
                          f"found {len(sequences)} nn.Sequential children and no such attributes.")


def _layers(module) -> list:
    """The layers of a sequence, nested sequences unrolled."""
    import torch

    if isinstance(module, torch.nn.Sequential):
        return [layer for child in module.children() for layer in _layers(child)]
    return [module]


def describe(layer) -> str:
    """A layer as its type and the settings the handout fixes, e.g. 'Conv2d(1, 20, kernel_size=(4, 4), stride=(1, 1))'."""
    import torch.nn as nn

    name = type(layer).__name__
    if isinstance(layer, nn.Conv2d | nn.ConvTranspose2d):
        text = f"{name}({layer.in_channels}, {layer.out_channels}, kernel_size={layer.kernel_size}, stride={layer.stride}"
        if layer.padding != (0, 0):
            text += f", padding={layer.padding}"
        if isinstance(layer, nn.ConvTranspose2d) and layer.output_padding != (0, 0):
            text += f", output_padding={layer.output_padding}"
        return text + ")"
    if isinstance(layer, nn.Linear):
        return f"Linear({layer.in_features}, {layer.out_features})"
    if isinstance(layer, nn.BatchNorm1d | nn.BatchNorm2d):
        return f"{name}({layer.num_features})"
    if isinstance(layer, nn.Dropout):
        return f"Dropout(p={layer.p:g})"
    if isinstance(layer, nn.MaxPool2d):
        return f"MaxPool2d(kernel_size={_one(layer.kernel_size)})"
    if isinstance(layer, nn.Upsample):
        scale = _one(layer.scale_factor)
        return f"Upsample(scale_factor={float(scale) if isinstance(scale, int | float) else scale}, mode='{layer.mode}')"
    if isinstance(layer, nn.Unflatten):
        return f"Unflatten(dim={layer.dim}, unflattened_size={tuple(layer.unflattened_size)})"
    return name


def _one(value):
    """2 for 2, (2, 2) or [2.0, 2.0]: a setting given per side, the same on both."""
    if isinstance(value, tuple | list) and len(set(value)) == 1:
        return value[0]
    return value


# --- model: layers, shapes, the forward pass ----------------------------------------------------

class Layers(Record):
    encoder: list[str]
    """The encoder's layers, in order, each as `describe` writes it."""
    decoder: list[str]
    """The decoder's layers, likewise."""


def run_layers(subject: Subject) -> Layers:
    encoder, decoder = _halves(_model(subject))
    return Layers(encoder=[describe(m) for m in _layers(encoder)], decoder=[describe(m) for m in _layers(decoder)])


LAYER_HINTS = {
    "ConvTranspose2d(20, 20": "The first transposed convolution has stride 2 and output_padding 1 (12 x 12 -> "
                              "27 x 27): nn.ConvTranspose2d(20, 20, 4, stride=2, output_padding=1).",
    "ConvTranspose2d(20, 1": "The last transposed convolution has stride 1 and padding 1, no output padding "
                             "(27 x 27 -> 28 x 28): nn.ConvTranspose2d(20, 1, 4, stride=1, padding=1).",
    "Upsample": "Bicubic upsampling by 2: nn.Upsample(scale_factor=2, mode='bicubic').",
    "BatchNorm": "After every ReLU: batch normalisation, then Dropout(0.1) (in the encoder, the max pooling "
                 "comes between the second ReLU and its batch norm).",
    "Dropout": "After every ReLU: batch normalisation, then Dropout(0.1).",
}


def judge_layers(got: Layers, expected: Layers, check: Check) -> Verdict:
    for half, mine, right in (("encoder", list(got.encoder), list(expected.encoder)),
                              ("decoder", list(got.decoder), list(expected.decoder))):
        if mine == right:
            continue
        i = next((k for k, (a, b) in enumerate(zip(mine, right)) if a != b), min(len(mine), len(right)))
        yours = mine[i] if i < len(mine) else "nothing (the sequence ends)"
        wanted = right[i] if i < len(right) else "nothing (the handout's sequence ends)"
        hint = next((h for key, h in LAYER_HINTS.items() if wanted.startswith(key) or yours.startswith(key)), None)
        return Verdict.failed(f"The {half}'s layer {i} is {yours}; the handout's is {wanted}.",
                              details=(f"Your {half}: {', '.join(mine)}.", f"The handout's {half}: {', '.join(right)}."),
                              hint=hint or f"Build the {half} in one nn.Sequential with exactly the handout's layers, "
                                           f"in its order.")
    return Verdict.passed("The encoder and the decoder have the handout's layers, in its order.")


class Shapes(Record):
    encoder: list[list[int]]
    """The shapes a batch of 3 images takes through the encoder's layers: the input's, then each new one."""
    decoder: list[list[int]]
    """The same through the decoder, from a batch of 3 codes."""


def run_shapes(subject: Subject) -> Shapes:
    import torch

    model = _model(subject)
    encoder, decoder = _halves(model)
    model.eval()

    def traced(half: str, layers: list, h) -> list[list[int]]:
        changes = [list(h.shape)]
        for i, layer in enumerate(layers):
            shape = tuple(h.shape)
            try:
                with torch.no_grad():
                    h = subject.invoke(layer, h)
            except SubmissionError as exc:
                raise SubmissionError(f"The {half}'s layer {i}, {describe(layer)}, fails on a batch of shape "
                                      f"{shape}: {exc}") from None
            if not isinstance(h, torch.Tensor):
                raise SubmissionError(f"The {half}'s layer {i}, {describe(layer)}, returned {type(h).__name__}.")
            if list(h.shape) != changes[-1]:
                changes.append(list(h.shape))
        return changes

    # The codes are drawn before any layer runs, whatever the layers draw from torch's generator.
    images, codes = torch.from_numpy(binary_images(3, 80)), torch.randn(3, Z)
    return Shapes(encoder=traced("encoder", _layers(encoder), images),
                  decoder=traced("decoder", _layers(decoder), codes))


def judge_shapes(got: Shapes, expected: Shapes, check: Check) -> Verdict:
    def shown(shapes) -> str:
        return " -> ".join("(" + ", ".join(map(str, s)) + ")" for s in shapes)

    for half, mine, right in (("encoder", [list(s) for s in got.encoder], [list(s) for s in expected.encoder]),
                              ("decoder", [list(s) for s in got.decoder], [list(s) for s in expected.decoder])):
        if mine != right:
            return Verdict.failed(f"The {half}'s shapes differ from the handout's on a batch of 3.",
                                  details=(f"Yours: {shown(mine)}.", f"The handout's: {shown(right)}."),
                                  hint="Each stage's output size: the encoder 28 -> 25 -> 11 -> 5 (pooled) -> 500 -> "
                                       "250 -> 10; the decoder 10 -> 360 -> 720 -> 20 x 6 x 6 -> 12 x 12 -> 27 x 27 "
                                       "-> 28 x 28.")
    return Verdict.passed("The encoder maps (3, 1, 28, 28) to (3, 10) and the decoder (3, 10) to (3, 1, 28, 28), "
                          "through the handout's shapes.")


def _forward(subject: Subject, model, images: np.ndarray, **kwargs) -> np.ndarray:
    import torch

    with torch.no_grad():
        out = subject.invoke(model, torch.from_numpy(images), **kwargs)
    return to_array(out, "GaussianAutoencoder's forward(x)")


class OutputShape(Record):
    shape: list[int]
    """The shape of forward(x) for 5 images."""


def run_output_shape(subject: Subject) -> OutputShape:
    model = _model(subject)
    model.eval()
    return OutputShape(shape=list(_forward(subject, model, binary_images(5, 81)).shape))


def judge_output_shape(got: OutputShape, expected: OutputShape, check: Check) -> Verdict:
    shape = tuple(got.shape)
    if shape == (5, OUT):
        return Verdict.passed("forward(x) returns shape (N, 794) for N images: z (10) and the flattened f - x (784).")
    hints = {(5, PIXELS): "z is missing: return torch.cat((z, torch.flatten(f - x, 1)), 1).",
             (5, 1, 28, 28): "Flatten f - x and concatenate z before it: torch.cat((z, torch.flatten(f - x, 1)), 1).",
             (5, Z): "It returns z alone: return torch.cat((z, torch.flatten(f - x, 1)), 1)."}
    return Verdict.failed(f"forward(x) returned shape {shape} for 5 images; expected (5, 794).",
                          hint=hints.get(shape, "Concatenate z (N, 10) and flatten(f - x) (N, 784) along dim 1."))


class Concatenation(Record):
    out: np.ndarray
    """forward(x) of 6 images in eval mode, as returned: (6, 794) when right."""
    z: np.ndarray
    """model.encoder(x) of the same images: (6, 10) when right."""


def run_concatenation(subject: Subject) -> Concatenation:
    import torch

    model = _model(subject)
    encoder, _ = _halves(model)
    model.eval()
    images = binary_images(6, 82)
    with torch.no_grad():
        z = to_array(encoder(torch.from_numpy(images)), "model.encoder(x)")
    return Concatenation(out=_forward(subject, model, images), z=z)


def _image_part(out: np.ndarray, z: np.ndarray) -> np.ndarray:
    """The 784 outputs of f - x: after z, or before it where z was put last (the concatenation check's
    fault, not the noise's)."""
    if out.shape[1] == OUT and not np.allclose(out[:, :Z], z, atol=CLOSE) and np.allclose(out[:, -Z:], z, atol=CLOSE):
        return out[:, :PIXELS]
    return out[:, Z:]


def judge_concatenation(got: Concatenation, expected: Concatenation, check: Check) -> Verdict:
    out, z = got.out, got.z
    x = binary_images(6, 82).reshape(6, PIXELS).astype(np.float64)
    if out.shape != (6, OUT) or z.shape != (6, Z):
        return Verdict.failed(f"forward(x) returned shape {out.shape} and the encoder {z.shape} for 6 images; expected "
                              f"(6, 794) and (6, 10) (see the output shape check).")
    if not np.allclose(out[:, :Z], z, atol=CLOSE):
        hint = ("z is at the end: it goes first, torch.cat((z, torch.flatten(f - x, 1)), 1)."
                if np.allclose(out[:, -Z:], z, atol=CLOSE) else
                "The first 10 outputs are not z = self.encoder(x): return the embedding z itself (not z2, the "
                "noisy one), first.")
        return Verdict.failed("forward(x)'s first 10 outputs are not the encoder's z.", hint=hint)
    rest = out[:, Z:]
    inside = bool(np.all(rest + x >= -1e-6) and np.all(rest + x <= 1 + 1e-6))
    if not inside:
        if np.all(x - rest >= -1e-6) and np.all(x - rest <= 1 + 1e-6):
            hint = "The last 784 outputs are x - f: return the reconstruction error f - x."
        elif np.all(rest >= -1e-6) and np.all(rest <= 1 + 1e-6):
            hint = "The last 784 outputs are in [0, 1], like f itself: return f - x, the reconstruction error."
        else:
            hint = "The last 784 outputs must be flatten(f - x), with f the decoder's image in (0, 1)."
        return Verdict.failed("forward(x)'s last 784 outputs are not f - x for an image f in [0, 1].", hint=hint)
    return Verdict.passed("forward(x) returns z first, then the flattened reconstruction error f - x.")


MODES = {1: 50, 0: 51}
"""enc_mode checked, and the torch seed set before each forward pass."""


class Decoded(Record):
    """One enc_mode's forward pass, and the student's decoder on the handout's z2 and on the usual wrong
    ones, the noise drawn from the same seed."""
    out: np.ndarray
    """forward(x, enc_mode) of the 6 images, as returned: (6, 794) when right."""
    handout: np.ndarray
    """decoder(enc_mode * z + (2 - enc_mode) * randn), (6, 784): the f forward must decode."""
    no_noise: np.ndarray
    """decoder(z), (6, 784)."""
    noise_of_sd_1: np.ndarray
    """decoder(enc_mode * z + (1 - enc_mode) * randn), (6, 784)."""


class Noise(Record):
    z: np.ndarray
    """model.encoder(x) of the 6 images."""
    modes: dict[int, Decoded]
    """By enc_mode (the keys of MODES)."""


def run_noise(subject: Subject) -> Noise:
    """In eval mode (dropout off, batch norm fixed), under a seed: the student's forward, and the student's
    decoder on the handout's z2 and on the usual wrong ones, the noise drawn from the same seed."""
    import torch

    model = _model(subject)
    encoder, decoder = _halves(model)
    model.eval()
    images = binary_images(6, 83)
    with torch.no_grad():
        z = encoder(torch.from_numpy(images))
    z_array = to_array(z, "model.encoder(x)")

    def decode(z2) -> np.ndarray:
        with torch.no_grad():
            return to_array(decoder(z2), "model.decoder(z2)").reshape(len(images), PIXELS)

    modes = {}
    for mode, seed in MODES.items():
        torch.manual_seed(seed)
        out = _forward(subject, model, images, enc_mode=mode)
        torch.manual_seed(seed)
        noise = torch.randn(z.shape)
        modes[mode] = Decoded(out=out, handout=decode(mode * z + (2 - mode) * noise), no_noise=decode(z),
                              noise_of_sd_1=decode(mode * z + (1 - mode) * noise))
    return Noise(z=z_array, modes=modes)


NOISE_HINTS: dict[int, tuple[tuple[Callable[[Decoded], np.ndarray], str], ...]] = {
    1: ((lambda decoded: decoded.no_noise,
         "At enc_mode=1 (training) the decoder got z without noise: z2 = enc_mode * z + (2 - enc_mode) * "
         "torch.randn(z.shape) adds standard Gaussian noise then."),),
    0: ((lambda decoded: decoded.noise_of_sd_1,
         "At enc_mode=0 the noise must be (2 - enc_mode) * randn = 2 randn: z2 = enc_mode * z + "
         "(2 - enc_mode) * torch.randn(z.shape)."),
        (lambda decoded: decoded.no_noise,
         "At enc_mode=0 (generation) the decoder got z: z2 = enc_mode * z + (2 - enc_mode) * randn "
         "replaces z by noise then.")),
}
"""By enc_mode, in the order they are tried: a wrong z2 whose decoding the student's f matches, and what it means."""


def judge_noise(got: Noise, expected: Noise, check: Check) -> Verdict:
    x = binary_images(6, 83).reshape(6, PIXELS).astype(np.float64)
    for mode in MODES:
        decoded = got.modes[mode]
        out = decoded.out
        if out.ndim != 2 or out.shape != (6, OUT):
            return Verdict.failed(f"forward(x, enc_mode={mode}) returned shape {out.shape}; expected (6, 794) (see the "
                                  f"output shape check).")
        rest = _image_part(out, got.z)
        f = rest + x if np.all(np.abs(rest + x - 0.5) <= 0.5 + 1e-6) else x - rest  # the sign: another check's
        if np.allclose(f, decoded.handout, atol=CLOSE):
            continue
        hint = next((text for decoding, text in NOISE_HINTS[mode] if np.allclose(f, decoding(decoded), atol=CLOSE)),
                    None)
        return Verdict.failed(f"forward(x, enc_mode={mode}) does not decode z2 = {mode} * z + {2 - mode} * randn "
                              f"(in eval mode, randn drawn right after torch.manual_seed).",
                              details=(f"The largest difference between your f and the decoder's image of that z2 "
                                       f"is {np.abs(f - decoded.handout).max():.4g}.",),
                              hint=hint or "z2 = enc_mode * z + (2 - enc_mode) * torch.randn(z.shape), "
                                   "then f = self.decoder(z2) (the handout's 'through the encoder' means the decoder).")
    return Verdict.passed("forward decodes z2 = enc_mode * z + (2 - enc_mode) * randn: z plus noise at enc_mode=1, "
                          "2 randn at enc_mode=0.")


# --- b: generate, and training on MNIST ------------------------------------------------------------

SIZES = (20, 5)
TRAINED_WEIGHTS = Path(__file__).with_name("trained_autoencoder.pt")
"""The reference trained for 3 epochs (scripts/train_fa24_dl_hw7_autoencoder.py), float16: what a
student's `generate` is shown on in the report, since 60 steps of training only make noise."""


class Generated(Record):
    images: dict[int, np.ndarray]
    """generate(model, n) of an untrained model, as returned, by n (SIZES): (n, 1, 28, 28) when right."""
    trained: np.ndarray
    """generate(model, 20) with the reference's trained weights (the report's picture); empty where they
    did not load."""


def run_generate(subject: Subject) -> Generated:
    model = _model(subject)
    images = {n: to_array(subject.call(MODULE, "generate", model, n=n), f"generate(model, n={n})") for n in SIZES}
    return Generated(images=images, trained=_generated_by_trained_weights(subject))


def _generated_by_trained_weights(subject: Subject) -> np.ndarray:
    """generate(model, 20) of a fresh model of the student's, holding the reference's trained weights:
    the report's picture of generated digits, which decides nothing. An empty array where the weights
    do not fit the student's layers (q2.autoencoder.layers says why) or generate fails (its own
    outputs above say why)."""
    import torch

    try:
        model = _model(subject)
        state = torch.load(TRAINED_WEIGHTS, weights_only=True)
        for prefix, half in zip(("encoder.", "decoder."), _halves(model)):  # whatever the student named them
            half.load_state_dict({name[len(prefix):]: value.float() if value.is_floating_point() else value
                                  for name, value in state.items() if name.startswith(prefix)})
        torch.manual_seed(GENERATION_SEED)
        return to_array(subject.call(MODULE, "generate", model, n=SIZES[0]), "generate(model, n=20)")
    except MemoryError:  # the worker's memory stop, which names the check: never a picture's to hide
        raise
    except Exception:  # noqa: BLE001 - a picture's failure costs nothing and says nothing new
        return np.zeros(0, dtype=np.float32)


def judge_generate(got: Generated, expected: Generated, check: Check) -> Verdict:
    for n in SIZES:
        images = got.images[n]
        if images.shape != (n, 1, 28, 28):
            hints = {(PIXELS,): "The handout's slice [0, 10:] keeps only the first sample: take [:, 10:] for all n, "
                                "then reshape to (n, 1, 28, 28).",
                     (n, OUT): "Drop the first 10 entries (z): out[:, 10:], then reshape to (n, 1, 28, 28).",
                     (n, PIXELS): "Reshape the n images to (n, 1, 28, 28)."}
            return Verdict.failed(f"generate(model, n={n}) returned shape {images.shape}; expected ({n}, 1, 28, 28).",
                                  hint=hints.get(images.shape, "Call the model with enc_mode=0 and keep out[:, 10:], "
                                                               "reshaped to (n, 1, 28, 28)."))
        if not np.all(np.isfinite(images)) or images.min() < -1e-6 or images.max() > 1 + 1e-6:
            return Verdict.failed(f"generate(model, n={n}) returned values outside [0, 1]; the decoder's images end in "
                                  f"a sigmoid.", hint="Call the model on zero images (so that f - x is f) with "
                                                      "enc_mode=0, and keep out[:, 10:].")
        if np.abs(images - images[:1]).max() < 1e-6:
            return Verdict.failed(f"generate(model, n={n}) returned {n} identical images; each should decode its own "
                                  f"noise.", hint="enc_mode=0 replaces z by fresh Gaussian noise for every sample.")
    return Verdict.passed("generate(model, n) returns n different images (n, 1, 28, 28) in [0, 1], for n = 20 and 5.",
                          figures=_generated_digits(got, expected))


def _generated_digits(got: Generated, expected: Generated):
    """The 20 digits of the trained weights, the student's generate beside the reference's (the same
    noise: equal when both are right); the untrained model's where those weights did not load."""
    if got.trained.shape != (SIZES[0], 1, 28, 28):
        untrained = got.images[SIZES[0]]
        return figures.image_grid("generate(model, 20) of an untrained model (the trained weights did not load "
                                  "into your model)", [("yours", untrained[:10]), ("", untrained[10:])],
                                  shape=(28, 28))
    ours = expected.trained
    return figures.image_grid("generate(model, 20) with the reference's weights after 3 epochs on MNIST",
                              [("yours", got.trained[:10]), ("", got.trained[10:]),
                               ("reference", ours[:10]), ("", ours[10:])], shape=(28, 28))


STEPS, LR, BATCH, LOADER_SEED, GENERATION_SEED = 60, 0.1, 64, 0, 7
"""The graded budget: 60 SGD steps (lr 0.1, the handout's) on batches of 64 of the first 3,840
training images, shuffled by a generator of this seed; then 20 digits generated under a seed."""
AVERAGED = 10
FALLS = 0.6
"""The mean loss of the last 10 steps over that of the first 10 must be at most this. The reference
and dropout before batch norm, each under 12 torch seeds (initialisation and batch order;
benchmarks/fa24_dl_hw7_q2_training.py, docs/fa24-dl-hw7.md): 0.349 to 0.415 (median 0.40); a decoder
that never learns (under torch.no_grad()): 1.000 to 1.002. The bar is 0.185 above the worst valid run
and 0.40 below that fault."""


class Training(Record):
    losses: np.ndarray
    """The loss of each of the STEPS steps."""
    generated: np.ndarray
    """forward(zeros (20, 1, 28, 28), enc_mode=0)[:, 10:] after training, in eval mode under GENERATION_SEED."""


def run_training(subject: Subject) -> Training:
    import torch

    data = subject.inputs(mnist_train.TRAIN.name)
    dataset = digits(data["images"][:STEPS * BATCH], data["labels"][:STEPS * BATCH])
    loader = torch.utils.data.DataLoader(dataset, batch_size=BATCH, shuffle=True, drop_last=True,
                                         generator=torch.Generator().manual_seed(LOADER_SEED))
    model = _model(subject)
    optimizer = torch.optim.SGD(model.parameters(), lr=LR)
    model.train()
    losses: list[float] = []
    while len(losses) < STEPS:
        for x, _ in loader:
            out = subject.invoke(model, x)
            if not isinstance(out, torch.Tensor) or tuple(out.shape) != (len(x), OUT):
                raise SubmissionError(f"forward(x) returned {tuple(getattr(out, 'shape', ()))} for a batch of "
                                      f"{len(x)}; expected ({len(x)}, {OUT}).")
            loss = (out ** 2).mean()
            optimizer.zero_grad()
            try:
                loss.backward()
            except RuntimeError as exc:
                raise SubmissionError(f"The loss of forward(x)'s output cannot be backpropagated ({exc}): keep z "
                                      f"and f - x connected to the model's parameters (no .detach(), no "
                                      f"torch.no_grad() in forward).") from None
            optimizer.step()
            losses.append(loss.item())
            if len(losses) == STEPS:
                break
    model.eval()
    torch.manual_seed(GENERATION_SEED)
    with torch.no_grad():
        generated = subject.invoke(model, torch.zeros(20, 1, 28, 28), enc_mode=0)
    return Training(losses=np.array(losses), generated=to_array(generated, "forward(0, enc_mode=0)")[:, Z:])


def judge_training(got: Training, expected: Training, check: Check) -> Verdict:
    losses = got.losses
    first, last = float(np.mean(losses[:AVERAGED])), float(np.mean(losses[-AVERAGED:]))
    ratio = last / first if first > 0 else float("nan")
    pictures = figures.image_grid(f"20 digits generated after the grader's {STEPS} steps (forward of zeros, "
                                  f"enc_mode=0, eval mode)",
                                  [("your autoencoder", got.generated[:10]), ("", got.generated[10:20]),
                                   ("the reference's", expected.generated[:10]), ("", expected.generated[10:20])],
                                  shape=(28, 28))
    details = (f"Mean loss of the first {AVERAGED} steps {first:.4f}, of the last {AVERAGED} {last:.4f}: "
               f"{ratio:.0%} (at most {FALLS:.0%} needed).",)
    if np.all(np.isfinite(losses)) and ratio <= FALLS:
        return Verdict.passed(f"The grader's {STEPS} SGD steps (lr {LR}, batches of {BATCH} of MNIST, MSE against "
                              f"zeros) lower your autoencoder's loss.", details=details, figures=pictures)
    return Verdict.failed(f"The grader's {STEPS} SGD steps (lr {LR}, batches of {BATCH}, MSE of forward(x) against "
                          f"zeros) did not lower your autoencoder's loss enough.", details=details, figures=pictures,
                          hint="The decoder must learn from f - x: no torch.no_grad() or .detach() around it, and "
                               "every layer registered (in the nn.Sequential of the encoder and the decoder).")


PROBLEM = Problem(
    id="q2",
    title="Autoencoder",
    files=("hw7_q2.py",),
    # Handout ../shared/seeds/003_e3b0b6e208b34aec.txt, Homework 7 Q2 (line 307): no points given. The
    # autograder's split: the architecture and the forward pass (before part a) 6, part (b)'s code 4;
    # the sketch (a) and the modifications (c) are written (tests/test_points.py).
    parts={"model": 6.0, "b": 4.0},
    checks=(
        Check(id="q2.autoencoder.layers", part="model", points=1.5,
              claim="the encoder and the decoder have the handout's layers, in its order",
              run=run_layers, judge=judge_layers),
        Check(id="q2.autoencoder.shapes", part="model", points=1,
              claim="the encoder maps 28 x 28 images to 10 numbers and the decoder back, through the handout's shapes",
              run=run_shapes, judge=judge_shapes),
        Check(id="q2.forward.output_shape", part="model", points=0.5,
              claim="forward(x) returns shape (N, 794)",
              run=run_output_shape, judge=judge_output_shape),
        Check(id="q2.forward.concatenation", part="model", points=1,
              claim="forward(x) returns z, then the flattened f - x",
              run=run_concatenation, judge=judge_concatenation),
        Check(id="q2.forward.enc_mode_noise", part="model", points=2,
              claim="forward decodes z2 = enc_mode z + (2 - enc_mode) randn, for enc_mode 1 and 0",
              run=run_noise, judge=judge_noise),
        Check(id="q2.generate.images", part="b", points=1.5,
              claim="generate(model, n) returns n different images (n, 1, 28, 28) in [0, 1]",
              run=run_generate, judge=judge_generate),
        Check(id="q2.train.loss_falls", part="b", points=2.5, timeout=180.0,
              data=(mnist.DATASET,), inputs=(mnist_train.TRAIN,),
              claim="the grader's 60 SGD steps on MNIST lower the autoencoder's loss",
              run=run_training, judge=judge_training),
    ),
)
