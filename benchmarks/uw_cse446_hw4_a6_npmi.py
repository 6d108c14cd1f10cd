"""A6 figures for docs/uw-cse446-hw4-a2-a6.md: NPMI on real AG News (VAMPIRE counts) of

- the grader's budgeted training (a6.REAL) of the reference, over several seeds, and of random
  topics (the floor), with the wall time of one training on one CPU thread;
- the reference's own `train` (the handout's setting: full vocabulary, early stopping), for
  `--epochs` epochs at most.

    python benchmarks/uw_cse446_hw4_a6_npmi.py [--data-root ../shared/data] [--epochs 8]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch

from autograder.assignments.uw_cse446_hw4 import a6
from autograder.assignments.uw_cse446_hw4 import a6_inputs as inputs
from autograder.assignments.uw_cse446_hw4.a6_training import train_topic_model
from autograder.config import REPO_ROOT
from autograder.data import agnews


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-root", type=Path, default=REPO_ROOT.parent / "shared" / "data")
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--seeds", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(1)
    sys.path.insert(0, str(REPO_ROOT / "reference" / "uw-cse446-hw4"))
    import helper_code
    import hw4_a6

    counts, words = inputs.real_corpus(args.data_root)
    x = counts.toarray()
    ref, ref_words = agnews.load_reference(args.data_root)
    tables = inputs.npmi_reference(ref, ref_words)
    for seed in range(args.seeds):
        start = time.perf_counter()
        out = train_topic_model(hw4_a6.TopicModel, x, **a6.REAL, seed=seed)
        print(f"budgeted training (a6.REAL), seed {seed}: NPMI {inputs.npmi(out['topic_word_matrix'], words, tables):.4f}"
              f", {time.perf_counter() - start:.1f} s")
    rng = np.random.default_rng(0)
    randoms = [inputs.npmi(rng.random((a6.REAL["T"], len(words))), words, tables) for _ in range(5)]
    print(f"random topics over the same words: NPMI {np.mean(randoms):.4f} (max of 5: {max(randoms):.4f})")

    dev, vocabulary = agnews.load_dev(args.data_root)
    start = time.perf_counter()
    model, history = hw4_a6.train(dev, vocabulary, tables, epochs=args.epochs)
    print(f"reference train(), full vocabulary ({dev.shape[1]} words), {len(history)} epochs: "
          f"best NPMI {max(n for _, n in history):.4f}, {time.perf_counter() - start:.0f} s")
    for t, topic in enumerate(hw4_a6.top_words(model, vocabulary)[:5]):
        print(f"  topic {t}: {' '.join(topic)}")
    del helper_code


if __name__ == "__main__":
    main()
