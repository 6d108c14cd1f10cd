"""Problem 2: stochastic optimisation methods for MNIST digit recognition, written by hand.

Neural-network modules and autograd are allowed; no built-in optimiser is: nothing from
`torch.optim` (not even its `Optimizer` base class) may be used in this file. The autograder
checks the source and watches torch.optim while your optimisers run.

Keep the names and signatures: the autograder calls them. Hyperparameters have torch.optim's
names and defaults, because your optimisers are compared with torch's step by step.
The model receives images as `torch.float32` tensors of shape (N, 1, 28, 28) with pixels in [0, 1]
(what torchvision's ToTensor gives); any further normalisation must happen inside the model.

Submit the trained weights too: `torch.save(model.state_dict(), "p2_adam.pt")`, and likewise
`p2_adagrad.pt` and `p2_rmsprop.pt`, each the state_dict of a model built by `make_model()`.
"""

import torch
from torch import nn
from torch.nn import functional as F


class Adagrad:
    """Adagrad: G += g^2 (summed over all steps so far); p -= lr * g / (sqrt(G) + eps)."""

    def __init__(self, params, lr=1e-2, eps=1e-10, weight_decay=0.0):
        # TODO (b): keep a list of the parameters and the hyperparameters; create the state.
        raise NotImplementedError("Adagrad.__init__")

    def zero_grad(self):
        """Clear the gradient of every parameter (set it to None or to zeros)."""
        # TODO (b)
        raise NotImplementedError("Adagrad.zero_grad")

    def step(self):
        """Update every parameter in place from its .grad, inside torch.no_grad()."""
        # TODO (b)
        raise NotImplementedError("Adagrad.step")


class RMSprop:
    """RMSprop: v = alpha v + (1 - alpha) g^2; p -= lr * g / (sqrt(v) + eps)."""

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0):
        # TODO (c)
        raise NotImplementedError("RMSprop.__init__")

    def zero_grad(self):
        """Clear the gradient of every parameter."""
        # TODO (c)
        raise NotImplementedError("RMSprop.zero_grad")

    def step(self):
        """Update every parameter in place from its .grad, inside torch.no_grad()."""
        # TODO (c)
        raise NotImplementedError("RMSprop.step")


class Adam:
    """Adam, Algorithm 1 of Kingma and Ba (arXiv:1412.6980), with the bias correction:
    m = beta1 m + (1 - beta1) g, v = beta2 v + (1 - beta2) g^2, m_hat = m / (1 - beta1^t),
    v_hat = v / (1 - beta2^t), p -= lr * m_hat / (sqrt(v_hat) + eps), t counting steps from 1."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        # TODO (d)
        raise NotImplementedError("Adam.__init__")

    def zero_grad(self):
        """Clear the gradient of every parameter."""
        # TODO (d)
        raise NotImplementedError("Adam.zero_grad")

    def step(self):
        """Update every parameter in place from its .grad, inside torch.no_grad()."""
        # TODO (d)
        raise NotImplementedError("Adam.step")


def make_model() -> nn.Module:
    """Return a network with exactly three weight layers (Linear or Conv) that maps images
    (N, 1, 28, 28) to 10 outputs (one score per class)."""
    # TODO (a): choose the architecture.
    raise NotImplementedError("make_model")


def train(model, optimizer, loader, epochs) -> list[float]:
    """Train `model` with `optimizer` over the (images, labels) batches of `loader` for `epochs` epochs.

    Return a list of `epochs` floats: the mean training loss of each epoch.
    """
    # TODO (a)-(d): zero_grad, loss, backward, step for each batch.
    raise NotImplementedError("train")
