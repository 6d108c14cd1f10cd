"""The tests' one fixtures module: data roots, the expected-value cache, grading of in-memory
submissions, and the helpers that read a Grade.

Grading runs the student halves in this process (tests/inprocess.py): the judge path, in
milliseconds. A module marked `slow` grades in the sandboxed worker instead, as real gradings do;
those modules test what only the sandbox can show. `sandbox=True` asks for it in one call.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import torch
from inprocess import InProcessSession

from autograder.assignments import load_assignment
from autograder.config import REPO_ROOT, GradingConfig
from autograder.data import _synthetic, agnews, cifar10, glove, mnist, movielens, sst2
from autograder.isolation import identity_unavailable
from autograder.results import Grade
from autograder.runner import grade
from autograder.session import WorkerSession
from autograder.writers import render_html

HW3 = "umn-csci5527-hw3"
HW4 = "uw-cse446-hw4"


def pytest_collection_modifyitems(items) -> None:
    """Tests on the real data sets train and evaluate at full size: they run in the full lane."""
    for item in items:
        if item.get_closest_marker("realdata"):
            item.add_marker(pytest.mark.slow)


# --- sources --------------------------------------------------------------------------------------

def reference_text(assignment: str, file: str) -> str:
    return (REPO_ROOT / "reference" / assignment / file).read_text()


def reference(file: str) -> str:
    """A reference file of uw-cse446-hw4."""
    return reference_text(HW4, file)


def template(file: str) -> str:
    """A starter file of uw-cse446-hw4."""
    return (REPO_ROOT / "student_template" / HW4 / file).read_text()


def mutate(text: str, old: str, new: str) -> str:
    """The reference with one deliberate fault; fails loudly if the reference changed under it."""
    assert text.count(old) == 1, f"expected exactly one {old!r} in the reference"
    return text.replace(old, new)


def edited(text: str, edits: Iterable[tuple[str, str]]) -> str:
    """The reference with each (old, new) edit made in turn, each by `mutate`."""
    for old, new in edits:
        text = mutate(text, old, new)
    return text


@dataclass(frozen=True)
class Fault:
    """A mistake real students make, as edits of the reference file, with the checks it must lose
    (exactly these, or at least these when `exact` is False) and words that what the student reads
    must contain: the messages of `read`, or of every lost check.

    Each problem's test module declares its faults in one table, `FAULTS`, graded by one
    parametrized test; tests/test_every_check_paired.py asserts that they fail every check."""

    edits: tuple[tuple[str, str], ...]
    lost: frozenset[str]
    words: tuple[str, ...] = ()
    read: str | None = None
    exact: bool = True

    def __post_init__(self) -> None:  # tables write lists and sets; the record holds them frozen
        object.__setattr__(self, "edits", tuple(tuple(e) for e in self.edits))
        object.__setattr__(self, "lost", frozenset(self.lost))
        object.__setattr__(self, "words", tuple(self.words))

    def apply(self, text: str) -> str:
        return edited(text, self.edits)

    def assert_graded(self, g: Grade, problem: str) -> None:
        """`g` (a grading of the faulty file) lost what this fault must lose, and said so."""
        lost_here = lost_in(g, problem)
        wrong = lost_here != self.lost if self.exact else not self.lost <= lost_here
        assert not wrong, f"lost {sorted(lost_here)}, expected {'' if self.exact else 'at least '}{sorted(self.lost)}"
        said = " ".join(text_of(c) for c in g.checks if c.id in ({self.read} if self.read else self.lost))
        missing = [w for w in self.words if w not in said]
        assert not missing, f"{missing} not in: {said}"


# --- data roots -----------------------------------------------------------------------------------

def real_data_root(*datasets: str) -> Path:
    """The data root holding the real data sets; the test is skipped, saying where it looked, without them."""
    root = Path(os.environ.get("AUTOGRADER_DATA_ROOT") or REPO_ROOT.parent / "shared" / "data")
    for name in datasets:
        if not (root / name).is_dir():
            pytest.skip(f"real data set {name} not found under {root} (set AUTOGRADER_DATA_ROOT)")
    return root


def readable(root: Path) -> Path:
    """Readable by the worker's unprivileged user (pytest's tmp is root's alone)."""
    for path in (root, *root.rglob("*")):
        path.chmod(0o755 if path.is_dir() else 0o644)
    return root


