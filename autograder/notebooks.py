"""Turning a student's notebook into the module the spec names.

A notebook `hw3_p1.ipynb` stands for the module `hw3_p1.py` (same name, any folder). Its code
cells, in order, become the module, each read as Jupyter reads it: IPython's own input
transformations (`TransformerManager`, what Jupyter applies before it runs a cell) turn magics,
shell commands and help requests into `get_ipython()` calls and leave every other line as it was,
so that whatever Python accepts is kept as Python reads it (an operator that starts a continuation
line, `!=` or `%` included, stays an operator). Statements that call `get_ipython()` cannot run
outside IPython: each becomes `pass`, and a note names their cells. The code that IPython runs as
ordinary code of the notebook is kept: the body of a `%%time` or `%%capture` cell, and the
statement after `%time`. Every line keeps its place, so an error is located by cell and
line ("hw3_p1.ipynb, cell 3, line 4").

Top-level code is the instructor's choice (`notebook_top_level`):

- `skip` (the default): notebooks train, plot and download at the top level, and the grader must
  not spend its budget there. A top-level statement runs only if it is an import, `pass` or a
  docstring; an assignment (plain, annotated or augmented) of a *safe* value; or a function or
  class definition whose decorators, default values, annotations and base classes are safe and
  whose class-level statements are kept by these same rules. A value is safe when it is a literal,
  a name that a kept statement before it bound (or a builtin), a lambda with safe default values;
  attributes, subscripts, arithmetic, comparisons, conditional expressions, f-strings and containers
  of safe values; or a call of an imported function whose arguments are literals or names from
  Python or an imported package (`torch.device("cpu")`, `torch.zeros(3, dtype=torch.float32)`);
  such a call runs whatever it does (`pd.read_csv("train.csv")` reads the file). Everything else
  (loops, a call on a line of its own like `plt.plot(x)`, calls of the notebook's own functions,
  values made from them) becomes `pass`, and a note lists it by cell and line. A definition runs
  whole or not at all: one whose default value or class body needs code that did not run does not
  run either (in Python its `def` would fail at import), and the note names it. A kept definition's
  decorators are applied, as in Python: a decorator written in the notebook runs.
- `run`: keep all of it; it runs when the module is imported, under the import time limit.
"""

from __future__ import annotations

import ast
import builtins
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import nbformat

TopLevel = Literal["skip", "run"]

_CELL_MAGICS_RUN_AS_CODE = ("time", "capture")
"""Cell magics whose body IPython runs as ordinary code in the notebook's namespace."""
_LINE_MAGICS_RUN_AS_CODE = ("time",)
_SPLITLINES_ONLY = "\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
"""Characters that end a line for `str.splitlines`, so for IPython's transformations, but not for Python."""
_TRANSFORM_LIMIT = 500
_MODULE_NAMES = {"__name__", "__file__", "__doc__", "__builtins__", "__spec__", "__loader__", "__package__"}
_MAGIC_COMMENT = "  # not run by the grader: IPython magic or shell command"
_SKIPPED_COMMENT = "  # top-level code not run by the grader"


class NotebookError(Exception):
    """The notebook cannot be read; the message names the file and the reason."""


@dataclass
class Converted:
    source: str
    notes: list[str] = field(default_factory=list)
    cells: list[tuple[int, int]] = field(default_factory=list)
    """For each line of `source` (0-based), the notebook's cell number and line in that cell."""

    def locate(self, line: int) -> tuple[int, int] | None:
        return self.cells[line - 1] if 0 < line <= len(self.cells) else None


@dataclass
class _Cell:
    """One code cell as Python: its lines, and for each the line of the notebook's cell it came from."""

    lines: list[str]
    origin: list[int]
    code_magic: str = ""
    """`%%time` or `%%capture` when the cell's body was kept as code."""


