"""The file commands as plain functions: apply, revert, and the plans check and diff show.

Drift, bad input, an unresolved conflict or a malformed record raises before a byte is written.
``apply`` and ``revert`` work under each checkout's lock: an interrupted write is finished first
(revert undoes an interrupted apply); each file is read, decoded, parsed and planned once; then each
checkout's files, support module and record are written as one group (:mod:`llmfix.writing`).
"""

from __future__ import annotations

import contextlib
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from llmfix import planning, record, sourcetext
from llmfix.codemods import support
from llmfix.codemods.analysis.tree import forget_trees
from llmfix.config import CommandSettings, settings_for
from llmfix.discovery import Target, discover
from llmfix.errors import BadInput, Drift
from llmfix.gitguard import refuse_foreign_changes, unresolved_targets
from llmfix.lock import checkout_locks
from llmfix.planning import FilePlan
from llmfix.writing import STATE_DIR, ChangedMeanwhile, PendingWrite, check_writable, digest, ensure_state_dir, recover, remove_state_dir, write_group


def _read(target: Target) -> tuple[bytes, str]:
    data = sourcetext.read_source_bytes(target.path)
    return data, sourcetext.decode(data, target.path)


def by_checkout(targets: Sequence[Target]) -> dict[Path, list[Target]]:
    grouped: dict[Path, list[Target]] = defaultdict(list)
    for target in targets:
        grouped[target.checkout].append(target)
    return grouped


def _read_checkout(group: Sequence[Target], unmerged: dict[Path, str], unresolved: list[str]) -> list[tuple[Target, str, str, object]]:
    """Each target, the digest of its bytes, its text and tree; unresolved conflicts are collected (one line a file), not raised."""
    read = []
    for target in group:
        try:
            data, text = _read(target)
            tree = planning.parse(target.path, text)
        except BadInput as error:
            if "unresolved merge conflict" in str(error):  # its line number beats git's unmerged status
                unresolved.append(str(error))
            elif target.path in unmerged:
                unresolved.append(unmerged[target.path])
            else:
                raise
            continue
        if target.path in unmerged:
            unresolved.append(unmerged[target.path])
        else:
            read.append((target, digest(data), text, tree))
    return read


def _plan(
    targets: Sequence[Target], options: CommandSettings, force: bool = False, release: bool = False
) -> list[tuple[Path, record.Record, dict[Target, str], list[FilePlan]]]:
    """Each checkout's record, the digests of the files' bytes, and plans (files, then support module); raise on conflicts or drift.
    ``release`` lets each checkout's trees go once it is planned (apply needs only the texts)."""
    unresolved: list[str] = []
    planned = []
    for checkout, group in by_checkout(targets).items():
        read = _read_checkout(group, unresolved_targets(checkout, group), unresolved)
        if unresolved or not read:
            continue
        known = record.load(checkout)
        settings = settings_for(options, read[0][0].path.parent)
        plans = planning.plan_checkout([(t, text) for t, _, text, _ in read], settings, known, [tree for *_, tree in read], force)  # type: ignore[misc]
        if release:
            for plan in plans:
                plan.release()
            forget_trees()
        planned.append((checkout, known, {t: planned_from for t, planned_from, *_ in read}, plans))
    if unresolved:
        if len(unresolved) == 1:
            raise BadInput(f"{unresolved[0]}; nothing written")
        raise BadInput("unresolved merge conflicts, nothing written:\n  " + "\n  ".join(unresolved))
    problems = [f"{p.target.relpath}: {d}" for *_, plans in planned for p in plans for d in p.drifted]
    if problems:
        raise Drift("anchor missing, nothing written:\n  " + "\n  ".join(problems))
    return planned


def plan_paths(paths: Sequence[str | Path], options: CommandSettings, force: bool = False) -> list[FilePlan]:
    """Plans for every target under ``paths`` (what ``check`` and ``diff`` show); raise :class:`Drift` on any anchor-missing."""
    return [plan for *_, plans in _plan(discover(list(paths)), options, force) for plan in plans]


def _support_paths(checkout: Path, group: Sequence[Target], texts: Iterable[str]) -> set[Path]:
    """The support module's places: beside the helpers, and where the files import it from (a merge may move it)."""
    return {planning.support_target(group).path} | {planning.module_path(checkout, m) for text in texts if (m := planning.imported_support(text))}


@contextlib.contextmanager
def _working_on(targets: Sequence[Target], undo_apply: bool) -> Iterator[dict[Path, list[Target]]]:
    """The targets by checkout, each checkout locked and what a killed apply or revert left half-written finished first
    (the support module's places, read before planning, are the files beside the targets it may create or delete)."""
    grouped = by_checkout(targets)
    with checkout_locks(grouped):
        for checkout, group in grouped.items():
            texts = []
            for target in group:
                with contextlib.suppress(OSError):
                    texts.append(target.path.read_text(encoding="utf-8", errors="replace"))
            copies = {path.relative_to(checkout).as_posix() for path in _support_paths(checkout, group, texts)}
            allowed = {t.record_path for t in group} | copies | {f"{STATE_DIR}/{record.RECORD_FILE}"}
            recover(checkout, allowed, undo_apply=undo_apply, creatable=copies)
        yield grouped


def finish_interrupted_writes(paths: Sequence[str | Path]) -> None:
    """Complete what a killed apply/revert left half-renamed, before planning anew."""
    with _working_on(discover(list(paths)), undo_apply=False):
        pass


