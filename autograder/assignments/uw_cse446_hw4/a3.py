"""A3: transfer learning with AlexNet (a 15, b 15), graded from `hw4_a3.py`.

Every check hands the student's functions the grader's own AlexNet (`alexnet.alexnet()`, which is
`torchvision.models.alexnet(weights=None)` where torchvision imports) and reads what comes back:
which parameters require grad, what `classifier[6]` is, the output shape, and which parameters
one step of `make_optimizer`'s optimiser changes. The rules are fixed (they hold for any correct
answer), so nothing runs on the reference for them.

AlexNet has 61 million parameters, and initialising them takes a second. The checks of structure
and output shape need no weights' values, so they hand the student's functions an AlexNet over
uninitialised memory (`alexnet(initialised=False)`, milliseconds). The step checks run on
`SlimAlexNet`, from a fixed seed: AlexNet's module names, layer types and indices and its 4096
inputs to classifier[6], with 4.4 million parameters (4.1 of them in the 1000-class layer the
student replaces), because one step of the full model holds 1.0 to 1.5 GB (weights, gradients,
optimiser state), twice Gradescope's default container. Which parameters a step changes does not
depend on the widths. Each check builds its own model: a fault
costs only its checks.

With the ImageNet weights and CIFAR-10 under the data root, two more checks train each reading for
a small fixed budget and compare the test accuracy with the reference's under the same budget. The
parent hands the worker the weights file, the training images with their labels and the test images
without theirs (`a3_inputs`); the test labels come from the trusted half, and the judge scores.
"""

from __future__ import annotations

import difflib

import numpy as np

from autograder.assignments.uw_cse446_hw4 import a3_inputs
from autograder.data import cifar10
from autograder.model import Check, Problem, Verdict
from autograder.records import Record
from autograder.student import Subject, SubmissionError, to_array

MODULE = "hw4_a3"
EXTRACTOR, FINE_TUNE = "feature_extractor", "fine_tune_model"
NUM_CLASSES, OTHER_CLASSES = 10, 7
"""classifier[6] is checked for CIFAR-10's 10 classes, and for 7, which a hard-coded 10 misses."""
CLASS_COUNTS = (NUM_CLASSES, OTHER_CLASSES)
"""The num_classes each builder is called with in the new-layer checks, in the order they are reported."""
IN_FEATURES = 4096
LAYERS = ("features.0", "features.3", "features.6", "features.8", "features.10",
          "classifier.1", "classifier.4", "classifier.6")
PARAMETERS = tuple(f"{layer}.{kind}" for layer in LAYERS for kind in ("weight", "bias"))
"""AlexNet's parameters, in order (`named_parameters`)."""
NEW_LAYER = ("classifier.6.weight", "classifier.6.bias")
PRETRAINED = tuple(p for p in PARAMETERS if p not in NEW_LAYER)
SIZE = 64
"""Input height and width: AlexNet needs at least 63 pixels; 64 keeps a forward pass cheap."""
BUILD_SEED, STEP_SEED = 446, 3
SHAPE_IMAGES, STEP_IMAGES = 3, 2
STEP_LR = 0.01
STEP_LABELS = (3, 7)


def _listed(names: list[str] | tuple[str, ...], limit: int = 6) -> str:
    names = list(names)
    if len(names) <= limit:
        return ", ".join(names)
    return f"{', '.join(names[:limit])} and {len(names) - limit} more"


def _layers_of(names: list[str]) -> str:
    return ", ".join(dict.fromkeys(n.rsplit(".", 1)[0] for n in names))


def _images(n: int, seed: int):
    import torch

    return torch.randn(n, 3, SIZE, SIZE, generator=torch.Generator().manual_seed(seed))


