"""The four file commands as plain functions: apply, check, diff, revert.

The CLI parses flags and prints; everything that decides what happens to
files lives here. Any drift (``anchor-missing``), bad input, unresolved merge
conflict or malformed record raises before a single byte is written.

``apply`` and ``revert`` work under each checkout's lock (:mod:`llmfix.lock`):
first an interrupted write is finished (or, by revert, an interrupted apply
undone), then the files are planned, then written as one group
(:mod:`llmfix.writing`) together with llmfix's record (:mod:`llmfix.state`).
"""

from __future__ import annotations

import ast
import contextlib
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from llmfix import planning, sourcetext
from llmfix.discovery import Target, discover
from llmfix.errors import BadInput, Drift, LlmfixError
from llmfix.lock import checkout_locks
from llmfix.config import settings_for
from llmfix.planning import FilePlan, Options, read_source
from llmfix.reverting import HunkProblem, RevertConflict, revert_file
from llmfix.state import (
    STATE_DIR,
    STATE_FILE,
    Record,
    State,
    digest,
    ensure_state_dir,
    fold_in_legacy,
    load_state,
    remove_state_dir,
    retire_legacy,
)
from llmfix.writing import ChangedMeanwhile, PendingWrite, check_writable, recover, write_group

STATE_RECORD_PATH = f"{STATE_DIR}/{STATE_FILE}"


def _by_checkout(targets: Sequence[Target]) -> dict[Path, list[Target]]:
    grouped: dict[Path, list[Target]] = defaultdict(list)
    for target in targets:
        grouped[target.checkout].append(target)
    return grouped


def _plan(targets: Sequence[Target], options: Options) -> list[FilePlan]:
    """Plans for ``targets``, each checkout's files together; raise on unresolved conflicts (naming each) or any anchor-missing."""
    from llmfix.gitguard import unresolved_targets

    unmerged = unresolved_targets(targets)
    unresolved: list[str] = []
    plans: dict[Target, FilePlan] = {}
    for group in _by_checkout(targets).values():
        readable, trees = [], []
        for target in group:
            try:
                text = read_source(target)
                tree = planning.parse(target, text)
            except BadInput as error:
                if "unresolved merge conflict" in str(error):
                    unresolved.append(str(error))
                elif target.path not in unmerged:
                    raise
                tree = None
            if target.path in unmerged:
                unresolved.append(unmerged[target.path])  # a conflict line found above is preferred
            elif tree is not None:
                readable.append((target, text))
                trees.append(tree)
        if unresolved or not readable:
            continue
        try:
            group_plans = planning.plan_checkout(readable, settings_for(options, readable[0][0].path.parent), trees)
        except RecursionError:
            raise BadInput(
                f"{readable[0][0].checkout}: code nested too deeply for llmfix's analysis (a very long operator chain or deep brackets); nothing written"
            ) from None
        plans.update((plan.target, plan) for plan in group_plans)
    if unresolved:
        unique = list(dict.fromkeys(_conflict_lines(unresolved)))
        if len(unique) == 1:
            raise BadInput(f"{unique[0]}; nothing written")
        raise BadInput("unresolved merge conflicts, nothing written:\n  " + "\n  ".join(unique))
    ordered = [plans[t] for t in targets]
    problems = [f"{p.target.relpath}: {d}" for p in ordered for d in p.drifted]
    if problems:
        raise Drift("anchor missing, nothing written:\n  " + "\n  ".join(problems))
    return ordered


def _conflict_lines(lines: list[str]) -> list[str]:
    """One line per file: a conflict marker line number beats git's unmerged status."""
    by_path: dict[str, str] = {}
    for line in lines:
        path = line.split(": unresolved merge conflict", 1)[0]
        if path not in by_path or " at line " in line:
            by_path[path] = line
    return list(by_path.values())


def plan_paths(paths: Sequence[str | Path], options: Options) -> list[FilePlan]:
    """Plans for every target under ``paths``; raise :class:`Drift` on any anchor-missing."""
    return _plan(discover(list(paths)), options)


def _allowed(checkout: Path, targets: Sequence[Target]) -> set[str]:
    return {t.record_path for t in targets} | {STATE_RECORD_PATH}


def _recover(grouped: dict[Path, list[Target]], undo_apply: bool) -> None:
    for checkout, group in grouped.items():
        recover(checkout, _allowed(checkout, group), undo_apply=undo_apply)


def finish_interrupted_writes(paths: Sequence[str | Path]) -> None:
    """Complete what a killed apply/revert left half-renamed, before planning anew."""
    grouped = _by_checkout(discover(list(paths)))
    with checkout_locks(grouped):
        _recover(grouped, undo_apply=False)


