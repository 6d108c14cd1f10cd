"""Notebooks are read as Jupyter reads them: every line Python accepts is kept as Python reads it,
magics and shell commands become `pass` with a note naming their cells, errors are located by cell
and line, and the `skip` policy runs exactly what its note does not list.

Most tests convert a notebook built with nbformat and import the module in this process (the
notebooks are the tests' own code); the graded ones grade P1 of umn-csci5527-hw3 in the sandbox."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest
from conftest import HW3, by_id, mutate, outcomes, reference_text

from autograder.assignments import load_assignment
from autograder.notebooks import Converted, convert
from autograder.runner import grade

NAME = "hw3_p1.ipynb"
MAGIC = "pass  # not run by the grader: IPython magic or shell command"
SKIPPED = "pass  # top-level code not run by the grader"
RULE = ("the grader runs only imports, definitions, and assignments of constants and of calls of imported "
        "functions with literal arguments, and a definition only if its decorators, default values and class "
        "body are of these kinds. Put anything your functions need inside them.")


def _notebook(folder: Path, *cells: str) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(c) for c in cells]
    path = folder / NAME
    nbformat.write(nb, path)
    return path


def _imported(converted: Converted) -> dict:
    """The module's names once imported."""
    namespace = {"__name__": "hw3_p1"}
    exec(compile(converted.source, "hw3_p1.py", "exec", dont_inherit=True), namespace)  # noqa: S102 - our notebook
    return namespace


def _lines_of(converted: Converted, cell: int) -> list[str]:
    """The module's lines made from `cell`, its `# In[n]` header left out."""
    return [text for text, (number, line) in zip(converted.source.split("\n"), converted.cells)
            if number == cell and line > 0]


def _not_run(*where: str) -> str:
    return f"{NAME}: top-level code was not run ({', '.join(where)}): {RULE}"


# --- every line Python accepts is kept as Python reads it ----------------------------------------

BLACK = '''\
def in_unit_box(x, y, low, high):
    return (
        low <= x <= high
        and low <= y <= high
        or x == y == 0
    )


def affine(W, x, b, scale, shift):
    return (
        W
        @ x
        + b
        - shift
        * scale
    )


def remainder_if_different(a, b):
    if (
        a
        != b
    ):
        return (
            a
            % b
        )
    return -1
'''


def test_black_formatted_continuation_lines_keep_their_operators(tmp_path):
    converted = convert(_notebook(tmp_path, "import numpy as np", BLACK))
    assert _lines_of(converted, 2) == BLACK.split("\n")[:-1]
    module = _imported(converted)
    np = module["np"]
    assert module["in_unit_box"](0.5, 0.5, 0, 1) and module["in_unit_box"](0, 0, 1, 2)
    assert not module["in_unit_box"](2, 0.5, 0, 1)
    assert np.array_equal(module["affine"](np.eye(2), np.ones(2), np.ones(2), 2.0, 1.0), [0.0, 0.0])
    assert (module["remainder_if_different"](7, 4), module["remainder_if_different"](2, 2)) == (3, -1)
    assert converted.notes == []


def test_bang_and_percent_in_strings_and_after_backslashes_are_python(tmp_path):
    cell = ('HELP = """\n!pip install torch\n%matplotlib inline\n"""\n'
            'REMAINDER = 10 \\\n    % 4\nDIFFERENT = 1 \\\n    != 2\n')
    converted = convert(_notebook(tmp_path, cell))
    module = _imported(converted)
    assert module["HELP"] == "\n!pip install torch\n%matplotlib inline\n"
    assert (module["REMAINDER"], module["DIFFERENT"]) == (2, True)
    assert converted.notes == []


