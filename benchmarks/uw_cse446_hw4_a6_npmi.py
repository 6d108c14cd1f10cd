"""A6: the distributions behind the thresholds of `a6.training.planted_topics` and
`a6.training.ag_news` (NPMI after the grader's training budget), and of
`a6.encoder.sample_distribution` (a6.py and docs/uw-cse446-hw4-a2-a6.md quote what this prints).

Every run goes through the check's own student half (`a6.run_planted`, `a6.run_real`: the grader's
`train_topic_model` on the planted corpus, or on the input set `a6_inputs.REAL_CORPUS`) and is
judged by the check's own judge against the reference's expected values. What varies is what a
valid student's code varies: the initialisation and the noise drawn for z (the model is built under
each torch seed in turn; seed 0 is the grader's own run, which seeds 0 before it builds the model),
and what the handout leaves open: the order in which the encoder and the decoder are built, an
unused layer built first, and how B is initialised (nn.Linear's default, or an nn.Parameter drawn
from N(0, 1) or U(0, 1)). The batches are the grader's. Faulty models give the floor.

    python benchmarks/uw_cse446_hw4_a6_npmi.py [--data-root ../shared/data] [--seeds 20]
        [--faulty-seeds 3] [--samples 1000] [--only B] [--full-epochs 8]

One CPU thread: a planted training takes 0.6 s, an AG News one 2 s; `--seeds 50 --faulty-seeds 10`
(580 trainings, as a6.py quotes) took 13 minutes of one core. `--full-epochs N` also trains the
reference's own `train` (the handout's setting: full vocabulary, early stopping) for N epochs at most.
Change a budget in a6.py and this must run again, and a6.py's figures follow it.
"""

from __future__ import annotations

import sys
import time

import numpy as np
import torch
from seed_spread import Grader, arguments, built_under_seed, check_of, edited_module, sweep

from autograder.assignments.uw_cse446_hw4 import a6
from autograder.assignments.uw_cse446_hw4 import a6_inputs as inputs
from autograder.config import REPO_ROOT
from autograder.data import agnews

FOLDER = REPO_ROOT / "reference" / "uw-cse446-hw4"
LINEAR_B = [("self.decoder.B.weight.t()", "self.decoder.B.t()"),
            ("F.softmax(self.B(theta), dim=-1)", "F.softmax(theta @ self.B.t(), dim=-1)")]


def parameter_b(draw: str) -> list[tuple[str, str]]:
    """B as an nn.Parameter (V, T) drawn by `draw`, instead of nn.Linear(T, V)'s weight."""
    return [("nn.Linear(T, V, bias=False)  # weight is B itself, shape (V, T)", f"nn.Parameter({draw})"), *LINEAR_B]


VALID = {
    "reference": [],
    "decoder built before the encoder": [
        ("        self.encoder = Encoder(V, h, T)\n        self.decoder = Decoder(V, T)\n",
         "        self.decoder = Decoder(V, T)\n        self.encoder = Encoder(V, h, T)\n")],
    "unused layer built first": [("        self.W_x = nn.Linear(V, h)\n",
                                  "        self.unused = nn.Linear(V, h)\n        self.W_x = nn.Linear(V, h)\n")],
    "B ~ N(0, 1), an nn.Parameter": parameter_b("torch.randn(V, T)"),
    "B ~ U(0, 1), an nn.Parameter": parameter_b("torch.rand(V, T)"),
}
FAULTY = {
    "faulty: torch.normal(mu, sigma), the encoder gets no gradient": [
        ("z = mu + sigma * torch.randn_like(sigma)", "z = torch.normal(mu, sigma)")],
    "faulty: decodes mu, not z": [("return self.decoder(z), z, mu, sigma", "return self.decoder(mu), z, mu, sigma")],
    "faulty: theta = z, no softmax": [("theta = F.softmax(z, dim=-1)", "theta = z")],
    "faulty: B never trained (random topics)": [
        ("self.B = nn.Linear(T, V, bias=False)  # weight is B itself, shape (V, T)",
         "self.B = nn.Linear(T, V, bias=False).requires_grad_(False)")],
}
SAMPLERS = {"reference: mu + sigma * torch.randn_like(sigma)": []}
"""torch.distributions.Normal(mu, sigma).rsample() draws the same numbers."""


