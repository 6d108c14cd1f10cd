"""Write the fixed input arrays of the checks (`autograder/fixtures.py` says why they are data) from
the reference solutions. Run it again after changing a reference function listed here, or a seed:

    python scripts/make_fixtures.py

The tests of each problem fail, naming this script, when a stored array no longer is the reference's.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from autograder.fixtures import module_source  # noqa: E402


def reference_module(assignment: str, name: str):
    path = REPO / "reference" / assignment / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"reference_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def hw3_arrays() -> dict[str, np.ndarray]:
    """P1: make_data and forward at the seeds of the P1 checks (float64, as the reference gives them).
    P3: make_subspace_data at the seeds of the P3 checks, as B, the inliers' coordinates C in B (so
    that X = [C B^T; O], its first 98 rows exactly in span(B)) and the outliers O, in float32."""
    from autograder.assignments.umn_csci5527_hw3 import p1, p3

    hw3_p1 = reference_module("umn-csci5527-hw3", "hw3_p1")
    arrays: dict[str, np.ndarray] = {}
    for seed in (p1.HANDOUT_SEED, *p1.OTHER_SEEDS):
        data = hw3_p1.make_data(seed)
        values = hw3_p1.forward(**data)
        arrays.update({f"p1 {seed} {k}": np.asarray(v, dtype=np.float64) for k, v in {**data, **values}.items()})
    hw3_p3 = reference_module("umn-csci5527-hw3", "hw3_p3")
    for seed in p3.SEEDS:
        B, X = hw3_p3.make_subspace_data(seed)
        inliers = len(X) - p3.OUTLIERS
        arrays[f"p3 {seed} B"] = B.astype(np.float32)
        arrays[f"p3 {seed} C"] = (X[:inliers] @ B).astype(np.float32)
        arrays[f"p3 {seed} O"] = X[inliers:].astype(np.float32)
    return arrays


def main() -> None:
    from autograder.assignments.umn_csci5527_hw3 import p1

    package = REPO / "autograder" / "assignments" / "umn_csci5527_hw3"
    arrays = hw3_arrays()
    # P1's values at its other seeds are what its hidden checks expect (forward) or take (backward):
    # they go to a hidden_ module, which no student bundle ships.
    hidden = {k: v for k, v in arrays.items() if k.startswith("p1 ") and int(k.split()[1]) in p1.OTHER_SEEDS}
    for name, table, what in (
            ("fixtures.py", {k: v for k, v in arrays.items() if k not in hidden},
             "P1's data and node values at the handout's seed, P3's subspace data"),
            ("hidden_fixtures.py", hidden, "P1's data and node values at the hidden checks' seeds")):
        doc = (f"Fixed inputs of the umn-csci5527-hw3 checks, made by scripts/make_fixtures.py from the reference\n"
               f"(see autograder/fixtures.py): {what}.\nDo not edit: run the script.\n")
        (package / name).write_text(module_source(doc, table))
        print(f"wrote {(package / name).relative_to(REPO)} ({(package / name).stat().st_size:,} bytes)")


if __name__ == "__main__":
    main()
