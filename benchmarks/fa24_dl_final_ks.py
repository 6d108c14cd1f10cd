"""The Kolmogorov-Smirnov check of fa24-dl-final Q5 (`q5.gan_optimal_generator.distribution`) over many
seeds of its noise U: the p-values of the reference and of the other optimal generators the handout
allows (G is not unique), and the statistics of the faulty generators, against the check's ALPHA.

    PYTHONPATH=.:benchmarks OMP_NUM_THREADS=1 python benchmarks/fa24_dl_final_ks.py [--seeds 1000]

Each row runs the generator on the check's N draws of U under each seed and judges them with the
check's own judge (its SEED patched), printing min / median / max of the p-value and of the statistic,
and how many seeds pass. The numbers are quoted in autograder/assignments/fa24_dl_final/q5.py.
"""

from __future__ import annotations

import argparse

import numpy as np
from scipy import stats
from seed_spread import edited_module

from autograder.assignments import load_assignment
from autograder.assignments.fa24_dl_final import q5
from autograder.config import REPO_ROOT

REFERENCE = REPO_ROOT / "reference" / "fa24-dl-final" / "final.py"
GENERATOR = "    return 1 - np.sqrt(1 - z)\n"
VARIANTS = {  # valid: G(U) ~ X
    "reference 1 - sqrt(1 - z)": [],
    "decreasing 1 - sqrt(z)": [(GENERATOR, "    return 1 - np.sqrt(z)\n")],
    "not monotone (2z mod 1)": [(GENERATOR, "    return 1 - np.sqrt(1 - np.where(z < 0.5, 2 * z, 2 * z - 1))\n")],
}
FAULTS = {  # invalid
    "CDF 2z - z^2": [(GENERATOR, "    return 2 * z - z ** 2\n")],
    "identity z": [(GENERATOR, "    return z\n")],
    "sqrt(1 - z)": [(GENERATOR, "    return np.sqrt(1 - z)\n")],
    "30% uniform mixed in": [(GENERATOR, "    u = np.random.default_rng(1).random(z.shape)\n"
                                         "    return np.where(np.random.default_rng(0).random(z.shape) < 0.3, u, "
                                         "1 - np.sqrt(1 - z))\n")],
    "10% uniform mixed in": [(GENERATOR, "    u = np.random.default_rng(1).random(z.shape)\n"
                                         "    return np.where(np.random.default_rng(0).random(z.shape) < 0.1, u, "
                                         "1 - np.sqrt(1 - z))\n")],
}


def spread(edits, seeds: range) -> tuple[np.ndarray, np.ndarray, int]:
    module = edited_module(REFERENCE, edits, "final")
    check = load_assignment("fa24-dl-final").check("q5.gan_optimal_generator.distribution")
    saved = q5.SEED
    p, d, passed = [], [], 0
    try:
        for seed in seeds:
            q5.SEED = seed
            samples = module.gan_optimal_generator(q5.noise())
            result = stats.kstest(samples, q5.cdf)
            p.append(result.pvalue)
            d.append(result.statistic)
            passed += q5.judge_distribution(q5.Generated(G=samples), None, check).fraction == 1.0
    finally:
        q5.SEED = saved
    return np.array(p), np.array(d), passed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=1000)
    args = parser.parse_args()
    seeds = range(args.seeds)
    print(f"N = {q5.N}, ALPHA = {q5.ALPHA:g}, seeds 0-{args.seeds - 1}; the check's own seed is {q5.SEED}")
    print(f"{'generator':28s} {'p min':>9s} {'p median':>9s} {'p max':>9s} {'D min':>7s} {'D median':>8s} "
          f"{'D max':>7s} {'pass':>6s}")
    for name, edits in {**VARIANTS, **FAULTS}.items():
        p, d, passed = spread(edits, seeds)
        print(f"{name:28s} {p.min():9.3g} {np.median(p):9.3g} {p.max():9.3g} {d.min():7.4f} {np.median(d):8.4f} "
              f"{d.max():7.4f} {passed:6d}")
    module = edited_module(REFERENCE, [], "final")
    at_seed = stats.kstest(module.gan_optimal_generator(q5.noise()), q5.cdf)
    print(f"reference at the check's seed {q5.SEED}: D = {at_seed.statistic:.4f}, p = {at_seed.pvalue:.3g}")


if __name__ == "__main__":
    main()
