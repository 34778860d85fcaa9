"""Write the files of one checkout all together, or not at all, and never over someone's edit.

Each new text goes to a temp file beside its target (its mode, owner, xattrs and ACL); the journal
names the group; then each target, still holding what was planned from, is swapped with its temp
file in one step (``renameat2`` ``RENAME_EXCHANGE``, else a rename) and the old file checked once
more. A failure or an edit swaps everything back; a kill leaves each file wholly old or new, for
:func:`llmfix.journal.recover`. The rest of llmfix imports the write path from here (``__all__``).
"""

from __future__ import annotations

import ctypes
import errno
import os
import stat
import sys
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

from llmfix.errors import BadInput, LlmfixError, WriteFailed
from llmfix.journal import journal_path, recover, remove_journal, write_journal
from llmfix.safefiles import (
    NEW_FILE_MODE,
    STATE_DIR,
    STATE_FILE,
    TEMP_SUFFIX,
    check_inside,
    check_state_dir,
    digest,
    ensure_state_dir,
    fsync_dir,
    owner_of,
    read_regular,
    remove_state_dir,
    replace_file,
    temp_path,
    write_new_file,
)

# the names the rest of llmfix imports from here, besides its own
__all__ = ["STATE_DIR", "STATE_FILE", "TEMP_SUFFIX", "check_state_dir", "digest", "ensure_state_dir", "read_regular", "recover", "remove_state_dir"]


WRITE_BITS = stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH  # a file with none of them is read-only on purpose, even for root


class ChangedMeanwhile(LlmfixError):
    """A target's bytes changed between planning and writing: someone else is editing it."""


@dataclass(frozen=True)
class PendingWrite:
    """One file of a group: what it holds now and what it will hold (None: absent)."""

    path: Path
    old: bytes | None
    new: bytes | None


_RENAME_EXCHANGE = 2  # renameat2 and exchange are module globals, so tests can make them fail
_AT_FDCWD = -100
_renameat2 = None
if sys.platform.startswith("linux"):
    try:
        _renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
        _renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
        _renameat2.restype = ctypes.c_int
    except (AttributeError, OSError):
        _renameat2 = None


def exchange(first: Path, second: Path) -> bool:
    """Swap two paths atomically; False when the system or file system can't."""
    if _renameat2 is None:
        return False
    if _renameat2(_AT_FDCWD, os.fsencode(first), _AT_FDCWD, os.fsencode(second), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV):
        return False
    raise OSError(code, os.strerror(code), str(second))


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


def _write_temp(write: PendingWrite, run: str, checkout: Path) -> Path:
    """The new bytes beside the target, with its mode, owner and attributes (a new file: its folder's owner)."""
    assert write.new is not None
    temp = temp_path(write.path, run)
    try:
        info = os.stat(write.path)
        mode, owner, like = stat.S_IMODE(info.st_mode), info, write.path
    except FileNotFoundError:
        mode, owner, like = NEW_FILE_MODE, owner_of(write.path.parent, checkout), None
    write_new_file(temp, write.new, mode, owner, like)
    return temp


@dataclass
class _Done:
    write: PendingWrite
    temp: Path
    how: str  # "exchanged": temp holds the old file; "replaced": old bytes gone; "created"; "removed": temp holds the old file


def _describe(path: Path, checkout: Path) -> str:
    try:
        return path.relative_to(checkout).as_posix()
    except ValueError:
        return str(path)


def write_group(checkout: Path, writes: Sequence[PendingWrite], command: str) -> None:
    """Replace every file with its new bytes, atomically as a group (see the module docstring)."""
    writes = [w for w in writes if w.new != w.old]
    if not writes:
        return
    for write in writes:
        check_inside(checkout, write.path)  # again: a folder may have become a link out since discovery
    check_writable([w.path for w in writes])
    if os.path.lexists(journal_path(checkout)):  # a killed run's group, which only recovery may finish or undo
        raise WriteFailed(f"{journal_path(checkout)}: an interrupted llmfix write is pending; run `llmfix apply` to finish it first; nothing was changed")
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
    """Every new text in its temp file, then the journal; on a failure none of them is left (WriteFailed)."""
    temps: dict[Path, Path] = {}
    try:
        for write in writes:
            if write.new is not None:
                temps[write.path] = _write_temp(write, run, checkout)
        write_journal(checkout, command, run, [(w.path, w.old, w.new) for w in writes])
    except OSError as error:
        for temp in temps.values():
            temp.unlink(missing_ok=True)
        journal_path(checkout).unlink(missing_ok=True)
        raise WriteFailed(f"{error.filename or 'write'}: {error.strerror}; nothing was changed") from None
    return temps


def _give_up(checkout: Path, done: Sequence[_Done], temps: Collection[Path], error: OSError | ChangedMeanwhile) -> NoReturn:
    """Put the swapped files back and drop the journal, then raise; if putting back fails, the journal stays for the next run."""
    try:
        _roll_back(done)
    except OSError as undo_error:
        raise WriteFailed(
            f"{_failure(error, checkout)}; putting the files back failed too ({undo_error.strerror}); run the same command again to finish the write"
        ) from None
    for temp in temps:
        temp.unlink(missing_ok=True)
    remove_journal(checkout)
    if isinstance(error, ChangedMeanwhile):
        raise error
    raise WriteFailed(f"{_failure(error, checkout)}; nothing was changed") from None


def _failure(error: BaseException, checkout: Path) -> str:
    if isinstance(error, OSError):
        return f"{_describe(Path(error.filename), checkout) if error.filename else 'rename'}: {error.strerror}"
    return str(error)


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
