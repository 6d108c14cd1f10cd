"""Fixed input arrays stored as data, for checks whose inputs are what a student function returns.

A check that grades `backward` on the handout's forward values, or `robust_basis` on the handout's
data, needs those values in the student half; computing them there would put a working `forward`
or `make_subspace_data` into the check module, which the students' self-check bundle ships. So
they are computed once from the reference by `scripts/make_fixtures.py` and stored in the
assignment package's `fixtures.py` as base64 of the arrays' bytes: a table, not code to copy. The
tests of each assignment check that the stored arrays are still what the reference gives.

What only hidden checks use (P1's values at its other seeds, which its hidden forward check
expects) goes to `hidden_fixtures.py` instead: modules named `hidden_*` never ship to students
(`autograder.assignments.shipped_to_students`), and are imported only when a hidden check runs.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping

import numpy as np

Table = Mapping[str, tuple[str, tuple[int, ...], str]]
"""name -> (dtype, shape, base64 of the C-ordered bytes)."""

_LINE = 96


def decode(table: Table) -> dict[str, np.ndarray]:
    """The arrays of a table, read-only (every caller shares them)."""
    arrays = {}
    for name, (dtype, shape, text) in table.items():
        array = np.frombuffer(base64.b64decode(text), dtype=np.dtype(dtype)).reshape(shape)
        array.flags.writeable = False
        arrays[name] = array
    return arrays


def module_source(doc: str, arrays: Mapping[str, np.ndarray], name: str = "TABLE") -> str:
    """Python source defining `name`, the table of `arrays` (for the generating script)."""
    lines = [f'"""{doc}"""', "", f"{name} = {{"]
    for key, array in arrays.items():
        array = np.array(array, order="C")  # np.ascontiguousarray would make a 0-d array 1-d
        text = base64.b64encode(array.tobytes()).decode("ascii")
        chunks = [text[i:i + _LINE] for i in range(0, len(text), _LINE)] or [""]
        lines.append(f"    {key!r}: ({array.dtype.str!r}, {tuple(int(n) for n in array.shape)!r}, (")
        lines += [f'        "{chunk}"' for chunk in chunks]
        lines.append("    )),")
    lines.append("}")
    return "\n".join(lines) + "\n"
