"""Carry llmfix's change across upstream merges, so that a merge never conflicts on llmfix's lines.

A git merge driver does the work for the target files (``run_utils.py``,
``rubric_utils.py``) that both sides changed:

1. it takes llmfix's change out of ours: the recorded hunks are undone
   (:mod:`llmfix.reverting`, with the record of the work tree, that is of
   ``HEAD``); when the record can't be used, the change llmfix makes of the
   merge base is removed three-way (``git merge-file ours apply(base) base``);
2. it merges that with the base and theirs (``git merge-file``), so a conflict
   can only be the user's own edit against upstream's;
3. in the installed mode (:func:`install_driver`) it also puts llmfix's change
   back on the cleanly merged text, planned with the other target file as it
   is in the work tree, and updates ``.llmfix/state.json`` in the work tree.

``llmfix merge`` (:func:`merge`) runs ``git merge --no-commit`` with the driver
configured for that run only (``git -c`` and a block in ``.git/info/attributes``
that is removed again on every path), then applies llmfix to the merged
checkout, updates the record and commits the merge.

The driver never makes a merge worse than git's own: when anything goes wrong
it merges the three versions as git would and says so on stderr.
"""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from llmfix import planning, sourcetext
from llmfix.config import CommandSettings, settings_for
from llmfix.discovery import TARGET_NAMES, Target, discover
from llmfix.errors import BadInput, LlmfixError
from llmfix.linediff import Hunk
from llmfix.lock import checkout_lock
from llmfix.planning import FilePlan
from llmfix.reverting import revert_file
from llmfix.state import (
    STATE_DIR,
    Record,
    State,
    digest,
    ensure_state_dir,
    load_state,
    remove_state_dir,
)
from llmfix.writing import PendingWrite, write_group

DRIVER = "llmfix"
DRIVER_DESCRIPTION = "llmfix: merge with llmfix's change taken out, then put back"
ATTRIBUTE_LINES = tuple(f"**/{name} merge={DRIVER}" for name in TARGET_NAMES)
BLOCK_START = "# llmfix merge: begin (llmfix removes this block when its merge ends)"
BLOCK_END = "# llmfix merge: end"
GIT_TIMEOUT = 600.0
REPORT_NAME = "llmfix-merge.jsonl"
DRIVER_MODULE = "llmfix.merge_commands"  # ``python -m`` runs git's side of llmfix: merge-file, after-merge
IN_MERGE = "LLMFIX_MERGING"  # set while ``llmfix merge`` runs git: the post-merge hook leaves the work to it
HOOK_MARK = "# written by llmfix install-merge-driver"


# --------------------------------------------------------------------------
# git
# --------------------------------------------------------------------------


def git(args: Sequence[str], cwd: Path, *, config: Sequence[str] = (), env: dict[str, str] | None = None) -> subprocess.CompletedProcess[bytes]:
    """Run git (``config``: ``name=value`` pairs given as ``-c``); BadInput when git can't be run."""
    command = ["git"]
    for pair in config:
        command += ["-c", pair]
    try:
        return subprocess.run(
            [*command, *args], cwd=cwd, capture_output=True, timeout=GIT_TIMEOUT, check=False, env={**os.environ, "LC_ALL": "C", **(env or {})}
        )
    except OSError as error:
        raise BadInput(f"cannot run git: {error.strerror}") from None
    except subprocess.TimeoutExpired:
        raise LlmfixError(f"git {args[0]} did not finish within {GIT_TIMEOUT:.0f} s") from None


def _git_out(args: Sequence[str], cwd: Path) -> str:
    done = git(args, cwd)
    if done.returncode != 0:
        raise BadInput(_first_line(done.stderr) or f"git {args[0]} failed")
    return done.stdout.decode("utf-8", "surrogateescape").strip()


def _first_line(output: bytes) -> str:
    lines = [line.strip() for line in output.decode("utf-8", "replace").splitlines() if line.strip()]
    return next((line for line in lines if line.startswith(("fatal:", "error:"))), lines[0] if lines else "")


