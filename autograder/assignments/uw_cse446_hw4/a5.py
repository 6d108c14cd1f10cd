"""A5: SST-2 sentiment with an RNN (a 10, b 15, c 5, d 15), graded from `hw4_a5.py`.

The student's `util.py` and `train.py` are never imported: data, vocabulary and embeddings come
from the grader's trusted copy in `starter/` (identical to the handed-out files; a test keeps
them so). `forward` may return logits (sigmoid inside `loss` and `accuracy`) or probabilities
(`BCELoss`): the reading is found from the model's own outputs (`a5_training.reading_of`), and
`loss` and `accuracy` are judged for that reading. Expected values are the reference's (its
collate_fn, and its loss and accuracy on the probes of either reading): nothing here computes them,
since this module ships in the students' self-check bundle. The dev accuracy after the budget is
computed here, in the parent; the dev labels come from the trusted half and never reach the
student's process.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from autograder.assignments.uw_cse446_hw4 import a5_inputs as inputs
from autograder.compare import Tolerance, compare_arrays
from autograder.model import Check, Problem, Verdict, Visibility
from autograder.records import Record
from autograder.student import Subject, SubmissionError, to_array

MODULE = "hw4_a5"
MODEL = "RNNBinaryClassificationModel"
HIDDEN_SIZE = 64
CLOSE = Tolerance(atol=1e-5, rtol=1e-4)

# Dev accuracy of SST-2 (872 sentences) after the budget of a5_training, from
# `python benchmarks/uw_cse446_hw4_a5_dev_accuracy.py --seeds 20` with the 10,000-word GloVe subset:
# the reference with each recurrent layer the handout allows, built under 20 torch seeds (seed 0 is
# the grader's), with and without an unused module built first (which shifts the initialisation).
#
#   variant (20 seeds each)            min    p5     median  max
#   GRU (the reference)                0.747  0.752  0.771   0.788
#   GRU, an unused module built first  0.755  0.755  0.776   0.784
#   LSTM                               0.729  0.735  0.756   0.782
#   LSTM, an unused module built first 0.732  0.734  0.753   0.790
#   RNN                                0.702  0.705  0.723   0.755
#   RNN, an unused module built first  0.700  0.717  0.728   0.748
#   faulty: constant output, or a recurrent layer that sees only the padding mask: 0.491 (every seed)
#
# The worst valid run of all 120 is 0.700 (610 of 872, a plain RNN; its 40 runs: mean 0.728,
# standard deviation 0.014). The threshold is ACCURACY_MARGIN = 0.07 below it (61 sentences, 5 of
# those standard deviations; 7 below the RNN's mean), and 0.14 above the faulty models. Before the
# budget clipped gradients (a5_training.CLIP_NORM), 4 of 40 plain-RNN runs ended at 0.49-0.60,
# where no threshold could tell them from a constant output.
#
# It is absolute, not relative to the reference's one run: a relative threshold moves with wherever
# seed 0 happens to fall in the reference's distribution. With the full GloVe file (vectors for more
# words) valid models should do at least as well (not measured: only the subset is here). The
# reference's run is still made, shown to the student, and guards the data: where the reference
# itself falls short, nobody is failed (judge_budgeted_training).
WORST_VALID_RUN = 0.700
ACCURACY_MARGIN = 0.07
ACCURACY_THRESHOLD = round(WORST_VALID_RUN - ACCURACY_MARGIN, 3)
FAULTY_RUN = 0.491
"""A constant output, or a recurrent layer that never sees the embedding, after the same budget."""


def _model(subject: Subject, matrix: np.ndarray):
    import torch

    return subject.call(MODULE, MODEL, torch.from_numpy(matrix.copy()))


def _forward(subject: Subject, model, ids: np.ndarray):
    import torch

    return subject.invoke(model, torch.from_numpy(ids))


# --- (a) collate_fn: padding a batch of sequences ---------------------------------------------------

FIXED = inputs.fixed_batches()
EDGE = {k: FIXED[k] for k in ("one sequence", "equal lengths")}
MIXED = {"mixed lengths": FIXED["mixed lengths"]}
RANDOM = inputs.random_batches()


def _torch_batch(batch: inputs.Batch):
    import torch

    return [(torch.from_numpy(s.copy()), torch.tensor([label])) for s, label in batch]


class Collated(Record):
    """collate_fn's result on one batch, and the batch's tensors after the call."""

    sequences: np.ndarray
    """The padded sequences returned, (N, max_sequence_length)."""
    labels: np.ndarray
    """The labels returned, (N, 1)."""
    dtype: str
    """The returned sequences' dtype as torch names it (torch.int64), or their type's name."""
    inputs_after: np.ndarray
    """The batch's sequences after the call, concatenated."""
    labels_after: np.ndarray
    """The batch's labels after the call."""


