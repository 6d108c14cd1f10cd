"""Course code may import what every grading environment installs (autograder/packages.py): a file
that plots grades as if it did not, imports of the other course packages cost nothing, and
pyproject.toml, Gradescope's setup.sh and the student bundle's README name the same packages."""

from __future__ import annotations

import re
import tomllib

import pytest
from conftest import HW3, by_id, mutate, reference_text

from autograder.assignments import load_assignment
from autograder.config import REPO_ROOT
from autograder.gradescope import GRADESCOPE_RESIDENT_MB
from autograder.packages import COURSE_PACKAGES
from autograder.writers.templates import render

FILE = "hw3_p1.py"
PLOTS = '''\
import matplotlib.pyplot as plt

plt.plot([1, 2, 3])
plt.show()
plt.savefig("fig.png")


def _plot(values):
    fig, ax = plt.subplots()
    ax.imshow(values)
    plt.show()
    fig.savefig("forward.png")
    plt.close(fig)
'''


@pytest.fixture(scope="module")
def reference():
    return reference_text(HW3, FILE)


@pytest.mark.slow
def test_plots_at_top_level_and_in_functions_grade_normally(grade_p1, reference):
    text = mutate(reference, "HANDOUT_SEED = 55272022\n", "HANDOUT_SEED = 55272022\n" + PLOTS)
    g = grade_p1({FILE: mutate(text, "    V1 = W1 @ X\n", "    V1 = W1 @ X\n    _plot(V1)\n")}, sandbox=True)
    assert g.score == g.max_score, [c.feedback.summary for c in g.checks if c.score < c.max_score]
    assert g.messages == [] and by_id(g, "p1.forward.handout_seed").student_output == ""  # show() is silent


@pytest.mark.slow
def test_importing_the_course_packages_costs_nothing(grade_p1, reference):
    g = grade_p1({FILE: "import pandas, tqdm, seaborn, sklearn, IPython\n" + reference}, sandbox=True)
    assert g.score == g.max_score, [c.feedback.summary for c in g.checks if c.score < c.max_score]


def test_pyproject_depends_on_every_course_package():
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    names = {re.match(r"[A-Za-z0-9_.-]+", d).group().lower() for d in project["dependencies"]}
    assert set(COURSE_PACKAGES) <= names


def test_gradescope_setup_checks_every_course_package_imports():
    script = render("gradescope/setup.sh.j2", assignment=HW3, resident_mb=GRADESCOPE_RESIDENT_MB,
                    versions={"torch": "2.13.0", "torchvision": None, "numpy": "2.4.6"})
    assert '"$python" -m pip install -q . "numpy==2.4.6"\n' in script
    assert ('MPLBACKEND=Agg "$python" -c '
            '"import numpy, scipy, torch, matplotlib, pandas, tqdm, seaborn, sklearn, IPython"\n') in script
    assert script.index("pip install -q .") < script.index("MPLBACKEND=Agg")


def test_bundle_readme_installs_torch_for_cpu_then_the_course_packages():
    assignment = load_assignment(HW3)
    readme = render("bundle/README.md.j2", assignment=assignment, checks=assignment.checks, torch_version="2.13.0",
                    at_submission=[], hidden=[])
    assert 'python -m pip install "torch==2.13.0" --index-url https://download.pytorch.org/whl/cpu' in readme
    assert readme.index("--index-url") < readme.index("python -m pip install -r requirements.txt")
    assert ("`numpy`, `scipy`, `torch`, `matplotlib`, `pandas`, `tqdm`, `seaborn`, `scikit-learn`, "
            "`ipython`.") in readme
