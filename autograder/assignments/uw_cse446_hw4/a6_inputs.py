"""A6's fixed inputs, and NPMI by the provided `helper_code`. Imported by both halves (numpy and
scipy only, so the judge can use it without torch). The formulas themselves are the reference's:
the trusted half runs it.

Sizes are chosen so that every weight matrix has its own shape: V = 13, h = 7, T = 4, so an
Encoder's layers can be told apart by shape (W_x 7 x 13, W_h 7 x 7, W_mu and W_sigma 4 x 7) and a
Decoder's B is the one matrix with V * T = 44 entries.
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
from scipy import sparse

from autograder.assignments.uw_cse446_hw4.starter import helper_code
from autograder.data import agnews
from autograder.inputs import InputSet

V, H, T = 13, 7, 4
VOCABULARY = ["apple", "bat", "cat", "dog", "egg", "fig", "gum", "hat", "ink", "jam", "kit", "lid", "mop"]


def encoder_weights() -> dict[str, np.ndarray]:
    """Weights for the Encoder's layers; `second` goes to whichever (T, h) layer is registered second."""
    rng = np.random.default_rng(446)
    return {"W_x": rng.normal(0, 0.5, (H, V)), "b_x": rng.normal(0, 0.1, H),
            "W_h": rng.normal(0, 0.5, (H, H)), "b_h": rng.normal(0, 0.1, H),
            "first": rng.normal(0, 0.4, (T, H)), "first_b": rng.normal(0, 0.2, T),
            "second": rng.normal(0, 0.4, (T, H)), "second_b": rng.normal(0, 0.2, T)}


def documents(n: int, seed: int) -> np.ndarray:
    """(n, V) word counts, 0 to 4 per word."""
    return np.random.default_rng(seed).integers(0, 5, (n, V)).astype(np.float64)


def softmax(a: np.ndarray) -> np.ndarray:
    e = np.exp(a - a.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def planted_b() -> np.ndarray:
    """(V, T): topic t's three top words are words 3t, 3t + 1, 3t + 2 (in that order)."""
    b = np.random.default_rng(6).normal(0, 0.1, (V, T))
    for t in range(T):
        for rank in range(3):
            b[3 * t + rank, t] = 3.0 - rank
    return b


def decoder_latents(n: int = 6) -> np.ndarray:
    return np.random.default_rng(7).normal(0, 1.5, (n, T))


def gaussian_parameters(n: int = 5) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(8)
    return rng.normal(0, 1.0, (n, T)), np.exp(rng.normal(0, 0.6, (n, T)))


def elbo_inputs(n: int = 5) -> dict[str, np.ndarray]:
    mu, sigma = gaussian_parameters(n)
    eta = softmax(np.random.default_rng(9).normal(0, 1.0, (n, V)))
    return {"x": documents(n, 10), "eta": eta, "mu": mu, "sigma": sigma}


# --- NPMI of learned topics -----------------------------------------------------------------------

@functools.lru_cache(maxsize=4)
def planted_reference(n_docs: int, seed: int):
    """(numerator, denominator, n_docs, word index) of a planted corpus, for `helper_code.compute_npmi`."""
    counts, words = agnews.planted_counts(n_docs, seed)
    return npmi_reference(counts, words)


def npmi_reference(counts: sparse.spmatrix, words: list[str]):
    """NPMI tables of a reference corpus; probabilities are shares of documents holding the words."""
    binary = sparse.csr_matrix(counts, dtype=np.float64)
    binary.data[:] = 1.0
    return npmi_tables(binary.T @ binary, np.asarray(binary.sum(0)).ravel(), binary.shape[0], words)


def npmi_tables(interactions: sparse.spmatrix, doc_sums: np.ndarray, n_docs: int, words: list[str]):
    numerator, denominator = helper_code.generate_npmi_vals(interactions, doc_sums)
    return numerator, denominator, n_docs, {w: i for i, w in enumerate(words)}


def top_of(matrix: np.ndarray, words: list[str], k: int = 10) -> list[list[str]]:
    """Each row's (topic's) k most probable words, by the provided helper_code's extract_topics."""
    return helper_code.extract_topics(np.asarray(matrix).T, words, k=k)


def npmi(matrix: np.ndarray, words: list[str], reference) -> float:
    return helper_code.compute_npmi(*reference, top_of(matrix, words))


# --- the real corpus: AG News dev documents ---------------------------------------------------------

REAL_SKIP, REAL_WORDS = 100, 1500
"""The 1,500 most frequent words after the 100 most frequent, which otherwise fill every topic
(said, new, reuters, quot...) within a budget of seconds."""


def real_corpus(root: Path) -> tuple[sparse.csr_matrix, list[str]]:
    """The dev documents' counts of the kept words (in vocabulary order), and those words."""
    counts, words = agnews.load_dev(root)
    frequency = np.asarray((counts > 0).sum(axis=0)).ravel().astype(np.int64)
    frequency[[j for j, w in enumerate(words) if w == agnews.UNKNOWN]] = -1
    ranked = np.argsort(-frequency, kind="stable")
    keep = np.sort(ranked[REAL_SKIP:REAL_SKIP + REAL_WORDS]) if len(ranked) > REAL_SKIP + 2 * T \
        else np.sort(ranked[frequency[ranked] >= 0])  # a small synthetic corpus: every word
    return counts[:, keep].tocsr(), [words[j] for j in keep]


def _real_corpus_arrays(root: Path) -> dict[str, np.ndarray]:
    counts, words = real_corpus(root)
    return {"data": counts.data, "indices": counts.indices, "indptr": counts.indptr,
            "shape": np.array(counts.shape, dtype=np.int64), "words": np.array(words, dtype=str)}


REAL_CORPUS = InputSet("ag-news-dev-kept-words", agnews.DATASET, _real_corpus_arrays)
"""The dev documents' counts of the kept words as a CSR matrix (a dense one would be 60 MB), and
the words. The corpus has no held-out part: topics are learned without labels."""


def real_counts(values: dict) -> np.ndarray:
    """The dense (documents, words) counts of `REAL_CORPUS`'s arrays."""
    shape = tuple(int(n) for n in values["shape"])
    return sparse.csr_matrix((values["data"], values["indices"], values["indptr"]), shape=shape).toarray()
