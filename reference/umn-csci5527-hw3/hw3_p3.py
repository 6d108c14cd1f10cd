"""Problem 3: robust subspaces, and the deep autoencoder of Hinton and Salakhutdinov (2006).

Keep the names and signatures: the autograder calls them. Data points are rows.
"""

import numpy as np
import torch
from torch import nn


def make_subspace_data(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(B, X): an orthonormal basis B (200x20) and X (100x200) whose first 98 rows are B z_i with
    z_i ~ N(0, I_20) and last 2 rows Gaussian outliers in R^200; every row scaled to unit norm, not centred."""
    rng = np.random.default_rng(seed)
    B, _ = np.linalg.qr(rng.standard_normal((200, 20)))
    inliers = rng.standard_normal((98, 20)) @ B.T
    outliers = rng.standard_normal((2, 200))
    X = np.vstack([inliers, outliers])
    return B, X / np.linalg.norm(X, axis=1, keepdims=True)


def pca_basis(X: np.ndarray, k: int = 20) -> np.ndarray:
    """The top-k right singular vectors of X (no centring), as the columns of a (d, k) matrix."""
    _, _, vt = np.linalg.svd(X, full_matrices=False)
    return vt[:k].T


def subspace_distance(B1: np.ndarray, B2: np.ndarray) -> float:
    """||B1 B1^+ - B2 B2^+||_F: the distance between the column spaces, whatever the bases."""
    return float(np.linalg.norm(B1 @ np.linalg.pinv(B1) - B2 @ np.linalg.pinv(B2)))


def robust_basis(X: np.ndarray, k: int = 20, seed: int = 0) -> np.ndarray:
    """An orthonormal (d, k) basis A minimising sum_i ||x_i - A z_i||_2 (the norms, not squared).

    For an orthonormal A the best z_i is A^T x_i, so the objective is sum_i ||(I - A A^T) x_i||.
    Iteratively reweighted least squares: each pass solves the weighted squared problem with
    weights 1 / ||r_i|| (floored), i.e. the top-k eigenvectors of sum_i w_i x_i x_i^T; each pass
    does not increase the objective. Started from a random orthonormal basis drawn with `seed`.
    """
    rng = np.random.default_rng(seed)
    A, _ = np.linalg.qr(rng.standard_normal((X.shape[1], k)))
    for _ in range(200):
        residual = np.linalg.norm(X - (X @ A) @ A.T, axis=1)
        weights = 1.0 / np.maximum(residual, 1e-12)
        _, vectors = np.linalg.eigh((X * weights[:, None]).T @ X)
        new = vectors[:, ::-1][:, :k]
        if np.linalg.norm(new @ new.T - A @ A.T) < 1e-12:
            return new
        A = new
    return A


class DeepAutoencoder(nn.Module):
    """784-1000-500-250-code and its mirror (Hinton and Salakhutdinov 2006, Fig. 1): logistic hidden
    units, a linear code layer, logistic output units (pixels lie in [0, 1]).

    forward takes images flattened to (N, 784) with pixels in [0, 1] and returns the reconstructions (N, 784).
    code_dim=2 gives the network of Fig. 3.
    """

    def __init__(self, code_dim: int = 30):
        super().__init__()
        self.encoder = nn.Sequential(
            nn.Linear(784, 1000), nn.Sigmoid(), nn.Linear(1000, 500), nn.Sigmoid(),
            nn.Linear(500, 250), nn.Sigmoid(), nn.Linear(250, code_dim),
        )
        self.decoder = nn.Sequential(
            nn.Linear(code_dim, 250), nn.Sigmoid(), nn.Linear(250, 500), nn.Sigmoid(),
            nn.Linear(500, 1000), nn.Sigmoid(), nn.Linear(1000, 784), nn.Sigmoid(),
        )

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.encoder(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.encoder(x))


def pca_reconstruct(X: np.ndarray, k: int) -> np.ndarray:
    """X (n, d) projected onto its top-k principal components and mapped back: the mean of the rows
    is removed first and added back (standard PCA, as in the paper's Fig. 2)."""
    mean = X.mean(axis=0)
    _, _, vt = np.linalg.svd(X - mean, full_matrices=False)
    V = vt[:k].T
    return (X - mean) @ V @ V.T + mean
