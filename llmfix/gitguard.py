"""The dirty-tree guard: apply won't mix llmfix's change with someone else's.

In a git checkout, ``apply`` refuses (exit 2, one line naming the files) to patch
a target holding uncommitted changes that llmfix did not make, so that the
change a reviewer sees is llmfix's alone; ``--force`` overrides.

"llmfix did not make" is decided structurally first: the uncommitted change is
llmfix's own when llmfix's transforms (the same ones, with the same options)
make the same text of the HEAD version as of the working-tree version; so an
earlier partial apply (``--only``) never trips the guard. An earlier apply with
other options (``--retries 20``) is recognised from llmfix's records: undoing
them gives HEAD's text. A re-run with nothing to do writes nothing, so nothing
is checked. Staged changes are uncommitted too. An untracked target has no
committed version to compare with: refused.

It is cheap: only targets apply would change are looked at; one
``git status --porcelain`` per checkout, and for a dirty target one
``git rev-parse`` and one ``git cat-file`` (HEAD's text, with the checkout's
eol filters). Outside a git checkout, or when git is missing or slow, the
guard does nothing.
"""

from __future__ import annotations

import os
import subprocess
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

from llmfix.errors import BadInput, LlmfixError
from llmfix.planning import FilePlan, Options, plan_text

GIT = "git"
GIT_TIMEOUT = 10.0


class DirtyTree(LlmfixError):
    """A target holds uncommitted changes that llmfix did not make."""


def _git(args: Sequence[str], cwd: Path) -> subprocess.CompletedProcess[bytes] | None:
    env = {**os.environ, "GIT_OPTIONAL_LOCKS": "0", "LC_ALL": "C"}
    try:
        return subprocess.run([GIT, *args], cwd=cwd, capture_output=True, timeout=GIT_TIMEOUT, env=env, check=False)
    except (OSError, subprocess.SubprocessError):
        return None


def _porcelain(output: bytes) -> list[tuple[str, str]]:
    """(XY status, path relative to the repository root) from ``status --porcelain -z``."""
    entries = []
    fields = output.split(b"\0")
    index = 0
    while index < len(fields):
        field = fields[index]
        index += 1
        if len(field) < 4:
            continue
        code, path = field[:2].decode("ascii", "replace"), field[3:].decode("utf-8", "surrogateescape")
        if code[0] in "RC":
            index += 1  # the rename's source path follows
        entries.append((code, path))
    return entries


def dirty_targets(plans: Sequence[FilePlan]) -> dict[Path, str] | None:
    """Target path -> git status code for targets with uncommitted changes; None outside git."""
    if not plans:
        return {}
    folder = plans[0].target.path.parent
    status = _git(["status", "--porcelain=v1", "-z", "--untracked-files=all", "--", *(str(p.target.path) for p in plans)], folder)
    if status is None or status.returncode != 0:
        return None
    entries = _porcelain(status.stdout)
    if not entries:
        return {}
    top = _git(["rev-parse", "--show-toplevel"], folder)
    if top is None or top.returncode != 0:
        return None
    root = Path(top.stdout.decode("utf-8", "surrogateescape").strip()).resolve()
    by_path = {(root / path).resolve(): code for code, path in entries}
    return {p.target.path: by_path[p.target.path.resolve()] for p in plans if p.target.path.resolve() in by_path}


def _head_text(path: Path) -> str | None:
    shown = _git(["cat-file", "--filters", f"HEAD:./{path.name}"], path.parent)
    if shown is None or shown.returncode != 0:
        return None
    try:
        return shown.stdout.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _is_llmfix_own(plan: FilePlan, options: Options) -> bool:
    """True when llmfix makes of HEAD's text what it makes of the working tree's."""
    head = _head_text(plan.target.path)
    if head is None:
        return False
    if head == plan.original:
        return True
    try:
        from_head = plan_text(plan.target, head, options)
    except BadInput:
        from_head = None
    if from_head is not None and from_head.patched == plan.patched:
        return True
    return _recorded_by_llmfix(plan, head)


def _recorded_by_llmfix(plan: FilePlan, head: str) -> bool:
    """True when undoing llmfix's recorded applies of the file gives HEAD's text.

    Covers an earlier apply with other options (say ``--retries 20``), which the
    structural test can't tell from an edit.
    """
    from llmfix.reverting import revert_text
    from llmfix.state import load_state

    try:
        records = load_state(plan.target.root).files.get(plan.target.relpath)
        return bool(records) and revert_text(plan.original, records, plan.target.relpath) == head
    except LlmfixError:
        return False


def refuse_foreign_changes(plans: Sequence[FilePlan], options: Options) -> None:
    """Raise :class:`DirtyTree` naming each target apply would change over someone else's edit."""
    by_folder: dict[Path, list[FilePlan]] = defaultdict(list)
    for plan in plans:
        if plan.changed:
            by_folder[plan.target.root].append(plan)
    foreign: dict[str, list[FilePlan]] = defaultdict(list)
    for group in by_folder.values():
        dirty = dirty_targets(group)
        if not dirty:
            continue
        for plan in group:
            code = dirty.get(plan.target.path)
            if code == "??":
                foreign["untracked"].append(plan)
            elif code is not None and not _is_llmfix_own(plan, options):
                foreign["edited"].append(plan)
    if not foreign:
        return
    phrases = {
        "untracked": ("is not committed", "are not committed"),
        "edited": ("has uncommitted changes llmfix did not make", "have uncommitted changes llmfix did not make"),
    }
    parts = [
        f"{', '.join(p.target.relpath for p in group)} {phrases[kind][len(group) > 1]}" for kind, group in foreign.items()
    ]
    raise DirtyTree(f"{'; '.join(parts)}; commit or stash first so the diff is llmfix's alone, or pass --force")
