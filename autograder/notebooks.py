"""Turning a student's notebook into the module the spec names.

A notebook `hw3_p1.ipynb` stands for the module `hw3_p1.py` (same name, any folder). Its code
cells, in order, become the module. IPython magics (`%...`, `%%...` cells) and shell lines (`!...`)
cannot run outside IPython: they are dropped, with a note. Top-level code is the instructor's
choice (`notebook_top_level`):

- `skip` (the default): keep imports, functions, classes and cheap assignments (literals, and calls
  of imported functions with literal arguments, like `torch.device("cpu")`); drop the rest
  (training loops, plots, data downloads), with a note listing what was dropped by cell. Notebooks
  train at the top level, and the grader must not spend its budget there.
- `run`: keep all of it; it runs when the module is imported, under the import time limit.
"""

from __future__ import annotations

import ast
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import nbformat

TopLevel = Literal["skip", "run"]
_KEPT = (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Pass)


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


def convert(path: Path, top_level: TopLevel = "skip") -> Converted:
    try:
        notebook = nbformat.reads(path.read_text(encoding="utf-8", errors="replace"), as_version=4)
    except (json.JSONDecodeError, nbformat.reader.NotJSONError) as exc:
        raise NotebookError(f"{path.name} is not a valid notebook: it is not JSON ({_short(exc)}).") from None
    except Exception as exc:  # noqa: BLE001 - nbformat raises many kinds for malformed notebooks
        raise NotebookError(f"{path.name} is not a valid notebook: {_short(exc)}.") from None

    converted = Converted(source="")
    lines: list[str] = []
    dropped_magics: list[int] = []
    dropped_code: list[str] = []
    imported: set[str] = set()  # names imported by earlier cells count in later ones
    code_cells = [c for c in notebook.get("cells", []) if c.get("cell_type") == "code"]
    for number, cell in enumerate(code_cells, start=1):
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else str(source)
        if source.lstrip().startswith("%%"):
            dropped_magics.append(number)
            continue
        cell_lines = []
        for text in source.splitlines():
            stripped = text.lstrip()
            if stripped.startswith(("%", "!")) or "get_ipython()" in stripped or _shell_assignment(stripped):
                dropped_magics.append(number)
                text = text[: len(text) - len(stripped)] + "pass  # dropped: IPython magic or shell line"
            cell_lines.append(text)
        if top_level == "skip":
            cell_lines, dropped = _definitions_only(cell_lines, imported)
            dropped_code += [f"cell {number} line {n}" for n in dropped]
        lines.append(f"# In[{number}]")
        converted.cells.append((number, 0))
        for i, text in enumerate(cell_lines, start=1):
            lines.append(text)
            converted.cells.append((number, i))
    converted.source = "\n".join(lines) + "\n"
    if dropped_magics:
        cells = ", ".join(str(n) for n in sorted(set(dropped_magics)))
        converted.notes.append(f"{path.name}: IPython magics and shell lines were dropped (cells {cells}).")
    if dropped_code:
        shown = ", ".join(dropped_code[:8]) + (f" and {len(dropped_code) - 8} more" if len(dropped_code) > 8 else "")
        converted.notes.append(
            f"{path.name}: top-level code was not run ({shown}); only imports, functions, classes and "
            f"constants are graded. Put anything your functions need inside them.")
    return converted


def _shell_assignment(stripped: str) -> bool:
    """`files = !ls`: an IPython shell capture."""
    head, sep, tail = stripped.partition("=")
    return bool(sep) and tail.lstrip().startswith("!") and head.strip().isidentifier()


def _definitions_only(cell_lines: list[str], imported: set[str]) -> tuple[list[str], list[int]]:
    """Blank out the top-level statements of a cell that are not definitions; 1-based lines dropped."""
    text = "\n".join(cell_lines)
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return cell_lines, []  # left as it is: the import reports the syntax error with its line
    imported.update(alias.asname or alias.name.split(".")[0]
                    for node in tree.body if isinstance(node, ast.Import | ast.ImportFrom) for alias in node.names)
    out = list(cell_lines)
    dropped = []
    for node in tree.body:
        docstring = isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
        if isinstance(node, _KEPT) or docstring or _cheap_assignment(node, imported):
            continue
        dropped.append(node.lineno)
        for i in range(node.lineno - 1, node.end_lineno):
            out[i] = ""
        indent = len(cell_lines[node.lineno - 1]) - len(cell_lines[node.lineno - 1].lstrip())
        out[node.lineno - 1] = " " * indent + "pass  # top-level code not run by the grader"
    return out, dropped


def _cheap_assignment(node: ast.stmt, imported: set[str]) -> bool:
    if isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None:
        return _cheap(node.value, imported)
    return False


def _cheap(node: ast.expr, imported: set[str]) -> bool:
    if isinstance(node, ast.Constant | ast.Name | ast.Attribute):
        return True
    if isinstance(node, ast.UnaryOp | ast.BinOp):
        return all(_cheap(n, imported) for n in ast.iter_child_nodes(node) if isinstance(n, ast.expr))
    if isinstance(node, ast.Tuple | ast.List | ast.Set):
        return all(_cheap(e, imported) for e in node.elts)
    if isinstance(node, ast.Dict):
        return all(_cheap(e, imported) for e in [*node.keys, *node.values] if e is not None)
    if isinstance(node, ast.Call):
        root = node.func
        while isinstance(root, ast.Attribute):
            root = root.value
        literal_args = all(_literal(a) for a in [*node.args, *(k.value for k in node.keywords)])
        return isinstance(root, ast.Name) and root.id in imported and literal_args
    return False


def _literal(node: ast.expr) -> bool:
    try:
        ast.literal_eval(node)
    except ValueError:
        return False
    return True


def _short(exc: Exception) -> str:
    return str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