def _build(subject: Subject, builder: str, num_classes: int, initialised: bool = True, slim: bool = False):
    """`builder(alexnet(), num_classes)` from the fixed seed, checked to be a module; with `slim`, on
    `SlimAlexNet` (same names and indices, 4.4 M parameters) instead."""
    import torch

    from autograder.assignments.uw_cse446_hw4.alexnet import SlimAlexNet, alexnet

    torch.manual_seed(BUILD_SEED)
    model = subject.call(MODULE, builder, SlimAlexNet() if slim else alexnet(initialised=initialised), num_classes)
    if not isinstance(model, torch.nn.Module):
        raise SubmissionError(f"{builder}(model, num_classes={num_classes}) should return the model (an nn.Module), "
                              f"but it returned {type(model).__name__}."
                              + (" End the function with `return model`." if model is None else ""))
    return model


def _forward(model, x, what: str):
    """model(x) as a tensor, or a SubmissionError that says where it failed."""
    import torch

    try:
        out = model(x)
    except Exception as exc:  # noqa: BLE001 - AlexNet's forward runs in torch: say what failed, plainly
        raise SubmissionError(f"The model returned by {what} fails on a batch of {len(x)} images of 3x{SIZE}x{SIZE}: "
                              f"{type(exc).__name__}: {str(exc)[:300]}") from None
    if not isinstance(out, torch.Tensor):
        raise SubmissionError(f"The model returned by {what} returns a {type(out).__name__}, not a tensor of scores.")
    return out


# --- (a) AlexNet as a fixed feature extractor -----------------------------------------------------
# The checks of structure, the new layer, the output shape and the accuracy take the builder
# (feature_extractor here); (b) runs the same ones with fine_tune_model.

def _close_to_requires_grad(names) -> list[str]:
    return difflib.get_close_matches("requires_grad", [n for n in names if "grad" in n.lower()], n=3, cutoff=0.7)


class LastLayer(Record):
    """What the model's classifier[6] is."""

    kind: str
    """Its type's name ('Linear'), or 'missing' where the model has no classifier[6] (see `text`)."""
    text: str | None = None
    """Where `kind` is 'missing': what is there instead."""
    in_features: int | None = None
    """Its in_features (None where it has none)."""
    out_features: int | None = None
    """Its out_features (None where it has none)."""
    after: list[str] = []
    """The type names of the layers appended after classifier[6]."""


class Structure(Record):
    """Which parameters require grad, attributes misspelt for `requires_grad`, and classifier[6]."""

    parameters: list[str]
    """The model's parameter names, in order (`named_parameters`)."""
    trainable: list[str]
    """Those that require grad."""
    typos: dict[str, list[str]]
    """Attributes set on parameters whose names are close to `requires_grad` (`required_grad`), each
    with the parameters that carry it."""
    module_typos: list[str]
    """The same set on modules ('model.requires_grad'), as the student wrote them."""
    layer: LastLayer
    extras: list[str]
    """Children of the model that AlexNet does not have, as 'name (type)'."""


def _structure(model) -> Structure:
    """Which parameters require grad, attributes misspelt for `requires_grad`, and classifier[6]."""
    import torch

    named = list(model.named_parameters())
    typos: dict[str, list[str]] = {}
    for name, p in named:
        for attr in _close_to_requires_grad(vars(p)):
            typos.setdefault(attr, []).append(name)
    # `model.requires_grad = False` (a module has requires_grad_(), not an attribute) freezes nothing either.
    module_typos = [f"{'model.' + name if name else 'model'}.{attr}" for name, m in model.named_modules()
                    for attr in _close_to_requires_grad(vars(m))]
    classifier = getattr(model, "classifier", None)
    if not isinstance(classifier, torch.nn.Sequential) or len(classifier) < 7:
        layer = LastLayer(kind="missing", text="model.classifier is not AlexNet's Sequential of 7 layers"
                          if classifier is not None else "the model has no `classifier`")
    else:
        last = classifier[6]
        layer = LastLayer(kind=type(last).__name__, in_features=getattr(last, "in_features", None),
                          out_features=getattr(last, "out_features", None),
                          after=[type(m).__name__ for m in list(classifier)[7:]])
    extras = [f"{name} ({type(m).__name__})" for name, m in model.named_children()
              if name not in ("features", "avgpool", "classifier")]
    return Structure(parameters=[n for n, _ in named], trainable=[n for n, p in named if p.requires_grad],
                     typos=typos, module_typos=module_typos, layer=layer, extras=extras)


