"""Finding the files of a submission: a folder, a zip, or a single file.

Students upload zips and whole repositories, so the files the spec names are looked for by name
anywhere in the tree. The ones found are copied, flat, into a staging folder that the worker
imports from; nothing else of the submission is reachable from there.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from autograder.model import Assignment
from autograder.notebooks import Converted, NotebookError, TopLevel, convert

MAX_ZIP_BYTES = 512 << 20
MAX_ZIP_MEMBERS = 20_000
_SKIPPED_DIRS = {"__MACOSX", "__pycache__", ".git", ".ipynb_checkpoints", "node_modules", ".venv", "venv"}


class SubmissionUnreadable(Exception):
    """The submission as a whole cannot be read (not a folder, a bad zip)."""


@dataclass
class Staged:
    folder: Path
    found: dict[str, str] = field(default_factory=dict)
    """File name -> where it was found, relative to the submission."""
    unusable: dict[str, str] = field(default_factory=dict)
    """File name -> why it cannot be graded (missing, found twice and different)."""
    notes: list[str] = field(default_factory=list)
    notebooks: dict[str, Converted] = field(default_factory=dict)
    """Module file name -> the notebook it was made from, for locating lines in cells."""
    sources: dict[str, str] = field(default_factory=dict)
    """Module file name -> its text as staged, read before any student code ran (static checks)."""

    def locate(self, file: str, line: int) -> str:
        """'hw3_p1.py, line 12', or the notebook cell that line came from."""
        converted = self.notebooks.get(file)
        cell = converted.locate(line) if converted else None
        if cell is None:
            return f"{file}, line {line}"
        return f"{file.removesuffix('.py')}.ipynb, cell {cell[0]}, line {cell[1]}"


def stage(source: Path, assignment: Assignment, dest: Path, scratch: Path,
          top_level: TopLevel = "skip") -> Staged:
    """Copy the files `assignment` needs from `source` into the empty folder `dest`."""
    root = _unpack(source, scratch)
    wanted = sorted(set().union(*(p.wanted_files for p in assignment.problems)))
    notebooks = {_notebook_name(n): n for n in wanted if n.endswith(".py")}
    matches = _find(root, set(wanted) | set(notebooks))
    staged = Staged(folder=dest)
    if not any(matches.values()) and not any(_files(root)):
        staged.notes.append("The submission is empty: it holds no files at all.")
    for name in wanted:
        paths = matches.get(name, [])
        if not paths and matches.get(_notebook_name(name)):
            _stage_notebook(name, matches[_notebook_name(name)], root, dest, staged, top_level)
            continue
        if not paths:
            staged.unusable[name] = _not_found(name, root)
            continue
        if matches.get(_notebook_name(name)):
            staged.notes.append(f"Both {name} and {_notebook_name(name)} were found; {name} was graded.")
        distinct = {_digest(p) for p in paths}
        shown = [p.relative_to(root).as_posix() for p in paths]
        if len(distinct) > 1:
            staged.unusable[name] = (
                f"{name} was found {len(paths)} times, with different contents: {', '.join(shown)}. "
                f"Keep only the one you want graded."
            )
            continue
        if len(paths) > 1:
            staged.notes.append(f"{name} was found {len(paths)} times with the same contents; graded {shown[0]}.")
        shutil.copyfile(paths[0], dest / name)
        staged.found[name] = shown[0]
        if name.endswith(".py"):
            staged.sources[name] = (dest / name).read_text(encoding="utf-8", errors="replace")
    for problem in assignment.problems:  # the grader's own copies of the handout's starter files
        for name in problem.provided:
            shutil.copyfile(problem.provided_dir / name, dest / name)
    return staged


def _notebook_name(module_file: str) -> str:
    return module_file.removesuffix(".py") + ".ipynb"


def _stage_notebook(name: str, paths: list[Path], root: Path, dest: Path, staged: Staged,
                    top_level: TopLevel) -> None:
    shown = [p.relative_to(root).as_posix() for p in paths]
    if len({_digest(p) for p in paths}) > 1:
        staged.unusable[name] = (f"{_notebook_name(name)} was found {len(paths)} times, with different contents: "
                                 f"{', '.join(shown)}. Keep only the one you want graded.")
        return
    try:
        converted = convert(paths[0], top_level)
    except NotebookError as exc:
        staged.unusable[name] = str(exc)
        return
    (dest / name).write_text(converted.source, encoding="utf-8")
    staged.sources[name] = converted.source
    staged.found[name] = shown[0]
    staged.notebooks[name] = converted
    staged.notes.extend(converted.notes)


def _not_found(name: str, root: Path) -> str:
    links = [p.relative_to(root).as_posix() for p in root.rglob(name) if p.is_symlink()]
    if links:
        return f"{name} was found only as a symbolic link ({links[0]}); upload the file itself."
    return f"{name} was not found in the submission."


def _files(root: Path):
    return (p for p in root.rglob("*") if p.is_file())


def _unpack(source: Path, scratch: Path) -> Path:
    if source.is_dir():
        return source
    if zipfile.is_zipfile(source):
        target = scratch / "unzipped"
        target.mkdir()
        _safe_extract(source, target)
        return target
    if source.is_file():
        target = scratch / "single"
        target.mkdir()
        shutil.copyfile(source, target / source.name)
        return target
    raise SubmissionUnreadable(f"{source} does not exist.")


def _safe_extract(archive: Path, target: Path) -> None:
    """Extract regular files only, refusing paths that leave `target` and archives that explode."""
    try:
        with zipfile.ZipFile(archive) as zf:
            members = zf.infolist()
            if len(members) > MAX_ZIP_MEMBERS:
                raise SubmissionUnreadable(f"the zip has {len(members)} entries; at most {MAX_ZIP_MEMBERS} are read.")
            total = 0
            for info in members:
                mode = info.external_attr >> 16
                if info.is_dir() or stat.S_ISLNK(mode):
                    continue  # links could point at the grader's own files: never extracted
                parts = PurePosixPath(info.filename.replace("\\", "/")).parts
                if info.filename.startswith("/") or ".." in parts or not parts:
                    continue  # path traversal: never extracted
                total += info.file_size
                if total > MAX_ZIP_BYTES:
                    raise SubmissionUnreadable(f"the zip unpacks to more than {MAX_ZIP_BYTES >> 20} MB.")
                out = target.joinpath(*parts)
                out.parent.mkdir(parents=True, exist_ok=True)
                with zf.open(info) as src, open(out, "wb") as dst:
                    shutil.copyfileobj(src, dst)
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise SubmissionUnreadable(f"the zip could not be read: {exc}") from None


def _find(root: Path, names: set[str]) -> dict[str, list[Path]]:
    found: dict[str, list[Path]] = {}
    for dirpath, dirnames, filenames in os.walk(root):  # does not follow links to folders
        dirnames[:] = sorted(d for d in dirnames if d not in _SKIPPED_DIRS and not d.startswith("."))
        for name in sorted(filenames):
            path = Path(dirpath, name)
            if name in names and path.is_file() and not path.is_symlink():
                found.setdefault(name, []).append(path)
    return found


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