class Collation(Record):
    batches: dict[str, Collated]
    """By the batch's name (the keys of the batches the check was given: FIXED, EDGE, MIXED or RANDOM)."""


def run_collate(batches: dict[str, inputs.Batch]):
    def run(subject: Subject) -> Collation:
        collate = subject.function(MODULE, "collate_fn")
        out = {}
        for name, batch in batches.items():
            given = _torch_batch(batch)
            returned = collate(given)
            if not isinstance(returned, tuple | list) or len(returned) != 2:
                raise SubmissionError(f"collate_fn should return a tuple (sequences, labels), but it returned "
                                      f"{type(returned).__name__}"
                                      f"{' of length ' + str(len(returned)) if isinstance(returned, tuple | list) else ''}.")
            sequences, labels = returned
            out[name] = Collated(sequences=to_array(sequences, "collate_fn's sequences"),
                                 labels=to_array(labels, "collate_fn's labels"),
                                 dtype=str(getattr(sequences, "dtype", type(sequences).__name__)),
                                 inputs_after=np.concatenate([s.numpy() for s, _ in given]),
                                 labels_after=np.array([int(label.item()) for _, label in given]))
        return Collation(batches=out)
    return run


def _sequence_shape_problem(name: str, batch: inputs.Batch, got: Collated, expected: Collated) -> str | None:
    seq, want = got.sequences, expected.sequences.shape
    if seq.shape != want:
        return (f"{name}: sequences have shape {seq.shape}, expected (N, max_sequence_length) = {want}"
                + (" (the batch was transposed)" if seq.shape == want[::-1] else ""))
    return None


def _shape_problem(name: str, batch: inputs.Batch, got: Collated, expected: Collated) -> str | None:
    n = len(batch)
    lab = got.labels
    problem = _sequence_shape_problem(name, batch, got, expected)
    if problem:
        return problem
    if lab.shape != (n, 1):
        return (f"{name}: labels have shape {lab.shape}, expected (N, 1) = {(n, 1)}"
                + (": stack the (1,)-shaped labels with torch.stack, not torch.cat" if lab.shape == (n,) else ""))
    return None


def _padding_problem(name: str, batch: inputs.Batch, got: Collated, expected: Collated) -> str | None:
    seq, right = got.sequences, expected.sequences
    if seq.shape != right.shape:
        return None  # the shape check reports it
    for row, (s, _) in enumerate(batch):
        got_row = seq[row]
        if np.array_equal(got_row, right[row]):
            continue
        if any(np.array_equal(got_row, other) for other in right):
            continue  # a row of another sequence: an order fault, reported by the order check
        if np.array_equal(got_row[seq.shape[1] - len(s):], s) and not got_row[:seq.shape[1] - len(s)].any():
            return (f"{name}, row {row}: the padding is at the front ({got_row.astype(int).tolist()}); "
                    f"the handout appends the padding at the end of each sequence")
        tail = got_row[len(s):]
        if np.array_equal(got_row[:len(s)], s) and tail.size and np.all(tail == tail[0]) and tail[0] != 0:
            return (f"{name}, row {row}: padded with {tail[0]:g}; the padding id is 0 "
                    f"(vocab['[pad]'] = 0, and the embedding has padding_idx=0)")
        return (f"{name}, row {row}: got {got_row.tolist()}, expected the sequence {s.tolist()} "
                f"followed by {seq.shape[1] - len(s)} zeros")
    return None


def _order_problem(name: str, batch: inputs.Batch, got: Collated, expected: Collated) -> str | None:
    seq, lab = got.sequences, got.labels
    right = expected.sequences
    if seq.shape != right.shape or lab.size != len(batch):
        return None
    rows_match = [np.array_equal(seq[r], right[r]) for r in range(len(batch))]
    if not all(rows_match) and sorted(map(tuple, seq.astype(int).tolist())) == sorted(map(tuple, right.astype(int).tolist())):
        return f"{name}: the rows are reordered; row i must hold the i-th sequence of the batch"
    labels = expected.labels.reshape(-1)
    if not np.array_equal(lab.reshape(-1), labels):
        return (f"{name}: labels {lab.reshape(-1).tolist()} do not follow the batch's labels "
                f"{labels.astype(int).tolist()} in order")
    return None


def _dtype_problem(name: str, batch: inputs.Batch, got: Collated, expected: Collated) -> str | None:
    if got.sequences.dtype.kind not in "iu":
        return (f"{name}: sequences have dtype {got.dtype}; nn.Embedding needs integer ids "
                f"(torch.long), so do not build the padded batch with a float tensor")
    return None