def run_structure(builder: str):
    def run(subject: Subject) -> Structure:
        return _structure(_build(subject, builder, NUM_CLASSES, initialised=False))
    return run


def _typo_feedback(builder: str, got: Structure) -> tuple[str, str] | None:
    if got.typos:
        attr, names = next(iter(got.typos.items()))
        return (f"{builder} sets `{attr}` on {len(names)} parameters ({_listed(names, 3)}): that is a new attribute, "
                f"not `requires_grad`, so it freezes nothing; {len(got.trainable)} parameters still require grad.",
                "Write `param.requires_grad = False` (requires, with an s), as the handout's loop does.")
    if got.module_typos:
        return (f"{builder} sets `{got.module_typos[0]}`: on a module that is a plain attribute and freezes "
                f"nothing; {len(got.trainable)} parameters still require grad.",
                "Set `param.requires_grad = False` for every param in model.parameters(), or call "
                "model.requires_grad_(False).")
    return None


def judge_only_new_layer_trainable(got: Structure, expected: Structure, check: Check) -> Verdict:
    trainable = got.trainable
    details = (f"Parameters that require grad: {_listed(trainable) or 'none'}.",
               f"Expected: {', '.join(NEW_LAYER)} only.")
    if sorted(trainable) == sorted(NEW_LAYER):
        return Verdict.passed("feature_extractor freezes every pretrained parameter; only the new classifier[6] "
                              "(weight and bias) requires grad.")
    typo = _typo_feedback(EXTRACTOR, got)
    if typo is not None:
        return Verdict.failed(typo[0], details=details, hint=typo[1])
    pretrained = [n for n in trainable if n not in NEW_LAYER]
    frozen_new = [n for n in NEW_LAYER if n not in trainable]
    if pretrained:
        whole = " (nothing is frozen)" if len(pretrained) == len(PRETRAINED) else ""
        return Verdict.failed(f"feature_extractor leaves {len(pretrained)} pretrained parameters trainable{whole}: "
                              f"{_listed(pretrained)}.", details=details,
                              hint="Set requires_grad = False on every parameter of the pretrained model "
                                   "(model.parameters(), not only model.features), then replace classifier[6].")
    return Verdict.failed(f"In feature_extractor's model, {' and '.join(frozen_new)} do not require grad: the new "
                          "layer is frozen too, so nothing would train.", details=details,
                          hint="Freeze first, then replace classifier[6]: a new nn.Linear requires grad, as the "
                               "handout's order does.")


class NewLayer(Record):
    layers: dict[int, LastLayer]
    """classifier[6] of the builder's model, by the num_classes it was built with (CLASS_COUNTS)."""
    extras: list[str]
    """Children that AlexNet does not have, of the model built for NUM_CLASSES, as 'name (type)'."""


def run_new_layer(builder: str):
    def run(subject: Subject) -> NewLayer:
        built = {n: _structure(_build(subject, builder, n, initialised=False)) for n in CLASS_COUNTS}
        return NewLayer(layers={n: b.layer for n, b in built.items()}, extras=built[NUM_CLASSES].extras)
    return run


def _describe(layer: LastLayer) -> str:
    if layer.kind == "missing":
        return layer.text
    shape = f"({layer.in_features}, {layer.out_features})" if layer.in_features is not None else ""
    return f"classifier[6] is {layer.kind}{shape}"


