"""Write the files of one checkout all together, or not at all, and never over someone's edit; recover after a kill.

Each new text goes to a temp file beside its target (its mode, owner, xattrs and ACL); the journal
(``.llmfix/pending.json``: relative paths, the SHA-256 of old and new bytes, the command, the run id
that names the temp files) names the group; then each target, still holding what was planned from,
is swapped with its temp file in one step (``renameat2`` ``RENAME_EXCHANGE``, else a rename) and the
old file checked once more. A failure or an edit swaps everything back; a kill leaves each file wholly
old or new, for :func:`recover`. The journal is input: it may name only the files the caller allows,
and recovery deletes only llmfix's record and support module while they hold the journalled bytes.
"""

from __future__ import annotations

import json
import os
import re
import stat
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

from llmfix.errors import BadInput, LlmfixError, WriteFailed
from llmfix.safefiles import (
    IGNORE_FILE,
    JOURNAL_NAME,
    NEW_FILE_MODE,
    STATE_DIR,
    STATE_FILE,
    TEMP_SUFFIX,
    check_inside,
    check_state_dir,
    digest,
    ensure_state_dir,
    exchange,
    fsync_dir,
    owner_of,
    read_regular,
    remove_state_dir,
    replace_file,
    state_dir,
    temp_path,
    write_new_file,
)

# the names the rest of llmfix imports from here, besides its own
__all__ = ["STATE_DIR", "STATE_FILE", "TEMP_SUFFIX", "check_state_dir", "digest", "ensure_state_dir", "read_regular", "remove_state_dir"]

WRITE_BITS = stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH  # a file with none of them is read-only on purpose, even for root
VERSION = 2
RUN_ID = re.compile(r"^[0-9a-f]{8,32}$")
DIGEST = re.compile(r"[0-9a-f]{64}")
RECORD = f"{STATE_DIR}/{STATE_FILE}"  # the record's place relative to the checkout: recovery may create or delete it


class ChangedMeanwhile(LlmfixError):
    """A target's bytes changed between planning and writing: someone else is editing it."""


class UnsafeJournal(BadInput):
    """The journal names something llmfix never writes."""


@dataclass(frozen=True)
class PendingWrite:
    """One file of a group: what it holds now and what it will hold (None: absent)."""

    path: Path
    old: bytes | None
    new: bytes | None


_UNREADABLE = object()  # what _bytes_now gives for a path no longer a regular file: equal to no bytes


def _bytes_now(path: Path) -> object:
    """The bytes at ``path`` now for a comparison: None when absent, never equal to any bytes when not a regular file."""
    try:
        return read_regular(path)
    except BadInput:
        return _UNREADABLE


def check_writable(paths: Sequence[Path]) -> None:
    """BadInput for a target that can't be replaced (symlink, read-only file or folder)."""
    for path in paths:
        if path.is_symlink():
            raise BadInput(f"{path}: is a symbolic link; llmfix won't write through it")
        if path.exists() and (not path.is_file() or not os.access(path, os.W_OK) or not path.stat().st_mode & WRITE_BITS):
            raise BadInput(f"{path}: read-only; nothing was changed")
        if not os.access(path.parent, os.W_OK | os.X_OK):
            raise BadInput(f"{path}: read-only; nothing was changed")


@dataclass
class _Done:
    write: PendingWrite
    temp: Path
    how: str  # "exchanged": temp holds the old file; "replaced": old bytes gone; "created"; "removed": temp holds the old file


def _describe(path: Path, checkout: Path) -> str:
    return path.relative_to(checkout).as_posix() if path.is_relative_to(checkout) else str(path)


def write_group(checkout: Path, writes: Sequence[PendingWrite], command: str) -> None:
    """Replace every file with its new bytes, atomically as a group (see the module docstring)."""
    writes = [w for w in writes if w.new != w.old]
    if not writes:
        return
    for write in writes:
        check_inside(checkout, write.path)  # again: a folder may have become a link out since discovery
    check_writable([w.path for w in writes])
    journal = journal_path(checkout)
    if os.path.lexists(journal):  # a killed run's group, which only recovery may finish or undo
        raise WriteFailed(f"{journal}: an interrupted llmfix write is pending; run `llmfix apply` to finish it first; nothing was changed")
    run = os.urandom(6).hex()
    temps = _prepare(checkout, writes, command, run)
    done: list[_Done] = []
    try:
        for write in writes:
            done.append(_swap_in(checkout, write, temps.get(write.path), run))
    except (OSError, ChangedMeanwhile) as error:  # not Ctrl-C and the like: the journal stays, the next run finishes or undoes the group
        _give_up(checkout, done, temps.values(), error)
    for entry in done:
        if entry.how in ("exchanged", "removed"):
            entry.temp.unlink(missing_ok=True)
    for directory in {w.path.parent for w in writes}:
        fsync_dir(directory)
    remove_journal(checkout)