def world_writable(prefix: str, parent: str | Path):
    """A fixture's body: a folder anyone may write (mode 1777) under `parent`, outside every grading's
    scratch, where an attack that got through leaves its mark; removed after the test."""
    folder = Path(tempfile.mkdtemp(prefix=prefix, dir=parent))
    folder.chmod(0o1777)
    yield folder
    shutil.rmtree(folder)


def _temporary_root(prefix: str, write: Callable[[Path], object]):
    root = Path(tempfile.mkdtemp(prefix=prefix))
    write(root)
    yield readable(root)
    shutil.rmtree(root)


@pytest.fixture
def real_root() -> Path:
    """The data root holding the real MNIST."""
    return real_data_root(mnist.DATASET)


@pytest.fixture(scope="session")
def hw3_root():
    """A small fake MNIST."""
    yield from _temporary_root("hw3-data-", lambda root: mnist.write_fake_mnist(root, n_train=50, n_test=40))


def write_hw4_root(root: Path) -> Path:
    """MovieLens, SST-2, GloVe, AG News and MNIST, fake, in their real formats."""
    movielens.write_fake_ratings(root)
    sst2.write_fake_sst2(root)
    glove.write_fake_glove(root, sorted({*sst2.POSITIVE, *sst2.NEGATIVE, *sst2.NEUTRAL} - {"zzyzx"}))
    agnews.write_fake_agnews(root)
    mnist.write_fake_mnist(root)
    return root


@pytest.fixture(scope="session")
def hw4_root():
    yield from _temporary_root("hw4-data-", write_hw4_root)


# A3's data root: a fake CIFAR-10 in colours and a stand-in for AlexNet's pretrained weights.
WEIGHTS_DATASET, WEIGHTS_FILE = "alexnet-weights", "alexnet-owt-7be5be79.pth"
FAKE_TRAIN_PER_CLASS, FAKE_TEST_PER_CLASS = 8, 5
"""Fewer images than the check's budget takes (20 and 20 per class): the budget takes what there is,
and the tests stay fast."""
COLOURS = ((230, 30, 30), (30, 200, 30), (30, 30, 230), (230, 230, 30), (230, 30, 230), (30, 230, 230),
           (240, 240, 240), (20, 20, 20), (128, 128, 128), (240, 140, 20))
COLOUR_CHANNELS = 64