def judge_new_layer(builder: str):
    def judge(got: NewLayer, expected: NewLayer, check: Check) -> Verdict:
        layers = {n: got.layers[n] for n in CLASS_COUNTS}
        wrong = {n: layer for n, layer in layers.items()
                 if (layer.kind, layer.in_features, layer.out_features) != ("Linear", IN_FEATURES, n)}
        details = tuple(f"{builder}(model, num_classes={n}): {_describe(layer)}; expected Linear({IN_FEATURES}, {n})."
                        for n, layer in layers.items())
        if not wrong:
            after = next((layer.after for layer in layers.values() if layer.after), None)
            if after:
                return Verdict.failed(f"{builder} appends {', '.join(after)} after classifier[6]: the model's scores "
                                      "must be classifier[6]'s outputs.", details=details,
                                      hint="Replace model.classifier[6] and append nothing after it: "
                                           "nn.CrossEntropyLoss takes the scores and applies the softmax itself.")
            return Verdict.passed(f"{builder} replaces classifier[6] with nn.Linear({IN_FEATURES}, num_classes) "
                                  f"(tried with {NUM_CLASSES} and {OTHER_CLASSES} classes).", details=details)
        n, layer = next(iter(wrong.items()))
        hint = f"model.classifier[6] = nn.Linear({IN_FEATURES}, num_classes)."
        if layer.out_features == 1000:
            summary = (f"{builder} leaves AlexNet's classifier[6], Linear({IN_FEATURES}, 1000), in place: it was not "
                       "replaced.")
            if got.extras:
                hint = (f"The model has a new {_listed(got.extras)} that AlexNet's forward never uses: its last "
                        f"layer is model.classifier[6] (model.fc belongs to ResNet). " + hint)
        elif layer.kind == "Linear" and layer.out_features == NUM_CLASSES and n != NUM_CLASSES:
            summary = (f"{builder}(model, num_classes={n}) gives classifier[6] = Linear({layer.in_features}, "
                       f"{NUM_CLASSES}): num_classes is ignored.")
            hint = f"Use the argument: nn.Linear({IN_FEATURES}, num_classes), not a fixed {NUM_CLASSES}."
        else:
            summary = f"{builder}(model, num_classes={n}): {_describe(layer)}; expected nn.Linear({IN_FEATURES}, {n})."
        return Verdict.failed(summary, details=details, hint=hint)
    return judge


class Shape(Record):
    shape: list[int]
    """The shape of the scores the model returns for SHAPE_IMAGES images."""


def run_output_shape(builder: str):
    def run(subject: Subject) -> Shape:
        import torch

        # Uninitialised weights give meaningless scores, but their shape is what is checked.
        model = _build(subject, builder, NUM_CLASSES, initialised=False).eval()
        with torch.no_grad():
            return Shape(shape=list(_forward(model, _images(SHAPE_IMAGES, 1), f"{builder}(model)").shape))
    return run


def judge_output_shape(builder: str):
    def judge(got: Shape, expected: Shape, check: Check) -> Verdict:
        shape, want = tuple(got.shape), (SHAPE_IMAGES, NUM_CLASSES)
        if shape == want:
            return Verdict.passed(f"The model of {builder}(model) returns scores of shape (N, {NUM_CLASSES}) "
                                  f"(N = {SHAPE_IMAGES} images of 3x{SIZE}x{SIZE}).")
        hint = ("Its classifier[6] still has AlexNet's 1000 outputs: replace it with "
                f"nn.Linear({IN_FEATURES}, num_classes)." if shape[-1:] == (1000,) else
                "The scores come from classifier[6]: one row per image, one column per class.")
        return Verdict.failed(f"The model of {builder}(model) returns shape {shape} for {SHAPE_IMAGES} images of "
                              f"3x{SIZE}x{SIZE}; expected {want}.", hint=hint)
    return judge


def _digest(p) -> int:
    """The sum, wrapping around, of a tensor's bits read as 64-bit integers: it changes when any
    element changes, in milliseconds and with no memory (a copy of every weight would double the
    model's 244 MB and cost more than a second)."""
    import torch

    flat = p.detach().reshape(-1)
    if flat.numel() * flat.element_size() % 8 == 0:
        return int(flat.view(torch.int64).sum())
    bits = {8: torch.int64, 4: torch.int32, 2: torch.int16, 1: torch.uint8}[flat.element_size()]
    return int(flat.view(bits).sum(dtype=torch.int64))