def repository_top(path: Path) -> Path:
    """The top of the git work tree holding ``path``; BadInput outside one."""
    folder = path if path.is_dir() else path.parent
    done = git(["rev-parse", "--show-toplevel"], folder)
    if done.returncode != 0:
        raise BadInput(f"{path}: not inside a git work tree")
    return Path(done.stdout.decode("utf-8", "surrogateescape").strip()).resolve()


def git_path(top: Path, name: str) -> Path:
    """``name`` inside the repository's git folder (a linked worktree's own or the common one, as git says)."""
    return (top / _git_out(["rev-parse", "--git-path", name], top)).resolve()


CONFLICT_STYLES = {"diff3": "--diff3", "zdiff3": "--zdiff3"}


def _conflict_style(top: Path) -> str | None:
    """The repository's ``merge.conflictStyle`` (``diff3``, ``zdiff3``), which a merge driver is not told."""
    done = git(["config", "--get", "merge.conflictStyle"], top)
    return done.stdout.decode("utf-8", "replace").strip().lower() or None if done.returncode == 0 else None


def merge_file(ours: bytes, base: bytes, theirs: bytes, labels: tuple[str, str, str], marker_size: int, style: str | None = None) -> tuple[bytes, int]:
    """``git merge-file`` of the three texts (in ``style``: diff3, zdiff3): (merged bytes, number of conflicts)."""
    with tempfile.TemporaryDirectory(prefix="llmfix-merge-") as folder:
        paths = [Path(folder, name) for name in ("ours", "base", "theirs")]
        for path, data in zip(paths, (ours, base, theirs)):
            path.write_bytes(data)
        args = ["merge-file", "-p", f"--marker-size={marker_size}", *([CONFLICT_STYLES[style]] if style in CONFLICT_STYLES else [])]
        for label in labels:
            args += ["-L", label]
        done = git([*args, *map(str, paths)], Path(folder))
    if done.returncode < 0 or done.returncode > 127:
        raise LlmfixError(f"git merge-file failed: {_first_line(done.stderr)}")
    return done.stdout, done.returncode


# --------------------------------------------------------------------------
# the driver: one file
# --------------------------------------------------------------------------


@dataclass
class FileMerge:
    """What the driver did with one file."""

    path: str  # relative to the repository top
    taken_out: str | None = None  # "record" or "three-way" when llmfix's change was taken out of ours
    record_key: str | None = None  # the record entry that described ours
    conflicts: int = 0
    reapplied: bool = False
    note: str | None = None  # why llmfix's part was skipped (the file was merged as git would)

    def to_json(self) -> dict:
        return {
            "path": self.path,
            "taken_out": self.taken_out,
            "record_key": self.record_key,
            "conflicts": self.conflicts,
            "reapplied": self.reapplied,
            "note": self.note,
        }

    @classmethod
    def from_json(cls, data: dict) -> FileMerge:
        return cls(**{key: data.get(key) for key in ("path", "taken_out", "record_key", "note")}, conflicts=int(data.get("conflicts") or 0), reapplied=bool(data.get("reapplied")))


def target_at(top: Path, relpath: str) -> Target:
    """The target file at ``relpath`` of the repository, with its checkout as root."""
    path = top / relpath
    return Target(path, Target(path, path.parent).checkout)


def _records_for(state: State, target: Target, ours: str) -> tuple[str | None, list[Record]]:
    """The record entry describing ours: under the file's path, else (a file git sees renamed) the one llmfix wrote ours as."""
    if state.files.get(target.record_path):
        return target.record_path, state.files[target.record_path]
    current = digest(ours)
    for key, records in state.files.items():
        if records and records[-1].patched == current:
            return key, records
    same_name = [key for key, records in state.files.items() if records and Path(key).name == target.path.name]
    if len(same_name) == 1:
        return same_name[0], state.files[same_name[0]]
    return None, []