@contextlib.contextmanager
def _working_on(targets: Sequence[Target], undo_apply: bool) -> Iterator[dict[Path, list[Target]]]:
    grouped = _by_checkout(targets)
    with checkout_locks(grouped):
        _recover(grouped, undo_apply=undo_apply)
        yield grouped


def _current_bytes(plan_or_target: Target, expected_text: str) -> bytes:
    """The target's bytes now, checked to be the text that was planned from."""
    try:
        data = plan_or_target.path.read_bytes()
    except OSError as error:
        raise BadInput(f"{plan_or_target.path}: cannot read: {error.strerror}") from None
    if sourcetext.decode(data, plan_or_target.path) != expected_text:
        raise ChangedMeanwhile(
            f"{plan_or_target.relpath} changed while llmfix was working (saved by an editor or another program?); "
            "nothing was changed: run the command again"
        )
    return data


def _drop_undone_records(records: list[Record], text: str) -> list[Record]:
    """The records still in effect for a file holding ``text``.

    When the file is back to the text before some apply (``git checkout``, a
    revert by hand), that apply and every later one are undone: forget them.
    """
    current = digest(text)
    for index, record in enumerate(records):
        if record.original == current:
            return records[:index]
    return records


def apply(paths: Sequence[str | Path], options: Options, dry_run: bool = False, force: bool = False) -> list[FilePlan]:
    """Patch every target; each checkout's files (and its llmfix record) are written together.

    In a git checkout, a target with uncommitted changes llmfix did not make is
    refused unless ``force`` (see :mod:`llmfix.gitguard`).
    """
    targets = discover(list(paths))
    if dry_run:
        return _plan(targets, options)
    with _working_on(targets, undo_apply=False) as grouped:
        plans = _plan(targets, options)
        changed = [p for p in plans if p.changed]
        check_writable([p.target.path for p in changed])
        if not changed:
            return plans
        states = {checkout: _load_state(checkout, group) for checkout, group in grouped.items()}
        if not force:
            from llmfix.gitguard import refuse_foreign_changes

            refuse_foreign_changes(changed, options)
        for checkout, group in _plans_by_checkout(changed).items():
            state = states[checkout]
            writes = []
            for plan in group:
                current = _current_bytes(plan.target, plan.original)
                name = plan.target.record_path
                state.files[name] = _drop_undone_records(state.files.get(name, []), plan.original)
                state.add(name, Record.of_texts(plan.original, plan.patched))
                writes.append(PendingWrite(plan.target.path, current, sourcetext.encode(plan.patched, current)))
            _write_with_record(checkout, state, writes, "apply")
    return plans


def _load_state(checkout: Path, group: Sequence[Target]) -> State:
    """The checkout's record, with what llmfix 0.1 recorded at the folder the user named folded in."""
    state = load_state(checkout)
    fold_in_legacy(state, [(t.root, t.path) for t in group])
    return state


def _plans_by_checkout(plans: Sequence[FilePlan]) -> dict[Path, list[FilePlan]]:
    grouped: dict[Path, list[FilePlan]] = defaultdict(list)
    for plan in plans:
        grouped[plan.target.checkout].append(plan)
    return grouped


def _write_with_record(checkout: Path, state: State, writes: list[PendingWrite], command: str) -> None:
    """Write the files and the record as one group (the record folder made first, whole)."""
    new_state = state.to_bytes() if any(state.files.values()) else None
    created = ensure_state_dir(checkout)  # the journal lives there too
    writes = [*writes, PendingWrite(state.path, state.raw, new_state)]
    try:
        write_group(checkout, writes, command)
    except BaseException:
        if created:
            remove_state_dir(checkout)
        raise
    if new_state is None:
        remove_state_dir(checkout)
    retire_legacy(state)


def check(paths: Sequence[str | Path], options: Options) -> list[FilePlan]:
    """Plans only; the caller turns ``pending`` into exit code 1."""
    return plan_paths(paths, options)


# --------------------------------------------------------------------------
# revert
# --------------------------------------------------------------------------


@dataclass
class BlockedFile:
    """A file revert leaves as it is, the hunks in the way and how to get upstream's version."""

    target: Target
    problems: list[HunkProblem]
    hint: str | None = None

    def describe(self) -> list[str]:
        lines = [f"{self.target.relpath}: can't revert {p.describe()}" for p in self.problems]
        if self.hint:
            lines.append(f"{self.target.relpath}: to take upstream's version instead: {self.hint}")
        return lines


