"""Q7 of the mock final: graph self-attention, graded from `graph_self_attention` in final.py.

Part (a): attention at node v over its neighbours only, alpha_{v,u} = softmax over u with (v, u) in E
of Q_v^T K_u / sqrt(k), and 0 for (v, u) not in E; the output at v is S_v = sum_u alpha_{v,u} V_u
(the handout's part (b)(1) writes the combination; the function returns it, one row per node).

- Does a node attend to itself? Exactly when (v, v) is in E: the handout's alpha is 0 for every
  (v, u) not in E, the diagonal included, and E is a subset of V^2, which may hold (v, v). The
  adjacency given decides; the function adds no self-loop of its own. A graph without self-loops is
  checked on its own (`self_only_if_in_e`), so that adding them costs only that check.
- The scores are scaled by 1/sqrt(k), as the handout writes them first (its case formula one line
  later drops the scaling: a slip, not a different rule).
- The graphs are undirected (symmetric adjacencies), so the reading of (v, u) as a row or a column of
  the adjacency does not matter; every node has a neighbour.

Three checks read the attention weights themselves: called with X = I and Wv = I (one node per row
and column), V is the identity, so the output S = alpha V is alpha. Its rows must sum to 1 (a
softmax over each node's neighbours, not over the other dimension) and be 0 off E. These need no
expected values. The values check compares S with the reference's on random inputs.
"""

from __future__ import annotations

import numpy as np

from autograder.assignments.fa24_dl_final.common import FILE, MODULE
from autograder.compare import Tolerance, compare_arrays
from autograder.model import Check, Problem, Verdict
from autograder.records import Record
from autograder.student import Subject, to_array

N_NODES, D, K, D_V = 6, 4, 3, 2
CLOSE = Tolerance(atol=1e-9, rtol=1e-7)
EDGES = ((0, 1), (1, 2), (2, 3), (3, 4), (4, 5), (5, 0), (0, 3))
"""A ring of six with one chord, undirected."""


def _adjacency(self_loops: bool) -> np.ndarray:
    a = np.zeros((N_NODES, N_NODES))
    for v, u in EDGES:
        a[v, u] = a[u, v] = 1.0
    if self_loops:
        np.fill_diagonal(a, 1.0)
    return a


WITH_SELF_LOOPS, WITHOUT_SELF_LOOPS = _adjacency(True), _adjacency(False)