def _sibling(target: Target) -> tuple[Target, str] | None:
    """The checkout's other target file, as it is in the work tree, placed beside ``target`` (so imports between them resolve)."""
    other = next(name for name in TARGET_NAMES if name != target.path.name) if target.path.name in TARGET_NAMES else None
    if other is None:
        return None
    beside = target.path.parent / other
    source = beside if beside.is_file() else None
    if source is None:
        try:
            found = [t.path for t in discover([target.checkout]) if t.path.name == other]
        except BadInput:
            found = []
        source = found[0] if len(found) == 1 else None
    if source is None:
        return None
    try:
        text = sourcetext.decode(source.read_bytes(), source)
    except (OSError, BadInput):
        return None
    return Target(beside, target.root), text


def finer(record: Record, context: int = 3) -> Record:
    """The record with each hunk split at its inner context lines, so an edit between two of llmfix's changes blocks neither."""
    split: list[Hunk] = []
    for hunk in record.hunks:
        lines = hunk.lines
        old, new = hunk.old_start, hunk.new_start
        positions = []  # (old, new) line index before each hunk line
        for line in lines:
            positions.append((old, new))
            old += line[0] != "+"
            new += line[0] != "-"
        index = 0
        while index < len(lines):
            if lines[index][0] == " ":
                index += 1
                continue
            end = index
            while end < len(lines) and lines[end][0] != " ":
                end += 1
            start = index
            while start > 0 and index - start < context and lines[start - 1][0] == " ":
                start -= 1
            stop = end
            while stop < len(lines) and stop - end < context and lines[stop][0] == " ":
                stop += 1
            split.append(Hunk(*positions[start], tuple(lines[start:stop])))
            index = end
    return Record(record.original, record.patched, tuple(split))


def plan_merged(target: Target, text: str, options: CommandSettings) -> FilePlan:
    """llmfix's plan for ``text`` as the file at ``target``, with the other target file of the work tree."""
    group = [(target, text)]
    sibling = _sibling(target)
    if sibling is not None:
        group.append(sibling)
    return planning.plan_checkout(group, settings_for(options, target.path.parent))[0]


def take_out(target: Target, ours: str, base: str, state: State, options: CommandSettings) -> tuple[str, str | None, str | None]:
    """(ours without llmfix's change, how it was taken out or None, the record key used)."""
    key, records = _records_for(state, target, ours)
    if records:
        for attempt in (records, [finer(record) for record in records]):
            outcome = revert_file(ours, attempt)
            if outcome.ok:
                return outcome.text, "record", key
    try:
        patched_base = plan_merged(target, base, options)
    except LlmfixError:
        return ours, None, key
    if not patched_base.changed:
        return ours, None, key
    removed, conflicts = merge_file(ours.encode("utf-8"), patched_base.patched.encode("utf-8"), base.encode("utf-8"), ("ours", "llmfix", "base"), 7)
    if conflicts:
        return ours, None, key
    text = removed.decode("utf-8")
    return text, ("three-way" if text != ours else None), key


def drive(base_path: Path, ours_path: Path, theirs_path: Path, marker_size: int, relpath: str, *, put_back: bool, label: str | None = None, options: CommandSettings | None = None) -> FileMerge:
    """The merge driver for one file: write the merge to ``ours_path`` and say what was done."""
    options = options or CommandSettings()
    top = repository_top(Path.cwd())
    result = FileMerge(relpath)
    ours_bytes, base_bytes, theirs_bytes = (p.read_bytes() for p in (ours_path, base_path, theirs_path))
    labels = ("HEAD", "merge base", label or _theirs_label())
    style = _conflict_style(top)
    try:
        target = target_at(top, relpath)
        ours, base = (sourcetext.decode(data, target.path) for data in (ours_bytes, base_bytes))
        state = load_state(target.checkout)
        clean, result.taken_out, result.record_key = take_out(target, ours, base, state, options)
        merged, result.conflicts = merge_file(sourcetext.encode(clean, ours_bytes), base_bytes, theirs_bytes, labels, marker_size, style)
        if put_back and not result.conflicts and result.taken_out:
            merged = _put_back(target, merged, state, result, options)
        elif put_back and result.taken_out:
            _record(target, state, result.record_key, None)
    except (LlmfixError, UnicodeDecodeError, OSError) as error:
        result = FileMerge(relpath, note=str(error))
        merged, result.conflicts = merge_file(ours_bytes, base_bytes, theirs_bytes, labels, marker_size, style)
    ours_path.write_bytes(merged)
    return result