def _mutation_problem(name: str, batch: inputs.Batch, got: Collated, expected: Collated) -> str | None:
    before = np.concatenate([s for s, _ in batch])
    after = got.inputs_after
    if not np.array_equal(after, before) or not np.array_equal(got.labels_after,
                                                               [label for _, label in batch]):
        return f"{name}: collate_fn changed the tensors it was given; build a new tensor instead of writing into them"
    return None


PROBLEMS = {"shape": _shape_problem, "sequence shape": _sequence_shape_problem, "padding": _padding_problem, "order": _order_problem,
            "dtype": _dtype_problem, "mutation": _mutation_problem}


def judge_collate(batches: dict[str, inputs.Batch], properties: tuple[str, ...], rule: str, hint: str):
    """Checks `properties` of the student's batches against the reference's collate_fn on the same ones."""
    def judge(got: Collation, expected: Collation, check: Check) -> Verdict:
        found = [p for name, batch in batches.items() for key in properties
                 if (p := PROBLEMS[key](name, batch, got.batches[name], expected.batches[name])) is not None]
        if not found:
            return Verdict.passed(f"collate_fn {rule} on all {len(batches)} batches.")
        return Verdict.failed(f"collate_fn: {found[0]}.",
                              details=tuple(f"Also: {p}." for p in found[1:4]), hint=hint)
    return judge


# --- (b) the model: the constructor and forward -----------------------------------------------------

class EmbeddingUse(Record):
    weight: np.ndarray
    """model.embedding.weight of the model built with the first matrix."""
    first_outputs: np.ndarray
    """forward on one batch, of the model built with the first matrix."""
    second_outputs: np.ndarray
    """forward on the same batch, of a model built with the second matrix under the same seed."""
    embedding_calls: int
    """How many times forward called self.embedding (for the feedback only)."""


def run_embedding(subject: Subject) -> EmbeddingUse:
    import torch

    first, second = inputs.embedding_matrix(1), inputs.embedding_matrix(2)
    ids = inputs.token_batch(6, 9, seed=3)
    torch.manual_seed(7)
    model = _model(subject, first)
    embedding = getattr(model, "embedding", None)
    if embedding is None or not hasattr(embedding, "weight"):
        raise SubmissionError(f"{MODEL} has no `self.embedding` layer: keep the two provided lines that build "
                              "nn.Embedding and set its weight to the embedding matrix.")
    weight = to_array(embedding.weight, "model.embedding.weight")
    calls = _calls_of(embedding)
    out_first = to_array(_forward(subject, model, ids), "forward(inputs)")
    torch.manual_seed(7)
    out_second = to_array(_forward(subject, _model(subject, second), ids), "forward(inputs)")
    return EmbeddingUse(weight=weight, first_outputs=out_first, second_outputs=out_second,
                        embedding_calls=len(calls))


def _calls_of(module) -> list:
    """A list that grows by one each time `module` runs. Only the feedback reads it (whether forward
    called self.embedding at all): the verdict rests on the outputs."""
    calls: list = []
    if hasattr(module, "register_forward_hook"):
        module.register_forward_hook(lambda *_: calls.append(1))
    return calls


def judge_embedding(got: EmbeddingUse, expected: None, check: Check) -> Verdict:
    matrix = inputs.embedding_matrix(1).astype(np.float64)
    comparison = compare_arrays("model.embedding.weight", got.weight, matrix, Tolerance(atol=1e-6))
    if not comparison.equal:
        return Verdict.failed("model.embedding.weight is not the embedding matrix passed to the constructor.",
                              details=tuple(comparison.lines()),
                              hint="Keep `self.embedding.weight.data = embedding_matrix` from the template.")
    a, b = got.first_outputs, got.second_outputs
    if not (a.shape == b.shape and np.allclose(a, b, atol=1e-7)):
        return Verdict.passed("The embedding layer holds the given matrix, and forward's outputs change with it.")
    called = ("forward called self.embedding" if got.embedding_calls
              else "forward never called self.embedding")
    if a.size > 1 and np.allclose(a, a.flat[0], atol=1e-7):
        # Nothing reaches such an output, so it cannot show whether the embedding is used (a softmax
        # over one column uses it, and still returns 1 for every sequence): say that, not "ignored".
        return Verdict.failed(
            f"forward returned the same output, {a.flat[0]:.6g}, for all {a.size} sequences (different ids and "
            "lengths), with either embedding matrix: it did not change with the input or with the matrix, "
            "so whether forward uses the embedding cannot be seen from it.",
            details=(f"Measured: outputs on one batch of {a.size} sequences, from two models built with different "
                     f"embedding matrices and the same seed; {called}.",),
            hint="Make the output depend on the last hidden state. A softmax over a single column is always 1: "
                 "for one prediction per sequence return the logit, or apply a sigmoid.")
    return Verdict.failed(
        "forward's outputs did not change when the embedding matrix changed: two models built with different "
        f"matrices (and the same seed) gave the same outputs on {a.size} sequences.",
        details=(f"The outputs differ from sequence to sequence (it is not a constant output); {called}.",),
        hint="Look the inputs up with self.embedding(inputs) and feed that to the RNN.")


