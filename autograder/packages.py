"""The packages that course code may import besides Python's standard library.

Every grading environment has them: `pyproject.toml` lists them as dependencies (so the instructor's
install and the student's self-check bundle get them; a test keeps the two lists equal), Gradescope's
`setup.sh` checks that each imports before the image is built, and an import that fails names them.
"""

from __future__ import annotations

COURSE_PACKAGES: dict[str, str] = {
    # distribution on PyPI: the module that course code imports
    "numpy": "numpy", "scipy": "scipy", "torch": "torch",
    "matplotlib": "matplotlib", "pandas": "pandas", "tqdm": "tqdm", "seaborn": "seaborn",
    "scikit-learn": "sklearn", "ipython": "IPython",
}


def described() -> str:
    """'numpy, scipy, ..., sklearn (scikit-learn) and IPython', for messages and documents."""
    names = [module if module.lower() == package else f"{module} ({package})"
             for package, module in COURSE_PACKAGES.items()]
    return ", ".join(names[:-1]) + " and " + names[-1]