def _put_back(target: Target, merged: bytes, state: State, result: FileMerge, options: CommandSettings) -> bytes:
    """llmfix's change on the cleanly merged text, and the record updated; the merged text alone when planning fails."""
    clean = sourcetext.decode(merged, target.path)
    try:
        plan = plan_merged(target, clean, options)
        problems = plan.drifted
    except LlmfixError as error:
        plan, problems = None, [str(error)]
    if plan is None or problems:
        result.note = f"merged without llmfix's change, which could not be put back ({'; '.join(problems)}): run `llmfix apply`"
        _record(target, state, result.record_key, None)
        return merged
    result.reapplied = True
    _record(target, state, result.record_key, Record.of_texts(clean, plan.patched) if plan.changed else None)
    return sourcetext.encode(plan.patched, merged)


def _record(target: Target, state: State, old_key: str | None, record: Record | None) -> None:
    """Replace the file's entry in the work tree's record (the entry it had under ``old_key`` goes)."""
    if old_key:
        state.files.pop(old_key, None)
    state.files.pop(target.record_path, None)
    if record is not None:
        state.add(target.record_path, record)
    write_state(state)


def write_state(state: State) -> bool:
    """Write the checkout's record as it is now (removed when empty); True when its bytes changed."""
    new = state.to_bytes() if any(state.files.values()) else None
    if new == state.raw:
        return False
    with checkout_lock(state.checkout):
        created = ensure_state_dir(state.checkout)
        try:
            write_group(state.checkout, [PendingWrite(state.path, state.raw, new)], "merge")
        except BaseException:
            if created:
                remove_state_dir(state.checkout)
            raise
        if new is None:
            remove_state_dir(state.checkout)
    state.raw = new
    return True


def merge_in_place(base_path: Path, ours_path: Path, theirs_path: Path, marker_size: int, label: str | None) -> int:
    """git's own merge of the three files into ``ours_path``: 0 clean, 1 conflicts."""
    labels = ("HEAD", "merge base", label or _theirs_label())
    merged, conflicts = merge_file(*(p.read_bytes() for p in (ours_path, base_path, theirs_path)), labels, marker_size)
    ours_path.write_bytes(merged)
    return 1 if conflicts else 0


def _theirs_label() -> str:
    """The name git gave the merged branch (``git merge`` exports it as ``GITHEAD_<commit>``), else "theirs"."""
    names = [value for key, value in os.environ.items() if key.startswith("GITHEAD_") and value]
    return names[0] if len(names) == 1 else "theirs"


def report_to(path: Path, merged: FileMerge) -> None:
    with path.open("a", encoding="utf-8") as file:
        file.write(json.dumps(merged.to_json()) + "\n")


# --------------------------------------------------------------------------
# llmfix merge REF
# --------------------------------------------------------------------------


@dataclass
class MergeReport:
    """What ``llmfix merge`` did."""

    ref: str
    git_output: str = ""
    files: list[FileMerge] = field(default_factory=list)
    conflicted: list[str] = field(default_factory=list)  # paths relative to the current folder's repository top
    plans: list[FilePlan] = field(default_factory=list)
    replanned: list[Target] = field(default_factory=list)  # files git took patched, patched anew with the merged settings
    committed: str | None = None  # the new commit
    up_to_date: bool = False


def driver_command(*extra: str) -> str:
    """The shell command git runs as the driver: this llmfix, by its interpreter's absolute path."""
    words = [shlex.quote(sys.executable), "-m", DRIVER_MODULE, "merge-file", *map(shlex.quote, extra)]
    return " ".join([*words, "%O", "%A", "%B", "%L", "%P"])


