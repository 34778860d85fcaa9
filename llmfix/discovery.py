"""Find the files llmfix patches under the paths a user names.

A PATH is a checkout root at any depth above ``open_instruct/``, or a target file (standing for its
checkout). Known layouts are looked up first, else the tree is walked; a byte scan, never a parse,
tells a target from a namesake. Nothing outside the checkout is read (docs/guarantees.md): every
folder on the way to a target must resolve inside the folder named and its checkout, else one line
and exit 2. A target that is a symlink or larger than :data:`~llmfix.sourcetext.MAX_SOURCE_BYTES` is refused.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from llmfix import sourcetext
from llmfix.errors import BadInput
from llmfix.safefiles import TooLarge, check_inside

TARGET_NAMES = ("run_utils.py", "rubric_utils.py")
JUDGE_FILE = "ground_truth_utils.py"  # the reward verifiers, the LLM judge among them: directly in open_instruct/
PACKAGE_DIR = "open_instruct"
KNOWN_LAYOUTS = (
    "rubrics",  # upstream main, from Feb 2026
    "search_rewards/utils",  # DR Tulu; upstream autumn 2025 to Feb 2026
    "search_rewards",  # upstream mid 2025
)
KNOWN_PREFIXES = (".", "rl/open-instruct", "open-instruct")
PRUNED_DIRS = {".git", ".hg", ".svn", "node_modules", "__pycache__", ".tox", ".nox", ".venv", "venv", "site-packages", ".mypy_cache"}
MARKERS = (b"litellm", b"extract_json_from_response", b"run_litellm")


@dataclass(frozen=True)
class Target:
    """One file to patch, and the checkout root its diff paths are relative to."""

    path: Path
    root: Path

    @property
    def relpath(self) -> str:
        """The path diffs show: relative to the directory the user named."""
        return self.path.relative_to(self.root).as_posix()

    @cached_property
    def checkout(self) -> Path:
        """The folder holding the file's ``open_instruct`` package, whatever PATH named it: the record, journal and lock live there."""
        return _nearest_checkout(self.path.parent) or self.path.parent

    @property
    def record_path(self) -> str:
        """The file's path relative to :attr:`checkout`, as llmfix's record names it."""
        return self.path.relative_to(self.checkout).as_posix()


def _nearest_checkout(folder: Path) -> Path | None:
    """The folder holding the nearest ``open_instruct`` at or above ``folder``; None outside one."""
    return next((parent.parent for parent in (folder, *folder.parents) if parent.name == PACKAGE_DIR), None)


def _check_inside(target: Target) -> None:
    """BadInput when a folder on the way to ``target`` leads out of the folder the user named or out of its checkout."""
    check_inside(target.root, target.path)
    check_inside(target.checkout, target.path)


def _target_if_one(path: Path, root: Path, markers: tuple[bytes, ...] = MARKERS) -> Target | None:
    """``path`` as a Target when it holds a marker or is a symlink (never read through: :func:`discover` refuses it);
    BadInput when it lies outside its checkout (checked before a byte of it is read) or is too large."""
    target = Target(path, root)
    _check_inside(target)
    if path.is_symlink():
        return target
    try:
        head = sourcetext.read_source_bytes(path)
    except TooLarge:
        raise
    except BadInput:
        return None  # unreadable, or not a regular file: not a file llmfix could patch
    return target if any(marker in head for marker in markers) else None


def _check_path(path: Path) -> None:
    if not os.path.lexists(path):
        raise BadInput(f"{path}: no such file or directory")
    if path.is_symlink():
        raise BadInput(f"{path}: is a symbolic link; name the real file")


def _targets_in_package(package: Path, root: Path) -> list[Target]:
    """The targets of the first known layout holding any, then ground_truth_utils.py when it mentions litellm (its LLM
    judge may call it directly)."""
    found: list[Target | None] = []
    for folder in (package / layout for layout in KNOWN_LAYOUTS):
        found = [_target_if_one(folder / name, root) for name in TARGET_NAMES if (folder / name).is_file()]
        if any(found):
            break
    judge = package / JUDGE_FILE
    found.append(_target_if_one(judge, root, (b"litellm",)) if judge.is_file() else None)
    return [t for t in found if t is not None]


def _walk_for_packages(top: Path) -> list[Path]:
    """Directories named open_instruct below ``top`` (not below one found), vendored trees and virtualenvs left out."""
    packages = []
    stack = [str(top)]
    while stack:
        folder = stack.pop()
        try:
            with os.scandir(folder) as scan:
                entries = list(scan)
        except OSError:
            continue
        if any(e.name == "pyvenv.cfg" for e in entries):  # a virtualenv
            continue
        subdirs = [e for e in entries if e.is_dir(follow_symlinks=False)]
        for entry in sorted(subdirs, key=lambda e: e.name, reverse=True):
            if entry.name == PACKAGE_DIR:
                packages.append(Path(entry.path))
            elif entry.name not in PRUNED_DIRS and not entry.name.startswith(".venv"):
                stack.append(entry.path)
    return sorted(packages)


