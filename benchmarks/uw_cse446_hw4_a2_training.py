"""A2: the distribution behind the threshold of `a2.linear.training_lowers_loss` and
`a2.relu.training_lowers_loss` (the error after the grader's budget over the error before; a2.py
and docs/uw-cse446-hw4-a2-a6.md quote what this prints).

Every run goes through the check's own student half (`a2.run_training`: the student's builder and
`train_autoencoder` on the check's 256 inputs, 6 epochs, Adam 0.02, batches of 32) and is judged by
the check's own judge. What varies is what a valid student's code varies: the initialisation and the
batch order (the builder runs under each torch seed in turn; seed 0 is the grader's own, the check's
seed), and what the handout leaves open: biases or none (F1 = W_d W_e x, F2 = relu(W_d relu(W_e x));
"nn.Linear learns bias parameters ... by default"), batches shuffled or taken in order, a DataLoader.
Faulty trainers give the floor.

`--checkpoints N` also trains the reference checkpoints' recipe (scripts/train_uw_cse446_hw4_a2.py:
h = 128, 10 epochs of MNIST) under torch seeds 0..N-1 (seed 0 gives the reference checkpoint itself)
and runs each through the checkpoint checks' student half: the spread that the margin
`a2.CHECKPOINT_MARGIN` must cover.

    python benchmarks/uw_cse446_hw4_a2_training.py [--seeds 50] [--faulty-seeds 3] [--only bias]
        [--checkpoints 10]

One CPU thread: a training run takes 0.01-0.05 s (the defaults, 418 runs, under a minute); a
checkpoint recipe 9 s (`--checkpoints 10`: 20 of them, 3 minutes).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np
import torch
from seed_spread import Grader, arguments, built_under_seed, check_of, edited_module, sweep

from autograder.assignments.uw_cse446_hw4 import a2
from autograder.config import REPO_ROOT
from autograder.data import mnist

sys.path.insert(0, str(REPO_ROOT / "scripts"))
import train_uw_cse446_hw4_a2 as recipe  # noqa: E402 - how the reference checkpoints were trained

REFERENCE = REPO_ROOT / "reference" / "uw-cse446-hw4" / "hw4_a2.py"
LOOP = ("        for rows in torch.randperm(len(X)).split(batch_size):\n"
        "            batch = X[rows]\n")
VALID = {
    "reference (biases)": [],
    "no biases": [("nn.Sequential(nn.Linear(d, h), nn.Linear(h, d))",
                   "nn.Sequential(nn.Linear(d, h, bias=False), nn.Linear(h, d, bias=False))"),
                  ("nn.Sequential(nn.Linear(d, h), nn.ReLU(), nn.Linear(h, d), nn.ReLU())",
                   "nn.Sequential(nn.Linear(d, h, bias=False), nn.ReLU(), nn.Linear(h, d, bias=False), nn.ReLU())")],
    "batches in order, not shuffled": [(LOOP, "        for rows in torch.arange(len(X)).split(batch_size):\n"
                                              "            batch = X[rows]\n")],
    "DataLoader(TensorDataset(X), shuffle=True)": [
        (LOOP, "        loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(X), batch_size=batch_size,"
               " shuffle=True)\n        for (batch,) in loader:\n"),
        ("total += loss.item() * len(rows)", "total += loss.item() * len(batch)")],
}
FAULTY = {
    "faulty: never steps": [("            optimizer.step()\n", "")],
    "faulty: lr ignored (Adam's default 1e-3)": [("torch.optim.Adam(model.parameters(), lr=lr)",
                                                  "torch.optim.Adam(model.parameters())")],
    "faulty: gradients never zeroed": [("            optimizer.zero_grad()\n", "")],
}
BUILDERS = {"a2.linear.training_lowers_loss": "linear_autoencoder", "a2.relu.training_lowers_loss": "relu_autoencoder"}
CHECKPOINTS = {"a2.checkpoint_f1.test_error": ("F1", "linear_autoencoder"),
               "a2.checkpoint_f2.test_error": ("F2", "relu_autoencoder")}


def training(grader: Grader, check_id: str):
    """run(name, edits, seed) for `sweep`: the error after training over the error before, and the verdict."""
    check = check_of(a2.PROBLEM, check_id)
    x = a2.training_data()

    def run(name, edits, seed):
        module = edited_module(REFERENCE, edits, "hw4_a2")
        if seed:  # seed 0: the grader's own seed, set before the builder runs
            setattr(module, BUILDERS[check_id], built_under_seed(getattr(module, BUILDERS[check_id]), seed))
        got = grader.student_half(check, {"hw4_a2": module})
        before, after = (float(np.mean((k - x) ** 2)) for k in (got.before, got.after))
        return after / before, grader.passes(check, got, {})
    return run


def checkpoint(grader: Grader, check_id: str, scratch: Path):
    """run(name, edits, seed) for `sweep`: the check's test error of a model trained by the reference
    checkpoints' recipe under torch seed `seed` (seed 0 is the reference checkpoint's), over the
    reference checkpoint's error; and the verdict."""
    check = check_of(a2.PROBLEM, check_id)
    kind, builder = CHECKPOINTS[check_id]
    expected = grader.expected(check, {"hw4_a2": edited_module(REFERENCE, [], "hw4_a2")}, REFERENCE.parent)
    images = expected.images.astype(np.float64)
    reference_error = float(np.mean((expected.reconstructions - images) ** 2))
    train = recipe.images(grader.data_root, "train")

    def run(name, edits, seed):
        module = edited_module(REFERENCE, edits, "hw4_a2")
        torch.manual_seed(seed)
        model = getattr(module, builder)(784, 128)
        module.train_autoencoder(model, train, recipe.EPOCHS, recipe.LR, recipe.BATCH_SIZE)
        torch.save(model.state_dict(), scratch / a2.CHECKPOINT[kind])
        got = grader.student_half(check, {"hw4_a2": module}, scratch)
        error = float(np.mean((got.reconstructions - images) ** 2))
        return error / reference_error, grader.passes(check, got, expected)
    return run


def main() -> None:
    parser = arguments(__doc__, seeds=50)
    parser.add_argument("--checkpoints", type=int, default=0,
                        help="also train this many seeds of the reference checkpoints' recipe, for the checkpoint checks")
    args = parser.parse_args()
    torch.set_num_threads(1)
    grader = Grader(args.data_root, [mnist.TEST_IMAGES] if args.checkpoints else [])
    for check_id in BUILDERS:
        sweep(f"{check_id} (error after / before)", {**VALID, **FAULTY}, FAULTY, args, training(grader, check_id))
    if args.checkpoints:
        recipes = type(args)(**{**vars(args), "seeds": args.checkpoints})
        with tempfile.TemporaryDirectory() as scratch:
            for check_id in CHECKPOINTS:
                sweep(f"{check_id} (test error over the reference checkpoint's; limit {a2.CHECKPOINT_MARGIN})",
                      {f"the reference's recipe ({recipe.EPOCHS} epochs, Adam {recipe.LR}, batches of {recipe.BATCH_SIZE})": []}, (), recipes,
                      checkpoint(grader, check_id, Path(scratch)), fmt=".3f")


if __name__ == "__main__":
    main()