@contextlib.contextmanager
def temporary_attributes(top: Path) -> Iterator[None]:
    """``merge=llmfix`` for the target files in ``.git/info/attributes`` while the block runs; the file is restored after, whatever happens."""
    path = git_path(top, "info/attributes")
    before = path.read_bytes() if path.is_file() else None
    kept = _without_block(before.decode("utf-8", "surrogateescape")) if before is not None else ""
    if kept and not kept.endswith("\n"):
        kept += "\n"
    block = "\n".join((BLOCK_START, *ATTRIBUTE_LINES, BLOCK_END)) + "\n"
    restore = kept.encode("utf-8", "surrogateescape") if before is not None else None
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        for sig in previous:
            signal.signal(sig, _raise_interrupt)
    except ValueError:  # not the main thread: the finally block still restores the file
        previous = {}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes((kept + block).encode("utf-8", "surrogateescape"))
        yield
    finally:
        if restore is None:
            path.unlink(missing_ok=True)
        else:
            path.write_bytes(restore)
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _raise_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _without_block(text: str) -> str:
    """``text`` without a block a killed ``llmfix merge`` left."""
    out, inside = [], False
    for line in text.splitlines(keepends=True):
        if line.rstrip("\r\n") == BLOCK_START:
            inside = True
        elif inside and line.rstrip("\r\n") == BLOCK_END:
            inside = False
        elif not inside:
            out.append(line)
    return "".join(out)


def _require_clean(top: Path) -> None:
    from llmfix.gitguard import operation_in_progress

    marker = operation_in_progress(top)
    if marker is not None:
        raise BadInput(f"{top}: a git operation is in progress ({marker}); finish or abort it first")
    status = _git_out(["status", "--porcelain=v1", "--untracked-files=no"], top)
    if status:
        names = [line[3:] for line in status.splitlines()]
        shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
        raise BadInput(f"{top}: uncommitted changes ({shown}); commit or stash them first")


def _unmerged(top: Path) -> list[str]:
    listed = _git_out(["diff", "--name-only", "--diff-filter=U", "-z"], top)
    return sorted({name for name in listed.split("\0") if name})