@dataclass
class RevertReport:
    """What revert did (or, dry-run, would do), file by file."""

    reverted: list[Target] = field(default_factory=list)
    untouched: list[Target] = field(default_factory=list)  # nothing recorded, or already as before llmfix
    blocked: list[BlockedFile] = field(default_factory=list)
    dry_run: bool = False
    targets: list[Target] = field(default_factory=list)  # every target, in discovery order

    def describe_blocked(self) -> str:
        return "\n".join(line for blocked in self.blocked for line in blocked.describe())


def revert_files(paths: Sequence[str | Path], dry_run: bool = False, partial: bool = True) -> RevertReport:
    """Undo llmfix's recorded changes, each file whole or not at all.

    A file with a hunk that can't be located unambiguously is left as it is and
    reported with each such hunk; with ``partial`` the other files are still
    reverted (except one that a file left patched imports from), without it
    nothing is written. ``dry_run`` writes nothing, takes no lock and finishes
    no interrupted write.
    """
    targets = discover(list(paths))
    report = RevertReport(dry_run=dry_run, targets=targets)
    context = contextlib.nullcontext(_by_checkout(targets)) if dry_run else _working_on(targets, undo_apply=True)
    with context as grouped:
        planned = []
        for checkout, group in grouped.items():
            planned.append((checkout, _plan_revert(checkout, group, report)))
        if report.blocked and not partial:
            return report
        if dry_run:
            return report
        for checkout, (state, writes) in planned:
            if writes or state.legacy or state.raw != (state.to_bytes() if any(state.files.values()) else None):
                check_writable([w.path for w in writes])
                _write_with_record(checkout, state, writes, "revert")
    return report


def _plan_revert(checkout: Path, group: list[Target], report: RevertReport) -> tuple[State, list[PendingWrite]]:
    from llmfix.gitguard import upstream_hint

    state = _load_state(checkout, group)
    outcomes: dict[Target, tuple[str, bytes, str]] = {}  # target -> (current text, bytes, reverted text)
    blocked: dict[Target, list[HunkProblem]] = {}
    for target in group:
        records = state.files.get(target.record_path, [])
        if not records:
            report.untouched.append(target)
            continue
        data = target.path.read_bytes()
        text = sourcetext.decode(data, target.path)
        outcome = revert_file(text, records)
        if outcome.ok:
            outcomes[target] = (text, data, outcome.text)
        else:
            blocked[target] = outcome.problems
    _hold_back_imported(outcomes, blocked)
    writes = []
    for target, (text, data, reverted) in outcomes.items():
        state.files.pop(target.record_path, None)
        if reverted == text:
            report.untouched.append(target)
            continue
        writes.append(PendingWrite(target.path, data, sourcetext.encode(reverted, data)))
        report.reverted.append(target)
    for target, problems in blocked.items():
        report.blocked.append(BlockedFile(target, problems, upstream_hint(target)))
    return state, writes


def _hold_back_imported(outcomes: dict[Target, tuple[str, bytes, str]], blocked: dict[Target, list[HunkProblem]]) -> None:
    """Leave patched a file whose llmfix-added names a file that stays patched imports."""
    changed = True
    while changed and blocked:
        changed = False
        for target, (text, _, reverted) in list(outcomes.items()):
            module = target.path.stem
            lost = _top_level_names(text) - _top_level_names(reverted)
            for other in blocked:
                needed = _imported_from(other.path, module) & lost
                if needed:
                    del outcomes[target]
                    blocked[target] = [
                        HunkProblem("", "", f"{other.relpath}, which stays patched, imports {', '.join(sorted(needed))} from it")
                    ]
                    changed = True
                    break


def _top_level_names(text: str) -> set[str]:
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError):
        return set()
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
    return names


def _imported_from(path: Path, module: str) -> set[str]:
    try:
        tree = ast.parse(path.read_bytes().removeprefix(sourcetext.BOM))
    except (OSError, SyntaxError, ValueError, RecursionError):
        return set()
    return {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[-1] == module
        for alias in node.names
    }


def revert(paths: Sequence[str | Path]) -> list[tuple[Target, bool]]:
    """Undo llmfix's recorded changes, all files or none; returns (target, changed) per target.

    Raises :class:`RevertConflict` naming every hunk that can't be reverted
    (and how to take upstream's version), writing nothing.
    """
    report = revert_files(paths, partial=False)
    if report.blocked:
        raise RevertConflict(report.describe_blocked() + "\nnothing was reverted")
    reverted = set(report.reverted)
    return [(t, t in reverted) for t in report.targets]


__all__ = ["LlmfixError", "RevertReport", "apply", "check", "plan_paths", "revert", "revert_files"]