SHAPES = ((4, 7), (9, 3), (2, 12))


class OutputShapes(Record):
    outputs: list[np.ndarray]
    """forward's output on a batch of each (N, length) of SHAPES, in order."""


def run_output_shape(subject: Subject) -> OutputShapes:
    model = _model(subject, inputs.embedding_matrix(1))
    return OutputShapes(outputs=[to_array(_forward(subject, model, inputs.token_batch(n, length, seed=n)),
                                          f"forward on a ({n}, {length}) batch")
                                 for n, length in SHAPES])


def judge_output_shape(got: OutputShapes, expected: None, check: Check) -> Verdict:
    for (n, length), output in zip(SHAPES, got.outputs, strict=True):
        shape = output.shape
        if shape != (n, 1):
            return Verdict.failed(f"forward on a ({n}, {length}) batch returned shape {shape}; expected (N, 1) = "
                                  f"{(n, 1)}.",
                                  hint="Feed the last hidden state, of shape (N, 64), to nn.Linear(64, 1)."
                                  + (" Do not squeeze the last dimension." if shape == (n,) else ""))
    return Verdict.passed(f"forward returns (N, 1) on {len(SHAPES)} batch shapes.")


class RecurrentCall(Record):
    """One run of an nn.RNN, nn.LSTM or nn.GRU module during forward."""

    kind: str
    """The module's class name: RNN, LSTM or GRU."""
    hidden_size: int
    num_layers: int
    bidirectional: bool


class RecurrentCalls(Record):
    used: list[RecurrentCall]
    """Every recurrent module's run during one forward pass, in order."""


def run_hidden_size(subject: Subject) -> RecurrentCalls:
    import torch

    model = _model(subject, inputs.embedding_matrix(1))
    used = []
    hooks = [m.register_forward_hook(lambda mod, args, out: used.append((type(mod).__name__, mod.hidden_size,
                                                                           mod.num_layers, mod.bidirectional)))
             for m in model.modules() if isinstance(m, torch.nn.RNNBase)]
    try:
        _forward(subject, model, inputs.token_batch(4, 7, seed=4))
    finally:
        for h in hooks:
            h.remove()
    return RecurrentCalls(used=[RecurrentCall(kind=kind, hidden_size=size, num_layers=layers, bidirectional=both)
                                for kind, size, layers, both in used])


def judge_hidden_size(got: RecurrentCalls, expected: None, check: Check) -> Verdict:
    used = got.used
    if not used:
        return Verdict.failed("forward ran no nn.RNN, nn.LSTM or nn.GRU module.",
                              hint="Build one of them in __init__ (hidden size 64) and call it in forward.")
    wrong = [u for u in used if u.hidden_size != HIDDEN_SIZE]
    if wrong:
        kind, size = wrong[0].kind, wrong[0].hidden_size
        return Verdict.failed(f"forward used nn.{kind} with hidden_size={size}; the handout asks for {HIDDEN_SIZE}.",
                              hint=f"nn.{kind}(embedding_dim, {HIDDEN_SIZE}, batch_first=True)")
    kinds = ", ".join(sorted({f"nn.{u.kind}" for u in used}))
    return Verdict.passed(f"forward used {kinds} with hidden size {HIDDEN_SIZE}.")


# --- (c) loss and accuracy, for the student's reading of forward ------------------------------------

class OnProbes(Record):
    outputs: np.ndarray
    """forward's outputs on a batch of 8 sequences, flattened (a5_training.reading_of)."""
    scaled_outputs: np.ndarray
    """The same with the last Linear layer's weights times 100."""
    value: np.ndarray
    """The check's method (loss or accuracy) on the probes of forward's reading, flattened."""