def _prepare(checkout: Path, writes: Sequence[PendingWrite], command: str, run: str) -> dict[Path, Path]:
    """Every new text in its temp file (its target's mode, owner and attributes), then the journal; on a failure none is left."""
    temps: dict[Path, Path] = {}
    try:
        for write in (w for w in writes if w.new is not None):
            try:
                info = os.stat(write.path)
                mode, owner, like = stat.S_IMODE(info.st_mode), info, write.path
            except FileNotFoundError:
                mode, owner, like = NEW_FILE_MODE, owner_of(write.path.parent, checkout), None
            write_new_file(temp_path(write.path, run), write.new, mode, owner, like)
            temps[write.path] = temp_path(write.path, run)
        write_journal(checkout, command, run, [(w.path, w.old, w.new) for w in writes])
    except OSError as error:
        for temp in temps.values():
            temp.unlink(missing_ok=True)
        journal_path(checkout).unlink(missing_ok=True)
        raise WriteFailed(f"{error.filename or 'write'}: {error.strerror}; nothing was changed") from None
    return temps


def _give_up(checkout: Path, done: Sequence[_Done], temps: Collection[Path], error: OSError | ChangedMeanwhile) -> NoReturn:
    """Put the swapped files back and drop the journal, then raise; if putting back fails, the journal stays for the next run."""
    failure = str(error)
    if isinstance(error, OSError):
        failure = f"{_describe(Path(error.filename), checkout) if error.filename else 'rename'}: {error.strerror}"
    try:
        _roll_back(done)
    except OSError as undo_error:
        raise WriteFailed(f"{failure}; putting the files back failed too ({undo_error.strerror}); run the same command again to finish the write") from None
    for temp in temps:
        temp.unlink(missing_ok=True)
    remove_journal(checkout)
    if isinstance(error, ChangedMeanwhile):
        raise error
    raise WriteFailed(f"{failure}; nothing was changed") from None


def _changed(checkout: Path, path: Path) -> ChangedMeanwhile:
    return ChangedMeanwhile(
        f"{_describe(path, checkout)} changed while llmfix was working (saved by an editor or another program?); nothing was changed: run the command again"
    )


def _swap_in(checkout: Path, write: PendingWrite, temp: Path | None, run: str) -> _Done:
    """Put one file's new bytes in place, first making sure it still holds the old ones."""
    if _bytes_now(write.path) != write.old:
        raise _changed(checkout, write.path)
    if write.new is None:  # remove: keep the old file under the temp name until the group is done
        kept = temp_path(write.path, run)
        os.rename(write.path, kept)
        return _Done(write, kept, "removed")
    assert temp is not None
    if write.old is None:  # a new file: never replace one that appeared meanwhile
        try:
            os.link(temp, write.path)
        except FileExistsError:
            raise _changed(checkout, write.path) from None
        os.unlink(temp)
        return _Done(write, temp, "created")
    if exchange(temp, write.path):
        if _bytes_now(temp) != write.old:  # saved during the swap: that save is now under the temp name, put it back
            exchange(temp, write.path)
            raise _changed(checkout, write.path)
        return _Done(write, temp, "exchanged")
    os.replace(temp, write.path)
    return _Done(write, temp, "replaced")


def _roll_back(done: Sequence[_Done]) -> None:
    """Put back the files already swapped in, newest first, unless someone saved over them since."""
    for entry in reversed(done):
        write, current = entry.write, _bytes_now(entry.write.path)
        if entry.how == "exchanged":
            if current == write.new:
                exchange(entry.temp, write.path)
            entry.temp.unlink(missing_ok=True)
        elif entry.how == "replaced" and current == write.new and write.old is not None:
            info = os.stat(write.path)
            replace_file(write.path, write.old, info, stat.S_IMODE(info.st_mode), write.path)
        elif entry.how == "created" and current == write.new:
            write.path.unlink()
        elif entry.how == "removed" and current is None:
            os.rename(entry.temp, write.path)


