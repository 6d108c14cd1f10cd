"""A student's self-check bundle ships the engine, the assignments' check modules included: nothing in
it may be a copy of the reference's code, or the A1 answers. Static (ast only): nothing is graded.

- Every non-trivial function and method of `reference/<assignment>/` (more than a docstring, `pass`,
  `...` or `raise NotImplementedError`), except those handed out anyway (identical in
  `student_template/<assignment>/` or in the assignment package's `starter/`), is compared with every
  function of the engine (everything under `autograder/`, which the bundle ships) by a normalised dump
  of its body: no docstring, no line numbers, and local names renamed in order of appearance, so that
  a copy with other variable names is found too.
- The A1 answers (the reference's `ANSWERS`) appear nowhere in the engine as a dict or sequence
  literal of bools, and the reference's explanations (`WHY`) as no string.
"""

from __future__ import annotations

import ast
import builtins
from dataclasses import dataclass
from pathlib import Path

import pytest

from autograder.assignments import _PACKAGES
from autograder.config import PACKAGE_DIR, content_dir

REFERENCE = content_dir("reference")
TEMPLATE = content_dir("student_template")
A1 = REFERENCE / "uw-cse446-hw4" / "hw4_a1.py"


@dataclass(frozen=True)
class Function:
    file: Path
    name: str  # qualified: Class.method, outer.<locals>.inner
    body: str  # the normalised dump

    def where(self) -> str:
        return f"`{self.name}` in {_shown(self.file)}"


def _shown(file: Path) -> str:
    root = PACKAGE_DIR.parent
    return str(file.relative_to(root) if file.is_relative_to(root) else file)


def _without_docstring(body: list[ast.stmt]) -> list[ast.stmt]:
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
            and isinstance(body[0].value.value, str):
        return body[1:]
    return body


def _trivial(body: list[ast.stmt]) -> bool:
    """Nothing written yet: empty, `pass`, `...`, or a single `raise NotImplementedError(...)`."""
    if not body:
        return True
    if len(body) > 1:
        return False
    statement = body[0]
    if isinstance(statement, ast.Pass):
        return True
    if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant) and statement.value.value is ...:
        return True
    if isinstance(statement, ast.Raise) and statement.exc is not None:
        raised = statement.exc.func if isinstance(statement.exc, ast.Call) else statement.exc
        return isinstance(raised, ast.Name) and raised.id == "NotImplementedError"
    return False


class _Renamer(ast.NodeTransformer):
    """Arguments and local names become v0, v1, ... in order of appearance; globals, builtins and
    attributes keep their names (so `np.linalg.svd` stays what it is)."""

    def __init__(self, local: set[str]):
        self.local, self.names = local, {}

    def _name(self, name: str) -> str:
        if name not in self.local:
            return name
        return self.names.setdefault(name, f"v{len(self.names)}")

    def visit_Name(self, node: ast.Name) -> ast.Name:
        return ast.copy_location(ast.Name(id=self._name(node.id), ctx=node.ctx), node)

    def visit_arg(self, node: ast.arg) -> ast.arg:
        return ast.arg(arg=self._name(node.arg), annotation=None)


def _locals(function: ast.FunctionDef | ast.AsyncFunctionDef) -> set[str]:
    names = {a.arg for a in ast.walk(function.args) if isinstance(a, ast.arg)}
    for node in ast.walk(function):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store | ast.Del):
            names.add(node.id)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
    return names - set(dir(builtins))


def _normalised(function: ast.FunctionDef | ast.AsyncFunctionDef, body: list[ast.stmt]) -> str:
    renamer = _Renamer(_locals(function))  # numbered as they appear in the body: signatures may differ
    module = ast.Module(body=[renamer.visit(ast.parse(ast.unparse(s)).body[0]) for s in body], type_ignores=[])
    return ast.dump(module, annotate_fields=True, include_attributes=False)


def functions(file: Path, *, skip_trivial: bool = False) -> list[Function]:
    """Every function and method of `file`, nested ones included, with its normalised body."""
    found = []

    def walk(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                body = _without_docstring(child.body)
                if not (skip_trivial and _trivial(body)):
                    found.append(Function(file, prefix + child.name, _normalised(child, body)))
                walk(child, f"{prefix}{child.name}.<locals>.")
            elif isinstance(child, ast.ClassDef):
                walk(child, f"{prefix}{child.name}.")
            else:
                walk(child, prefix)

    walk(ast.parse(file.read_text(), str(file)), "")
    return found


def package_of(assignment: str) -> Path:
    return PACKAGE_DIR / "assignments" / _PACKAGES[assignment].rsplit(".", 1)[1]


def assignments() -> list[str]:
    return sorted(p.name for p in REFERENCE.iterdir() if p.is_dir() and p.name in _PACKAGES)


def handed_out(assignment: str) -> set[str]:
    """Bodies that students receive anyway: the template's and the starter files'."""
    files = [*(TEMPLATE / assignment).glob("*.py"), *(package_of(assignment) / "starter").rglob("*.py")]
    return {f.body for file in files for f in functions(file)}


def written_in_the_reference(assignment: str) -> list[Function]:
    given = handed_out(assignment)
    return [f for file in sorted((REFERENCE / assignment).glob("*.py"))
            for f in functions(file, skip_trivial=True) if f.body not in given]


def engine() -> list[Function]:
    return [f for file in sorted(PACKAGE_DIR.rglob("*.py")) if "__pycache__" not in file.parts
            for f in functions(file)]


def copies(reference: list[Function], shipped: list[Function]) -> list[str]:
    by_body: dict[str, list[Function]] = {}
    for f in shipped:
        by_body.setdefault(f.body, []).append(f)
    return [f"{copy.where()} has the body of the reference's {original.where()}"
            for original in reference for copy in by_body.get(original.body, [])]


@pytest.mark.parametrize("assignment", assignments())
def test_no_reference_function_is_shipped_in_the_engine(assignment):
    reference = written_in_the_reference(assignment)
    assert len(reference) >= 5, "the reference's functions were not found: is the reference folder there?"
    found = copies(reference, engine())
    assert not found, "The student bundle would ship the reference's code:\n" + "\n".join(found)


def reference_answers() -> dict[str, bool]:
    for node in ast.parse(A1.read_text()).body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "ANSWERS" for t in node.targets):
            answers = ast.literal_eval(node.value)
            assert answers and all(isinstance(v, bool) for v in answers.values())
            return answers
    raise AssertionError(f"{A1} defines no ANSWERS")


