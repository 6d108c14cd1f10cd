"""Train the reference Gaussian autoencoder of fa24-dl-hw7 Q2 on MNIST, for the picture of its
generated digits in the students' reports (run on demand; the weights are in the repository).

    AUTOGRADER_DATA_ROOT=../shared/data python scripts/train_fa24_dl_hw7_autoencoder.py --epochs 3

The handout's training exactly (reference/fa24-dl-hw7/hw7_q2.py `train`: SGD, lr 0.1, batches of
64, MSE of cat(z, f - x) against zeros, enc_mode = 1) on the 60,000 training images, from
torch.manual_seed(SEED). The graded check trains for 60 steps only, after which a decoder draws
noise; these weights are what a student's `generate` is shown on instead. They are stored in
float16 (half the bytes; generated images differ by less than 1/255 from float32's), as the
state dict of the reference's layout (`encoder.*`, `decoder.*`), which the layers check holds
every passing submission to.
"""

from __future__ import annotations

import argparse
import importlib.util
import time
from pathlib import Path

import numpy as np
import torch

from autograder.assignments.fa24_dl_hw7 import q2
from autograder.config import REPO_ROOT, GradingConfig
from autograder.data import mnist

SEED = 2024


def reference_module():
    path = REPO_ROOT / "reference" / "fa24-dl-hw7" / "hw7_q2.py"
    spec = importlib.util.spec_from_file_location("hw7_q2_reference", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--out", type=Path, default=q2.TRAINED_WEIGHTS)
    args = parser.parse_args()

    root = GradingConfig().data_root
    if root is None:
        raise SystemExit("Set AUTOGRADER_DATA_ROOT to the folder that holds mnist/.")
    images, labels = mnist.load(root / mnist.DATASET, "train")
    x = torch.from_numpy(images.astype(np.float32) / 255).unsqueeze(1)
    data = torch.utils.data.TensorDataset(x, torch.from_numpy(labels.astype(np.int64)))

    reference = reference_module()
    torch.manual_seed(SEED)
    model = reference.GaussianAutoencoder()
    loader = torch.utils.data.DataLoader(data, batch_size=64, shuffle=True,
                                         generator=torch.Generator().manual_seed(SEED))
    for epoch in range(args.epochs):
        start = time.perf_counter()
        loss = reference.train(model, loader, lr=0.1, epochs=1)[0]
        print(f"epoch {epoch + 1}: mean loss {loss:.5f} ({time.perf_counter() - start:.0f} s)")
    half = {name: value.half() if value.is_floating_point() else value for name, value in model.state_dict().items()}
    torch.save(half, args.out)
    print(f"wrote {args.out} ({args.out.stat().st_size / 1e6:.2f} MB)")


if __name__ == "__main__":
    main()
