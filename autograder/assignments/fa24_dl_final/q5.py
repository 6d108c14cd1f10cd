"""Q5 of the mock final: the idealised GAN for X with density 2 - 2x on [0, 1] and noise Z ~ U[0, 1],
graded from `gan_optimal_discriminator` and `gan_optimal_generator`.

(a) With G the identity, G(Z) has density 1 on [0, 1], and the optimal discriminator is the posterior
P(S = 1 | x) = (2 - 2x) / ((2 - 2x) + 1) = (2 - 2x) / (3 - 2x) (equal priors). Compared with the
reference's values on [0, 1].

(b) Any G with G(Z) distributed as X is optimal: G is not unique (1 - sqrt(z) works as well as the
handout's increasing 1 - sqrt(1 - z)), so the check tests the distribution, not the values: a
Kolmogorov-Smirnov test of G(U) against F(x) = 2x - x^2, the CDF of X.

- N = 10,000 draws of U (default_rng(SEED)); the test fails when the p-value is below ALPHA = 1e-6.
  For a correct G the p-value is uniform on [0, 1] over draws, so a correct G fails at a given seed
  with probability 1e-6; at the check's fixed seed it is deterministic. Measured by
  benchmarks/fa24_dl_final_ks.py over the seeds 0-999 of U (min / median / max of the p-value):
  the reference 0.00165 / 0.518 / 1, and 1 - sqrt(z) the same (for a monotone G, the statistic is
  U's against the uniform); a non-monotone optimal G (1 - sqrt(1 - (2z mod 1))) 5.2e-05 / 0.51 / 1.
  All 3000 pass; the smallest p-value is 50 times ALPHA. At the check's seed the reference's
  statistic is 0.0054, its p-value 0.927.
- At N = 10,000 and this ALPHA the critical KS distance is sqrt(ln(2 / ALPHA) / (2N)) = 0.027. The
  CDF in place of its inverse (G(z) = 2z - z^2, so P(G(U) <= x) = 1 - sqrt(1 - x)) is 0.47 away from
  X's CDF (the sup over s = 1 - x of sqrt(s) - s^2): its statistic is 0.456-0.490 over the 1000 seeds,
  its p-value 0 in floating point, so it fails at every seed. The identity is 0.25 away (0.236-0.266
  measured), sqrt(1 - z) 0.5; X with 30% of uniform mixed in (0.075 away) fails at every seed, with
  10% (0.025 away, below the test's reach) it passes at 401 of 1000 seeds: the check tells
  distributions apart from about 0.05 in KS distance.
- A second check asks that G be a function of z: the same z, shuffled, gives the same outputs
  shuffled. A generator that draws its own noise passes the KS test but is not a generator of Z.
"""

from __future__ import annotations

import numpy as np

from autograder.assignments.fa24_dl_final.common import FILE, MODULE
from autograder.compare import Tolerance, compare_arrays
from autograder.model import Check, Problem, Verdict
from autograder.records import Record
from autograder.student import Subject, to_array

GRID = np.concatenate([np.linspace(0.0, 1.0, 11), np.random.default_rng(55).random(9)])
"""Where the discriminator is evaluated: [0, 1] in tenths, and nine other points."""
CLOSE = Tolerance(atol=1e-9, rtol=1e-9)
N = 10_000
SEED = 2024
ALPHA = 1e-6
SHUFFLED = 1000


def noise() -> np.ndarray:
    return np.random.default_rng(SEED).random(N)


def shuffled_order() -> np.ndarray:
    return np.random.default_rng(SEED + 1).permutation(SHUFFLED)


def cdf(x: np.ndarray) -> np.ndarray:
    """F(x) = 2x - x^2 on [0, 1], the CDF of X."""
    x = np.clip(x, 0.0, 1.0)
    return 2 * x - x ** 2


# --- student halves ---------------------------------------------------------------------------

class Discriminator(Record):
    D: np.ndarray
    """D(x) at the points of GRID."""


def run_discriminator(subject: Subject) -> Discriminator:
    out = subject.call(MODULE, "gan_optimal_discriminator", GRID.copy())
    return Discriminator(D=to_array(out, "gan_optimal_discriminator(x)"))


class Generated(Record):
    G: np.ndarray
    """G(z) at the N draws of U, `noise()`."""


def run_generator(subject: Subject) -> Generated:
    out = subject.call(MODULE, "gan_optimal_generator", noise())
    return Generated(G=to_array(out, "gan_optimal_generator(z)"))


class Shuffled(Record):
    G: np.ndarray
    """G(z) at the first SHUFFLED draws of U."""
    G_shuffled: np.ndarray
    """G(z[order]) at the same draws, in the order `shuffled_order()`."""


def run_generator_shuffled(subject: Subject) -> Shuffled:
    z, order = noise()[:SHUFFLED], shuffled_order()
    first = to_array(subject.call(MODULE, "gan_optimal_generator", z.copy()), "gan_optimal_generator(z)")
    again = to_array(subject.call(MODULE, "gan_optimal_generator", z[order]), "gan_optimal_generator(z)")
    return Shuffled(G=first, G_shuffled=again)


# --- judges -----------------------------------------------------------------------------------

