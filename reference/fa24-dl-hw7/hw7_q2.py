"""Homework 7, Q2: a Gaussian autoencoder on MNIST (reference).

The encoder is HW6 Q3's CNN, ending in a 10-dimensional z; the decoder roughly inverts it, from z
back to a 28 x 28 image in (0, 1). Batch normalisation and dropout (p = 0.1) follow every ReLU. The
forward pass returns cat(z, flatten(f - x)) of shape (N, 10 + 784): the mean square of it (MSE
against zeros) is the Gaussian autoencoder's ELBO loss, up to constants.

Handout mistakes, followed by the mathematics here:
- "Get the output image f by passing z2 through the encoder": through the decoder.
- Part (b) slices the generated images with `[0, 10:]`, which keeps the first sample alone; the
  n images are `[:, 10:]`.
- With enc_mode = 0, z2 = (2 - 0) * randn: Gaussian noise of standard deviation 2, not the standard
  Gaussian the text says. The formula is the handout's interface and is kept as it is.
"""

from __future__ import annotations

import torch
from torch import nn


class GaussianAutoencoder(nn.Module):
    """Encoder (HW6 Q3's CNN) to z in R^10, Gaussian noise, decoder back to a 28 x 28 image."""

    def __init__(self):
        super().__init__()
        self.encoder = nn.Sequential(
            nn.Conv2d(1, 20, 4, 1), nn.ReLU(), nn.BatchNorm2d(20), nn.Dropout(0.1),  # 20 x 25 x 25
            nn.Conv2d(20, 20, 4, 2), nn.ReLU(), nn.MaxPool2d(2), nn.BatchNorm2d(20), nn.Dropout(0.1),  # 20 x 5 x 5
            nn.Flatten(),
            nn.Linear(500, 250), nn.ReLU(), nn.BatchNorm1d(250), nn.Dropout(0.1),
            nn.Linear(250, 10),
        )
        self.decoder = nn.Sequential(
            nn.Linear(10, 360), nn.ReLU(), nn.BatchNorm1d(360), nn.Dropout(0.1),
            nn.Linear(360, 720), nn.ReLU(), nn.BatchNorm1d(720), nn.Dropout(0.1),
            nn.Unflatten(1, torch.Size([20, 6, 6])),
            nn.Upsample(scale_factor=2, mode="bicubic"),  # 20 x 12 x 12
            nn.ConvTranspose2d(20, 20, 4, stride=2, output_padding=1), nn.ReLU(), nn.BatchNorm2d(20),
            nn.Dropout(0.1),  # 20 x 27 x 27
            nn.ConvTranspose2d(20, 1, 4, stride=1, padding=1), nn.Sigmoid(),  # 1 x 28 x 28
        )

    def forward(self, x: torch.Tensor, enc_mode: float = 1) -> torch.Tensor:
        z = self.encoder(x)
        z2 = enc_mode * z + (2 - enc_mode) * torch.randn(z.shape)
        f = self.decoder(z2)
        return torch.cat((z, torch.flatten(f - x, 1)), 1)


def generate(model: GaussianAutoencoder, n: int = 20) -> torch.Tensor:
    """n random digits (n, 1, 28, 28): the decoder of Gaussian noise (enc_mode = 0), in eval mode."""
    model.eval()
    with torch.no_grad():
        out = model(torch.zeros(n, 1, 28, 28), enc_mode=0)
    return out[:, 10:].reshape(n, 1, 28, 28)


def train(model: GaussianAutoencoder, loader, lr: float = 0.1, epochs: int = 10) -> list[float]:
    """SGD on MSELoss(cat(z, f - x), 0), batches of 64 as the handout sets; the mean loss of each epoch."""
    loss_fn = nn.MSELoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    losses = []
    for _ in range(epochs):
        model.train()
        total, seen = 0.0, 0
        for x, _ in loader:
            out = model(x)
            loss = loss_fn(out, torch.zeros_like(out))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total, seen = total + loss.item() * len(x), seen + len(x)
        losses.append(total / seen)
    return losses


if __name__ == "__main__":
    from torchvision import datasets, transforms

    training_data = datasets.MNIST("data", train=True, download=True, transform=transforms.ToTensor())
    model = GaussianAutoencoder()
    train(model, torch.utils.data.DataLoader(training_data, batch_size=64, shuffle=True), lr=0.1, epochs=10)
    digits = generate(model, 20)