def convert(path: Path, top_level: TopLevel = "skip") -> Converted:
    converted = Converted(source="")
    lines: list[str] = []
    magic_cells: list[str] = []
    kept_as_code: list[str] = []
    not_run: list[str] = []
    scope = _Scope()
    for number, source in enumerate(_code_cells(_read(path)), start=1):
        cell = _python_of(source)
        magics, timed = _drop_ipython(cell)
        if top_level == "skip":
            not_run += [f"cell {number} line {where}" for where in _skip_top_level(cell, scope)]
        if magics or timed or cell.code_magic:
            magic_cells.append(str(number))
        kept_as_code += [f"{magic} in cell {number}" for magic in (cell.code_magic, "%time" if timed else "") if magic]
        lines += [f"# In[{number}]", *cell.lines]
        converted.cells += [(number, 0)] + [(number, line) for line in cell.origin]
    converted.source = "\n".join(lines) + "\n"
    converted.notes = _notes(path.name, magic_cells, kept_as_code, not_run)
    return converted


def _notes(name: str, magic_cells: list[str], kept_as_code: list[str], not_run: list[str]) -> list[str]:
    notes = []
    if magic_cells:
        kept = f"; the code under {', '.join(kept_as_code)} was kept as plain Python" if kept_as_code else ""
        notes.append(f"{name}: IPython magics and shell commands were not run "
                     f"(cell{'s' * (len(magic_cells) > 1)} {', '.join(magic_cells)}){kept}.")
    if not_run:
        shown = ", ".join(not_run[:8]) + (f" and {len(not_run) - 8} more" if len(not_run) > 8 else "")
        notes.append(
            f"{name}: top-level code was not run ({shown}): the grader runs only imports, definitions, and "
            f"assignments of constants and of calls of imported functions with literal arguments, and a definition "
            f"only if its decorators, default values and class body are of these kinds. Put anything your "
            f"functions need inside them.")
    return notes


def _read(path: Path) -> nbformat.NotebookNode:
    try:
        return nbformat.reads(path.read_text(encoding="utf-8", errors="replace"), as_version=4)
    except (json.JSONDecodeError, nbformat.reader.NotJSONError) as exc:
        raise NotebookError(f"{path.name} is not a valid notebook: it is not JSON ({_short(exc)}).") from None
    except Exception as exc:  # noqa: BLE001 - nbformat raises many kinds for malformed notebooks
        raise NotebookError(f"{path.name} is not a valid notebook: {_short(exc)}.") from None


def _code_cells(notebook: nbformat.NotebookNode) -> Iterator[str]:
    for cell in notebook.get("cells", []):
        if cell.get("cell_type") == "code":
            source = cell.get("source", "")
            source = "".join(source) if isinstance(source, list) else str(source)
            yield source.replace("\r\n", "\n").replace("\r", "\n")  # Python's universal newlines


# --- IPython's reading of a cell, line by line ----------------------------------------------------

def _python_of(source: str) -> _Cell:
    """The cell as Jupyter hands it to Python, and where each of its lines came from."""
    # IPython splits lines as str.splitlines does; Python only at newlines. Characters where the two
    # differ (a U+2028 in a string) stand in as unused private-use characters while IPython reads.
    stand_ins = {c: s for c, s in zip([c for c in _SPLITLINES_ONLY if c in source], _unused(source))}
    for char, stand_in in stand_ins.items():
        source = source.replace(char, stand_in)
    try:
        lines, origin, code_magic = _transformed(source)
    except Exception:  # noqa: BLE001 - IPython fails in assorted ways on broken cells; Python then names the error
        lines, code_magic = source.splitlines(keepends=True), ""
        origin = list(range(1, len(lines) + 1))
    cell = _Cell([], [], code_magic)
    for line, where in zip(lines, origin):
        for char, stand_in in stand_ins.items():
            line = line.replace(stand_in, char)
        pieces = line.removesuffix("\n").split("\n")
        cell.lines += pieces
        cell.origin += [where] * len(pieces)
    return cell


def _unused(source: str) -> Iterator[str]:
    return (chr(c) for c in range(0xE000, 0xF900) if chr(c) not in source)