def test_unicode_identifiers_and_strings_are_kept_in_place(tmp_path):
    cell = ('θ = 0.5; print("θ =", θ)\n'
            'GREETING = "héllo 👋 שלום עולם \u202bمرحبا\u202c"  # emoji, right-to-left text and marks\n'
            'SEPARATED = "line\u2028separator, page\x0cbreak"\n'
            'Δθ = θ * 2\n')
    converted = convert(_notebook(tmp_path, cell))
    module = _imported(converted)
    assert module["GREETING"] == "héllo 👋 שלום עולם \u202bمرحبا\u202c"
    assert (module["θ"], module["Δθ"], module["SEPARATED"]) == (0.5, 1.0, "line\u2028separator, page\x0cbreak")
    assert _lines_of(converted, 1)[0] == f"θ = 0.5; {SKIPPED}"  # columns count characters, not bytes
    assert converted.cells[converted.source.split("\n").index("Δθ = θ * 2")] == (1, 4)
    assert converted.notes == [_not_run("cell 1 line 1")]


def test_tabs_and_an_indented_cell_read_as_jupyter_reads_them(tmp_path):
    converted = convert(_notebook(tmp_path, "def sign(x):\n\tif x < 0:\n\t\treturn -1\n\treturn 1",
                                  "    def double(x):\n        return 2 * x\n"))  # Jupyter dedents the cell
    module = _imported(converted)
    assert (module["sign"](-3), module["sign"](3), module["double"](4)) == (-1, 1, 8)


def test_cells_of_comments_blanks_or_nothing_are_harmless(tmp_path):
    converted = convert(_notebook(tmp_path, "# Plots below: run the training first", "", "  \n\n", "X = 1  # kept"))
    assert _imported(converted)["X"] == 1 and converted.notes == []


def test_windows_newlines_are_newlines(tmp_path):
    cell = {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
            "source": ["TOTAL = (1\r\n", "    + 2)\r\n", "%matplotlib inline\r\n", "LAST = 4"]}
    path = tmp_path / NAME
    path.write_text(json.dumps({"cells": [cell], "metadata": {}, "nbformat": 4, "nbformat_minor": 4}))
    converted = convert(path)
    assert (_imported(converted)["TOTAL"], _imported(converted)["LAST"]) == (3, 4)
    assert converted.cells[converted.source.split("\n").index("LAST = 4")] == (1, 4)


def test_a_syntax_error_is_located_by_cell_and_line(tmp_path):
    converted = convert(_notebook(tmp_path, "import numpy as np", "%matplotlib inline\n\ndef f(x:\n    return x"))
    with pytest.raises(SyntaxError) as error:
        compile(converted.source, "hw3_p1.py", "exec")
    assert converted.locate(error.value.lineno) == (2, 3)


# --- what needs IPython becomes `pass`; what IPython runs as code is kept -------------------------

def test_magics_and_shell_commands_become_pass_with_a_note(tmp_path):
    converted = convert(_notebook(
        tmp_path,
        "%matplotlib inline\n%pip install torch\nimport numpy as np",
        "files = !ls\nnp?",
        "%%bash\necho hello",
        "def increment(x):\n    %timeit x + 1\n    !echo {x}\n    return x + 1",
        "shell = get_ipython()\nif 'google.colab' in str(get_ipython()):\n    IN_COLAB = True",
        "def two():\n    return 2"), "run")
    module = _imported(converted)
    assert (module["increment"](1), module["two"]()) == (2, 2)
    assert not {"files", "shell", "IN_COLAB"} & set(module)
    assert _lines_of(converted, 4) == ["def increment(x):", f"    {MAGIC}", f"    {MAGIC}", "    return x + 1"]
    assert _lines_of(converted, 5) == [MAGIC, MAGIC, ""]
    assert converted.notes == [f"{NAME}: IPython magics and shell commands were not run (cells 1, 2, 3, 4, 5)."]