def judge_discriminator(got: Discriminator, expected: Discriminator, check: Check) -> Verdict:
    comparison = compare_arrays("D(x)", got.D, expected.D, CLOSE)
    if comparison.equal:
        return Verdict.passed("gan_optimal_discriminator gives (2 - 2x) / (3 - 2x) on [0, 1].")
    d, x = got.D, GRID
    hint = comparison.hint
    if d.shape == x.shape and np.all(np.isfinite(d)):
        if np.allclose(d, 1.0 - expected.D, atol=1e-9):
            hint = ("You return 1 - D(x) = P(S = 0 | x), the probability that x was generated; D(x) is the "
                    "probability that x is real: (2 - 2x) / (3 - 2x).")
        elif np.allclose(d, 0.5, atol=1e-9):
            hint = "D = 1/2 is optimal only once G(Z) has X's distribution; here G is the identity, so G(Z) ~ U[0, 1]."
    return Verdict.failed(
        "gan_optimal_discriminator is not the optimal discriminator for G(z) = z.",
        details=tuple(comparison.lines()), arrays=(comparison.report,),
        hint=hint or "D(x) = P(S = 1 | X = x) by Bayes' rule: the real density 2 - 2x over the sum of the real "
                     "density and the generated one (1, for G the identity), with equal priors.")


def judge_distribution(got: Generated, expected: None, check: Check) -> Verdict:
    from scipy import stats

    samples, z = got.G, noise()
    if samples.shape != z.shape:
        return Verdict.failed(f"gan_optimal_generator(z) returned shape {samples.shape} for z of shape {z.shape}.",
                              hint="Apply G to every element of z (numpy operations do).")
    if not np.all(np.isfinite(samples)):
        return Verdict.failed("gan_optimal_generator(z) returned NaN or inf for some z in [0, 1).",
                              hint="Look at a square root of a negative number or a division by zero.")
    result = stats.kstest(samples, cdf)
    where = (f"Kolmogorov-Smirnov test of G(U) on {N} draws of U against F(x) = 2x - x^2: "
             f"statistic {result.statistic:.4f}, p-value {result.pvalue:.3g}")
    if result.pvalue >= ALPHA:
        return Verdict.passed(f"G(U) is distributed as X ({where}, at least {ALPHA:g}).")
    hint = ("G must map U[0, 1] to X's distribution: G(z) = F^{-1}(z), the inverse of F(x) = 2x - x^2 "
            "(solve z = 2x - x^2 for x in [0, 1]).")
    if np.allclose(samples, cdf(z), atol=1e-9):
        hint = ("Your G is the CDF F(z) = 2z - z^2 itself; G is its inverse: solve z = 2x - x^2 for x in [0, 1], "
                "which gives 1 - sqrt(1 - z).")
    elif np.allclose(samples, z, atol=1e-9):
        hint = "Your G is the identity, the initial generator of part (a); G(Z) must have density 2 - 2x."
    outside = int(np.sum((samples < 0) | (samples > 1)))
    return Verdict.failed(
        f"G(U) is not distributed as X ({where}, below {ALPHA:g}).",
        details=(f"The mean of your G(U) is {samples.mean():.4f}; X's mean is 1/3. {outside} of your {N} values are "
                 f"outside [0, 1].",),
        hint=hint)


def judge_function_of_z(got: Shuffled, expected: None, check: Check) -> Verdict:
    # The order is the judge's own: nothing that came back from the sandbox decides what is compared.
    first, again, order = got.G, got.G_shuffled, shuffled_order()
    if first.shape != order.shape or again.shape != order.shape:
        return Verdict.failed(f"gan_optimal_generator(z) returned shape {first.shape} for z of shape {order.shape}.",
                              hint="Apply G to every element of z (numpy operations do).")
    same = np.isclose(again, first[order], atol=1e-12, rtol=1e-12, equal_nan=True)
    if same.all():
        return Verdict.passed("gan_optimal_generator is a function of z: the same z, shuffled, gives the same "
                              "outputs, shuffled.")
    return Verdict.failed(
        f"gan_optimal_generator is not a function of z: the same {SHUFFLED} values of z, shuffled, gave other outputs for "
        f"{int((~same).sum())} of them.",
        hint="G transforms the noise Z it is given: compute G(z) from z alone, without drawing random numbers of "
             "your own.")


PROBLEM = Problem(
    id="q5",
    title="Q5: the idealised GAN for a density 2 - 2x",
    files=(FILE,),
    # Handout ../shared/seeds/003_e3b0b6e208b34aec.txt, question 5: "(a) (2.5 pts) ... What is the optimal
    # discriminator in this case?" (line 164); "(b) (2.5 pts) What is the optimal generator G?" (line 178).
    parts={"a": 2.5, "b": 2.5},
    checks=(
        Check(id="q5.gan_optimal_discriminator.values", part="a", points=2.5,
              claim="gan_optimal_discriminator gives (2 - 2x) / (3 - 2x) on [0, 1]",
              run=run_discriminator, judge=judge_discriminator),
        Check(id="q5.gan_optimal_generator.distribution", part="b", points=2.0,
              claim=f"G(U) passes a Kolmogorov-Smirnov test against density 2 - 2x ({N} draws, p >= {ALPHA:g})",
              run=run_generator, judge=judge_distribution),
        Check(id="q5.gan_optimal_generator.function_of_z", part="b", points=0.5,
              claim="gan_optimal_generator is a function of z (the same z, shuffled, gives the same outputs, shuffled)",
              run=run_generator_shuffled, judge=judge_function_of_z),
    ),
)