def _optimizer(subject: Subject, model, lr: float):
    import torch

    optimizer = subject.call(MODULE, "make_optimizer", model, lr)
    if not isinstance(optimizer, torch.optim.Optimizer):
        raise SubmissionError(f"make_optimizer(model, lr) should return a torch.optim.Optimizer, but it returned "
                              f"{type(optimizer).__name__}.")
    return optimizer


def _train_step(model, optimizer, x, y, what: str) -> None:
    import torch.nn.functional as F

    model.train()
    out = _forward(model, x, what)
    if out.ndim != 2 or out.shape[0] != len(x):
        raise SubmissionError(f"The model returned by {what} gives scores of shape {tuple(out.shape)} for {len(x)} "
                              f"images; it should give ({len(x)}, number of classes).")
    loss = F.cross_entropy(out, y)
    if not loss.requires_grad:
        raise SubmissionError(f"No parameter of the model returned by {what} requires grad, so no optimiser step can "
                              "train it: the new classifier[6] must stay trainable (freeze the pretrained "
                              "parameters before replacing it).")
    try:
        # Keeping the gradients' memory (set_to_none=False) spares fine-tuning 244 MB of fresh pages
        # per step, about half a second; it changes no update.
        optimizer.zero_grad(set_to_none=False)
        loss.backward()
        optimizer.step()
    except Exception as exc:  # noqa: BLE001 - the step runs in torch: say what failed
        raise SubmissionError(f"One step of the optimiser from make_optimizer failed on the model of {what}: "
                              f"{type(exc).__name__}: {str(exc)[:300]}") from None


class Step(Record):
    """What one optimiser step did to the parameters of the builder's model (on SlimAlexNet)."""

    changed: list[str]
    """The parameters the step changed."""
    trainable: list[str]
    """The parameters that require grad."""
    parameters: list[str]
    """All parameters, in order (`named_parameters`)."""
    gradless: list[str]
    """The parameters that require grad but got no gradient (the forward never uses them)."""


def run_step(builder: str):
    def run(subject: Subject) -> Step:
        import torch

        model = _build(subject, builder, NUM_CLASSES, slim=True)
        before = {name: _digest(p) for name, p in model.named_parameters()}
        optimizer = _optimizer(subject, model, STEP_LR)
        torch.manual_seed(STEP_SEED)  # dropout
        _train_step(model, optimizer, _images(STEP_IMAGES, 2), torch.tensor(STEP_LABELS), f"{builder}(model)")
        named = list(model.named_parameters())
        return Step(changed=[n for n, p in named if n in before and _digest(p) != before[n]],
                    trainable=[n for n, p in named if p.requires_grad], parameters=[n for n, _ in named],
                    gradless=[n for n, p in named if p.requires_grad and p.grad is None])
    return run


def _step_details(got: Step) -> tuple[str, ...]:
    return (f"One step of make_optimizer(model, lr={STEP_LR}) on {STEP_IMAGES} images of 3x{SIZE}x{SIZE} "
            f"(cross-entropy, train mode) changed: {_listed(got.changed, 8) or 'nothing'}.",)


_UNUSED = ("the model's forward never uses them. AlexNet's output comes from model.classifier[6]; a new "
           "attribute such as model.fc is never called.")


