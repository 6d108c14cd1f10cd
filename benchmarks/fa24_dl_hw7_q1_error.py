"""Q1: the distribution behind `q1.IMPROVED`, the share of the reference's drop of the k-means error
that one epoch of training must reach (q1.py and docs/fa24-dl-hw7.md quote what this prints); and,
from the same runs, how far the table moves from the reference's (why it is not graded).

Every run goes through the check's own student half (`q1.run_mnist`: the student's KMeansNet,
init_centers_from_digits from the first image of each digit, `train` for one epoch of batches of 64,
cluster_counts of the whole training set) and is judged by the check's own judge against the
reference's run under the grader's batch order (seed 0). What varies is what a valid student's
code varies: the batch order (the loader's seed; a student's own shuffled loader), and how the
handout's formula is written: the scores as -10 ||x0 - C_i||^2 (the softmax is shift-invariant per
image, so this is the same function), float64 arithmetic, clusters read from the reconstruction of
each image one at a time (the handout's hint: a loader of batch size 1). Faulty copies give the floor.

    python benchmarks/fa24_dl_hw7_q1_error.py [--seeds 12] [--faulty-seeds 2] [--only order]

One CPU thread: a run takes 3-10 s (the defaults, about 70 runs, 5-6 minutes).
"""

from __future__ import annotations

import torch
from seed_spread import Grader, Runs, arguments, check_of, edited_module, sweep

from autograder.assignments.fa24_dl_hw7 import mnist_train, q1
from autograder.config import REPO_ROOT

REFERENCE = REPO_ROOT / "reference" / "fa24-dl-hw7" / "hw7_q1.py"
SCORES = "        x = torch.matmul(x0, self.centers.t()) - 0.5 * torch.sum(self.centers ** 2, 1).flatten()\n"
VALID = {
    "reference": [],
    "scores as -1/2 squared distances": [(SCORES, "        x = -0.5 * torch.cdist(x0, self.centers) ** 2\n")],
    "float64 forward": [(SCORES, "        c = self.centers.double()\n"
                                 "        x = (torch.matmul(x0.double(), c.t()) - 0.5 * torch.sum(c ** 2, 1)).float()\n")],
    "clusters from each image's reconstruction, batch size 1": [(
        "    loader = torch.utils.data.DataLoader(dataset, batch_size=1000)\n"
        "    with torch.no_grad():\n"
        "        for x, labels in loader:\n"
        "            x0 = x.reshape(len(x), -1)\n"
        "            scores = x0 @ model.centers.t() - 0.5 * (model.centers ** 2).sum(1)\n"
        "            np.add.at(counts, (np.asarray(labels), scores.argmax(1).numpy()), 1)\n",
        "    with torch.no_grad():\n"
        "        for x, label in torch.utils.data.DataLoader(dataset, batch_size=1):\n"
        "            center = model(x) + x.reshape(1, -1)\n"
        "            counts[int(label), int(((model.centers - center) ** 2).sum(1).argmin())] += 1\n")],
}
FAULTY = {
    "faulty: never steps": [("            optimizer.step()\n", "")],
    "faulty: lr 0.45": [("torch.optim.SGD(model.parameters(), lr=lr)", "torch.optim.SGD(model.parameters(), lr=lr / 10)")],
    "faulty: loss summed over pixels": [("loss = loss_fn(error, torch.zeros_like(error))",
                                         "loss = loss_fn(error, torch.zeros_like(error)) * 784")],
    "faulty: last image of each digit": [("first.setdefault(int(label), ", "first.__setitem__(int(label), "),
                                         ("        if len(first) == 10:\n            break\n", "")],
    "faulty: no 1/2 ||C||^2": [(" - 0.5 * torch.sum(self.centers ** 2, 1).flatten()", "")],
}


def main() -> None:
    args = arguments(__doc__, seeds=12, faulty_seeds=2).parse_args()
    torch.set_num_threads(1)
    grader = Grader(args.data_root, [mnist_train.TRAIN])
    check = check_of(q1.PROBLEM, "q1.mnist.training_lowers_error")
    reference = edited_module(REFERENCE, [], "hw7_q1")
    expected = grader.expected(check, {"hw7_q1": reference})

    def run(name, edits, seed):
        q1.LOADER_SEED = seed  # another batch order; seed 0 is the grader's
        try:
            got = grader.student_half(check, {"hw7_q1": edited_module(REFERENCE, edits, "hw7_q1")})
        finally:
            q1.LOADER_SEED = 0
        sample = expected.sample
        start = q1.kmeans_error(expected.initial, sample)
        share = (start - q1.kmeans_error(got.centers, sample)) / (start - q1.kmeans_error(expected.centers, sample))
        moved = 0.5 * abs(got.counts - expected.counts).sum() / expected.counts.sum()
        for table, value in ((tables, moved), (diagonals, got.counts.trace() / got.counts.sum())):
            table.setdefault(name, Runs(name)).values.append(float(value))
            table[name].passed.append(True)
            table[name].seconds.append(0.0)
        return share, grader.passes(check, got, expected)

    tables: dict[str, Runs] = {}
    diagonals: dict[str, Runs] = {}
    sweep("q1.mnist.training_lowers_error: share of the reference's drop of the k-means error",
          {**VALID, **FAULTY}, FAULTY, args, run)
    for title, table in (("share of the images in other cells than in the reference's table", tables),
                         ("the table's diagonal (share of the images)", diagonals)):
        print(f"\nThe same runs: {title}\n\n| variant | seeds | min | p5 | median | max |\n|---|---|---|---|---|---|")
        for runs in table.values():
            print(" | ".join(runs.row(".3f").split(" | ")[:6]) + " |")


if __name__ == "__main__":
    main()