def _transformed(source: str) -> tuple[list[str], list[int], str]:
    """What `TransformerManager().transform_cell` does, step by step, following each line."""
    from IPython.core.inputtransformer2 import TransformerManager  # imported only for notebooks: 35 MB

    manager = TransformerManager()
    lines = (source if source.endswith("\n") else source + "\n").splitlines(keepends=True)
    origin = list(range(1, len(lines) + 1))
    for step in manager.cleanup_transforms:
        lines, origin = _followed(lines, step(lines), origin)
    magic = lines[0][2:].rstrip().partition(" ")[0] if lines and lines[0].startswith("%%") else ""
    if magic in _CELL_MAGICS_RUN_AS_CODE and len(lines) > 1:
        body, where, _ = _transformed("".join(lines[1:]))
        return body, [origin[1:][w - 1] for w in where], f"%%{magic}"
    for step in manager.line_transforms:
        lines, origin = _followed(lines, step(lines), origin)
    for _ in range(_TRANSFORM_LIMIT):
        changed, after = manager.do_one_token_transform(lines)
        if not changed:
            break
        lines, origin = _followed(lines, after, origin)
    return lines, origin, ""


def _followed(before: list[str], after: list[str], origin: list[int]) -> tuple[list[str], list[int]]:
    """`after`, and where each of its lines came from. Each transformation rewrites one run of lines (a
    magic and its continuation lines, leading blank lines, a prompt on every line) and leaves the
    lines around it as they were; a run rewritten into fewer lines comes from its first line."""
    n = min(len(before), len(after))
    head = next((i for i in range(n) if before[i] != after[i]), n)
    tail = next((i for i in range(n - head) if before[-1 - i] != after[-1 - i]), n - head)
    old = origin[head:len(before) - tail]
    count = len(after) - head - tail
    middle = old if len(old) == count else [old[0] if old else origin[max(head - 1, 0)]] * count
    return after, origin[:head] + middle + origin[len(origin) - tail:]


# --- statements that need IPython ----------------------------------------------------------------

def _drop_ipython(cell: _Cell) -> tuple[list[ast.stmt], bool]:
    """Replace the statements that call get_ipython() by `pass`, but run the code after `%time` as
    IPython does; return the statements replaced, and whether any %time code was kept."""
    tree = _parsed(cell)
    if tree is None:
        return [], False
    timed = [s for s in _ipython_statements(tree.body) if _timed_code(s) is not None]
    for statement in sorted(timed, key=_start, reverse=True):
        _replace(cell.lines, statement, _timed_code(statement), "")
    tree = _parsed(cell) if timed else tree
    if tree is None:  # the code after %time does not parse: Python reports it where IPython would
        return [], bool(timed)
    magics = list(_ipython_statements(tree.body))
    for statement in sorted(magics, key=_start, reverse=True):
        _replace(cell.lines, statement, "pass", _MAGIC_COMMENT)
    return magics, bool(timed)


def _parsed(cell: _Cell) -> ast.Module | None:
    try:
        return ast.parse("\n".join(cell.lines) + "\n")
    except (SyntaxError, ValueError, RecursionError):  # left as it is: the import reports the error at its line
        return None


