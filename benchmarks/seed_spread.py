"""What the threshold benchmarks share (`uw_cse446_hw4_a5_dev_accuracy.py`, `..._a6_npmi.py`,
`..._a2_training.py`, `..._b1_test_mse.py`, `umn_csci5527_hw3_p3_robust.py`).

Each runs a check's own student half (the code the worker runs, on the inputs the parent hands it)
on the reference and on copies of it edited into the other answers the handout allows, each under
many seeds, then judges every run with the check's own judge and prints the distribution of the
metric the threshold is compared with. Faulty copies, run on a few seeds, give the floor. A
threshold is set from these tables: below the worst valid run by a stated margin, above the faulty
ones (docs quote the tables and the commands).

Runs are in-process, without the sandbox: the figures are the same (the worker adds only
isolation). The torch benchmarks use one thread, as the worker does; the timings quoted for the
numpy ones were taken with OMP_NUM_THREADS=1.
"""

from __future__ import annotations

import argparse
import functools
import inspect
import sys
import tempfile
import time
import types
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from autograder.config import REPO_ROOT
from autograder.inputs import InputSet, prepare
from autograder.model import Check, Outputs, Problem
from autograder.records import Record, flatten
from autograder.session import check_seed
from autograder.student import Subject

Edits = list[tuple[str, str]]
"""(old, new) replacements of a reference's source; each `old` must occur exactly once."""


def edited(source: str, edits: Edits) -> str:
    for old, new in edits:
        assert source.count(old) == 1, f"{old!r} is not in the source exactly once"
        source = source.replace(old, new)
    return source


def module_of(source: str, name: str) -> types.ModuleType:
    """`source` (a reference, edited here) imported as the module `name`."""
    module = types.ModuleType(name)
    exec(compile(source, name, "exec"), module.__dict__)  # noqa: S102 - our own reference, edited
    return module


def edited_module(path: Path, edits: Edits, name: str) -> types.ModuleType:
    """The module at `path` with `edits` applied to its source, imported under `name`."""
    return module_of(edited(path.read_text(), edits), name)


def built_under_seed(make, seed: int):
    """`make` (a model's class, or a function that builds one) run under torch seed `seed`, whatever
    the grader seeded before: a student's own initialisation. The global generator goes on from
    there, so the noise and the batches drawn later differ too."""
    import torch

    if isinstance(make, type):
        class Seeded(make):
            def __init__(self, *args, **kwargs):
                torch.manual_seed(seed)
                super().__init__(*args, **kwargs)
        Seeded.__name__ = make.__name__
        return Seeded

    @functools.wraps(make)  # keeps the signature, which the grader checks before it calls
    def seeded(*args, **kwargs):
        torch.manual_seed(seed)
        return make(*args, **kwargs)
    return seeded


def with_seed_argument(function, seed: int):
    """`function` called with `seed` for its argument `seed`, whatever the grader passed."""
    signature = inspect.signature(function)

    @functools.wraps(function)
    def seeded(*args, **kwargs):
        bound = signature.bind(*args, **kwargs)
        bound.arguments["seed"] = seed
        return function(*bound.args, **bound.kwargs)
    return seeded


def seed_as_the_worker(seed: int) -> None:
    """`random`, numpy and (where imported) torch, as the worker seeds them before each half."""
    from autograder import worker

    worker._torch = sys.modules.get("torch")  # the worker sets it once it has imported torch
    worker.seed_everything(seed)


def check_of(problem: Problem, check_id: str) -> Check:
    return next(c for c in problem.checks if c.id == check_id)


class Grader:
    """The inputs of some checks, prepared once in a temporary folder by the parent's own code, and
    their halves run as the worker runs them (seeded with the check's own seed first)."""

    def __init__(self, data_root: Path, input_sets: Iterable[InputSet] = ()):
        self.data_root = data_root
        self._folder = tempfile.TemporaryDirectory(prefix="seed-spread-")
        self.inputs_dir = Path(self._folder.name) / "inputs"
        prepare(input_sets, data_root, self.inputs_dir)

    def subject(self, modules: Mapping[str, types.ModuleType], trusted: bool = False,
                folder: Path | None = None, declared: tuple[str, ...] = ()) -> Subject:
        """The student's modules (and `folder`, where its checkpoints are); for a trusted half, the data
        root, of which it may read the data sets its check declares."""
        return Subject(modules, folder, self.data_root if trusted else None, self.inputs_dir, declared)

    def student_half(self, check: Check, modules: Mapping[str, types.ModuleType], folder: Path | None = None
                     ) -> Outputs:
        seed_as_the_worker(check_seed(check))
        return _as_judged(check, check.run(self.subject(modules, folder=folder)), "run")

    def expected(self, check: Check, modules: Mapping[str, types.ModuleType], folder: Path | None = None
                 ) -> Outputs:
        seed_as_the_worker(check_seed(check))
        return _as_judged(check, check.expected_half()(
            self.subject(modules, trusted=True, folder=folder, declared=check.data)), "expected")

    @staticmethod
    def passes(check: Check, got: Outputs, expected: Outputs) -> bool:
        return check.judge(got, expected, check).fraction == 1.0


def _as_judged(check: Check, outputs, half: str):
    """What the judge reads: a record rebuilt from its flat form, as the parent rebuilds it."""
    return check.read(flatten(outputs), half) if isinstance(outputs, Record) else outputs


@dataclass
class Runs:
    """One variant's runs: the metric, whether the check passed, seconds."""

    name: str
    values: list[float] = field(default_factory=list)
    passed: list[bool] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)

    def row(self, fmt: str) -> str:
        a = np.array(self.values)
        figures = " | ".join(f"{v:{fmt}}" for v in (a.min(), np.percentile(a, 5), np.median(a), a.max()))
        return (f"| {self.name} | {len(a)} | {figures} | {sum(self.passed)} of {len(a)} "
                f"| {np.mean(self.seconds):.2f} |")


def arguments(doc: str | None, seeds: int = 20, faulty_seeds: int = 3) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-root", type=Path, default=REPO_ROOT.parent / "shared" / "data")
    parser.add_argument("--seeds", type=int, default=seeds, help="seeds per valid variant")
    parser.add_argument("--faulty-seeds", type=int, default=faulty_seeds, help="seeds per faulty variant")
    parser.add_argument("--only", default="", help="run only the variants whose name contains this")
    return parser


def sweep(title: str, variants: Mapping[str, object], faulty: Iterable[str], args: argparse.Namespace,
          run: Callable[[str, object, int], tuple[float, bool]], fmt: str = ".3f") -> list[Runs]:
    """`run(name, variant, seed) -> (metric, passed)` for seeds 0.. of each variant (fewer for the
    faulty ones); prints each run as it ends, then the table of the distribution."""
    faulty, table = set(faulty), []
    for name, variant in variants.items():
        if args.only not in name:
            continue
        runs = Runs(name)
        for seed in range(args.faulty_seeds if name in faulty else args.seeds):
            start = time.perf_counter()
            value, passed = run(name, variant, seed)
            runs.values.append(value)
            runs.passed.append(passed)
            runs.seconds.append(time.perf_counter() - start)
            print(f"{title}: {name}, seed {seed}: {value:{fmt}}, {'passed' if passed else 'FAILED'}, "
                  f"{runs.seconds[-1]:.2f} s", flush=True)
        if runs.values:
            table.append(runs)
    print(f"\n{title}\n\n| variant | seeds | min | p5 | median | max | passed | s/run |\n"
          "|---|---|---|---|---|---|---|---|")
    print("\n".join(r.row(fmt) for r in table), flush=True)
    return table