def python_files(root: Path) -> Iterator[Path]:
    """Every ``.py`` file under ``root``, in sorted order, hidden and vendored folders left out."""
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in PRUNED_DIRS and not d.startswith("."))
        yield from (Path(folder, name) for name in sorted(files) if name.endswith(".py"))


def _drifted_targets(package: Path, root: Path) -> list[Target]:
    """Files named like targets anywhere in a package whose layout we don't know."""
    found = []
    for dirpath, dirnames, filenames in os.walk(package):
        dirnames[:] = sorted(d for d in dirnames if d not in PRUNED_DIRS)
        for name in TARGET_NAMES:
            if name in filenames and (target := _target_if_one(Path(dirpath, name), root)) is not None:
                found.append(target)
    return found


def targets_in_directory(directory: Path) -> list[Target]:
    """The target files of the checkout(s) under ``directory``: a known layout's, else those a walk finds."""
    known = [(directory / prefix / PACKAGE_DIR, directory) for prefix in KNOWN_PREFIXES]
    for package, root in known + ([(directory, directory.parent)] if directory.name == PACKAGE_DIR else []):
        if package.is_dir() and (found := _targets_in_package(package, root)):
            return found
    return [t for package in _walk_for_packages(directory) for t in _targets_in_package(package, directory) or _drifted_targets(package, directory)]


def _enclosing_checkout(folder: Path) -> list[Target]:
    """The targets of the checkout ``folder`` lies in (a folder inside ``open_instruct/``), else none."""
    checkout = _nearest_checkout(folder)
    return targets_in_directory(checkout) if checkout is not None else []


def package_root(path: Path) -> Path | None:
    """The folder above ``path``'s topmost ``open_instruct`` (where the checkout imports it from); None outside one."""
    return next((parent.parent for parent in reversed(path.parents) if parent.name == PACKAGE_DIR), None)


def _with_its_checkout(path: Path) -> list[Target]:
    """A file argument means its checkout: the file, then the checkout's other targets (one imports from another:
    naming one never leaves them half patched)."""
    named = Target(path, package_root(path) or path.parent)
    others = [t for t in targets_in_directory(named.root) if t.checkout == named.checkout and t.path.resolve() != path.resolve()]
    return [named, *others]


class Here(type(Path())):  # type: ignore[misc]
    """The path when the command names none: the checkout the folder is in, or the one checkout below it."""


def _here(path: Path) -> list[Target]:
    found = targets_in_directory(path) or _enclosing_checkout(path)
    checkouts = sorted({t.checkout for t in found})
    if len(checkouts) > 1:
        shown = ", ".join(os.path.relpath(c, path) for c in checkouts[:3]) + (", ..." if len(checkouts) > 3 else "")
        raise BadInput(f"no PATH given and {len(checkouts)} open-instruct checkouts lie below this folder ({shown}): name the one to patch")
    return found


def checkout_here(folder: Path) -> Path | None:
    """The folder when the one checkout around or below it is found from there, else that checkout; None when none or several."""
    try:
        found = _here(folder)
    except BadInput:
        return None
    return (folder if targets_in_directory(folder) else found[0].checkout) if found else None


def discover(paths: Sequence[str | os.PathLike[str]]) -> list[Target]:
    """Targets for every path; raise :class:`BadInput` for a path with none (or an empty one)."""
    targets: dict[Path, Target] = {}
    for argument in paths:
        if isinstance(argument, str) and not argument.strip():  # it would mean the current folder
            raise BadInput("empty PATH: name a checkout folder or a target file")
        raw = Path(argument)
        _check_path(raw)
        path = raw.absolute()
        if isinstance(argument, Here):
            found = _here(path)
            if not found:
                raise BadInput("no PATH given and no open-instruct LiteLLM helper files (run_utils.py, rubric_utils.py) in or below this folder")
        elif path.is_dir():
            found = targets_in_directory(path) or _enclosing_checkout(path)
            if not found:
                raise BadInput(f"{raw}: no open-instruct LiteLLM helper files (run_utils.py, rubric_utils.py) found")
        elif path.is_file():
            found = _with_its_checkout(path)
        else:
            raise BadInput(f"{raw}: not a regular file or directory")
        for target in found:
            _check_path(target.path)
            _check_inside(target)
            sourcetext.check_size(target.path)
            targets.setdefault(target.path.resolve(), target)
    return list(targets.values())