def test_code_under_time_magics_runs_as_jupyter_runs_it(tmp_path):
    converted = convert(_notebook(
        tmp_path,
        "%%time\nimport numpy as np\n\ndef root(x):\n    return np.sqrt(x)",
        "%time ROOT = root(\\\n    16.0)",
        "%%capture\nCAPTURED = 3"), "run")
    module = _imported(converted)
    assert (module["ROOT"], module["CAPTURED"]) == (4.0, 3)
    assert [place for place in converted.cells if place[0] == 1] == [(1, 0), (1, 2), (1, 3), (1, 4), (1, 5)]
    assert converted.notes == [f"{NAME}: IPython magics and shell commands were not run (cells 1, 2, 3); the code "
                               "under %%time in cell 1, %time in cell 2, %%capture in cell 3 was kept as plain Python."]


# --- the skip policy runs exactly what its note does not list ------------------------------------

SETUP = '''\
import functools
from dataclasses import dataclass, field

import numpy as np
import torch

SCALE = 2.0
device = "cuda" if torch.cuda.is_available() else "cpu"
calls = []


def boom(*args):
    raise RuntimeError("top-level code ran")


def timer(function):
    calls.append(function.__name__)
    return function
'''

TRAINING = '''\
data = boom()
n = data.shape[0]
boom()
for epoch in range(3):
    boom()
'''

DEFINITIONS = '''\
@torch.no_grad()
def predict(x, scale=SCALE, dtype=torch.float32) -> torch.Tensor:
    return torch.as_tensor(x, dtype=dtype) * scale


@timer
def decorated():
    return "decorated"


def evaluate(model, loader=data):
    return "evaluate"


@functools.lru_cache(maxsize=None)
def cached(k):
    return 2 * k


class Net(torch.nn.Module):
    activation = torch.nn.ReLU()

    def forward(self, x):
        return self.activation(x)


class Config:
    steps = boom(10)


@dataclass
class Params:
    lr: float = 1e-3
    tags: list = field(default_factory=list)


sigmoid = lambda z: 1 / (1 + np.exp(-z))
'''


def _line(cell: str, text: str) -> int:
    return cell.split("\n").index(text) + 1


def test_skip_runs_exactly_what_its_note_does_not_list(tmp_path):
    converted = convert(_notebook(tmp_path, SETUP, TRAINING, DEFINITIONS))
    module = _imported(converted)  # nothing that calls boom() ran
    assert not {"data", "n", "epoch", "evaluate", "Config"} & set(module)
    assert module["device"] == "cpu" and module["calls"] == ["decorated"]  # a kept definition's decorator runs
    assert module["predict"]([1.0]).tolist() == [2.0] and module["cached"](2) == 4
    assert module["Net"]()(module["torch"].tensor([-1.0, 1.0])).tolist() == [0.0, 1.0]
    assert module["Params"]().tags == [] and module["sigmoid"](0.0) == 0.5
    assert converted.notes == [_not_run(
        "cell 2 line 1", "cell 2 line 2", "cell 2 line 3", "cell 2 line 4",
        f"cell 3 line {_line(DEFINITIONS, 'def evaluate(model, loader=data):')} (def evaluate)",
        f"cell 3 line {_line(DEFINITIONS, 'class Config:')} (class Config)")]


def test_run_runs_all_of_it(tmp_path):
    converted = convert(_notebook(tmp_path, SETUP, TRAINING, DEFINITIONS), "run")
    assert converted.notes == []
    with pytest.raises(RuntimeError, match="top-level code ran"):
        _imported(converted)


# --- graded in the sandbox ------------------------------------------------------------------------

@pytest.fixture(scope="module")
def definitions():
    return reference_text(HW3, "hw3_p1.py").split('\n\nif __name__ == "__main__":')[0]


def test_notebook_that_is_not_json_is_named(p1_config, tmp_path):
    (tmp_path / NAME).write_text('{"cells": [ this is not json')
    g = grade(tmp_path, load_assignment(HW3), p1_config())
    assert g.score == 0
    assert g.checks[0].feedback.summary.startswith("hw3_p1.ipynb is not a valid notebook: it is not JSON (")