def _ipython_statements(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    """The innermost statements whose own expressions call get_ipython(), at any depth."""
    for statement in body:
        if any(_calls_ipython(node) for node in _own_nodes(statement)):
            yield statement
        else:
            yield from _ipython_statements(list(_nested(statement)))


def _calls_ipython(node: ast.AST) -> bool:
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "get_ipython"


def _own_nodes(statement: ast.stmt) -> Iterator[ast.AST]:
    """The nodes of `statement` outside the statements nested in it (a loop's header, not its body)."""
    stack = list(ast.iter_child_nodes(statement))
    while stack:
        node = stack.pop()
        if not isinstance(node, ast.stmt):
            yield node
            stack.extend(ast.iter_child_nodes(node))


def _nested(statement: ast.stmt) -> Iterator[ast.stmt]:
    for node in ast.iter_child_nodes(statement):
        if isinstance(node, ast.stmt):
            yield node
        elif isinstance(node, ast.excepthandler | ast.match_case):
            yield from node.body


def _timed_code(statement: ast.stmt) -> str | None:
    """The code of `get_ipython().run_line_magic('time', 'x = f()')`, which IPython runs as it stands."""
    match statement:
        case ast.Expr(value=ast.Call(func=ast.Attribute(attr="run_line_magic"),
                                     args=[ast.Constant(value=str(name)), ast.Constant(value=str(code))]))\
                if name in _LINE_MAGICS_RUN_AS_CODE and code.strip() and "\n" not in code:
            return code.strip()
    return None


# --- the `skip` policy ---------------------------------------------------------------------------

def _skip_top_level(cell: _Cell, scope: _Scope) -> list[str]:
    """Replace the top-level statements the policy does not keep by `pass`; where each one was."""
    tree = _parsed(cell)
    if tree is None:
        return []
    dropped = [s for s in tree.body if not _kept(s, scope)]
    for statement in reversed(dropped):
        _replace(cell.lines, statement, "pass", _SKIPPED_COMMENT)
    return [f"{cell.origin[_start(s)[0] - 1]}{_named(s)}" for s in dropped]


def _kept(statement: ast.stmt, scope: _Scope) -> bool:
    try:
        return scope.keeps(statement)
    except RecursionError:  # an expression nested deeper than the rule can follow is not judged safe
        return False


def _named(statement: ast.stmt) -> str:
    match statement:
        case ast.FunctionDef(name=name) | ast.AsyncFunctionDef(name=name):
            return f" (def {name})"
        case ast.ClassDef(name=name):
            return f" (class {name})"
    return ""


class _Scope:
    """The names bound by the statements kept so far, and the rule that keeps a statement."""

    def __init__(self, outer: _Scope | None = None):
        self.bound: set[str] = set(outer.bound) if outer else set(dir(builtins)) | _MODULE_NAMES
        self.imported: set[str] = set(outer.imported) if outer else set()
        self.star = outer.star if outer else False  # after `from m import *` any name may be bound
        self.lazy_annotations = outer.lazy_annotations if outer else False

    def keeps(self, statement: ast.stmt) -> bool:
        """Whether `statement` is kept; if it is, the names it binds are bound from now on."""
        match statement:
            case ast.Import(names=names) | ast.ImportFrom(names=names):
                self._imports(statement, names)
                return True
            case ast.Pass() | ast.Expr(value=ast.Constant()):
                return True
            case ast.FunctionDef() | ast.AsyncFunctionDef():
                kept = all(self.safe(e) for e in _evaluated_by_def(statement, self.lazy_annotations))
            case ast.ClassDef():
                kept = (all(self.safe(e) for e in [*statement.decorator_list, *statement.bases,
                                                   *(k.value for k in statement.keywords)])
                        and self._class_body_kept(statement))
            case ast.Assign(targets=targets, value=value):
                kept = self.safe(value) and all(self._assignable(t) for t in targets)
            case ast.AnnAssign(target=target, annotation=annotation, value=value):
                kept = ((value is None or self.safe(value)) and self._assignable(target)
                        and (self.lazy_annotations or self.safe(annotation)))
            case ast.AugAssign(target=ast.Name(id=name), value=value):
                kept = self._bound(name) and self.safe(value)
            case _:
                return False
        if kept:
            self.bound |= _bound_by(statement)
        return kept

    def _imports(self, statement: ast.Import | ast.ImportFrom, names: list[ast.alias]) -> None:
        if isinstance(statement, ast.ImportFrom) and statement.module == "__future__":
            self.lazy_annotations |= any(a.name == "annotations" for a in names)
        self.star |= any(a.name == "*" for a in names)
        bound = {a.asname or a.name.split(".")[0] for a in names if a.name != "*"}
        self.bound |= bound
        self.imported |= bound

    def _class_body_kept(self, statement: ast.ClassDef) -> bool:
        inner = _Scope(self)  # class-level names are visible to the class-level statements after them
        return all(inner.keeps(s) for s in statement.body)

    def _bound(self, name: str) -> bool:
        return self.star or name in self.bound

    def _assignable(self, target: ast.expr) -> bool:
        match target:
            case ast.Name():
                return True
            case ast.Tuple(elts=elts) | ast.List(elts=elts):
                return all(self._assignable(e) for e in elts)
            case ast.Starred(value=value):
                return self._assignable(value)
            case ast.Attribute(value=value):
                return self.safe(value)
            case ast.Subscript(value=value, slice=index):
                return self.safe(value) and self.safe(index)
        return False

    def safe(self, node: ast.expr | None) -> bool:
        """Evaluating `node` runs none of the notebook's own code: it calls only imported functions, on
        inert arguments."""
        match node:
            case None | ast.Constant():
                return True
            case ast.Name(id=name):
                return self._bound(name)
            case ast.Attribute(value=value) | ast.Starred(value=value):
                return self.safe(value)
            case ast.Subscript(value=value, slice=index):
                return self.safe(value) and self.safe(index)
            case ast.Slice(lower=lower, upper=upper, step=step):
                return self.safe(lower) and self.safe(upper) and self.safe(step)
            case ast.UnaryOp(operand=operand):
                return self.safe(operand)
            case ast.BinOp(left=left, right=right):
                return self.safe(left) and self.safe(right)
            case ast.IfExp(test=test, body=body, orelse=orelse):
                return self.safe(test) and self.safe(body) and self.safe(orelse)
            case ast.FormattedValue(value=value, format_spec=spec):
                return self.safe(value) and self.safe(spec)
            case ast.Compare(left=left, comparators=elts):
                return self.safe(left) and all(self.safe(e) for e in elts)
            case ast.Tuple(elts=elts) | ast.List(elts=elts) | ast.Set(elts=elts) | ast.BoolOp(values=elts) \
                    | ast.JoinedStr(values=elts):
                return all(self.safe(e) for e in elts)
            case ast.Dict(keys=keys, values=values):
                return all(self.safe(e) for e in [*keys, *values])
            case ast.Lambda(args=args):
                return all(self.safe(d) for d in [*args.defaults, *args.kw_defaults])
            case ast.Call(func=func, args=args, keywords=keywords):
                return self._imported_root(func) and all(self._inert(a) for a in [*args, *(k.value for k in keywords)])
        return False

    def _imported_root(self, node: ast.expr) -> bool:
        while isinstance(node, ast.Attribute):
            node = node.value
        # after `from m import *`, a name the notebook did not bind itself may come from m
        return isinstance(node, ast.Name) and (node.id in self.imported or self.star and node.id not in self.bound)

    def _inert(self, node: ast.expr) -> bool:
        """A literal, or a name from Python or an imported package (`list`, `torch.float32`)."""
        if isinstance(node, ast.Name | ast.Attribute):
            root = node
            while isinstance(root, ast.Attribute):
                root = root.value
            return isinstance(root, ast.Name) and (root.id in self.imported or hasattr(builtins, root.id))
        try:
            ast.literal_eval(node)
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            return False
        return True


def _evaluated_by_def(node: ast.FunctionDef | ast.AsyncFunctionDef, lazy_annotations: bool) -> list[ast.expr]:
    """What Python evaluates when it runs a `def`: decorators, default values and, unless
    `from __future__ import annotations` defers them, annotations."""
    args = node.args
    found = [*node.decorator_list, *args.defaults, *(d for d in args.kw_defaults if d is not None)]
    if not lazy_annotations:
        every = [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg]
        found += [a.annotation for a in every if a is not None and a.annotation is not None]
        found += [node.returns] if node.returns is not None else []
    return found


def _bound_by(statement: ast.stmt) -> set[str]:
    if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return {statement.name}
    targets = {ast.Assign: lambda s: s.targets, ast.AnnAssign: lambda s: [s.target] if s.value else [],
               ast.AugAssign: lambda s: [s.target]}.get(type(statement), lambda s: [])(statement)
    return {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}


# --- editing a cell in place ---------------------------------------------------------------------

def _start(statement: ast.stmt) -> tuple[int, int]:
    """Where a statement begins: a decorated definition at its first decorator's `@`, in the def's column."""
    decorators = getattr(statement, "decorator_list", None)
    return (decorators[0].lineno if decorators else statement.lineno), statement.col_offset


def _replace(lines: list[str], statement: ast.stmt, text: str, comment: str) -> None:
    """Put `text` where `statement` was, keeping every other line where it is (errors are located by
    line). AST columns count UTF-8 bytes; the text around them may hold any character."""
    (first, start), last = _start(statement), statement.end_lineno
    start = _characters(lines[first - 1], start)
    end = _characters(lines[last - 1], statement.end_col_offset)
    rest = lines[last - 1][end:]
    lines[first - 1] = lines[first - 1][:start] + text + (rest if rest.strip() else comment)
    for i in range(first, last):
        lines[i] = ""


def _characters(line: str, utf8_bytes: int) -> int:
    return len(line.encode("utf-8")[:utf8_bytes].decode("utf-8", errors="ignore"))


def _short(exc: Exception) -> str:
    return str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