def write_colour_cifar10(root: Path, n_train: int = FAKE_TRAIN_PER_CLASS, n_test: int = FAKE_TEST_PER_CLASS,
                         seed: int = 0) -> None:
    """A fake CIFAR-10 in a real layout (`cifar10/<split>/<class>/NNNN.png`, marked synthetic), one
    colour a class under noise. `cifar10.write_fake_cifar10`'s images are made for a small network
    trained from scratch (colours close together, stripes): through the stand-in weights below, a few
    steps do not separate them; distinct colours are what a pretrained network makes of real classes."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    folder = root / cifar10.DATASET
    for split, n in (("train", n_train), ("test", n_test)):
        for label, name in enumerate(cifar10.CLASSES):
            (folder / split / name).mkdir(parents=True, exist_ok=True)
            for i in range(n):
                pixels = np.array(COLOURS[label], dtype=float) + rng.normal(0, 30, (32, 32, 3))
                Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)).save(folder / split / name / f"{i:04d}.png")
    _synthetic.mark(folder)


def stand_in_weights() -> dict[str, torch.Tensor]:
    """A deterministic AlexNet state_dict whose features carry the images' colours, so that the fake
    CIFAR-10 is learnable within the check's budget, as real CIFAR-10 is from the real weights.
    Random weights are not: their features drown the colour within a few layers.

    conv1 averages 32 random mixes of the colour channels into 64 channels (each mix and its
    negative, so that ReLU loses nothing), the other convolutions pass those channels through (a 1 at
    the kernel's centre), and the classifier is random with He-like scales (classifier.4 at half of
    it, which keeps lr 1e-3 stable).
    """
    from autograder.assignments.uw_cse446_hw4.alexnet import AlexNet

    with torch.device("meta"):
        model = AlexNet()
    state = {name: torch.zeros(t.shape) for name, t in model.state_dict().items()}
    g = torch.Generator().manual_seed(0)
    half = COLOUR_CHANNELS // 2
    mix = torch.randn(half, 3, generator=g)
    mix = mix / mix.norm(dim=1, keepdim=True)
    state["features.0.weight"][:half] = mix[:, :, None, None] / 121
    state["features.0.weight"][half:COLOUR_CHANNELS] = -mix[:, :, None, None] / 121
    for i in (3, 6, 8, 10):
        w = state[f"features.{i}.weight"]
        for c in range(COLOUR_CHANNELS):
            w[c, c, w.shape[-2] // 2, w.shape[-1] // 2] = 1.0
    state["classifier.1.weight"].normal_(0, (2 / (COLOUR_CHANNELS * 36)) ** 0.5, generator=g)
    state["classifier.4.weight"].normal_(0, 0.5 * (2 / 4096) ** 0.5, generator=g)
    state["classifier.6.weight"].normal_(0, 0.01, generator=g)
    return state


def write_stand_in_weights(root: Path) -> Path:
    folder = root / WEIGHTS_DATASET
    folder.mkdir(parents=True, exist_ok=True)
    torch.save(stand_in_weights(), folder / WEIGHTS_FILE)
    _synthetic.mark(folder)  # no sha256 check: this is not torchvision's file
    return folder / WEIGHTS_FILE


@pytest.fixture(scope="session")
def a3_root():
    yield from _temporary_root("hw4-a3-data-", lambda root: (write_colour_cifar10(root), write_stand_in_weights(root)))


# --- grading --------------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory) -> Path:
    """One cache for the whole run, as in real use: values are keyed by the data sets they read, so
    the synthetic and the real roots never share one."""
    return tmp_path_factory.mktemp("expected-cache")


@pytest.fixture(scope="session")
def make_config(cache_dir) -> Callable[..., GradingConfig]:
    def make(**overrides) -> GradingConfig:
        return GradingConfig(**{"cache_dir": cache_dir, **overrides})
    return make


@pytest.fixture(scope="module")
def grade_files(request, make_config, tmp_path_factory) -> Callable[..., Grade]:
    """grade_files({file name: text, bytes or a path to copy}, assignment=HW3, sandbox=None, **config).

    In this process, or in the sandbox for a module marked `slow` or with `sandbox=True`."""
    sandboxed = request.node.get_closest_marker("slow") is not None

    def run(files: Mapping[str, str | bytes | Path], assignment: str = HW3, *, sandbox: bool | None = None,
            **overrides) -> Grade:
        folder = tmp_path_factory.mktemp("submission")
        for name, content in files.items():
            if isinstance(content, str):
                (folder / name).write_text(content)
            elif isinstance(content, bytes):
                (folder / name).write_bytes(content)
            else:
                shutil.copyfile(content, folder / name)
        session = WorkerSession if (sandboxed if sandbox is None else sandbox) else InProcessSession
        return grade(folder, load_assignment(assignment), make_config(**overrides), session_type=session)

    return run


@pytest.fixture(scope="module")
def grade_p1(grade_files) -> Callable[..., Grade]:
    """Problem P1 of umn-csci5527-hw3 alone: the engine's tests use P1."""
    return functools.partial(grade_files, problems=("p1",))


@pytest.fixture(scope="session")
def p1_config(make_config) -> Callable[..., GradingConfig]:
    return functools.partial(make_config, problems=("p1",))


@pytest.fixture(scope="module")
def grade_hw3(grade_files, hw3_root) -> Callable[..., Grade]:
    """All of umn-csci5527-hw3, on the fake MNIST or the real one (`real=True`)."""
    def run(files, real: bool = False, **overrides) -> Grade:
        return grade_files(files, HW3, data_root=real_data_root(mnist.DATASET) if real else hw3_root, **overrides)
    return run


@pytest.fixture(scope="module")
def grade_hw4(grade_files, hw4_root) -> Callable[..., Grade]:
    """The problems of uw-cse446-hw4 whose files are given, on the fake data root or the real one."""
    def run(files, real: bool = False, datasets: tuple[str, ...] = ("ml-100k", "sst2", "glove-6B-50d-10k"),
            problems: tuple[str, ...] | None = None, **overrides) -> Grade:
        problems = problems or tuple(p.id for p in load_assignment(HW4).problems if set(p.files) & set(files))
        return grade_files(files, HW4, problems=problems,
                           data_root=real_data_root(*datasets) if real else hw4_root, **overrides)
    return run