def run_on_probes(method: str):
    """The model's reading of forward, and `method` (loss or accuracy) on probe logits and probabilities.

    The student's method is called with the probes of both readings; the judge looks only at the
    one that matches forward. Each check calls one method, so a fault in one costs only its check.
    """

    def run(subject: Subject) -> OnProbes:
        import torch

        from autograder.assignments.uw_cse446_hw4.a5_training import reading_of

        model = _model(subject, inputs.embedding_matrix(1))
        out, scaled = reading_of(model, torch.from_numpy(inputs.token_batch(8, 6, seed=5)))
        targets = torch.from_numpy(inputs.LOSS_TARGETS.reshape(-1, 1)).float()
        reading = "logits" if _is_logits(out, scaled) else "probabilities"
        probe = inputs.PROBE_LOGITS if reading == "logits" else inputs.PROBE_PROBABILITIES
        given = torch.from_numpy(probe.reshape(-1, 1)).float()
        value = getattr(model, method)(given, targets)
        return OnProbes(outputs=out, scaled_outputs=scaled,
                        value=to_array(value, f"{method}(logits, targets)").reshape(-1))

    return run


def _is_logits(out: np.ndarray, scaled: np.ndarray) -> bool:
    return bool(np.any((out < 0) | (out > 1)) or np.any((scaled < 0) | (scaled > 1)))


def _reading(got: OnProbes) -> str:
    return "logits" if _is_logits(got.outputs, got.scaled_outputs) else "probabilities"


PROBES = {"logits": inputs.PROBE_LOGITS,
          "probabilities": np.log(inputs.PROBE_PROBABILITIES / (1 - inputs.PROBE_PROBABILITIES)),
          "probabilities_read_as_logits": inputs.PROBE_PROBABILITIES,
          "logits_thresholded_at_half": inputs.PROBE_LOGITS - 0.5}
"""What the reference's loss and accuracy (which take logits) are given, to get the expected value of
each reading: the probabilities as their logits, so that its sigmoid gives them back; and, for the
hints, the probabilities taken for logits (a second sigmoid; a threshold at 0) and the logits
shifted by 0.5 (a threshold at 0.5)."""


class ProbeValues(Record):
    """The reference's `loss` or `accuracy` (the check's method) on each probe of PROBES."""

    logits: float
    probabilities: float
    probabilities_read_as_logits: float
    logits_thresholded_at_half: float


def expected_on_probes(method: str):
    """The reference's `method` (loss or accuracy) on the probes of each reading."""
    def expected(subject: Subject) -> ProbeValues:
        import torch

        model = _model(subject, inputs.embedding_matrix(1))
        targets = torch.from_numpy(inputs.LOSS_TARGETS.reshape(-1, 1)).float()
        return ProbeValues(**{name: float(to_array(getattr(model, method)(
                    torch.from_numpy(probe.reshape(-1, 1)).float(), targets), f"the reference's {method}").reshape(-1)[0])
                for name, probe in PROBES.items()})
    return expected


def judge_loss(got: OnProbes, expected: ProbeValues, check: Check) -> Verdict:
    reading = _reading(got)
    t = inputs.LOSS_TARGETS
    probe = inputs.PROBE_LOGITS if reading == "logits" else inputs.PROBE_PROBABILITIES
    want = expected.logits if reading == "logits" else expected.probabilities
    value = got.value
    if value.size != 1:
        return Verdict.failed(f"loss returned {value.size} values; it should return one scalar (the mean BCE).",
                              hint="Use reduction='mean' (the default of nn.BCEWithLogitsLoss and nn.BCELoss).")
    value = float(value[0])
    if np.isclose(value, want, atol=1e-5, rtol=1e-4):
        return Verdict.passed(f"loss equals the binary cross-entropy for forward's {reading}.")
    hint = None
    if reading == "logits" and not np.isfinite(value):
        hint = ("The loss is not finite: forward returns logits, so loss must apply the sigmoid "
                "(nn.BCEWithLogitsLoss), not take the log of the logits.")
    elif reading == "probabilities" and np.isclose(value, expected.probabilities_read_as_logits, atol=1e-5):
        hint = ("forward already returns probabilities (it ends with a sigmoid), but loss applies the sigmoid "
                "again: use nn.BCELoss, or drop the sigmoid from forward.")
    else:
        hint = ("Expected the mean binary cross-entropy of the targets and the probabilities: sigmoid(logits) if "
                "forward returns logits (as nn.BCEWithLogitsLoss takes them), the outputs themselves if it returns "
                "probabilities (as nn.BCELoss takes them); the targets as floats.")
    return Verdict.failed(
        f"loss is not the binary cross-entropy for the {reading} that forward returns.",
        details=(f"forward returns {reading} ({_why(reading)}).",
                 f"On {len(t)} {reading} {probe.tolist()} with targets {t.astype(int).tolist()}: "
                 f"expected {want:.6g}, got {value:.6g}."),
        hint=hint)


def _why(reading: str) -> str:
    return ("some outputs lie outside [0, 1]" if reading == "logits"
            else "its outputs stay in [0, 1] even when the last layer's weights are scaled up")