def judge_extractor_step(got: Step, expected: Step, check: Check) -> Verdict:
    changed = got.changed
    moved = [n for n in changed if n not in NEW_LAYER]
    still = [n for n in NEW_LAYER if n not in changed]
    if not moved and not still:
        return Verdict.passed("After one optimiser step every pretrained parameter of the feature extractor is "
                              "unchanged, and the new classifier[6] changed.", details=_step_details(got))
    if moved:
        trainable = [n for n in moved if n in got.trainable]
        hint = ("They still require grad, so the optimiser trains them: feature_extractor must set "
                "requires_grad = False on every pretrained parameter." if trainable else
                "They do not require grad, yet the optimiser changed them: make_optimizer must update only "
                "what requires grad.")
        return Verdict.failed(f"One optimiser step changed {len(moved)} pretrained parameters that must stay frozen, "
                              f"in the layers {_layers_of(moved)}: {_listed(moved)}.",
                              details=_step_details(got), hint=hint)
    hint = ("make_optimizer must optimise the parameters that require grad (the new classifier[6]) with the "
            "learning rate lr it is given.")
    if any(n in got.gradless for n in still):
        hint = "The new layer gets no gradient: " + _UNUSED
    return Verdict.failed(f"One optimiser step left the new layer unchanged ({' and '.join(still)}): the feature "
                          "extractor learns nothing.", details=_step_details(got), hint=hint)


# With the pretrained weights: budgeted training on CIFAR-10.
LR = 1e-3
"""The learning rate of PyTorch's transfer-learning tutorial, which the handout follows."""
BATCH = 25
EPOCHS = {EXTRACTOR: 3, FINE_TUNE: 1}
"""Fine-tuning steps through all 61 million weights (3 to 4 times a frozen step's cost): one epoch."""
SHUFFLE_SEED = 5
MARGIN = 0.05
MEAN, STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
"""ImageNet's statistics, which AlexNet's weights expect."""


def _upscaled(pixels: np.ndarray):
    """uint8 images (n, 32, 32, 3) as float (n, 3, 64, 64), upscaled and normalised as for ImageNet.
    Batches are taken from these as copies, so the model cannot change them."""
    import torch
    import torch.nn.functional as F

    x = torch.from_numpy(pixels).permute(0, 3, 1, 2).float() / 255.0
    x = F.interpolate(x, size=(SIZE, SIZE), mode="bilinear", align_corners=False)
    return (x - torch.tensor(MEAN).view(1, 3, 1, 1)) / torch.tensor(STD).view(1, 3, 1, 1)


def _budget(builder: str, images: int) -> str:
    return (f"{EPOCHS[builder]} epoch{'s' if EPOCHS[builder] > 1 else ''} over {images} CIFAR-10 training "
            f"images in batches of {BATCH}, make_optimizer(model, lr={LR:g})")


class Predictions(Record):
    predictions: np.ndarray
    """The trained model's predicted class for each test image."""
    train_images: int
    """How many training images the budget went over."""


def run_accuracy(builder: str):
    def run(subject: Subject) -> Predictions:
        import torch

        from autograder.assignments.uw_cse446_hw4.alexnet import pretrained_alexnet

        train = subject.inputs(a3_inputs.TRAIN.name)
        train_x, train_y = _upscaled(train["images"]), torch.from_numpy(train["labels"])
        test_x = _upscaled(subject.inputs(a3_inputs.TEST.name)["images"])
        pretrained = pretrained_alexnet(subject.inputs(a3_inputs.WEIGHTS.name)["weights"])
        torch.manual_seed(BUILD_SEED)
        model = subject.call(MODULE, builder, pretrained, NUM_CLASSES)
        if not isinstance(model, torch.nn.Module):
            raise SubmissionError(f"{builder}(model) should return the model (an nn.Module), but it returned "
                                  f"{type(model).__name__}.")
        optimizer = _optimizer(subject, model, LR)
        shuffle = torch.Generator().manual_seed(SHUFFLE_SEED)
        for _ in range(EPOCHS[builder]):
            for rows in torch.randperm(len(train_x), generator=shuffle).split(BATCH):
                _train_step(model, optimizer, train_x[rows], train_y[rows], f"{builder}(pretrained AlexNet)")
        model.eval()
        with torch.no_grad():
            scores = torch.cat([_forward(model, batch.clone(), f"{builder}(pretrained AlexNet)")
                                for batch in test_x.split(100)])
        return Predictions(predictions=to_array(scores.argmax(dim=1), "the predicted classes"),
                           train_images=len(train_x))
    return run


