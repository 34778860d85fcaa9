"""The four file commands as plain functions: apply, check, diff, revert.

The CLI parses flags and prints; everything that decides what happens to
files lives here. Any drift (``anchor-missing``) or bad input raises before a
single byte is written.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

from llmfix.discovery import Target, discover
from llmfix.errors import Drift, LlmfixError
from llmfix.planning import FilePlan, Options, plan_targets, read_source
from llmfix.reverting import revert_text
from llmfix.state import Record, ensure_state_dir, load_state, state_path
from llmfix.writing import JOURNAL_NAME, PendingWrite, check_writable, finish_interrupted, write_all


def plan_paths(paths: Sequence[Path], options: Options) -> list[FilePlan]:
    """Plans for every target under ``paths``; raise :class:`Drift` on any anchor-missing."""
    plans = plan_targets(discover(list(paths)), options)
    problems = [f"{p.target.relpath}: {d}" for p in plans for d in p.drifted]
    if problems:
        raise Drift("anchor missing, nothing written:\n  " + "\n  ".join(problems))
    return plans


def _by_root(plans: Sequence[FilePlan]) -> dict[Path, list[FilePlan]]:
    grouped: dict[Path, list[FilePlan]] = defaultdict(list)
    for plan in plans:
        grouped[plan.target.root].append(plan)
    return grouped


def _journal(root: Path) -> Path:
    return state_path(root).parent / JOURNAL_NAME


def finish_interrupted_writes(paths: Sequence[Path]) -> None:
    """Complete what a killed apply/revert left half-renamed, before planning anew."""
    by_root: dict[Path, list[Path]] = defaultdict(list)
    for target in discover(list(paths)):
        by_root[target.root].append(target.path)
    for root, files in by_root.items():
        finish_interrupted(_journal(root), [*files, state_path(root)])


def apply(paths: Sequence[Path], options: Options, dry_run: bool = False, force: bool = False) -> list[FilePlan]:
    """Patch every target; each checkout's files (and its llmfix state) are written together.

    In a git checkout, a target with uncommitted changes llmfix did not make is
    refused unless ``force`` (see :mod:`llmfix.gitguard`).
    """
    if not dry_run:
        finish_interrupted_writes(paths)
    plans = plan_paths(paths, options)
    changed = [p for p in plans if p.changed]
    check_writable([p.target.path for p in changed])
    if dry_run or not changed:
        return plans
    if not force:
        from llmfix.gitguard import refuse_foreign_changes

        refuse_foreign_changes(changed, options)
    for root, group in _by_root(changed).items():
        state = load_state(root)
        writes = [PendingWrite(p.target.path, p.original.encode("utf-8"), p.patched.encode("utf-8")) for p in group]
        for plan in group:
            state.add(plan.target.relpath, Record(plan.original, plan.patched))
        ensure_state_dir(root)
        old_state = state.path.read_bytes() if state.path.exists() else None
        writes.append(PendingWrite(state.path, old_state, state.to_bytes()))
        write_all(writes, journal=_journal(root))
    return plans


def check(paths: Sequence[Path], options: Options) -> list[FilePlan]:
    """Plans only; the caller turns ``pending`` into exit code 1."""
    return plan_paths(paths, options)


def revert(paths: Sequence[Path]) -> list[tuple[Target, bool]]:
    """Undo llmfix's recorded changes; returns (target, changed) per target."""
    finish_interrupted_writes(paths)
    targets = discover(list(paths))
    results: list[tuple[Target, bool]] = []
    by_root: dict[Path, list[Target]] = defaultdict(list)
    for target in targets:
        by_root[target.root].append(target)
    for root, group in by_root.items():
        state = load_state(root)
        writes = []
        for target in group:
            records = state.files.get(target.relpath, [])
            current = read_source(target)
            reverted = revert_text(current, records, target.relpath) if records else current
            if reverted != current:
                writes.append(PendingWrite(target.path, current.encode("utf-8"), reverted.encode("utf-8")))
            state.files.pop(target.relpath, None)
            results.append((target, reverted != current))
        if writes:
            check_writable([w.path for w in writes])
            writes.append(PendingWrite(state.path, state.path.read_bytes(), state.to_bytes()))
            write_all(writes, journal=_journal(root))
    return results


__all__ = ["LlmfixError", "apply", "check", "plan_paths", "revert"]
