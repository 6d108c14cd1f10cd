"""Reading a student's source text without running it (for static checks)."""

from __future__ import annotations

import ast
from collections.abc import Iterable


def is_placeholder(function: ast.FunctionDef) -> bool:
    """A template's TODO: nothing but a docstring, `pass` and `raise`."""
    code = [n for n in function.body
            if not (isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant)) and not isinstance(n, ast.Pass)]
    return all(isinstance(n, ast.Raise) for n in code)


def unwritten(tree: ast.Module, names: Iterable[str]) -> list[str]:
    """The top-level functions among `names` that are missing or still placeholders."""
    defined = {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef)}
    return [name for name in names if name not in defined or is_placeholder(defined[name])]