def reference_explanations() -> list[str]:
    for node in ast.parse(A1.read_text()).body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "WHY" for t in node.targets):
            return list(ast.literal_eval(node.value).values())
    return []


def _bool(node: ast.AST) -> bool | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, bool) else None


def _key(node: ast.AST | None) -> object:
    return node.value if isinstance(node, ast.Constant) else object()


def answer_literals(file: Path, answers: dict[str, bool]) -> list[str]:
    """Where `file` writes the answers: a dict literal (or dict(...) call) mapping at least three of
    the questions to their answers, or a sequence literal of the answers in question order."""
    in_order = [answers[q] for q in sorted(answers)]
    found = []
    for node in ast.walk(ast.parse(file.read_text(), str(file))):
        pairs = None
        if isinstance(node, ast.Dict):
            pairs = [(_key(k), _bool(v)) for k, v in zip(node.keys, node.values)]
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "dict":
            pairs = [(k.arg, _bool(k.value)) for k in node.keywords]
        if pairs is not None:
            right = [k for k, v in pairs if k in answers and v is not None and v is answers[k]]
            if len(right) >= 3:
                found.append(f"{_shown(file)} line {node.lineno}: a dict of the A1 answers "
                             f"{sorted(right)}")
        elif isinstance(node, ast.List | ast.Tuple | ast.Set):
            values = [_bool(e) for e in node.elts]
            if len(values) == len(in_order) and values == in_order:
                found.append(f"{_shown(file)} line {node.lineno}: the A1 answers in order")
    return found


def test_the_a1_answers_are_not_in_the_engine():
    answers = reference_answers()
    found = [line for file in sorted(PACKAGE_DIR.rglob("*.py")) for line in answer_literals(file, answers)]
    assert not found, "The student bundle would ship the A1 answers:\n" + "\n".join(found)


def test_the_a1_explanations_are_not_in_the_engine():
    explanations = reference_explanations()
    assert len(explanations) == len(reference_answers()), "the reference should explain every A1 answer (WHY)"
    found = [f"{_shown(file)} line {node.lineno}: {node.value[:60]!r}"
             for file in sorted(PACKAGE_DIR.rglob("*.py")) for node in ast.walk(ast.parse(file.read_text()))
             if isinstance(node, ast.Constant) and isinstance(node.value, str)
             and any(why in node.value for why in explanations)]
    assert not found, "The student bundle would ship the explanations of the A1 answers:\n" + "\n".join(found)


# --- the checker itself ------------------------------------------------------------------------------

def test_a_renamed_copy_is_found(tmp_path):
    (tmp_path / "reference.py").write_text(
        'def fgsm(model, x, y, epsilon):\n    """doc"""\n    x = x.detach().clone().requires_grad_(True)\n'
        "    loss = F.cross_entropy(model(x), y)\n    (grad,) = torch.autograd.grad(loss, x)\n"
        "    return (x + epsilon * grad.sign()).detach()\n\n"
        "def todo(x):\n    raise NotImplementedError('todo')\n")
    (tmp_path / "engine.py").write_text(
        "class Check:\n    def attack(self, net, images, labels, eps):\n"
        "        images = images.detach().clone().requires_grad_(True)\n"
        "        value = F.cross_entropy(net(images), labels)\n        (g,) = torch.autograd.grad(value, images)\n"
        "        return (images + eps * g.sign()).detach()\n\n"
        "def other(x):\n    raise NotImplementedError('todo')\n")
    reference = functions(tmp_path / "reference.py", skip_trivial=True)
    assert [f.name for f in reference] == ["fgsm"]
    found = copies(reference, functions(tmp_path / "engine.py"))
    assert len(found) == 1 and "`Check.attack`" in found[0] and "`fgsm`" in found[0]


def test_answers_are_found_in_any_literal_form(tmp_path):
    answers = {"a": True, "b": False, "c": True, "d": False, "e": True}
    for text in ('ANSWERS = {"a": True, "b": False, "c": True}\n', "X = dict(a=True, b=False, e=True)\n",
                 "X = (True, False, True, False, True)\n"):
        (tmp_path / "m.py").write_text(text)
        assert answer_literals(tmp_path / "m.py", answers) != [], text
    (tmp_path / "m.py").write_text('X = {"a": False, "b": True}\nY = [True, True]\n')
    assert answer_literals(tmp_path / "m.py", answers) == []
