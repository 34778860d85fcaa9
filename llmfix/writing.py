"""Write the files of one checkout all together, or not at all.

Each new text goes to a temp file beside its target (same mode), is fsynced,
and only when every temp file is ready are they renamed over the targets. A
rename that fails midway puts back the files already renamed. A crash at any
point leaves each file either wholly old or wholly new.

With a journal (``.llmfix/pending.json``), the group is all-or-nothing across a
kill too: the journal, naming every complete temp file and its target, is
written just before the first rename and removed after the last. A run killed
in between leaves it behind, and :func:`finish_interrupted` (run first by the
next apply or revert) renames the remaining temp files, so the interrupted
write completes instead of leaving one file patched and the other not (or the
files patched and the state that lets revert undo them unwritten).
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from llmfix.errors import BadInput, WriteFailed

TEMP_SUFFIX = ".llmfix-tmp"
JOURNAL_NAME = "pending.json"
NEW_FILE_MODE = 0o644


@dataclass(frozen=True)
class PendingWrite:
    path: Path
    old: bytes | None  # None: the file is new
    new: bytes


def _has_write_bit(path: Path) -> bool:
    """A file with no write bit at all is read-only on purpose, even for root."""
    return bool(path.stat().st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))


def check_writable(paths: Sequence[Path]) -> None:
    """BadInput for a target that can't be replaced (read-only file or folder)."""
    for path in paths:
        if path.is_symlink():
            raise BadInput(f"{path}: is a symbolic link; llmfix won't write through it")
        if path.exists() and (not os.access(path, os.W_OK) or not _has_write_bit(path)):
            raise BadInput(f"{path}: read-only; nothing was changed")
        if not os.access(path.parent, os.W_OK | os.X_OK):
            raise BadInput(f"{path}: read-only; nothing was changed")


def _temp_path(path: Path) -> Path:
    return path.with_name(f".{path.name}{TEMP_SUFFIX}")


def _write_temp(write: PendingWrite) -> Path:
    temp = _temp_path(write.path)
    mode = stat.S_IMODE(write.path.stat().st_mode) if write.path.exists() else NEW_FILE_MODE
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        try:
            view = memoryview(write.new)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.chmod(temp, mode)
    except OSError:
        temp.unlink(missing_ok=True)  # never leave a partial temp file behind
        raise
    return temp


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _write_journal(journal: Path, writes: Sequence[PendingWrite]) -> None:
    entries = [
        {"path": str(w.path), "temp": str(_temp_path(w.path)), "old": None if w.old is None else _digest(w.old), "new": _digest(w.new)}
        for w in writes
    ]
    data = (json.dumps({"version": 1, "writes": entries}, indent=1) + "\n").encode("utf-8")
    temp = _write_temp(PendingWrite(journal, None, data))
    os.replace(temp, journal)
    _fsync_dir(journal.parent)


def _remove_journal(journal: Path | None) -> None:
    if journal is not None:
        journal.unlink(missing_ok=True)
        _fsync_dir(journal.parent)


def finish_interrupted(journal: Path, paths: Sequence[Path] = ()) -> list[Path]:
    """Complete a group write a kill interrupted; drop stale temp files of ``paths``.

    Only a temp file holding exactly the journalled new bytes replaces its
    target, and only while the target still holds the journalled old bytes.
    Returns the files this finished.
    """
    finished: list[Path] = []
    handled: set[Path] = set()
    _temp_path(journal).unlink(missing_ok=True)  # killed while writing the journal: nothing was renamed
    if journal.exists():
        try:
            entries = json.loads(journal.read_text(encoding="utf-8"))["writes"]
        except (OSError, ValueError, KeyError, TypeError):
            entries = []
        for entry in entries:
            path, temp = Path(entry["path"]), Path(entry["temp"])
            handled.add(path)
            try:
                if not temp.exists():
                    continue  # renamed before the kill
                current = path.read_bytes() if path.exists() else None
                still_old = (current is None) if entry["old"] is None else (current is not None and _digest(current) == entry["old"])
                if still_old and _digest(temp.read_bytes()) == entry["new"]:
                    os.replace(temp, path)
                    finished.append(path)
                else:
                    temp.unlink()
            except OSError as error:
                raise WriteFailed(f"{path}: can't finish the interrupted write ({error.strerror}); remove {journal} to give up on it") from None
        for directory in {p.parent for p in finished}:
            _fsync_dir(directory)
        _remove_journal(journal)
    for path in paths:
        if path not in handled:
            _temp_path(path).unlink(missing_ok=True)  # a kill before the journal: never renamed
    return finished


def write_all(writes: Sequence[PendingWrite], journal: Path | None = None) -> None:
    """Replace every file with its new bytes, atomically as a group.

    ``journal``: where to note the renames so that :func:`finish_interrupted`
    can complete them after a kill.
    """
    writes = [w for w in writes if w.new != w.old]
    check_writable([w.path for w in writes])
    temps: list[Path] = []
    try:
        for write in writes:
            temps.append(_write_temp(write))
        if journal is not None:
            _write_journal(journal, writes)
    except OSError as error:
        for temp in temps + [_temp_path(w.path) for w in writes[len(temps):]]:
            temp.unlink(missing_ok=True)
        if journal is not None:
            _temp_path(journal).unlink(missing_ok=True)
            journal.unlink(missing_ok=True)
        raise WriteFailed(f"{error.filename or 'write'}: {error.strerror}; nothing was changed") from None
    done: list[PendingWrite] = []
    try:
        for write, temp in zip(writes, temps):
            os.replace(temp, write.path)
            done.append(write)
    except OSError as error:
        try:
            for write in done:  # put the old text back, atomically too
                if write.old is None:
                    write.path.unlink(missing_ok=True)
                else:
                    os.replace(_write_temp(PendingWrite(write.path, write.new, write.old)), write.path)
        except OSError as undo_error:
            if journal is None:
                raise WriteFailed(
                    f"{error.filename or 'rename'}: {error.strerror}; putting the files back failed too "
                    f"({undo_error.strerror}): {', '.join(str(w.path) for w in done)} hold the new text"
                ) from None
            # leave the journal and the remaining temp files: the next run completes the group
            raise WriteFailed(
                f"{error.filename or 'rename'}: {error.strerror}; putting the files back failed too "
                f"({undo_error.strerror}); run the same command again to finish the write"
            ) from None
        for temp in temps[len(done):]:
            temp.unlink(missing_ok=True)
        _remove_journal(journal)
        raise WriteFailed(f"{error.filename or 'rename'}: {error.strerror}; nothing was changed") from None
    for directory in {w.path.parent for w in writes}:
        _fsync_dir(directory)
    _remove_journal(journal)