# the journal, and recovery from it
def journal_path(checkout: Path) -> Path:
    return state_dir(checkout) / JOURNAL_NAME


def _maybe_digest(data: bytes | None) -> str | None:
    return None if data is None else digest(data)


def write_journal(checkout: Path, command: str, run: str, files: Sequence[tuple[Path, bytes | None, bytes | None]]) -> None:
    """Name the group ``files`` (path, old bytes, new bytes) in the journal, atomically and durably."""
    entries = [{"path": p.relative_to(checkout).as_posix(), "old": _maybe_digest(old), "new": _maybe_digest(new)} for p, old, new in files]
    data = (json.dumps({"version": VERSION, "command": command, "run": run, "writes": entries}, indent=1) + "\n").encode("utf-8")
    journal = journal_path(checkout)
    replace_file(journal, data, owner_of(journal.parent))
    fsync_dir(journal.parent)


def remove_journal(checkout: Path) -> None:
    journal_path(checkout).unlink(missing_ok=True)
    fsync_dir(state_dir(checkout))


def _unsafe(journal: Path, why: str) -> UnsafeJournal:
    return UnsafeJournal(f"{journal}: {why}; nothing was touched (inspect it, then remove it to go on)")


@dataclass
class _Entry:
    """One file the journal names, and the digests of what it and its temp file hold now (None: absent)."""

    path: Path
    temp: Path
    old: str | None
    new: str | None
    target: str | None = None
    kept: str | None = None
    creatable: bool = False  # llmfix's record or a place of the support module: the one kind of file it may create or delete


def _journal_entries(checkout: Path, journal: Path, raw: bytes, allowed: Collection[str], creatable: Collection[str]) -> tuple[str, list[_Entry]]:
    """The journal's command and entries, each checked to name an allowed file; UnsafeJournal otherwise."""
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return "", []  # torn by a kill while it was written (it is written by rename, so: not ours)
    if not isinstance(data, dict) or not isinstance(data.get("writes"), list) or not all(isinstance(e, dict) for e in data["writes"]):
        raise _unsafe(journal, "not an llmfix journal")
    if data.get("version") != VERSION:
        raise _unsafe(journal, f"unknown journal version {data.get('version')!r}")
    run = data.get("run")
    if not isinstance(run, str) or not RUN_ID.match(run):
        raise _unsafe(journal, "not an llmfix journal (bad run id)")
    entries = []
    for entry in data["writes"]:
        name, old, new = entry.get("path"), entry.get("old"), entry.get("new")
        if any(value is not None and not (isinstance(value, str) and DIGEST.fullmatch(value)) for value in (old, new)):
            raise _unsafe(journal, "not an llmfix journal (bad digest)")
        if not isinstance(name, str) or name not in allowed or ".." in name.split("/"):
            raise _unsafe(journal, f"names {name!r}, which is not a file llmfix writes in {checkout}")
        ours = name == RECORD or name in creatable
        if (old is None or new is None) and not ours:
            raise _unsafe(journal, f"would create or delete {name}; llmfix never creates or deletes a target file, it only replaces one")
        if old is None and new is None:
            raise _unsafe(journal, f"not an llmfix journal ({name} absent before and after)")
        entries.append(_Entry(checkout / name, temp_path(checkout / name, run), old, new, creatable=ours))
    return data.get("command") if isinstance(data.get("command"), str) else "apply", entries


def _digest_now(path: Path, journal: Path) -> str | None:
    """The digest of what the regular file ``path`` holds now (None: absent); UnsafeJournal when it is anything else."""
    try:
        return _maybe_digest(read_regular(path))
    except BadInput as error:
        raise _unsafe(journal, str(error).removeprefix(f"{path}: ")) from None


def _delete_if_still(checkout: Path, entry: _Entry, expected: str | None, journal: Path) -> bool:
    """Delete llmfix's own record or support module (the only files recovery deletes), only while it holds ``expected``."""
    if not entry.creatable:
        raise _unsafe(journal, f"would delete {_describe(entry.path, checkout)}, which is not llmfix's record or support module")
    if expected is None or _digest_now(entry.path, journal) != expected:
        return False  # changed since: not what llmfix wrote, left alone
    entry.path.unlink()
    return True