@pytest.fixture(scope="module")
def grade_problem(grade_hw4) -> Callable[..., Grade]:
    """One problem of uw-cse446-hw4, with files to copy beside it (`artifacts`)."""
    def run(problem: str, files, real: bool = False, datasets: tuple[str, ...] = (),
            artifacts: Mapping[str, Path] | None = None) -> Grade:
        return grade_hw4({**files, **(artifacts or {})}, real=real, datasets=datasets, problems=(problem,))
    return run


@pytest.fixture(scope="module")
def grade_a3(grade_files, a3_root) -> Callable[..., Grade]:
    """A3 alone; without data the CIFAR-10 checks are left out."""
    def run(text: str, data: bool = False) -> Grade:
        return grade_files({"hw4_a3.py": text}, HW4, problems=("a3",), data_root=a3_root if data else None)
    return run


# --- reading a Grade ------------------------------------------------------------------------------

def outcomes(g: Grade) -> dict[str, str]:
    return {c.id: c.outcome.value for c in g.checks}


def lost(g: Grade) -> set[str]:
    """Ids of the checks that did not earn full points."""
    return {c.id for c in g.checks if c.score < c.max_score}


def text_of(check) -> str:
    """Everything a student reads about a check, in one string."""
    f = check.feedback
    return " ".join([f.summary, *f.details, f.hint or ""])


def by_id(g: Grade, check_id: str):
    return next(c for c in g.checks if c.id == check_id)


def checks_of(g: Grade, problem: str):
    return [c for c in g.checks if c.problem == problem]


def lost_in(g: Grade, problem: str) -> set[str]:
    return {c.id for c in checks_of(g, problem) if c.score < c.max_score}


PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@dataclass(frozen=True)
class Shown:
    """One figure as the student's HTML report shows it: its title, and each row's label with its
    tiles' PNG bytes (read back from the data URIs) and captions; or a table's header and cells."""

    title: str
    rows: list[tuple[str, list[tuple[bytes, str]]]]
    header: list[str]
    cells: list[list[str]]


def figures_shown(g: Grade, check_id: str) -> list[Shown]:
    """The figures of a check in the rendered report; every picture a PNG inlined as a data URI."""
    import base64

    from bs4 import BeautifulSoup

    row = BeautifulSoup(render_html(g), "html.parser").find("tr", attrs={"data-check": check_id})
    shown = []
    for figure in row.find_all("figure"):
        rows = []
        for line in figure.select("table.image-grid tr"):
            tiles = []
            for cell in line.find_all("td"):
                source = cell.img["src"]
                assert source.startswith("data:image/png;base64,"), source[:40]
                png = base64.b64decode(source.removeprefix("data:image/png;base64,"), validate=True)
                assert png.startswith(PNG_SIGNATURE)
                caption = cell.find(class_="tile-caption")
                tiles.append((png, caption.get_text() if caption else ""))
            rows.append((line.th.get_text(), tiles))
        table = figure.find("table", class_="figure-table")
        shown.append(Shown(title=figure.figcaption.get_text(), rows=rows,
                           header=[th.get_text() for th in table.thead.find_all("th")] if table else [],
                           cells=[[td.get_text() for td in tr.find_all("td")] for tr in table.tbody.find_all("tr")]
                           if table else []))
    return shown


@pytest.fixture
def redeclare(monkeypatch) -> Callable[..., object]:
    """redeclare(check_id, **fields): for one test, a check of uw-cse446-hw4 declared otherwise (its
    visibility, its student half), wherever this process reads it: the runner, and the worker of the
    in-process grading. A student half changed here must keep its check's expected values (`expected=`),
    which the cache shares."""
    def change(check_id: str, **fields):
        check = load_assignment(HW4).check(check_id)
        for name, value in fields.items():
            monkeypatch.setitem(check.__dict__, name, value)
        return check
    return change



needs_isolation = pytest.mark.skipif(identity_unavailable() is not None,
                                     reason=f"the unprivileged sandbox is unavailable: {identity_unavailable()}")


def grading_uid(g: Grade) -> int:
    """The user id this grading's student code ran as (from its report)."""
    user = next(p for p in g.protections if p.name == "unprivileged user")
    return int(re.search(r"uid (\d+)", user.detail).group(1))
