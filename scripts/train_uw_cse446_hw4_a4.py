"""Train the A4 reference networks on CIFAR-10; write the checkpoints a4_c.pt (ConvPool) and a4_d.pt
(TutorialNet) and print the figures of docs/uw-cse446-hw4-a4.md: validation and test accuracy of
each network, the train accuracy that part (d) asks for, training times, and the FGSM flip rate.

    python scripts/train_uw_cse446_hw4_a4.py [--data-root ../shared/data] [--only c d] [--threads 2]

The last 500 training images of each class (in the data set's order) are the validation split, so
the grader's train-accuracy subset (the first 1000 of each class) is made of training images.
Adam with a one-cycle schedule, batches of 128; ConvPool trains on random crops (padding 4) and
horizontal flips, the others on the images as they are.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from autograder.config import REPO_ROOT
from autograder.data import cifar10

REFERENCE = REPO_ROOT / "reference" / "uw-cse446-hw4"
VALIDATION_PER_CLASS, SEED, BATCH_SIZE = 500, 0, 128
PLANS = {  # part: (builder, config name or kwargs, epochs, max lr, augment, checkpoint)
    "a": ("LogisticRegression", {}, 6, 2e-3, False, None),
    "b": ("OneHiddenLayer", {"M": 512}, 10, 1e-3, False, None),
    "c": ("ConvPool", "CONV_POOL_CONFIG", 20, 3e-3, True, "a4_c.pt"),
    "d": ("TutorialNet", "TUTORIAL_NET_CONFIG", 12, 2e-3, False, "a4_d.pt"),
}


def normalise(images: np.ndarray) -> torch.Tensor:
    return (torch.from_numpy(images).permute(0, 3, 1, 2).float() / 255.0 - 0.5) / 0.5


def augment(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    padded = F.pad(x, (4, 4, 4, 4), mode="reflect")
    i, j = torch.randint(0, 9, (2,), generator=generator).tolist()
    x = padded[:, :, i:i + 32, j:j + 32]
    flip = torch.rand(len(x), generator=generator) < 0.5
    return torch.where(flip[:, None, None, None], x.flip(3), x)


def accuracy(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    model.eval()
    with torch.no_grad():
        predictions = torch.cat([model(part).argmax(1) for part in x.split(1000)])
    return (predictions == y).float().mean().item()


def split_validation(labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    held = np.zeros(len(labels), dtype=bool)
    for label in range(10):
        held[np.flatnonzero(labels == label)[-VALIDATION_PER_CLASS:]] = True
    return np.flatnonzero(~held), np.flatnonzero(held)


def train(model, x, y, epochs, lr, augmenting, x_val, y_val, name):
    generator = torch.Generator().manual_seed(SEED)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    steps = epochs * ((len(x) + BATCH_SIZE - 1) // BATCH_SIZE)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=lr, total_steps=steps)
    for epoch in range(epochs):
        model.train()
        start = time.perf_counter()
        for rows in torch.randperm(len(x), generator=generator).split(BATCH_SIZE):
            batch = augment(x[rows], generator) if augmenting else x[rows]
            loss = F.cross_entropy(model(batch), y[rows])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            schedule.step()
        print(f"  {name} epoch {epoch + 1}: last loss {loss.item():.3f}, validation accuracy "
              f"{accuracy(model, x_val, y_val):.4f} ({time.perf_counter() - start:.0f} s)", flush=True)


def flip_rate(hw4_a4, model, x, y, epsilon):
    model.eval()
    with torch.no_grad():
        right = model(x).argmax(1) == y
    x, y = x[right], y[right]
    attacked = hw4_a4.fgsm(model, x, y, epsilon)
    with torch.no_grad():
        return (model(attacked).argmax(1) != y).float().mean().item()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-root", type=Path, default=REPO_ROOT.parent / "shared" / "data")
    parser.add_argument("--only", nargs="+", default=list(PLANS), choices=list(PLANS))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=None, help="override every plan's epochs")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    sys.path.insert(0, str(REFERENCE))
    import hw4_a4

    folder = args.data_root / cifar10.DATASET
    train_images, train_labels = cifar10.load(folder, "train")
    test_images, test_labels = cifar10.load(folder, "test")
    fit, held = split_validation(train_labels)
    x, y = normalise(train_images[fit]), torch.from_numpy(train_labels[fit])
    x_val, y_val = normalise(train_images[held]), torch.from_numpy(train_labels[held])
    x_test, y_test = normalise(test_images), torch.from_numpy(test_labels)
    graded_x, graded_y = (normalise(a) if a.ndim == 4 else torch.from_numpy(a)
                          for a in cifar10.load(folder, "train", per_class=1000))
    for part in args.only:
        builder, config, epochs, lr, augmenting, checkpoint = PLANS[part]
        kwargs = getattr(hw4_a4, config) if isinstance(config, str) else config
        torch.manual_seed(SEED)
        model = getattr(hw4_a4, builder)(**kwargs)
        start = time.perf_counter()
        train(model, x, y, args.epochs or epochs, lr, augmenting, x_val, y_val, builder)
        seconds = time.perf_counter() - start
        print(f"{part}) {builder}({kwargs}): test accuracy {accuracy(model, x_test, y_test):.4f}, validation "
              f"{accuracy(model, x_val, y_val):.4f}, train (first 1000 per class) "
              f"{accuracy(model, graded_x, graded_y):.4f}; {args.epochs or epochs} epochs in {seconds:.0f} s "
              f"on {args.threads} threads", flush=True)
        if checkpoint:
            torch.save(model.state_dict(), REFERENCE / checkpoint)
            print(f"   wrote {checkpoint}: {(REFERENCE / checkpoint).stat().st_size / 1e6:.2f} MB", flush=True)
        if part == "d":
            for pixels in (1, 2, 4, 8):
                rate = flip_rate(hw4_a4, model, graded_x[::5], graded_y[::5], pixels / 255 / 0.5)
                print(f"   FGSM at epsilon {pixels}/255 of the pixel range: {rate:.1%} of correctly classified "
                      f"training images change class", flush=True)


if __name__ == "__main__":
    main()