class ReferencePredictions(Predictions):
    """The reference's predictions under the same budget, and the test images' labels."""

    labels: np.ndarray
    """The test images' labels (read by the trusted half only)."""


def expected_accuracy(builder: str):
    def expected(subject: Subject) -> ReferencePredictions:
        _, labels = cifar10.load_test(subject.dataset(cifar10.DATASET), a3_inputs.TEST_PER_CLASS)
        ran = run_accuracy(builder)(subject)
        return ReferencePredictions(predictions=ran.predictions, train_images=ran.train_images, labels=labels)
    return expected


def judge_accuracy(builder: str):
    def judge(got: Predictions, expected: ReferencePredictions, check: Check) -> Verdict:
        labels, predictions = expected.labels, got.predictions
        if predictions.shape != labels.shape:
            return Verdict.failed(f"{predictions.size} predictions came back for {labels.size} test images.")
        accuracy = float(np.mean(predictions == labels))
        reference = float(np.mean(expected.predictions == labels))
        need = reference - MARGIN
        details = (f"Budget: {_budget(builder, expected.train_images)}; test accuracy on {labels.size} CIFAR-10 "
                   f"test images (all upscaled to {SIZE}x{SIZE}, normalised with ImageNet's mean and std).",
                   f"Reference solution under the same budget: {reference:.3f}.")
        if accuracy >= need:
            return Verdict.passed(f"Starting from the pretrained AlexNet, {builder} with make_optimizer reaches test "
                                  f"accuracy {accuracy:.3f} (at least {need:.3f} needed).", details=details)
        return Verdict.failed(f"Starting from the pretrained AlexNet, {builder} with make_optimizer reaches test "
                              f"accuracy {accuracy:.3f}; at least {need:.3f} is needed (the reference's "
                              f"{reference:.3f} less {MARGIN}).", details=details,
                              hint="The other A3 checks name the fault when there is one (frozen layers, the new "
                                   "layer, the optimiser's step); otherwise try lr as given and SGD with momentum 0.9.")
    return judge


# --- (b) Fine-tuning ------------------------------------------------------------------------------
# fine_tune_model's checks of the new layer, the output shape and the accuracy are (a)'s with the
# builder fine_tune_model; its own judges follow.

def judge_all_trainable(got: Structure, expected: Structure, check: Check) -> Verdict:
    frozen = [n for n in got.parameters if n not in got.trainable]
    if not frozen and got.parameters:
        return Verdict.passed(f"fine_tune_model leaves all {len(got.parameters)} parameters trainable.")
    return Verdict.failed(f"fine_tune_model freezes {len(frozen)} of {len(got.parameters)} parameters: "
                          f"{_listed(frozen)}.", details=(f"Parameters that require grad: "
                                                          f"{_listed(got.trainable) or 'none'}.",),
                          hint="Fine-tuning trains every weight: do not set requires_grad = False (the loop of "
                               "the feature extractor does not belong here).")


def judge_fine_tune_step(got: Step, expected: Step, check: Check) -> Verdict:
    still = [n for n in got.parameters if n not in got.changed]
    if not still and got.parameters:
        return Verdict.passed(f"One optimiser step changes all {len(got.parameters)} parameters of the "
                              "fine-tuned model.", details=_step_details(got))
    frozen = [n for n in still if n not in got.trainable]
    gradless = [n for n in still if n in got.gradless]
    if gradless:
        hint = f"{_listed(gradless)} get no gradient: " + _UNUSED
    elif len(still) == len(got.parameters):
        hint = "Nothing changed: make_optimizer must pass the model's parameters and use lr, the rate it is given."
    elif frozen:
        hint = "They do not require grad: fine_tune_model must leave every parameter trainable."
    else:
        hint = ("They require grad, but the optimiser leaves them alone: make_optimizer must optimise every "
                "trainable parameter (model.parameters()), not only the new layer.")
    return Verdict.failed(f"One optimiser step left {len(still)} of {len(got.parameters)} parameters of the "
                          f"fine-tuned model unchanged, in the layers {_layers_of(still)}: {_listed(still)}.",
                          details=_step_details(got), hint=hint)


