"""Q2: the distribution behind `q2.FALLS`, the mean loss of the last 10 of the grader's SGD steps over
that of the first 10 (q2.py and docs/fa24-dl-hw7.md quote what this prints).

Every run goes through the check's own student half (`q2.run_training`: the student's
GaussianAutoencoder trained by the grader's loop, SGD lr 0.1 on MSE against zeros, batches of 64 of
the first 3,840 MNIST training images) and is judged by the check's own judge. What varies is what a
valid student's code varies: the initialisation (the model is built under each torch seed in turn;
seed 0 is the grader's own) with the batch order (the loader's seed), and, as a variant, dropout before
batch normalisation (the handout's "batch normalization and dropout" read in the other order; the
layers check wants the spec's order, the training does not care). A decoder that does not learn (run
under torch.no_grad()) gives the floor.

    python benchmarks/fa24_dl_hw7_q2_training.py [--seeds 12] [--faulty-seeds 2] [--only dropout]

One CPU thread: a run takes 4-8 s (the defaults, 26 runs, about 3 minutes).
"""

from __future__ import annotations

import numpy as np
import torch
from seed_spread import Grader, arguments, built_under_seed, check_of, edited_module, sweep

from autograder.assignments.fa24_dl_hw7 import mnist_train, q2
from autograder.config import REPO_ROOT

REFERENCE = REPO_ROOT / "reference" / "fa24-dl-hw7" / "hw7_q2.py"
VALID = {
    "reference": [],
    "dropout before batch norm": [
        ("nn.ReLU(), nn.BatchNorm2d(20), nn.Dropout(0.1),  # 20 x 25", "nn.ReLU(), nn.Dropout(0.1), nn.BatchNorm2d(20),  # 20"),
        ("nn.BatchNorm2d(20), nn.Dropout(0.1),  # 20 x 5", "nn.Dropout(0.1), nn.BatchNorm2d(20),  # 20"),
        ("nn.ReLU(), nn.BatchNorm1d(250), nn.Dropout(0.1)", "nn.ReLU(), nn.Dropout(0.1), nn.BatchNorm1d(250)"),
        ("nn.ReLU(), nn.BatchNorm1d(360), nn.Dropout(0.1)", "nn.ReLU(), nn.Dropout(0.1), nn.BatchNorm1d(360)"),
        ("nn.ReLU(), nn.BatchNorm1d(720), nn.Dropout(0.1)", "nn.ReLU(), nn.Dropout(0.1), nn.BatchNorm1d(720)"),
        ("nn.ReLU(), nn.BatchNorm2d(20),\n            nn.Dropout(0.1),  # 20 x 27",
         "nn.ReLU(), nn.Dropout(0.1),\n            nn.BatchNorm2d(20),  # 20 x 27")],
}
FAULTY = {
    "faulty: decoder under torch.no_grad()": [("        f = self.decoder(z2)\n",
                                               "        with torch.no_grad():\n            f = self.decoder(z2)\n")],
}


def main() -> None:
    args = arguments(__doc__, seeds=12, faulty_seeds=2).parse_args()
    torch.set_num_threads(1)
    grader = Grader(args.data_root, [mnist_train.TRAIN])
    check = check_of(q2.PROBLEM, "q2.train.loss_falls")
    expected = q2.Training(losses=np.ones(1), generated=np.zeros((20, 784)))  # only its picture reads it

    def run(name, edits, seed):
        module = edited_module(REFERENCE, edits, "hw7_q2")
        if seed:
            module.GaussianAutoencoder = built_under_seed(module.GaussianAutoencoder, seed)
        q2.LOADER_SEED = seed
        try:
            got = grader.student_half(check, {"hw7_q2": module})
        finally:
            q2.LOADER_SEED = 0
        losses = got.losses
        return float(losses[-10:].mean() / losses[:10].mean()), grader.passes(check, got, expected)

    sweep(f"q2.train.loss_falls: mean loss of the last 10 of {q2.STEPS} steps over the first 10",
          {**VALID, **FAULTY}, FAULTY, args, run)


if __name__ == "__main__":
    main()