def remove_stale_temps(paths: Collection[Path]) -> None:
    """Remove the temp files llmfix itself would have named for ``paths`` (left by a kill before its journal)."""
    for path in paths:
        pattern = re.compile(rf"^\.{re.escape(path.name)}\.[0-9a-f]{{8,32}}{re.escape(TEMP_SUFFIX)}$")
        try:
            with os.scandir(path.parent) as scan:
                found = [Path(e.path) for e in scan if pattern.match(e.name) and not e.is_dir(follow_symlinks=False)]
        except OSError:
            continue
        for temp in found:
            temp.unlink(missing_ok=True)


def discard(checkout: Path) -> None:
    """Drop the journal and its files' temp files, touching no file it names (a ``git reset`` put them back)."""
    journal = journal_path(checkout)
    try:
        names = [entry["path"] for entry in json.loads(read_regular(journal) or b"null")["writes"]]
    except (BadInput, ValueError, KeyError, TypeError):
        return
    remove_stale_temps([checkout / name for name in names if isinstance(name, str) and ".." not in name.split("/")])
    journal.unlink()


def recover(checkout: Path, allowed: Collection[str], undo_apply: bool = False, creatable: Collection[str] = ()) -> list[Path]:
    """Finish (or, for ``undo_apply`` and an interrupted apply, undo) a group a kill interrupted; the files changed.

    ``allowed``: the relative paths llmfix may write; ``creatable``: those it may create or delete. A target
    edited since the kill is left alone.
    """
    check_state_dir(checkout)
    journal = journal_path(checkout)
    raw = read_regular(journal)
    allowed_paths = [checkout / name for name in allowed] + [state_dir(checkout) / IGNORE_FILE]  # a kill leaves temps of these
    if raw is None:
        remove_stale_temps([*allowed_paths, journal])  # killed before its journal was written: nothing was renamed
        return []
    command, entries = _journal_entries(checkout, journal, raw, allowed, creatable)
    for entry in entries:
        check_inside(checkout, entry.path)
    for entry in entries:
        entry.target, entry.kept = _digest_now(entry.path, journal), _digest_now(entry.temp, journal)
    step = _put_back if _goes_back(entries, undo_apply and command == "apply") else _finish
    try:
        changed = [entry.path for entry in entries if step(checkout, entry, journal)]
        for entry in entries:
            entry.temp.unlink(missing_ok=True)
        for directory in {e.path.parent for e in entries}:
            fsync_dir(directory)
        remove_journal(checkout)
    except OSError as error:
        raise WriteFailed(f"{error.filename or journal}: can't finish the interrupted write ({error.strerror}); remove {journal} to give up on it") from None
    remove_stale_temps(allowed_paths)
    return changed


def _goes_back(entries: Sequence[_Entry], undoing_an_apply: bool) -> bool:
    """True to put every file back (a save was displaced into a temp name, or revert undoes an apply), if every file
    that may be new still has its old bytes at hand."""
    displaced = any(e.kept is not None and e.target == e.new and e.kept not in (e.old, e.new) for e in entries)
    undoable = all(e.target != e.new or e.old is None or e.kept is not None for e in entries if e.new is not None)
    return undoable and (displaced or undoing_an_apply)


def _put_back(checkout: Path, entry: _Entry, journal: Path) -> bool:
    """Give one file its old bytes back (True: it changed)."""
    if entry.target == entry.new and entry.new is not None:
        if entry.kept is not None and entry.kept != entry.new:
            os.replace(entry.temp, entry.path)  # the old (or displaced) file goes back
            return True
        # llmfix created it in that run: the journal's own hashes say so
        return entry.old is None and _delete_if_still(checkout, entry, entry.new, journal)
    if entry.new is None and entry.target is None and entry.kept is not None and entry.kept == entry.old:
        os.rename(entry.temp, entry.path)
        return True
    return False


def _finish(checkout: Path, entry: _Entry, journal: Path) -> bool:
    """Give one file its new bytes, only while it holds the old ones and its temp file the new (True: it changed)."""
    if entry.target != entry.old:
        return False  # edited since the kill (or already new): left alone
    if entry.new is not None and entry.kept == entry.new:
        if entry.old is None:
            os.link(entry.temp, entry.path)
        else:
            os.replace(entry.temp, entry.path)
        return True
    # the record emptied, or the support module removed, by a revert
    return entry.new is None and entry.target is not None and _delete_if_still(checkout, entry, entry.old, journal)
