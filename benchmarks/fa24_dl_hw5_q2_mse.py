"""Q2 of fa24-dl-hw5: the distribution behind the threshold of `q2.train_sgd.mse_falls` (the MSE after
the last of 20 epochs over the MSE after the first, which must be at most q2.FALL_RATIO; q2.py and
docs/fa24-dl-hw5.md quote what this prints).

Every run goes through the check's own student half (`q2.run_mse_falls`: the student's
`train_sgd(X, Y, epochs=20, seed=1)` on the friend's 1,000 points, k = 3, eta = 0.01, sigma = 0.1) and
is judged by the check's own judge. What varies is the student's seed (the `seed` argument, replaced by
0, 1, ...) and how the initial weights are drawn, which the handout leaves open ("i.i.d. Gaussian
(mu = 0, sigma = 0.1) samples"): numpy's Generator (the reference) or the legacy global
np.random.seed + np.random.randn, as the handout's own code draws them. The faulty variants (phi'
without a, the handout's phi' = 3 phi (1 - phi), a backward pass without phi'(v_f), gradient ascent)
give the floor.

    OMP_NUM_THREADS=1 python benchmarks/fa24_dl_hw5_q2_mse.py [--seeds 30] [--faulty-seeds 5]

One CPU thread: 0.4 s a run; the defaults (80 runs) take about half a minute.
"""

from __future__ import annotations

from seed_spread import Grader, arguments, check_of, module_of, sweep, with_seed_argument

from autograder.assignments.fa24_dl_hw5 import q2
from autograder.config import REPO_ROOT

REFERENCE = (REPO_ROOT / "reference" / "fa24-dl-hw5" / "hw5_q2.py").read_text()
LEGACY = REFERENCE.replace(
    "    rng = np.random.default_rng(seed)\n", "    np.random.seed(seed)\n").replace(
    "sigma * rng.standard_normal((k, d))", "np.random.randn(k, d) * sigma").replace(
    "sigma * rng.standard_normal((k, 1))", "np.random.randn(k, 1) * sigma").replace(
    "sigma * rng.standard_normal((1, k))", "np.random.randn(1, k) * sigma").replace(
    "sigma * rng.standard_normal((1, 1))", "np.random.randn(1, 1) * sigma")
assert "rng" not in LEGACY.split("def train_sgd")[1]

VALID = {
    "default_rng(seed) draws (the reference)": REFERENCE,
    "np.random.seed(seed) and np.random.randn (the handout's code)": LEGACY,
}
OTHER = {
    "faulty: phi' without a": REFERENCE.replace("return a * p * (1.0 - p)", "return p * (1.0 - p)"),
    "faulty: phi' = 3 phi (1 - phi) (the handout's; slower, passes at some seeds)": REFERENCE.replace("return a * p * (1.0 - p)",
                                                                                 "return 3 * p * (1.0 - p)"),
    "faulty: backward without phi'(v_f) (passes: it still descends)": REFERENCE.replace(
        "delta_f = dloss_df * phi_prime(v_f)", "delta_f = dloss_df"),
    "faulty: gradient ascent": REFERENCE.replace("dloss_df = 2 * (f - y)", "dloss_df = 2 * (y - f)"),
}


def mse_falls(grader: Grader):
    check = check_of(q2.PROBLEM, "q2.train_sgd.mse_falls")

    def run(name, source, seed):
        module = module_of(source, "hw5_q2")
        module.train_sgd = with_seed_argument(module.train_sgd, seed)
        got = grader.student_half(check, {"hw5_q2": module})
        mse = got.mse
        return float(mse[-1] / mse[0]), grader.passes(check, got, {})
    return run


def main() -> None:
    args = arguments(__doc__, seeds=30, faulty_seeds=5).parse_args()
    sweep(f"q2.train_sgd.mse_falls (mse[{q2.FALL_EPOCHS}] / mse[1]; threshold {q2.FALL_RATIO})",
          {**VALID, **OTHER}, OTHER, args, mse_falls(Grader(args.data_root)))


if __name__ == "__main__":
    main()
