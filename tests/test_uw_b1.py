"""B1 of uw-cse446-hw4: the reference passes every check (synthetic and real u.data), the template
scores 0 with "not implemented", a mean estimator that gives unseen items 0 keeps its points with
a note, and each fault of a real submission loses exactly its checks with a message naming it."""

from __future__ import annotations


import pytest
from conftest import Fault, by_id, checks_of, lost_in, mutate, reference, template, text_of

from autograder.assignments.uw_cse446_hw4 import b1

FILE = "hw4_b1.py"
ALL = {c.id for c in b1.PROBLEM.checks}
STATIC = "b1.imports.no_recommender_package"
RUN_TIME = "b1.imports.none_loaded_at_run_time"


@pytest.fixture(scope="module")
def ref():
    return reference(FILE)


def test_reference_scores_full_marks(grade_hw4, ref):
    g = grade_hw4({FILE: ref})
    checks = checks_of(g, "b1")
    assert {c.id for c in checks} == ALL
    assert all(c.outcome.value == "passed" for c in checks), [(c.id, c.feedback.summary) for c in checks]
    assert sum(c.score for c in checks) == 35.0  # 30 and the extra credit
    b1 = next(p for p in g.problems if p.id == "b1")
    assert b1.max_score == 30.0 and b1.score == 35.0


def test_plots_and_tables_cost_nothing_and_pass_the_ban(grade_hw4, ref):
    """Real B1 solutions plot (the handout asks for it) and use pandas: neither is a recommender."""
    plots = mutate(ref, "import numpy as np\n", "import numpy as np\nimport matplotlib.pyplot as plt\n"
                   "import pandas as pd\nimport seaborn as sns\nfrom tqdm import tqdm\n")
    g = grade_hw4({FILE: plots})
    assert lost_in(g, "b1") == set()
    assert by_id(g, STATIC).feedback.summary == "hw4_b1.py imports no recommender or matrix-factorisation package."


def test_template_scores_zero_with_not_implemented(grade_hw4):
    g = grade_hw4({FILE: template(FILE)})
    assert lost_in(g, "b1") == ALL
    for c in checks_of(g, "b1"):
        if c.id == STATIC:  # nothing forbidden is imported, but there is nothing to credit yet either
            assert c.feedback.summary.startswith("Not graded yet: none of the estimators is implemented")
        else:
            assert c.score == 0 and "is not implemented yet: it raises NotImplementedError" in c.feedback.summary, c.id


def test_unseen_items_at_zero_keep_their_points_with_a_note(grade_hw4, ref):
    g = grade_hw4({FILE: mutate(ref, "return np.where(counts > 0, sums / np.maximum(counts, 1), ratings.mean())",
                                "return np.where(counts > 0, sums / np.maximum(counts, 1), 0.0)")})
    assert lost_in(g, "b1") == set()
    assert "get 0" in by_id(g, "b1.item_mean.values").feedback.summary
    assert "Accepted, since the handout does not say" in text_of(by_id(g, "b1.item_mean.values"))
    assert "0 is accepted" in by_id(g, "b1.real.item_mean_test_mse").feedback.summary


