"""ualberta-hw4: the distributions behind the thresholds of the three training checks
(`q4.train_mnist_vae.lowers_negative_elbo`, `q5.train_mnist_cvae.lowers_negative_elbo`,
`q5.train_mnist_cvae.generates_the_class_asked`); q4.py, q5.py and docs/ualberta-hw4.md quote what it prints.

Every run goes through the check's own student half (the student's train function under the check's
budget, common.py: 20,000 binarised MNIST images, 5 epochs, batches of 128, Adam 5e-3) and is judged by
the check's own judge, against the reference's expected values at the check's own seed. What varies
is what a valid student's code varies: the `seed` the function is given (1-10; the check passes 1),
and what the handout leaves open: the latent size (2 and 16: MNIST_Args' latent_dim, which students
change to look at the latent space), the hidden size (32, 64, 128: MNIST_Args' hidden_dim), and batches
taken in order, as the notebook's own loop takes them, instead of shuffled. Faulty trainers give the floor.

The training checks' metric printed is the negative ELBO in nats per image on the 1,000 unseen images,
minus the reference's at the check's seed (the checks allow q4.MARGIN and q5.MARGIN); the generation
check's is the share of generated digits the reference classifier reads as the class asked (the check
asks for q5.RATE_FRACTION of the reference's share).

    AUTOGRADER_DATA_ROOT=../shared/data python benchmarks/ualberta_hw4_training.py [--seeds 10] [--only latent]

One CPU thread: about 2 s a run; the defaults (6 variants x 10 seeds, faults x 3, three checks) about 8 minutes.
"""

from __future__ import annotations

import sys

import numpy as np
import torch
from seed_spread import Grader, arguments, check_of, edited, module_of, sweep, with_seed_argument

from autograder.assignments.ualberta_hw4 import common, q4, q5
from autograder.config import REPO_ROOT

FOLDER = REPO_ROOT / "reference" / "ualberta-hw4"
LOOP = "        for rows in torch.randperm(len(X)).split(batch_size):\n"
IN_ORDER = "        for rows in torch.arange(len(X)).split(batch_size):\n"
VAE_BUILD, CVAE_BUILD = "vae = make_mnist_vae(input_dim=X.shape[1])", "cvae = make_mnist_cvae(input_dim=X.shape[1])"


def variants(build: str) -> dict[str, list[tuple[str, str]]]:
    def sized(**kw) -> list[tuple[str, str]]:
        return [(build, build[:-1] + "".join(f", {k}={v}" for k, v in kw.items()) + ")")]
    return {"reference (latent 16, hidden 64)": [], "latent 2": sized(latent_dim=2),
            "hidden 32": sized(hidden_dim=32), "hidden 128": sized(hidden_dim=128),
            "latent 2, hidden 32": sized(latent_dim=2, hidden_dim=32),
            "batches in order (the notebook's loop)": [(LOOP, IN_ORDER)]}


FAULTY = {"faulty: never steps": [("            optimizer.step()\n", "")]}
VAE_FAULTY = {**FAULTY,
              "faulty: sampling without the reparameterisation (.sample())": [
                  ("h = mu + torch.exp(logvar / 2) * torch.randn_like(mu)",
                   "h = torch.distributions.Normal(mu, torch.exp(logvar / 2)).sample()")],
              "faulty: log-likelihood averaged over the pixels": [
                  ("(1 - x) * torch.log(1 - x_hat), dim=1)", "(1 - x) * torch.log(1 - x_hat), dim=1) / x.shape[1]")]}
CVAE_FAULTY = {**FAULTY, "faulty: decoder told class 0 in training": [
    ("return mu, logvar, cvae.decoder(append_class(h, y))", "return mu, logvar, cvae.decoder(append_class(h, 0 * y))")]}


def modules(vae_edits=(), cvae_edits=()) -> dict:
    vae = module_of(edited((FOLDER / "hw4_vae.py").read_text(), list(vae_edits)), "hw4_vae")
    sys.modules["hw4_vae"] = vae  # hw4_cvae imports it
    cvae = module_of(edited((FOLDER / "hw4_cvae.py").read_text(), list(cvae_edits)), "hw4_cvae")
    return {"hw4_vae": vae, "hw4_cvae": cvae}


def runner(grader: Grader, problem, check_id: str, module: str, metric):
    check = check_of(problem.PROBLEM, check_id)
    expected = grader.expected(check, modules())

    def run(name, edits, seed):
        mods = modules(edits, ()) if module == "hw4_vae" else modules((), edits)
        train = "train_mnist_vae" if module == "hw4_vae" else "train_mnist_cvae"
        setattr(mods[module], train, with_seed_argument(getattr(mods[module], train), seed + 1))
        got = grader.student_half(check, mods)
        return metric(got, expected), grader.passes(check, got, expected)
    return run


def excess(got, expected) -> float:
    x = expected.images.astype(np.float64)
    return (common.negative_elbo(x, got.mu, got.logvar, got.x_hat)[0]
            - common.negative_elbo(x, expected.mu, expected.logvar, expected.x_hat)[0])


def rate(got, expected) -> float:
    return float(q5.rates(got.images)[1].mean())


def main() -> None:
    args = arguments(__doc__, seeds=10, faulty_seeds=3).parse_args()
    torch.set_num_threads(1)
    grader = Grader(args.data_root, [common.TRAINING_SET])
    for label, problem, check_id, module, metric, build, faulty in (
            ("q4 negative ELBO minus the reference's (nats)", q4, "q4.train_mnist_vae.lowers_negative_elbo",
             "hw4_vae", excess, VAE_BUILD, VAE_FAULTY),
            ("q5 negative conditional ELBO minus the reference's (nats)", q5, "q5.train_mnist_cvae.lowers_negative_elbo",
             "hw4_cvae", excess, CVAE_BUILD, CVAE_FAULTY),
            ("q5 share of generated digits read as the class asked", q5,
             "q5.train_mnist_cvae.generates_the_class_asked", "hw4_cvae", rate, CVAE_BUILD, CVAE_FAULTY)):
        run = runner(grader, problem, check_id, module, metric)
        seed_one = run("reference", [], common.SEED - 1)[0]  # run() passes seed + 1
        print(f"{label}: the reference at the check's seed: {seed_one:.3f}", flush=True)
        sweep(label, {**variants(build), **faulty}, faulty, args, run)


if __name__ == "__main__":
    main()
