"""What PATH names: one checkout, a folder holding several, or a launcher script.

A folder holding several checkouts (two copies of an open-instruct checkout side by side)
is handled checkout by checkout, as `llmfix check` accepts such a folder: each gets its own
`llmfix check`, its own launchers (``*.sh`` at its root) and findings under its own name."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from llmfix.doctor.launchers import find_launchers

# Where open_instruct sits below a repository root (DR Tulu keeps it under rl/open-instruct).
PACKAGE_PREFIXES = ("rl/open-instruct", "open-instruct")


@dataclass
class Checkout:
    """One checkout: what `llmfix check` gets, its launcher scripts, and the name its findings carry
    (``label``: empty when PATH is the one checkout, else its path relative to PATH)."""

    root: Path
    label: str = ""
    scripts: list[Path] = field(default_factory=list)

    @property
    def source(self) -> str:
        return self.label or "environment"

    def script_source(self, script: Path) -> str:
        return f"{self.label}/{script.name}" if self.label else script.name


def _package_parents(folder: Path) -> list[Path]:
    """The folders holding an ``open_instruct`` package with target files under ``folder``
    (the core's discovery; none when it cannot say)."""
    try:
        from llmfix.discovery import targets_in_directory

        return sorted({t.checkout for t in targets_in_directory(folder.absolute())})
    except Exception:  # the core is not there or changed: treat PATH as one checkout
        return []


def _repository_root(parent: Path, top: Path) -> Path:
    """``a/rl/open-instruct`` -> ``a`` when that stays strictly inside ``top``."""
    for prefix in PACKAGE_PREFIXES:
        n = len(Path(prefix).parts)
        if parent.parts[-n:] == Path(prefix).parts:
            root = Path(*parent.parts[:-n])
            if root != top and top in root.parents:
                return root
    return parent


def checkouts(path: Path) -> tuple[list[Checkout], list[Path]]:
    """(the checkouts PATH, an existing folder or file, names; launcher scripts of no one checkout)."""
    if not path.is_dir():
        return ([], [path]) if path.suffix == ".sh" else ([Checkout(path)], [])
    top = path.absolute()
    roots = sorted({_repository_root(p, top) for p in _package_parents(path)})
    if len(roots) <= 1 or any(r == top or r in top.parents for r in roots):
        return [Checkout(path, "", find_launchers(path))], []
    labels = [r.relative_to(top).as_posix() for r in roots]
    return [Checkout(path / label, label, find_launchers(path / label)) for label in labels], find_launchers(path)