DATA = (a3_inputs.WEIGHTS_DATASET, cifar10.DATASET)
INPUTS = (a3_inputs.WEIGHTS, a3_inputs.TRAIN, a3_inputs.TEST)

PROBLEM = Problem(
    id="a3",
    title="Transfer learning with AlexNet",
    files=("hw4_a3.py",),
    # Handout ../shared/seeds/000_2b7f888c5a23a7ac.txt, A3 (30 points): a [15] (line 63), b [15] (line 74);
    # their plots and accuracies are in the PDF, the spec gives the parts to the code.
    parts={"a": 15.0, "b": 15.0},
    checks=(
        Check(id="a3.extractor.only_new_layer_trainable", part="a", points=4, timeout=60.0,
              claim="feature_extractor freezes every pretrained parameter; only classifier.6 requires grad",
              run=run_structure(EXTRACTOR), judge=judge_only_new_layer_trainable),
        Check(id="a3.extractor.new_layer_linear_4096_to_n", part="a", points=3, timeout=60.0,
              claim="feature_extractor replaces classifier[6] with nn.Linear(4096, num_classes)",
              run=run_new_layer(EXTRACTOR), judge=judge_new_layer(EXTRACTOR)),
        Check(id="a3.extractor.output_shape", part="a", points=2, timeout=60.0,
              claim="the feature extractor returns scores of shape (N, 10)",
              run=run_output_shape(EXTRACTOR), judge=judge_output_shape(EXTRACTOR)),
        Check(id="a3.extractor.step_changes_only_new_layer", part="a", points=3, timeout=60.0,
              claim="one optimiser step leaves the pretrained weights unchanged and changes the new layer",
              run=run_step(EXTRACTOR), judge=judge_extractor_step),
        Check(id="a3.extractor.pretrained_accuracy", part="a", points=3, timeout=180.0, data=DATA, inputs=INPUTS,
              claim="from the pretrained weights, the feature extractor learns CIFAR-10 as well as the reference "
                    "under a fixed budget",
              run=run_accuracy(EXTRACTOR), expected=expected_accuracy(EXTRACTOR), judge=judge_accuracy(EXTRACTOR)),
        Check(id="a3.fine_tune.all_parameters_trainable", part="b", points=3, timeout=60.0,
              claim="fine_tune_model leaves every parameter trainable",
              run=run_structure(FINE_TUNE), judge=judge_all_trainable),
        Check(id="a3.fine_tune.new_layer_linear_4096_to_n", part="b", points=3, timeout=60.0,
              claim="fine_tune_model replaces classifier[6] with nn.Linear(4096, num_classes)",
              run=run_new_layer(FINE_TUNE), judge=judge_new_layer(FINE_TUNE)),
        Check(id="a3.fine_tune.output_shape", part="b", points=2, timeout=60.0,
              claim="the fine-tuned model returns scores of shape (N, 10)",
              run=run_output_shape(FINE_TUNE), judge=judge_output_shape(FINE_TUNE)),
        Check(id="a3.fine_tune.step_changes_every_weight", part="b", points=4, timeout=60.0,
              claim="one optimiser step changes every weight of the fine-tuned model",
              run=run_step(FINE_TUNE), judge=judge_fine_tune_step),
        Check(id="a3.fine_tune.pretrained_accuracy", part="b", points=3, timeout=180.0, data=DATA, inputs=INPUTS,
              claim="from the pretrained weights, fine-tuning learns CIFAR-10 as well as the reference under a "
                    "fixed budget",
              run=run_accuracy(FINE_TUNE), expected=expected_accuracy(FINE_TUNE), judge=judge_accuracy(FINE_TUNE)),
    ),
)