def _current(target: Target, planned_from: str) -> bytes:
    """The target's bytes now, checked to be the ones planned from (their digest)."""
    try:
        data = target.path.read_bytes()
    except OSError as error:
        raise BadInput(f"{target.path}: cannot read: {error.strerror}") from None
    if digest(data) != planned_from:
        raise ChangedMeanwhile(
            f"{target.relpath} changed while llmfix was working (saved by an editor or another program?); nothing was changed: run the command again"
        )
    return data


def apply(paths: Sequence[str | Path], options: CommandSettings, dry_run: bool = False, force: bool = False) -> list[FilePlan]:
    """Patch every target, each checkout's files, support module and record together; ``force`` passes the git
    guard (:mod:`llmfix.gitguard`) and rewrites a support module someone edited."""
    if dry_run:
        return plan_paths(paths, options, force)
    targets = discover(list(paths))
    with _working_on(targets, undo_apply=False):
        planned = _plan(targets, options, force, release=True)
        all_plans = [plan for *_, plans in planned for plan in plans]
        changed = [p for p in all_plans if p.changed]
        check_writable([p.target.path for p in changed if p.exists])
        if not changed:
            return all_plans
        if not force:
            refuse_foreign_changes([p for p in changed if not p.support], options)
        for checkout, known, digests, plans in planned:
            writes = []
            for plan in plans:
                if plan.support:
                    if plan.changed:
                        old = plan.target.path.read_bytes() if plan.exists else None
                        writes.append(PendingWrite(plan.target.path, old, None if plan.delete else plan.patched.encode("utf-8")))
                    if plan.outcomes[planning.SUPPORT].status != planning.EDITED and not plan.delete:
                        known.support = support.digest(plan.patched)
                    continue
                if plan.moved_from is not None:  # its notes are made afresh, under its path
                    known.forget(plan.moved_from)
                for name, notes in plan.notes().items():
                    known.add_notes(plan.target.record_path, name, notes)
                if plan.changed:
                    data = _current(plan.target, digests[plan.target])
                    writes.append(PendingWrite(plan.target.path, data, sourcetext.encode(plan.patched, data)))
            if writes:
                _write_with_record(checkout, known, writes, "apply")
    return all_plans


def _write_with_record(checkout: Path, known: record.Record, writes: list[PendingWrite], command: str) -> None:
    """Write the files and the record as one group (the record folder made first, whole)."""
    new_record = known.to_bytes()
    created = ensure_state_dir(checkout)  # the journal lives there too
    if new_record != known.raw:
        writes = [*writes, PendingWrite(known.path, known.raw, new_record)]
    try:
        write_group(checkout, writes, command)
    except BaseException:
        if created:
            remove_state_dir(checkout)
        raise
    if new_record is None:
        remove_state_dir(checkout)


@dataclass
class RevertReport:
    """What revert did (or, dry-run, would do), file by file."""

    targets: list[Target]  # every target, in discovery order
    reverted: list[Target] = field(default_factory=list)
    blocked: dict[Target, list[str]] = field(default_factory=dict)  # files left as they are, and why
    kept: list[str] = field(default_factory=list)  # support modules left in place, and why

    def blocked_lines(self, *targets: Target) -> list[str]:
        """One line per reason a file of ``targets`` (default: every blocked one) can't be reverted."""
        return [f"{t.relpath}: can't revert: {problem}" for t in targets or self.blocked for problem in self.blocked.get(t, [])]


def revert_files(paths: Sequence[str | Path], dry_run: bool = False) -> RevertReport:
    """Take llmfix's change out, each file whole or not at all, and remove the support module. A file it can't be
    taken out of is reported, the others reverted still. ``dry_run`` writes and locks nothing."""
    targets = discover(list(paths))
    report = RevertReport(targets)
    context = contextlib.nullcontext(by_checkout(targets)) if dry_run else _working_on(targets, undo_apply=True)
    with context as grouped:
        planned = [(checkout, *_plan_revert(checkout, group, report)) for checkout, group in grouped.items()]
        if dry_run:
            return report
        for checkout, known, writes in planned:
            if writes or known.to_bytes() != known.raw:
                check_writable([w.path for w in writes if w.old is not None])
                _write_with_record(checkout, known, writes, "revert")
    return report


def _plan_revert(checkout: Path, group: list[Target], report: RevertReport) -> tuple[record.Record, list[PendingWrite]]:
    known = record.load(checkout)
    sources = {t: _read(t) for t in group}
    reverted, blocked = planning.plan_undo([(t, text) for t, (_, text) in sources.items()], known)
    writes = []
    for target in group:
        if target in blocked:
            report.blocked[target] = blocked[target]
            continue
        known.forget(known.key_for(target.record_path) or target.record_path)
        data, text = sources[target]
        if reverted[target] == text:  # nothing of llmfix's in it
            continue
        writes.append(PendingWrite(target.path, data, sourcetext.encode(reverted[target], data)))
        report.reverted.append(target)
    if blocked:
        return known, writes
    home = planning.support_target(group)
    for path in sorted(_support_paths(checkout, group, (text for _, text in sources.values()))):
        place = Target(path, home.root)
        if planning.llmfix_copy(path, known) is not None:
            writes.append(PendingWrite(path, path.read_bytes(), None))
            report.reverted.append(place)
        elif path == home.path and path.exists():
            report.kept.append(f"{place.relpath}: kept: edited since llmfix wrote it (remove it yourself if nothing else uses it)")
    known.support = None
    return known, writes