def judge_accuracy(got: OnProbes, expected: ProbeValues, check: Check) -> Verdict:
    reading = _reading(got)
    t = inputs.LOSS_TARGETS
    probe = inputs.PROBE_LOGITS if reading == "logits" else inputs.PROBE_PROBABILITIES
    threshold = 0.0 if reading == "logits" else 0.5
    want = expected.logits if reading == "logits" else expected.probabilities
    value = got.value
    if value.size != 1:
        return Verdict.failed(f"accuracy returned {value.size} values; it should return one number, the fraction "
                              "of correct predictions.")
    value = float(value[0])
    if np.isclose(value, want, atol=1e-6):
        return Verdict.passed(f"accuracy is the fraction correct for forward's {reading} (threshold {threshold:g}).")
    correct = round(want * len(t))
    if np.isclose(value, correct) and correct != want:
        hint = f"accuracy returned the number of correct predictions ({value:g}); divide by N to get a fraction."
    elif reading == "logits" and np.isclose(value, expected.logits_thresholded_at_half):
        hint = "forward returns logits, so a positive prediction is a logit above 0 (sigmoid above 0.5), not above 0.5."
    elif reading == "probabilities" and np.isclose(value, expected.probabilities_read_as_logits):
        hint = "forward returns probabilities, so a positive prediction is a probability above 0.5, not above 0."
    else:
        hint = "accuracy = mean(prediction == target), with prediction = 1 where the model says positive."
    return Verdict.failed(
        f"accuracy is not the fraction of correct predictions for the {reading} that forward returns.",
        details=(f"forward returns {reading} ({_why(reading)}).",
                 f"On {len(t)} {reading} {probe.tolist()} with targets {t.astype(int).tolist()}: "
                 f"expected {want:g}, got {value:g}."),
        hint=hint)


# --- (d) the training constants, and budgeted training on the real data -----------------------------

@dataclass(frozen=True)
class Bound:
    """What a training constant may be, and where that comes from: the message quotes `why`."""

    low: float
    high: float
    integer: bool
    why: str
    low_open: bool = False

    def allows(self, value: float) -> bool:
        return (self.low < value if self.low_open else self.low <= value) and value <= self.high

    def interval(self) -> str:
        return (f"{'(' if self.low_open else '['}{self.low:g}, {self.high:g}"
                f"{')' if math.isinf(self.high) else ']'}")


# Only what the handout sets, or what its provided train.py needs to run. None comes from the
# grading budget: the grader never trains with these constants (a5_training has its own batches,
# steps and learning rate), so no value of theirs costs grading time or memory. A batch size above
# the 67,349 training sentences is valid too: DataLoader then makes one batch an epoch.
CONSTANTS = {
    "TRAINING_BATCH_SIZE": Bound(1, math.inf, True, "the provided train.py passes it to DataLoader as batch_size, "
                                                    "a positive whole number; the handout sets no upper bound"),
    "NUM_EPOCHS": Bound(1, 16, True, "the handout: \"With a good learning rate, you shouldn't have to train for "
                                     "more than 16 epochs\""),
    "LEARNING_RATE": Bound(0, math.inf, False, "Adam descends only with a positive learning rate; the handout "
                                               "sets no upper bound", low_open=True),
    "VAL_BATCH_SIZE": Bound(1, math.inf, True, "the provided train.py passes it to DataLoader as batch_size, "
                                               "a positive whole number; the starter says it \"only affects "
                                               "performance\""),
}


class Constants(Record):
    values: dict[str, bool | int | float | str]
    """By name (CONSTANTS): the value in hw4_a5.py where it is a number (or a bool), "missing" where
    the module lacks it, else its repr (40 characters)."""


def run_constants(subject: Subject) -> Constants:
    module = subject.module(MODULE)
    out = {}
    for name in CONSTANTS:
        if not hasattr(module, name):
            out[name] = "missing"
            continue
        value = getattr(module, name)
        out[name] = value if isinstance(value, bool | int | float) else repr(value)[:40]
    return Constants(values=out)