def test_notebook_is_graded_without_magics_or_top_level_training(p1_config, tmp_path, definitions):
    _notebook(tmp_path, "%matplotlib inline\n!pip install torch", definitions,
              "%%time\nprint('slow')", "data = make_data()\nwhile True:\n    pass")
    g = grade(tmp_path, load_assignment(HW3), p1_config())
    assert g.score == g.max_score
    assert g.messages == [
        f"{NAME}: IPython magics and shell commands were not run (cells 1, 3); the code under %%time in cell 3 "
        "was kept as plain Python.",
        _not_run("cell 3 line 2", "cell 4 line 1", "cell 4 line 2")]


def _black_formatted(definitions: str) -> str:
    """P1's reference as black formats long expressions: operators, `!=` and `%` open the lines."""
    text = mutate(definitions, "    V1 = W1 @ X\n",
                  "    if (\n        X.shape[0]\n        != W1.shape[1]\n        or X.shape[1]\n        % 1\n    ):\n"
                  '        raise ValueError("shapes")\n    V1 = (\n        W1\n        @ X\n    )\n')
    return mutate(text, "    D = Y - V5\n", "    D = (\n        Y\n        - V5\n    )\n")


def test_black_formatted_notebook_with_plots_scores_full_marks(p1_config, tmp_path, definitions):
    _notebook(tmp_path, "%matplotlib inline", _black_formatted(definitions),
              "import matplotlib.pyplot as plt\n\nvalues = forward(**make_data())\nplt.plot(values['V1'][0])\n"
              "plt.show()")
    g = grade(tmp_path, load_assignment(HW3), p1_config())
    assert g.score == g.max_score, [c.feedback.summary for c in g.checks if c.score < c.max_score]
    assert g.messages == [f"{NAME}: IPython magics and shell commands were not run (cell 1).",
                          _not_run("cell 3 line 3", "cell 3 line 4", "cell 3 line 5")]


def test_notebook_syntax_error_names_the_cell_and_line(p1_config, tmp_path, definitions):
    _notebook(tmp_path, definitions, "%matplotlib inline\n\ndef plot(x:\n    return x")
    g = grade(tmp_path, load_assignment(HW3), p1_config())
    assert g.score == 0
    assert g.checks[0].feedback.summary == \
        "hw3_p1.py has a syntax error at hw3_p1.ipynb, cell 2, line 3: '(' was never closed."


def test_notebook_errors_point_at_the_cell(p1_config, tmp_path, definitions):
    broken = mutate(definitions, "    V1 = W1 @ X\n", "    V1 = W1 @ X.T\n")
    _notebook(tmp_path, "import numpy as np", broken)
    g = grade(tmp_path, load_assignment(HW3), p1_config())
    line = broken.splitlines().index("    V1 = W1 @ X.T") + 1
    assert by_id(g, "p1.forward.handout_seed").feedback.details[0].startswith(
        f"hw3_p1.ipynb, cell 2, line {line}, in forward: `V1 = W1 @ X.T`")


def test_notebook_top_level_code_runs_when_the_instructor_says_so(p1_config, tmp_path, definitions):
    _notebook(tmp_path, definitions, "while True:\n    pass")
    g = grade(tmp_path, load_assignment(HW3), p1_config(notebook_top_level="run", import_timeout=3))
    assert g.score == 0 and set(outcomes(g).values()) == {"timeout"}


def test_a_module_beside_its_notebook_is_graded_and_the_notebook_named(grade_p1, tmp_path):
    """Both hw3_p1.py and hw3_p1.ipynb uploaded: the module is what the handout asks for."""
    import nbformat

    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("def forward(*args):\n    return {}\n")])
    g = grade_p1({"hw3_p1.py": reference_text(HW3, "hw3_p1.py"), NAME: nbformat.writes(notebook)})
    assert g.score == g.max_score
    assert "Both hw3_p1.py and hw3_p1.ipynb were found; hw3_p1.py was graded." in g.messages
