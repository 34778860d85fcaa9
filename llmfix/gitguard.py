"""The dirty-tree guard: apply won't mix llmfix's change with someone else's (docs/guarantees.md).

A target with uncommitted changes is refused unless ``--force`` or the change is llmfix's own; mid-merge
only unstaged changes count, and a target git lists as unmerged is refused. Git runs only under a ``.git``.
"""

from __future__ import annotations

import os
import subprocess
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

from llmfix import planning, record, sourcetext
from llmfix.config import CommandSettings
from llmfix.discovery import Target
from llmfix.errors import BadInput, LlmfixError
from llmfix.planning import FilePlan, plan_text

GIT = "git"
GIT_TIMEOUT = 10.0
IN_PROGRESS = ("MERGE_HEAD", "CHERRY_PICK_HEAD", "REVERT_HEAD", "rebase-merge", "rebase-apply")
UNMERGED = {"DD", "AU", "UD", "UA", "DU", "AA", "UU"}


class DirtyTree(LlmfixError):
    """A target holds uncommitted changes that llmfix did not make."""


def _git(args: Sequence[str], cwd: Path) -> subprocess.CompletedProcess[bytes] | None:
    env = {**os.environ, "GIT_OPTIONAL_LOCKS": "0", "LC_ALL": "C"}
    try:
        return subprocess.run([GIT, *args], cwd=cwd, capture_output=True, timeout=GIT_TIMEOUT, env=env, check=False)
    except (OSError, subprocess.SubprocessError):
        return None


def _status(folder: Path, paths: Sequence[Path], *flags: str) -> dict[Path, str]:
    """Resolved path -> XY status code, for those of ``paths`` ``git status --porcelain -z`` lists (none when git can't tell)."""
    status = _git(["status", "--porcelain=v1", "-z", *flags, "--", *map(str, paths)], folder)
    fields = iter(status.stdout.split(b"\0") if status is not None and status.returncode == 0 else [])
    entries = []
    for field in fields:
        if len(field) >= 4:
            entries.append((field[:2].decode("ascii", "replace"), field[3:].decode("utf-8", "surrogateescape")))
            if field[:1] in (b"R", b"C"):
                next(fields, None)  # the rename's source path follows
    root = _toplevel(folder) if entries else None
    return {(root / path).resolve(): code for code, path in entries} if root is not None else {}


def dirty_targets(plans: Sequence[FilePlan]) -> dict[Path, str]:
    """Target path -> git status code for targets with uncommitted changes (none outside git)."""
    folder = plans[0].target.path.parent
    if git_dir(folder) is None and "GIT_DIR" not in os.environ:
        return {}  # not a git checkout: no git process to start
    listed = _status(folder, [p.target.path for p in plans], "--untracked-files=all")
    return {p.target.path: listed[p.target.path.resolve()] for p in plans if p.target.path.resolve() in listed}


def git_dir(folder: Path) -> Path | None:
    """The git folder of the repository holding ``folder`` (a worktree's too), found without running git."""
    for parent in [folder, *folder.parents]:
        dot_git = parent / ".git"
        if dot_git.is_dir():
            return dot_git
        if dot_git.is_file():
            try:
                line = dot_git.read_text(encoding="utf-8").strip()
            except (OSError, UnicodeDecodeError):
                return None
            if line.startswith("gitdir:"):
                return parent / line[len("gitdir:"):].strip()  # an absolute path stays as it is
            return None
    return None


def operation_in_progress(folder: Path) -> str | None:
    """The marker (``MERGE_HEAD``, ...) of a merge, cherry-pick, revert or rebase in progress, else None."""
    found = git_dir(folder)
    if found is None:
        return None
    return next((name for name in IN_PROGRESS if (found / name).exists()), None)


def unresolved_targets(checkout: Path, group: Sequence[Target]) -> dict[Path, str]:
    """Target path -> one line, for each target git still lists as unmerged (only while a merge or the like is in progress)."""
    if operation_in_progress(checkout) is None:
        return {}
    listed = _status(checkout, [t.path for t in group])
    return {
        t.path: f"{t.path}: unresolved merge conflict (git lists it as unmerged; resolve it, `git add` it, then re-run)"
        for t in group
        if listed.get(t.path.resolve()) in UNMERGED
    }


def _toplevel(folder: Path) -> Path | None:
    top = _git(["rev-parse", "--show-toplevel"], folder)
    if top is None or top.returncode != 0:
        return None
    return Path(top.stdout.decode("utf-8", "surrogateescape").strip()).resolve()


def _version_text(path: Path, version: str) -> str | None:
    """The file's text in HEAD (``version="HEAD"``) or the index (``""``), with the checkout's filters."""
    shown = _git(["cat-file", "--filters", f"{version}:./{path.name}"], path.parent)
    if shown is None or shown.returncode != 0:
        return None
    try:
        return sourcetext.decode(shown.stdout, path)
    except BadInput:
        return None


def _is_llmfix_own(plan: FilePlan, options: CommandSettings, base: str = "HEAD") -> bool:
    """True when the uncommitted change is llmfix's: llmfix makes of the committed (mid-merge: staged) text what it
    makes of the working tree's, or taking llmfix's change out gives the committed one (an apply with other options)."""
    head = _version_text(plan.target.path, base)
    if head is None:
        return False
    if head == plan.original:
        return True
    try:
        if plan_text(plan.target, head, options).patched == plan.patched:
            return True
        reverted, blocked = planning.plan_undo([(plan.target, plan.original)], record.load(plan.target.checkout))
    except LlmfixError:
        return False
    return not blocked and reverted.get(plan.target) == head


def refuse_foreign_changes(plans: Sequence[FilePlan], options: CommandSettings) -> None:
    """Raise :class:`DirtyTree` naming each target of ``plans`` (changing ones) that holds someone else's edit."""
    by_folder: dict[Path, list[FilePlan]] = defaultdict(list)
    for plan in plans:
        by_folder[plan.target.checkout].append(plan)
    foreign: dict[str, list[FilePlan]] = defaultdict(list)
    merging = False
    for folder, group in by_folder.items():
        dirty = dirty_targets(group)
        if not dirty:
            continue
        in_merge = operation_in_progress(folder) is not None
        merging = merging or in_merge
        for plan in (p for p in group if p.target.path in dirty):
            code = dirty[plan.target.path]
            if code == "??":
                foreign["untracked"].append(plan)
            elif in_merge:  # upstream's merged changes are staged; only changes on top of the index count
                if code[1] != " " and not _is_llmfix_own(plan, options, base=""):
                    foreign["unstaged"].append(plan)
            elif not _is_llmfix_own(plan, options):
                foreign["edited"].append(plan)
    if not foreign:
        return
    phrases = {
        "untracked": ("is not committed", "are not committed"),
        "edited": ("has uncommitted changes llmfix did not make", "have uncommitted changes llmfix did not make"),
        "unstaged": ("has changes llmfix did not make that are not staged for the merge", "have changes llmfix did not make that are not staged for the merge"),
    }
    parts = [
        f"{', '.join(p.target.relpath for p in group)} {phrases[kind][len(group) > 1]}" for kind, group in foreign.items()
    ]
    advice = "stage them (`git add`) first" if merging else "commit or stash first"
    raise DirtyTree(f"{'; '.join(parts)}; {advice} so the diff is llmfix's alone, or pass --force")