def judge_constants(got: Constants, expected: None, check: Check) -> Verdict:
    problems = []
    for name, bound in CONSTANTS.items():
        value = got.values[name]
        if value == "missing":
            problems.append(f"{name} is missing from hw4_a5.py")
        elif value == "None":
            problems.append(f"{name} is not set yet (it is None)")
        elif isinstance(value, str | bool):
            problems.append(f"{name} should be a number, but it is {value}")
        elif bound.integer and not float(value).is_integer():
            problems.append(f"{name} should be a whole number, but it is {value}")
        elif not bound.allows(value):
            problems.append(f"{name} = {value} is outside {bound.interval()} ({bound.why})")
    if not problems:
        return Verdict.passed("TRAINING_BATCH_SIZE, NUM_EPOCHS, LEARNING_RATE and VAL_BATCH_SIZE are in range.",
                              details=tuple(f"{name} in {bound.interval()}: {bound.why}."
                                            for name, bound in CONSTANTS.items()))
    # All or nothing: VAL_BATCH_SIZE comes set in the template, so per-constant credit would pay for it.
    return Verdict.failed(problems[0] + ".", details=tuple(p + "." for p in problems[1:]),
                          hint="NUM_EPOCHS at most 16 (the handout); a learning rate like 1e-3 suits Adam.")


class DevOutputs(Record):
    outputs: np.ndarray
    """forward's output on each dev sentence after the budget, in the dev file's order."""


def run_budgeted_training(subject: Subject) -> DevOutputs:
    from autograder.assignments.uw_cse446_hw4.a5_training import train_and_predict

    model_class = subject.function(MODULE, MODEL)
    return DevOutputs(outputs=train_and_predict(model_class, subject.inputs(inputs.SST2_BUDGET.name), subject.invoke))


class LabelledDevOutputs(Record):
    outputs: np.ndarray
    """The reference's dev outputs after the same budget."""
    labels: np.ndarray
    """The dev labels (the trusted half's: they never reach the student's process)."""


def expected_budgeted_training(subject: Subject) -> LabelledDevOutputs:
    from autograder.data import sst2

    out = run_budgeted_training(subject)
    _, labels = sst2.load_rows(subject.dataset(sst2.DATASET).parent, "dev")
    return LabelledDevOutputs(outputs=out.outputs, labels=labels)


def dev_accuracy(outputs: np.ndarray, labels: np.ndarray) -> float:
    threshold = 0.0 if np.any((outputs < 0) | (outputs > 1)) else 0.5
    return float(np.mean((outputs > threshold) == labels))


def judge_budgeted_training(got: DevOutputs, expected: LabelledDevOutputs, check: Check) -> Verdict:
    labels = expected.labels
    outputs = got.outputs
    if outputs.shape != labels.shape:
        return Verdict.failed(f"forward gave {outputs.size} dev outputs for {labels.size} dev sentences; it should "
                              "give one per sentence, shape (N, 1).")
    if not np.all(np.isfinite(outputs)):
        return Verdict.failed("After the training budget, forward returns NaN or inf on the dev set.",
                              hint="Check the loss for a log of 0 and the forward pass for a division.")
    reference = dev_accuracy(expected.outputs, labels)
    accuracy = dev_accuracy(outputs, labels)
    details = (f"Dev accuracy {accuracy:.3f} over {labels.size} sentences; needed {ACCURACY_THRESHOLD:.3f}. Under "
               f"this budget every valid model measured (nn.RNN, nn.LSTM and nn.GRU, 20 initialisations each) "
               f"reached at least {WORST_VALID_RUN:.3f}, a constant output {FAULTY_RUN:.3f}; the reference reaches "
               f"{reference:.3f}.",)
    if accuracy >= ACCURACY_THRESHOLD:
        return Verdict.passed(f"After the training budget, the model reaches {accuracy:.3f} dev accuracy.",
                              details=details)
    _require_reference_passes(reference)
    return Verdict.failed(
        f"After the training budget, the model reaches only {accuracy:.3f} dev accuracy (needed "
        f"{ACCURACY_THRESHOLD:.3f}).",
        details=details,
        hint="The grader trains your model itself (Adam, 500 batches of 32, gradients clipped, its own data loading "
             "and BCE for your reading of forward). Check that forward feeds the last hidden state to the linear "
             "layer and that the embedding is used.")


def _require_reference_passes(reference: float) -> None:
    """The threshold was measured on one data set (a5.py's table); where the reference itself falls
    short of it, the data differs and nobody can be failed on it: the grader's fault (the runner
    turns a judge's exception into an autograder error that costs no points)."""
    if reference < ACCURACY_THRESHOLD:
        raise RuntimeError(f"the reference reaches only {reference:.3f} dev accuracy under the budget, below the "
                           f"threshold {ACCURACY_THRESHOLD:.3f} measured on other data (docs/uw-cse446-hw4.md)")