def _weights(seed: int, d: int, d_v: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {"Wq": rng.normal(size=(K, d)), "Wk": rng.normal(size=(K, d)), "Wv": rng.normal(size=(d_v, d))}


def _values_inputs() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(77)
    return {"X": rng.normal(size=(N_NODES, D)), "adjacency": WITH_SELF_LOOPS, **_weights(78, D, D_V)}


def _probe_inputs(adjacency: np.ndarray) -> dict[str, np.ndarray]:
    """X = I and Wv = I: V = I, so the output is the attention matrix alpha itself."""
    w = _weights(79, N_NODES, N_NODES)
    return {"X": np.eye(N_NODES), "adjacency": adjacency, "Wq": w["Wq"], "Wk": w["Wk"], "Wv": np.eye(N_NODES)}


VALUES = _values_inputs()


def _call(subject: Subject, inputs: dict[str, np.ndarray]) -> np.ndarray:
    out = subject.call(MODULE, "graph_self_attention", *(inputs[k].copy() for k in ("X", "adjacency", "Wq", "Wk", "Wv")))
    return to_array(out, "graph_self_attention(X, adjacency, Wq, Wk, Wv)")


# --- student halves ---------------------------------------------------------------------------

class Probe(Record):
    alpha: np.ndarray
    """The output with X = I and Wv = I, which is the attention matrix alpha, (N_NODES, N_NODES)."""


class Attention(Probe):
    """The values check's outputs: S on random inputs, and alpha (for the diagnosis)."""

    S: np.ndarray
    """The output S on `VALUES` (a graph with self-loops), one row per node, (N_NODES, D_V)."""


def run_values(subject: Subject) -> Attention:
    return Attention(S=_call(subject, VALUES), alpha=_call(subject, _probe_inputs(WITH_SELF_LOOPS)))


def run_probe(adjacency: np.ndarray):
    def run(subject: Subject) -> Probe:
        return Probe(alpha=_call(subject, _probe_inputs(adjacency)))
    return run


# --- judges -----------------------------------------------------------------------------------

def _unscaled(alpha: np.ndarray, adjacency: np.ndarray) -> np.ndarray:
    """The attention that the same scores give without the 1/sqrt(k): on E, log alpha is the scaled score
    less a constant per row, and a softmax ignores that constant."""
    logs = np.where(adjacency != 0, np.log(np.where(adjacency != 0, alpha, 1.0)) * np.sqrt(K), -np.inf)
    e = np.exp(logs - logs.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def judge_values(got: Attention, expected: Attention, check: Check) -> Verdict:
    comparison = compare_arrays("S", got.S, expected.S, CLOSE)
    if comparison.equal:
        return Verdict.passed(f"graph_self_attention matches on a {N_NODES}-node graph with self-loops "
                              f"(d = {D}, k = {K}, d_v = {D_V}).")
    alpha = got.alpha
    same_shape = alpha.shape == expected.alpha.shape
    hint = comparison.hint or ("Q = X Wq^T, K = X Wk^T, V = X Wv^T (row v is W x_v); scores Q K^T / sqrt(k); a softmax "
                               "over each row's neighbours; S = alpha V.")
    if same_shape and np.allclose(alpha, _unscaled(expected.alpha, WITH_SELF_LOOPS), atol=1e-9):
        hint = ("Your scores are not divided by sqrt(k), k = Wq.shape[0] (the handwritten case formula drops it, but "
                "the handout's attention is Softmax(Q_v^T K_u / sqrt(k)) one line before).")
    elif same_shape and np.allclose(alpha, expected.alpha, atol=1e-9):
        hint = ("Your attention weights are right (seen with X = I, Wv = I), so S is off in the values or the queries: "
                "V_u = Wv x_u, and S_v = sum_u alpha_{v,u} V_u.")
    elif same_shape and np.all(np.isfinite(alpha)):
        if not np.allclose(alpha.sum(axis=1), 1.0, atol=1e-9) and np.allclose(alpha.sum(axis=0), 1.0, atol=1e-9):
            hint = ("Your softmax runs over the wrong dimension (the columns of your attention matrix sum to 1, not its "
                    "rows): at node v it normalises over the neighbours u, axis=1 of the scores Q K^T.")
        elif np.any((WITH_SELF_LOOPS == 0) & (np.abs(alpha) > 1e-12)):
            hint = ("Your nodes attend to nodes that are not their neighbours: mask the scores of every (v, u) not in E "
                    "with -inf before the softmax.")
    return Verdict.failed("graph_self_attention's outputs differ from the expected ones.",
                          details=tuple(comparison.lines()), arrays=(comparison.report,), hint=hint)


def _square(alpha: np.ndarray) -> Verdict | None:
    if alpha.shape != (N_NODES, N_NODES) or not np.all(np.isfinite(alpha)):
        what = f"shape {alpha.shape}" if alpha.shape != (N_NODES, N_NODES) else "NaN or inf"
        return Verdict.failed(
            f"With X = I ({N_NODES} nodes) and Wv = I, graph_self_attention should return the {N_NODES} x {N_NODES} "
            f"attention matrix (S = alpha V with V = I); it returned {what}.",
            hint="Return one row per node (S_v), d_v = Wv.shape[0] columns; mask non-neighbours with -inf before the "
                 "softmax, not after dividing by zero.")
    return None


def judge_rows_sum_to_one(got: Probe, expected: None, check: Check) -> Verdict:
    alpha = got.alpha
    if (bad := _square(alpha)) is not None:
        return bad
    rows = alpha.sum(axis=1)
    if np.allclose(rows, 1.0, atol=1e-9):
        return Verdict.passed("Each node's attention weights sum to 1 (seen with X = I and Wv = I, where S = alpha).")
    hint = "alpha_{v,.} is a softmax over v's neighbours u: normalise each row (axis=1), over u, not over v."
    if np.allclose(alpha.sum(axis=0), 1.0, atol=1e-9):
        hint = ("Your columns sum to 1 instead of your rows: the softmax runs over the wrong dimension. At node v it "
                "normalises over the neighbours u, the last axis of the scores Q K^T (axis=1).")
    return Verdict.failed(
        f"Each node's attention weights should sum to 1; with X = I and Wv = I (so S = alpha), row sums are "
        f"{', '.join(f'{r:.3g}' for r in rows)}.", hint=hint)


def judge_neighbours_only(adjacency: np.ndarray, what: str):
    def judge(got: Probe, expected: None, check: Check) -> Verdict:
        alpha = got.alpha
        if (bad := _square(alpha)) is not None:
            return bad
        off = np.argwhere((adjacency == 0) & (np.abs(alpha) > 1e-12))
        if len(off) == 0:
            return Verdict.passed(f"Every node attends only to u with (v, u) in E ({what}).")
        pairs = ", ".join(f"({v}, {u})" for v, u in off[:6]) + (", ..." if len(off) > 6 else "")
        self_only = all(v == u for v, u in off)
        hint = ("The handout's alpha_{v,u} is 0 for every (v, u) not in E, u = v included: a node attends to itself "
                "only when the adjacency has (v, v). Add no self-loop inside the function."
                if self_only else
                "Set the scores of non-neighbours to -inf before the softmax (np.where(adjacency != 0, scores, -np.inf)), "
                "so that their weights are exactly 0; a softmax over all nodes attends to everyone.")
        return Verdict.failed(
            f"graph_self_attention attends outside E ({what}): alpha_(v,u) is not 0 for {len(off)} pairs (v, u) not in "
            f"E, such as {pairs} (seen with X = I and Wv = I, where S = alpha).", hint=hint)
    return judge


PROBLEM = Problem(
    id="q7",
    title="Q7: graph self-attention",
    files=(FILE,),
    # Handout ../shared/seeds/003_e3b0b6e208b34aec.txt, question 7: "(a) (2 pts) ... Write the self-attention
    # equations at a node v" (line 232); "(b) (3 pts) Explain ..." (line 240) is written, graded by hand
    # (tests/test_points.py, BY_HAND).
    parts={"a": 2.0},
    checks=(
        Check(id="q7.graph_self_attention.values", part="a", points=0.75,
              claim="graph_self_attention gives S_v = sum_u alpha_{v,u} V_u with scaled scores, on a graph with "
                    "self-loops",
              run=run_values, judge=judge_values),
        Check(id="q7.graph_self_attention.rows_sum_to_one", part="a", points=0.5,
              claim="each node's attention weights sum to 1 (a softmax over its neighbours)",
              run=run_probe(WITH_SELF_LOOPS), judge=judge_rows_sum_to_one),
        Check(id="q7.graph_self_attention.neighbours_only", part="a", points=0.5,
              claim="a node's attention weight is 0 for every u with (v, u) not in E",
              run=run_probe(WITH_SELF_LOOPS), judge=judge_neighbours_only(WITH_SELF_LOOPS, "a graph with self-loops")),
        Check(id="q7.graph_self_attention.self_only_if_in_e", part="a", points=0.25,
              claim="on a graph without self-loops, no node attends to itself",
              run=run_probe(WITHOUT_SELF_LOOPS),
              judge=judge_neighbours_only(WITHOUT_SELF_LOOPS, "a graph without self-loops")),
    ),
)