def model_module(name: str, edits, seed: int | None = None):
    """hw4_a6 with `edits`; its TopicModel built under torch seed `seed` (None: the grader's)."""
    module = edited_module(FOLDER / "hw4_a6.py", edits, "hw4_a6")
    if seed is not None:
        module.TopicModel = built_under_seed(module.TopicModel, seed)
    return {"hw4_a6": module}


def training(grader: Grader, check_id: str, npmi):
    """run(name, edits, seed) for `sweep`: the NPMI of the check's training, and its verdict."""
    check = check_of(a6.PROBLEM, check_id)
    expected = grader.expected(check, model_module("reference", []))

    def run(name, edits, seed):
        got = grader.student_half(check, model_module(name, edits, seed))
        return npmi(got, expected), grader.passes(check, got, expected)
    return run


def planted_npmi(got, expected) -> float:
    _, words = agnews.planted_counts(1, 0)
    return inputs.npmi(got.topic_word_matrix, words, inputs.planted_reference(a6.PLANTED_DOCS,
                                                                               a6.PLANTED_REFERENCE_SEED))


def real_npmi(tables):
    def npmi(got, expected) -> float:
        return inputs.npmi(got.topic_word_matrix, expected.words, tables)
    return npmi


def sampling(grader: Grader):
    """run(name, edits, seed) for `sweep`: the largest deviation of (z - mu) / sigma's mean from 0 or
    std from 1 over the topics, in the check's own draw made after seeding torch with `seed`."""
    check = check_of(a6.PROBLEM, "a6.encoder.sample_distribution")

    def run(name, edits, seed):
        modules = model_module(name, edits)
        torch.manual_seed(seed)
        got = check.run(grader.subject(modules))  # seeded here, not with the check's seed
        deviation = max(np.abs(got.eps_mean).max(), np.abs(got.eps_std - 1).max())
        return float(deviation), grader.passes(check, got, {})
    return run


def random_topics(words, tables) -> str:
    rng = np.random.default_rng(0)
    scores = [inputs.npmi(rng.random((a6.REAL["T"], len(words))), words, tables) for _ in range(20)]
    return f"random topics over the same words, 20 draws: NPMI mean {np.mean(scores):.4f}, max {max(scores):.4f}"


def full_training(data_root, tables, epochs: int) -> None:
    sys.path.insert(0, str(FOLDER))
    import hw4_a6

    dev, vocabulary = agnews.load_dev(data_root)
    start = time.perf_counter()
    model, history = hw4_a6.train(dev, vocabulary, tables, epochs=epochs)
    print(f"reference train(), full vocabulary ({dev.shape[1]} words), {len(history)} epochs: "
          f"best NPMI {max(n for _, n in history):.4f}, {time.perf_counter() - start:.0f} s")
    for t, topic in enumerate(hw4_a6.top_words(model, vocabulary)[:5]):
        print(f"  topic {t}: {' '.join(topic)}")


def main() -> None:
    parser = arguments(__doc__)
    parser.add_argument("--samples", type=int, default=1000, help="seeds of the sampling check")
    parser.add_argument("--full-epochs", type=int, default=0, help="also run the reference's train() this long")
    args = parser.parse_args()
    torch.set_num_threads(1)
    grader = Grader(args.data_root, [inputs.REAL_CORPUS])
    ref, ref_words = agnews.load_reference(args.data_root)
    tables = inputs.npmi_reference(ref, ref_words)
    variants = {**VALID, **FAULTY}
    sweep("a6.training.planted_topics (NPMI)", variants, FAULTY, args,
          training(grader, "a6.training.planted_topics", planted_npmi))
    sweep("a6.training.ag_news (NPMI)", variants, FAULTY, args,
          training(grader, "a6.training.ag_news", real_npmi(tables)))
    print(random_topics(grader.subject({}).inputs(inputs.REAL_CORPUS.name)["words"].tolist(), tables))
    sweep("a6.encoder.sample_distribution (largest |mean| or |std - 1|)", SAMPLERS, (),
          type(args)(**{**vars(args), "seeds": args.samples}), sampling(grader))
    if args.full_epochs:
        full_training(args.data_root, tables, args.full_epochs)


if __name__ == "__main__":
    main()
