"""A5: the distribution of dev accuracy under the grader's training budget, for the threshold of
`a5.training.dev_accuracy` (a5.py and docs/uw-cse446-hw4.md quote what this prints).

Every run goes through the check's own student half, `a5_training.train_and_predict`, on the input
set the parent hands it (`a5_inputs.SST2_BUDGET`): same data, batches, optimiser, steps. What varies
is what a valid student's code varies: the recurrent layer the handout allows (nn.RNN, nn.LSTM,
nn.GRU, the reference otherwise unchanged), the initialisation (the model is built under each torch
seed in turn; seed 0 is the grader's own), and an unused module built before the recurrent layer,
which shifts every later initialisation. Faulty models (constant output; a recurrent layer that
sees only where the padding is, never the embedding) give the floor the threshold must stay above;
one that learns its own embedding instead of the given matrix is shown for comparison (the
embedding check, not this one, is the check it should lose).

    python benchmarks/uw_cse446_hw4_a5_dev_accuracy.py [--data-root ../shared/data] [--seeds 20]
        [--faulty-seeds 3] [--only RNN]

One CPU thread, 3-9 s a run on a shared 2-core machine: the defaults (129 runs) took 14 minutes.
Change the budget in a5_training and this must run again, and a5.py's table and threshold follow it.
"""

from __future__ import annotations

import torch
from seed_spread import arguments, built_under_seed, edited_module, sweep

from autograder.assignments.uw_cse446_hw4 import a5
from autograder.assignments.uw_cse446_hw4 import a5_inputs as inputs
from autograder.assignments.uw_cse446_hw4.a5_training import train_and_predict
from autograder.config import REPO_ROOT
from autograder.data import sst2

REFERENCE = REPO_ROOT / "reference" / "uw-cse446-hw4" / "hw4_a5.py"
CELLS = {
    "GRU": [],
    "LSTM": [("nn.GRU(", "nn.LSTM("), ("_, hidden = self.rnn(", "_, (hidden, _) = self.rnn(")],
    "RNN": [("nn.GRU(", "nn.RNN(")],
}
EXTRA_MODULE = [("        self.rnn = ", "        self.extra = nn.Linear(embedding_dim, embedding_dim)  # never used\n"
                                      "        self.rnn = ")]
FAULTY = {
    "faulty: constant output": [("self.classifier(hidden[-1])", "self.classifier(0 * hidden[-1])")],
    "faulty: padding mask only, no embedding": [
        ("self.rnn(self.embedding(inputs))",
         "self.rnn((inputs != 0).float().unsqueeze(-1).expand(-1, -1, 50).contiguous())")],
    # Learns its own vectors from scratch: the embedding check's fault, not the training check's.
    "faulty: own nn.Embedding, given matrix unused": [
        ("        self.rnn = ", "        self.own = nn.Embedding(vocab_size, embedding_dim)\n        self.rnn = "),
        ("self.rnn(self.embedding(inputs))", "self.rnn(self.own(inputs))")],
}


def variants() -> dict[str, list[tuple[str, str]]]:
    valid = {f"{cell}{extra}": edits + more for cell, edits in CELLS.items()
             for extra, more in (("", []), (" + unused module first", EXTRA_MODULE))}
    return {**valid, **FAULTY}


def main() -> None:
    args = arguments(__doc__).parse_args()
    torch.set_num_threads(1)
    data = inputs.SST2_BUDGET.load(args.data_root)
    _, labels = sst2.load_rows(args.data_root, "dev")

    def run(name, edits, seed):
        cls = edited_module(REFERENCE, edits, "hw4_a5").RNNBinaryClassificationModel
        accuracy = a5.dev_accuracy(train_and_predict(built_under_seed(cls, seed), data), labels)
        return accuracy, accuracy >= a5.ACCURACY_THRESHOLD
    sweep("a5.training.dev_accuracy (dev accuracy)", variants(), FAULTY, args, run)


if __name__ == "__main__":
    main()