REAL_ALS = "b1.real.als_test_mse"
FAULTS = {  # each mistake, the checks it loses, and what the message of `read` must say
    "split_with_another_seed": Fault(
        [("    np.random.seed(1)\n", "    np.random.seed(2)\n")],
        {"b1.load_and_split.handout_split"},
        ["train_test_split: train differs from the handout's code", "np.random.seed(1)"], read="b1.load_and_split.handout_split"),
    "ids_not_shifted": Fault(
        [("data.append([int(row[0]) - 1, int(row[1]) - 1, int(row[2])])",
          "data.append([int(row[0]), int(row[1]), int(row[2])])")],
        {"b1.load_and_split.handout_split"},
        ["load_ratings: data differs", "user - 1"], read="b1.load_and_split.handout_split"),
    "item_median": Fault(
        [("    return np.where(counts > 0, sums / np.maximum(counts, 1), ratings.mean())",
          "    medians = [np.median(ratings[items == i]) if counts[i] else ratings.mean() for i in range(num_items)]\n"
          "    return np.array(medians)")],
        {"b1.item_mean.values", "b1.real.item_mean_test_mse"},
        ["the mean train rating of some items is wrong"], read="b1.item_mean.values"),
    "svd_keeps_one_dimension_too_many": Fault(
        [("svds(r_tilde, k=d, random_state=0)", "svds(r_tilde, k=d + 1, random_state=0)")],
        {"b1.svd.rank_d_errors", "b1.real.svd_test_mse"},
        ["train MSE, d=1 is the first error that differs", "top d singular values"], read="b1.svd.rank_d_errors"),
    "als_allocates_the_full_matrix": Fault(
        [("    for _ in range(iters):\n        U = _ridge_rows(",
          "    dense = np.zeros((num_items, num_users))\n    dense[items, users] = ratings\n"
          "    for _ in range(iters):\n        U = _ridge_rows(")],
        {"b1.als.no_full_matrix"},
        ["MB at its peak, as much as an m x n matrix", "never build the dense rating matrix"], read="b1.als.no_full_matrix"),
    "als_ridge_term_missing": Fault(
        [("        solved[r] = np.linalg.solve(F.T @ F + eye, F.T @ targets[idx])",
          "        solved[r] = np.linalg.lstsq(F, targets[idx], rcond=None)[0]")],
        {"b1.als.half_step_is_ridge", REAL_ALS},
        ["is not the ridge solution of loss (4)", "without the ridge term: add lam * I"], read="b1.als.half_step_is_ridge"),
    "als_jacobi_updates": Fault(
        [("        U = _ridge_rows(items, users, ratings, V, lam, num_items)\n"
          "        V = _ridge_rows(users, items, ratings, U, lam, num_users)\n",
          "        U, V = (_ridge_rows(items, users, ratings, V, lam, num_items),\n"
          "                _ridge_rows(users, items, ratings, U, lam, num_users))\n")],
        {"b1.als.half_step_is_ridge", "b1.als.objective_never_increases", REAL_ALS},
        ["Loss (4) increased from", "using the newest U when V is updated"], read="b1.als.objective_never_increases"),
    "mse_sums_instead_of_averaging": Fault(
        [("return float(np.mean((predictions - data[:, 2]) ** 2))",
          "return float(np.sum((predictions - data[:, 2]) ** 2))")],
        {"b1.mse.values"},
        ["mse on train is the first value that differs"], read="b1.mse.values"),
    "sgd_global_random_state": Fault(
        [("            batch = shuffled[start:start + batch_size]\n",
          "            batch = train[np.random.randint(0, n, len(shuffled[start:start + batch_size]))]\n")],
        {"b1.sgd.deterministic_factors"},
        ["different factors in two calls with the same seed", "np.random.default_rng(seed)"], read="b1.sgd.deterministic_factors"),
    "sgd_gradient_sign_flipped": Fault(
        [("            U -= lr * (", "            U += lr * (")],
        {"b1.sgd.fits_train", "b1.sgd.follows_loss_4", "b1.real.sgd_test_mse"},
        ["sgd does not fit the training ratings"], read="b1.sgd.fits_train"),
    "import_sklearn": Fault(
        [("import numpy as np\n", "import numpy as np\nimport sklearn\n")],
        {STATIC, RUN_TIME},
        ["hw4_b1.py imports sklearn (line", "forbids precooked algorithms"], read=STATIC),
    "recommender_loaded_while_running": Fault(
        [("    rng = np.random.default_rng(seed)\n    U = sigma * rng.random((num_items, d))\n    V = sigma * "
          "rng.random((num_users, d))\n    users, items, ratings = train[:, 0], train[:, 1], train[:, 2].astype(float)\n"
          "    for _ in range(iters):",
          "    import sys, types\n    sys.modules.setdefault('surprise', types.ModuleType('surprise'))\n"
          "    rng = np.random.default_rng(seed)\n    U = sigma * rng.random((num_items, d))\n    V = sigma * "
          "rng.random((num_users, d))\n    users, items, ratings = train[:, 0], train[:, 1], train[:, 2].astype(float)\n"
          "    for _ in range(iters):")],
        {RUN_TIME},
        ["surprise was imported while the submission ran", "forbids it in B1"], read=RUN_TIME),
    "best_estimator_is_the_item_mean": Fault(
        [("    models = [biased_als(", "    return lambda users, items: item_mean_estimator(train, num_items)[items]\n"
                                    "    models = [biased_als(")],
        {"b1.real.best_estimator"},
        ["the extra credit needs at most 0.9"], read="b1.real.best_estimator"),
}


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_fault_loses_exactly_its_checks(grade_hw4, ref, fault):
    FAULTS[fault].assert_graded(grade_hw4({FILE: FAULTS[fault].apply(ref)}), "b1")


@pytest.mark.realdata
def test_real_data_reference_reaches_the_handout_figures(grade_hw4, ref):
    g = grade_hw4({FILE: ref}, real=True)
    assert lost_in(g, "b1") == set(), [(c.id, c.feedback.summary) for c in checks_of(g, "b1") if c.score < c.max_score]
    assert "test MSE 1.0551" in by_id(g, "b1.real.item_mean_test_mse").feedback.summary
    svd = text_of(by_id(g, "b1.real.svd_test_mse"))
    assert "d=1: train MSE" in svd and "test MSE 8.5455" in svd and "test MSE 8.2610" in svd
    best = by_id(g, "b1.real.best_estimator").feedback.summary
    assert float(best.split("test MSE ")[1].split(" ")[0]) <= 0.82


@pytest.mark.realdata
def test_real_data_template_and_a_ridge_fault(grade_hw4, ref):
    g = grade_hw4({FILE: template(FILE)}, real=True)
    assert all(c.score == 0 for c in checks_of(g, "b1") if c.id.startswith("b1.real."))
    faulty = mutate(ref, "        solved[r] = np.linalg.solve(F.T @ F + eye, F.T @ targets[idx])",
                    "        solved[r] = np.linalg.lstsq(F, targets[idx], rcond=None)[0]")
    g = grade_hw4({FILE: faulty}, real=True)
    assert REAL_ALS in lost_in(g, "b1")
    assert "reaches only test MSE" in by_id(g, REAL_ALS).feedback.summary