def _read_reports(path: Path) -> list[FileMerge]:
    if not path.is_file():
        return []
    return [FileMerge.from_json(json.loads(line)) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def settle_records(top: Path, files: Sequence[FileMerge], checkouts: Sequence[Path] = ()) -> None:
    """Make each checkout's record true of the merged work tree.

    A file whose llmfix change the driver took out loses its entry (nothing of
    llmfix is in it now); an entry left under a path the merge moved follows the
    file, when exactly one target of that name in the checkout has none.
    """
    taken = [f for f in files if f.taken_out]
    for checkout in sorted({target_at(top, f.path).checkout for f in files} | set(checkouts)):
        state = load_state(checkout)
        for merged in taken:
            target = target_at(top, merged.path)
            if target.checkout != checkout:
                continue
            if merged.record_key:
                state.files.pop(merged.record_key, None)
            state.files.pop(target.record_path, None)
        _follow_moves(checkout, state)
        write_state(state)


def _follow_moves(checkout: Path, state: State) -> None:
    try:
        targets = discover([checkout])
    except BadInput:
        return
    for key in [k for k in state.files if not (checkout / k).is_file()]:
        candidates = [t for t in targets if t.checkout == checkout and t.path.name == Path(key).name and not state.files.get(t.record_path)]
        if len(candidates) == 1:
            state.files[candidates[0].record_path] = state.files.pop(key)


def merge(ref: str, path: Path, options: CommandSettings) -> MergeReport:
    """Merge ``ref`` into the current branch with llmfix's change kept out of git's way, then re-apply and commit."""
    from llmfix import workflow

    if not ref.strip() or ref.startswith("-"):
        raise BadInput(f"{ref!r}: not a git revision")
    if not path.exists():
        raise BadInput(f"{path}: no such file or directory")
    top = repository_top(path)
    _require_clean(top)
    if git(["rev-parse", "--verify", "-q", f"{ref}^{{commit}}"], top).returncode != 0:
        raise BadInput(f"{ref}: not a commit git knows here")
    report = MergeReport(ref)
    reports = git_path(top, REPORT_NAME)
    reports.unlink(missing_ok=True)
    config = [
        f"merge.{DRIVER}.name={DRIVER_DESCRIPTION}",
        f"merge.{DRIVER}.driver={driver_command('--take-out-only', '--label', ref, '--report', str(reports))}",
        f"merge.{DRIVER}.recursive=text",
    ]
    try:
        with temporary_attributes(top):
            done = git(["merge", "--no-commit", ref], top, config=config, env={IN_MERGE: "1"})
        report.files = _read_reports(reports)
    finally:
        reports.unlink(missing_ok=True)
    report.git_output = (done.stdout + done.stderr).decode("utf-8", "replace").strip()
    from llmfix.gitguard import operation_in_progress

    merging = operation_in_progress(top) == "MERGE_HEAD"
    if done.returncode != 0 and not merging:
        raise LlmfixError(f"git merge {ref} failed: {_first_line(done.stdout + done.stderr)}")
    try:
        targets = discover([path])
    except BadInput:
        targets = []
    settle_records(top, report.files, [t.checkout for t in targets])
    report.conflicted = _unmerged(top)
    if report.conflicted:
        return report
    if not merging and "up to date" in report.git_output.lower():
        report.up_to_date = True
    if targets:
        try:
            for checkout in sorted({t.checkout for t in targets}):
                report.replanned += replan(checkout, [t for t in targets if t.checkout == checkout], options)
            report.plans = workflow.apply([path], options)
        except LlmfixError as error:
            raise LlmfixError(
                f"merged {ref} with llmfix's change taken out, but apply failed: {error}; "
                "fix that and run `llmfix apply`, then `git commit`"
                + (" (or `git merge --abort`)" if merging else "")
            ) from None
    _stage(top, targets)
    if merging:
        _commit(top, ["commit", "--no-edit", "-q"])
        report.committed = _git_out(["rev-parse", "HEAD"], top)
    elif any(p.changed for p in report.plans):
        _commit(top, ["commit", "-q", "-m", f"Apply llmfix after merging {ref}"])
        report.committed = _git_out(["rev-parse", "HEAD"], top)
    return report


def _stage(top: Path, targets: Sequence[Target]) -> None:
    paths = sorted({str(t.path) for t in targets} | {str(t.checkout / STATE_DIR) for t in targets if (t.checkout / STATE_DIR).exists()})
    if paths:
        _git_out(["add", "-A", "--", *paths], top)


def _commit(top: Path, args: list[str]) -> None:
    done = git(args, top)
    if done.returncode != 0:
        raise LlmfixError(f"git commit failed: {_first_line(done.stdout + done.stderr)}; the merge is staged: commit it yourself")


# --------------------------------------------------------------------------
# llmfix install-merge-driver
# --------------------------------------------------------------------------


@dataclass
class InstallReport:
    top: Path
    attributes: Path
    attributes_changed: bool
    config_changed: bool
    command: str
    hook: Path
    hook_state: str  # "written", "already", or "foreign" (a hook of someone else's is there: left alone)


def hook_text() -> str:
    return f"#!/bin/sh\n{HOOK_MARK}: after a merge, llmfix's record follows moved files and new code is patched\n[ -n \"${IN_MERGE}\" ] && exit 0\nexec {shlex.quote(sys.executable)} -m {DRIVER_MODULE} after-merge\n"


def _install_hook(top: Path) -> tuple[Path, str]:
    path = git_path(top, "hooks/post-merge")
    wanted = hook_text()
    if path.is_file():
        current = path.read_text(encoding="utf-8", errors="replace")
        if current == wanted:
            return path, "already"
        if HOOK_MARK not in current:
            return path, "foreign"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(wanted, encoding="utf-8")
    path.chmod(0o755)
    return path, "written"


def after_merge(top: Path) -> list[FilePlan]:
    """What the post-merge hook does: the record follows files the merge moved, then ``llmfix apply``.

    The driver only sees files both sides changed; a file git moved, or took
    from upstream alone (one llmfix had nothing to patch in before), is settled here.
    """
    from llmfix import workflow

    try:
        targets = discover([top])
    except BadInput:
        return []
    for checkout in sorted({t.checkout for t in targets}):
        state = load_state(checkout)
        _follow_moves(checkout, state)
        write_state(state)
        replan(checkout, [t for t in targets if t.checkout == checkout])
    return workflow.apply([top], CommandSettings())


def replan(checkout: Path, targets: Sequence[Target], options: CommandSettings | None = None) -> list[Target]:
    """Patch each recorded file anew from its text without llmfix's change, with the checkout's settings as they are now.

    After a merge, a file git took from ours keeps the patch made under the old
    settings (say upstream changed the line length in pyproject.toml); planning
    from the clean text gives what a fresh apply gives. Nothing is written when a
    file can't be reverted or planned (``llmfix apply`` then says why).
    Returns the targets rewritten.
    """
    state = load_state(checkout)
    texts: dict[Target, tuple[bytes, str, str]] = {}  # target -> (bytes, text, clean text)
    for target in targets:
        data = target.path.read_bytes()
        text = sourcetext.decode(data, target.path)
        records = state.files.get(target.record_path, [])
        outcome = revert_file(text, records) if records else None
        if outcome is not None and not outcome.ok:
            return []
        texts[target] = (data, text, outcome.text if outcome is not None else text)
    if all(clean == text for _, text, clean in texts.values()):
        return []
    try:
        plans = planning.plan_checkout([(t, clean) for t, (_, _, clean) in texts.items()], settings_for(options or CommandSettings(), checkout))
    except LlmfixError:
        return []
    if any(plan.drifted for plan in plans):
        return []
    writes, rewritten = [], []
    for plan in plans:
        data, text, clean = texts[plan.target]
        state.files.pop(plan.target.record_path, None)
        if plan.changed:
            state.add(plan.target.record_path, Record.of_texts(clean, plan.patched))
        if plan.patched != text:
            writes.append(PendingWrite(plan.target.path, data, sourcetext.encode(plan.patched, data)))
            rewritten.append(plan.target)
    if not writes:
        return []
    new = state.to_bytes() if any(state.files.values()) else None
    with checkout_lock(checkout):
        ensure_state_dir(checkout)
        write_group(checkout, [*writes, PendingWrite(state.path, state.raw, new)], "merge")
    return rewritten


def install_driver(path: Path) -> InstallReport:
    """Configure the repository so a plain ``git merge``/``git pull`` uses the driver (take out, merge, put back)."""
    if not path.exists():
        raise BadInput(f"{path}: no such file or directory")
    top = repository_top(path)
    command = driver_command()
    wanted = {f"merge.{DRIVER}.name": DRIVER_DESCRIPTION, f"merge.{DRIVER}.driver": command, f"merge.{DRIVER}.recursive": "text"}
    config_changed = False
    for key, value in wanted.items():
        current = git(["config", "--local", "--get", key], top)
        if current.returncode == 0 and current.stdout.decode("utf-8", "surrogateescape").rstrip("\n") == value:
            continue
        _git_out(["config", "--local", key, value], top)
        config_changed = True
    attributes = top / ".gitattributes"
    text = attributes.read_text(encoding="utf-8") if attributes.is_file() else ""
    present = {line.strip() for line in text.splitlines()}
    missing = [line for line in ATTRIBUTE_LINES if line not in present]
    if missing:
        prefix = "" if not text or text.endswith("\n") else "\n"
        attributes.write_text(text + prefix + "\n".join(missing) + "\n", encoding="utf-8")
    hook, hook_state = _install_hook(top)
    return InstallReport(top, attributes, bool(missing), config_changed, command, hook, hook_state)