PROBLEM = Problem(
    id="a5",
    title="SST-2 sentiment classification with an RNN",
    files=("hw4_a5.py",),
    provided=("util.py", "train.py"),
    provided_dir=Path(__file__).parent / "starter",
    # Handout ../shared/seeds/000_2b7f888c5a23a7ac.txt, A5 (60 points): a [10], b [15], c [5], d [15]
    # (lines 169-179); e, f, g [5] each (lines 180-182) and the extra credit h [1] (line 183) are written.
    parts={"a": 10.0, "b": 15.0, "c": 5.0, "d": 15.0},
    checks=(
        Check(id="a5.collate_fn.shapes", part="a", points=2.0,
              claim="collate_fn returns sequences of shape (N, max_sequence_length) and labels of shape (N, 1)",
              run=run_collate(FIXED), judge=judge_collate(FIXED, ("shape",), "returns (N, max length) and (N, 1)",
                                                          "Pad to the longest sequence of the batch; labels (N, 1).")),
        Check(id="a5.collate_fn.integer_dtype", part="a", points=1.0,
              claim="collate_fn returns integer token ids (int64 or int32), not floats",
              run=run_collate(MIXED), judge=judge_collate(MIXED, ("dtype",), "returns integer ids",
                                                          "torch.zeros(..., dtype=torch.long).")),
        Check(id="a5.collate_fn.pads_with_zero_at_end", part="a", points=2.0,
              claim="collate_fn pads each sequence with 0 at its end",
              run=run_collate(FIXED), judge=judge_collate(FIXED, ("sequence shape", "padding"), "pads with 0 at the end",
                                                          "Copy sequence i into row i from column 0; the rest "
                                                          "stays 0.")),
        Check(id="a5.collate_fn.keeps_order", part="a", points=1.0,
              claim="collate_fn keeps the sequences and labels in the order of the batch",
              run=run_collate(FIXED), judge=judge_collate(FIXED, ("order",), "keeps the batch's order",
                                                          "Do not sort the batch by length.")),
        Check(id="a5.collate_fn.inputs_not_mutated", part="a", points=1.0,
              claim="collate_fn leaves the tensors it is given unchanged",
              run=run_collate(FIXED), judge=judge_collate(FIXED, ("mutation",), "leaves its inputs unchanged",
                                                          "Write into a new tensor (torch.zeros) or use "
                                                          "torch.nn.utils.rnn.pad_sequence.")),
        Check(id="a5.collate_fn.one_sequence_and_equal_lengths", part="a", points=1.0,
              claim="collate_fn handles a batch of one sequence and a batch of equal lengths",
              run=run_collate(EDGE), judge=judge_collate(EDGE, ("shape", "dtype", "padding", "order"),
                                                         "handles N = 1 and equal lengths",
                                                         "A batch with nothing to pad must still have shape "
                                                         "(N, L) and labels (N, 1).")),
        Check(id="a5.collate_fn.random_batches", part="a", points=2.0, visibility=Visibility.hidden,
              claim="collate_fn is right on 40 random batches (1 to 16 sequences of 1 to 24 tokens)",
              run=run_collate(RANDOM), judge=judge_collate(RANDOM, tuple(PROBLEMS), "is right",
                                                           "Test collate_fn on batches of several sizes.")),
        Check(id="a5.model.embedding_matrix_used", part="b", points=5.0,
              claim="the model's embedding layer holds the given matrix and forward uses it",
              run=run_embedding, judge=judge_embedding),
        Check(id="a5.model.output_shape", part="b", points=5.0,
              claim="forward returns one prediction per sequence, shape (N, 1)",
              run=run_output_shape, judge=judge_output_shape),
        Check(id="a5.model.hidden_size_64", part="b", points=5.0,
              claim="the recurrent layer that forward uses (RNN, LSTM or GRU) has hidden size 64",
              run=run_hidden_size, judge=judge_hidden_size),
        Check(id="a5.loss.bce_for_own_reading", part="c", points=2.5,
              claim="loss is the mean binary cross-entropy for what forward returns (logits or probabilities)",
              run=run_on_probes("loss"), expected=expected_on_probes("loss"), judge=judge_loss),
        Check(id="a5.accuracy.fraction_correct", part="c", points=2.5,
              claim="accuracy is the fraction of correct predictions for what forward returns, on mixed labels",
              run=run_on_probes("accuracy"), expected=expected_on_probes("accuracy"), judge=judge_accuracy),
        Check(id="a5.constants.in_range", part="d", points=5.0,
              claim="the training constants are usable numbers, with NUM_EPOCHS at most 16",
              run=run_constants, judge=judge_constants),
        Check(id="a5.training.dev_accuracy", part="d", points=10.0, timeout=180.0, data=("sst2", "glove"),
              inputs=(inputs.SST2_BUDGET,),
              claim="after a fixed training budget on SST-2, the model reaches a dev accuracy that every valid "
                    "RNN, LSTM and GRU reaches (measured over 20 initialisations each)",
              run=run_budgeted_training, expected=expected_budgeted_training, judge=judge_budgeted_training),
    ),
)
