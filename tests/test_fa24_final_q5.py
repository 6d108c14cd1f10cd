"""Q5 of fa24-dl-final (the idealised GAN): the reference passes, every optimal generator passes the
Kolmogorov-Smirnov check (it is not unique), and each fault loses exactly its checks."""

from __future__ import annotations

import functools

import numpy as np
import pytest
from conftest import Fault, by_id, checks_of, lost_in, reference_text

from autograder.assignments import load_assignment
from autograder.assignments.fa24_dl_final import q5
from autograder.config import REPO_ROOT

FINAL, FILE = "fa24-dl-final", "final.py"
DISCRIMINATOR = "q5.gan_optimal_discriminator.values"
DISTRIBUTION = "q5.gan_optimal_generator.distribution"
FUNCTION_OF_Z = "q5.gan_optimal_generator.function_of_z"
ALL = {DISCRIMINATOR, DISTRIBUTION, FUNCTION_OF_Z}
GENERATOR = "    return 1 - np.sqrt(1 - z)\n"


@pytest.fixture(scope="module")
def grade_q5(grade_files):
    return functools.partial(grade_files, assignment=FINAL, problems=("q5",))


@pytest.fixture(scope="module")
def reference():
    return reference_text(FINAL, FILE)


def test_reference_scores_full_marks(grade_q5, reference):
    g = grade_q5({FILE: reference})
    assert [(c.id, c.outcome.value, c.score) for c in checks_of(g, "q5")] == [
        (DISCRIMINATOR, "passed", 2.5), (DISTRIBUTION, "passed", 2.0), (FUNCTION_OF_Z, "passed", 0.5)]
    assert "statistic 0.0054, p-value 0.927" in by_id(g, DISTRIBUTION).feedback.summary


def test_template_scores_zero_with_not_implemented(grade_q5):
    g = grade_q5({FILE: (REPO_ROOT / "student_template" / FINAL / FILE).read_text()})
    assert g.score == 0 and {c.id for c in g.checks} == ALL
    for c in g.checks:
        assert c.outcome.value == "error" and "is not implemented yet" in c.feedback.summary


FAULTS = {  # each mistake, the checks it loses, and what their messages must say
    "cdf_instead_of_its_inverse": Fault([(GENERATOR, "    return 2 * z - z ** 2\n")], {DISTRIBUTION},
                                        ["G(U) is not distributed as X", "Your G is the CDF F(z) = 2z - z^2 itself",
                                         "X's mean is 1/3"]),
    "identity_generator": Fault([(GENERATOR, "    return z\n")], {DISTRIBUTION},
                                ["Your G is the identity, the initial generator"]),
    "generator_draws_its_own_noise": Fault(
        [(GENERATOR, "    return 1 - np.sqrt(1 - np.random.default_rng().random(z.shape))\n")], {FUNCTION_OF_Z},
        ["is not a function of z", "without drawing random numbers of your own"]),
    "discriminator_of_the_fake_class": Fault(
        [("    return (2 - 2 * x) / (3 - 2 * x)\n", "    return 1 / (3 - 2 * x)\n")], {DISCRIMINATOR},
        ["You return 1 - D(x) = P(S = 0 | x)"]),
}


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_fault_loses_exactly_its_checks(grade_q5, reference, fault):
    FAULTS[fault].assert_graded(grade_q5({FILE: FAULTS[fault].apply(reference)}), "q5")


@pytest.mark.parametrize("generator", [
    "    return 1 - np.sqrt(z)\n",  # decreasing: 1 - Z is uniform too
    "    return 1 - np.sqrt(1 - np.where(z < 0.5, 2 * z, 2 * z - 1))\n",  # not monotone: 2z mod 1 is uniform
    "    return np.array([1 - (1 - float(v)) ** 0.5 for v in z])\n",  # element by element
], ids=["decreasing", "not_monotone", "a_loop"])
def test_every_optimal_generator_passes(grade_q5, reference, generator):
    g = grade_q5({FILE: reference.replace(GENERATOR, generator)})
    assert lost_in(g, "q5") == set()


def _ks_fraction(samples: np.ndarray) -> float:
    check = load_assignment(FINAL).check(DISTRIBUTION)
    return q5.judge_distribution(q5.Generated(G=samples), None, check).fraction


def test_a_distribution_a_little_off_fails():
    """X mixed with 10% of uniform noise: KS distance max |0.9 F + 0.1 x - F| = 0.1 * 1/4 = 0.025 is below
    the test's reach at N = 10,000; 30% (0.075) is well beyond it."""
    z = q5.noise()
    exact = 1 - np.sqrt(1 - z)
    pick = np.random.default_rng(0).random(q5.N)
    assert _ks_fraction(np.where(pick < 0.3, np.random.default_rng(1).random(q5.N), exact)) == 0.0
    assert _ks_fraction(exact) == 1.0


def test_values_outside_the_support_are_counted():
    check = load_assignment(FINAL).check(DISTRIBUTION)
    verdict = q5.judge_distribution(q5.Generated(G=q5.noise() * 2 - 0.5), None, check)
    assert verdict.fraction == 0.0 and "outside [0, 1]" in verdict.feedback.details[0]
