"""Problem 2: stochastic optimisation methods for MNIST digit recognition, written by hand.

Neural-network modules and autograd are allowed; no built-in optimiser is: nothing from
`torch.optim` (not even its `Optimizer` base class) may be used here.

Keep the names and signatures: the autograder calls them. Hyperparameters have torch.optim's
names and defaults, so that your optimisers can be compared with torch's step by step.
The model receives images as `torch.float32` tensors of shape (N, 1, 28, 28) with pixels in [0, 1];
any further normalisation must happen inside the model.
"""

import torch
from torch import nn
from torch.nn import functional as F


class _Optimizer:
    """What every optimiser here shares: a list of parameters, zero_grad, per-parameter state."""

    def __init__(self, params):
        self.params = [p for p in params]
        if not self.params:
            raise ValueError("the optimiser got an empty list of parameters")
        self.state = [{} for _ in self.params]

    def zero_grad(self):
        for p in self.params:
            p.grad = None


class Adagrad(_Optimizer):
    """Adagrad (Duchi et al. 2011): G += g^2; p -= lr g / (sqrt(G) + eps)."""

    def __init__(self, params, lr=1e-2, eps=1e-10, weight_decay=0.0):
        super().__init__(params)
        self.lr, self.eps, self.weight_decay = lr, eps, weight_decay

    @torch.no_grad()
    def step(self):
        for p, state in zip(self.params, self.state):
            if p.grad is None:
                continue
            g = p.grad if self.weight_decay == 0 else p.grad + self.weight_decay * p
            total = state.setdefault("sum", torch.zeros_like(p))
            total.addcmul_(g, g)
            p.addcdiv_(g, total.sqrt().add_(self.eps), value=-self.lr)


class RMSprop(_Optimizer):
    """RMSprop (Tieleman and Hinton 2012): v = alpha v + (1 - alpha) g^2; p -= lr g / (sqrt(v) + eps)."""

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0):
        super().__init__(params)
        self.lr, self.alpha, self.eps, self.weight_decay = lr, alpha, eps, weight_decay

    @torch.no_grad()
    def step(self):
        for p, state in zip(self.params, self.state):
            if p.grad is None:
                continue
            g = p.grad if self.weight_decay == 0 else p.grad + self.weight_decay * p
            v = state.setdefault("square_avg", torch.zeros_like(p))
            v.mul_(self.alpha).addcmul_(g, g, value=1 - self.alpha)
            p.addcdiv_(g, v.sqrt().add_(self.eps), value=-self.lr)


class Adam(_Optimizer):
    """Adam, Algorithm 1 of Kingma and Ba (arXiv:1412.6980), with bias correction of both moments."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        super().__init__(params)
        self.lr, self.betas, self.eps, self.weight_decay = lr, betas, eps, weight_decay
        self.t = 0

    @torch.no_grad()
    def step(self):
        self.t += 1
        beta1, beta2 = self.betas
        correction1, correction2 = 1 - beta1 ** self.t, 1 - beta2 ** self.t
        for p, state in zip(self.params, self.state):
            if p.grad is None:
                continue
            g = p.grad if self.weight_decay == 0 else p.grad + self.weight_decay * p
            m = state.setdefault("m", torch.zeros_like(p))
            v = state.setdefault("v", torch.zeros_like(p))
            m.mul_(beta1).add_(g, alpha=1 - beta1)
            v.mul_(beta2).addcmul_(g, g, value=1 - beta2)
            m_hat = m / correction1
            v_hat = v / correction2
            p.addcdiv_(m_hat, v_hat.sqrt_().add_(self.eps), value=-self.lr)


def make_model() -> nn.Module:
    """Three weight layers, 784-256-128-10, with ReLU and dropout; returns the 10 logits."""
    return nn.Sequential(
        nn.Flatten(),
        nn.Linear(784, 256), nn.ReLU(), nn.Dropout(0.2),
        nn.Linear(256, 128), nn.ReLU(), nn.Dropout(0.2),
        nn.Linear(128, 10),
    )


def train(model, optimizer, loader, epochs) -> list[float]:
    """Minimise the cross-entropy of `model` over `loader` for `epochs` epochs; mean loss per epoch."""
    history = []
    for _ in range(epochs):
        model.train()
        total, count = 0.0, 0
        for images, labels in loader:
            optimizer.zero_grad()
            loss = F.cross_entropy(model(images), labels)
            loss.backward()
            optimizer.step()
            total += loss.item() * len(labels)
            count += len(labels)
        history.append(total / count)
    return history
