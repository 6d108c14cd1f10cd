"""Problem 3: robust subspaces, and the deep autoencoder of Hinton and Salakhutdinov (2006).

Keep the names and signatures: the autograder calls them. Data points are rows.

Submit the trained autoencoder too: `torch.save(model.state_dict(), "p3_autoencoder.pt")` for a
`DeepAutoencoder(code_dim=30)` (float16 tensors are fine: they are loaded into the float32 model).
"""

import numpy as np
import torch
from torch import nn


def make_subspace_data(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Return (B, X): an orthonormal basis B (200x20), and X (100x200) whose first 98 rows are B z_i
    with z_i ~ N(0, I_20) and whose last 2 rows are Gaussian outliers in R^200.

    Draw everything from `np.random.default_rng(seed)`; scale every row of X to unit l2 norm; do not centre.
    """
    # TODO (a)
    raise NotImplementedError("make_subspace_data")


def pca_basis(X: np.ndarray, k: int = 20) -> np.ndarray:
    """Return the top-k right singular vectors of X (no centring) as the columns of a (d, k) array."""
    # TODO (a)
    raise NotImplementedError("pca_basis")


def subspace_distance(B1: np.ndarray, B2: np.ndarray) -> float:
    """Return ||B1 B1^+ - B2 B2^+||_F (B^+ the pseudo-inverse), a float; the bases need not be orthonormal."""
    # TODO (a)
    raise NotImplementedError("subspace_distance")


def robust_basis(X: np.ndarray, k: int = 20, seed: int = 0) -> np.ndarray:
    """Return a (d, k) basis A that (approximately) minimises sum_i ||x_i - A z_i||_2 over A and the z_i:
    the norms, not their squares. Solve it numerically (autograd is allowed); `seed` seeds any randomness."""
    # TODO (a)
    raise NotImplementedError("robust_basis")


class DeepAutoencoder(nn.Module):
    """784-1000-500-250-code and its mirror image (Fig. 1 of the paper): logistic (sigmoid) hidden
    units and a linear code layer. code_dim=2 gives the network of Fig. 3.

    forward(x) takes images flattened to (N, 784) with pixels in [0, 1] and returns the
    reconstructions, also (N, 784).
    """

    def __init__(self, code_dim: int = 30):
        super().__init__()
        # TODO (b): build the encoder and the decoder.
        raise NotImplementedError("DeepAutoencoder.__init__")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # TODO (b)
        raise NotImplementedError("DeepAutoencoder.forward")


def pca_reconstruct(X: np.ndarray, k: int) -> np.ndarray:
    """Return X (n, d) projected onto its top-k principal directions and mapped back to (n, d)."""
    # TODO (b)
    raise NotImplementedError("pca_reconstruct")
