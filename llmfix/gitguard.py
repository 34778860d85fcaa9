"""llmfix's one git runner, and the dirty-tree guard: apply won't mix llmfix's change with someone else's (docs/guarantees.md).

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
GIT_TIMEOUT = 600.0  # a merge runs the driver on every file
GUARD_TIMEOUT = 10.0
IN_PROGRESS = ("MERGE_HEAD", "CHERRY_PICK_HEAD", "REVERT_HEAD", "rebase-merge", "rebase-apply")
UNMERGED = {"DD", "AU", "UD", "UA", "DU", "AA", "UU"}


class DirtyTree(LlmfixError):
    """A target holds uncommitted changes that llmfix did not make."""


def git(
    args: Sequence[str], cwd: Path, *, config: Sequence[str] = (), env: dict[str, str] | None = None, timeout: float = GIT_TIMEOUT
) -> subprocess.CompletedProcess[bytes]:
    """Run git (``config``: ``name=value`` pairs given as ``-c``); BadInput when git can't be run."""
    command = [GIT, *(part for pair in config for part in ("-c", pair)), *args]
    try:
        return subprocess.run(
            command, cwd=cwd, capture_output=True, timeout=timeout, check=False, env={**os.environ, "LC_ALL": "C", "GIT_OPTIONAL_LOCKS": "0", **(env or {})}
        )
    except OSError as error:
        raise BadInput(f"cannot run git: {error.strerror}") from None
    except subprocess.TimeoutExpired:
        raise LlmfixError(f"git {args[0]} did not finish within {timeout:.0f} s") from None


def git_out(args: Sequence[str], cwd: Path) -> str:
    done = git(args, cwd)
    if done.returncode != 0:
        raise BadInput(first_line(done.stdout + done.stderr) or f"git {args[0]} failed")
    return done.stdout.decode("utf-8", "surrogateescape").removesuffix("\n")


def first_line(output: bytes) -> str:
    lines = [line.strip() for line in output.decode("utf-8", "replace").splitlines() if line.strip()]
    return next((line for line in lines if line.startswith(("fatal:", "error:"))), lines[0] if lines else "")


def repository_top(path: Path) -> Path:
    """The top of the git work tree holding ``path``; BadInput outside one."""
    done = git(["rev-parse", "--show-toplevel"], path if path.is_dir() else path.parent)
    if done.returncode != 0:
        raise BadInput(f"{path}: not inside a git work tree")
    return Path(done.stdout.decode("utf-8", "surrogateescape").removesuffix("\n")).resolve()


def _git(args: Sequence[str], cwd: Path) -> subprocess.CompletedProcess[bytes] | None:
    """git for the guard: None when it can't tell."""
    try:
        done = git(args, cwd, timeout=GUARD_TIMEOUT)
    except LlmfixError:
        return None
    return done if done.returncode == 0 else None


def _status(folder: Path, paths: Sequence[Path], *flags: str) -> dict[Path, str]:
    """Resolved path -> XY status code, for those of ``paths`` ``git status --porcelain -z`` lists (none when git can't tell)."""
    status = _git(["status", "--porcelain=v1", "-z", *flags, "--", *map(str, paths)], folder)
    fields = iter(status.stdout.split(b"\0") if status is not None else [])
    entries = []
    for field in fields:
        if len(field) >= 4:
            entries.append((field[:2].decode("ascii", "replace"), field[3:].decode("utf-8", "surrogateescape")))
            if field[:1] in (b"R", b"C"):
                next(fields, None)  # the rename's source path follows
    top = _git(["rev-parse", "--show-toplevel"], folder) if entries else None
    root = Path(top.stdout.decode("utf-8", "surrogateescape").strip()).resolve() if top is not None else None
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


def _version_text(path: Path, version: str) -> str | None:
    """The file's text in HEAD (``version="HEAD"``) or the index (``""``), with the checkout's filters."""
    shown = _git(["cat-file", "--filters", f"{version}:./{path.name}"], path.parent)
    if shown is None:
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


