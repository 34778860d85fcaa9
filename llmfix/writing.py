"""Write the files of one checkout all together, or not at all, and never over someone's edit.

Each new text goes to a temp file beside its target (``.NAME.RUN.llmfix-tmp``,
RUN unique per run, created exclusively and never through a symlink) with the
target's mode, its extended attributes and POSIX ACL (``user.*`` and the ACL
always, or the write fails; others when permitted) and, when permitted, its
owner and group; it is fsynced. Then a journal
(``<checkout>/.llmfix/pending.json``) names the group: paths relative to the
checkout, the SHA-256 of each file's old and new bytes, the command and the
run. Then, file by file, the target's bytes are read again and compared
with what was planned from (an edit made meanwhile stops everything), and the
temp file and the target are exchanged in one atomic step (``renameat2``
``RENAME_EXCHANGE`` on Linux): the old file is kept under the temp name and
checked once more, so even an editor saving during the swap is detected and
put back. Only when every file is swapped are the old copies removed and the
journal dropped. A failure or a detected edit swaps everything back; where the
file system can't exchange, a plain rename is used after the check.

A run killed at any point leaves each file wholly old or wholly new.
:func:`recover` (run first by the next apply or revert, under the checkout's
lock) finishes the group, or puts every file back when a concurrent save was
displaced or when ``revert`` finds an interrupted apply. The journal is input,
not truth: it may only name the checkout's target files and llmfix's record,
by relative paths without ``..``, and only temp files llmfix names itself; a
journal naming anything else is refused before anything is touched. llmfix
never creates or deletes a target file, so neither does recovery: the one
file it may delete is llmfix's record, when the interrupted run created it
(the journal's old hash absent) or emptied it (a revert; new hash absent), and
only while it holds exactly the journalled bytes. A journal asking to create or
delete anything else is refused the same way.

This module is llmfix's whole write path, and the record module
(:mod:`llmfix.state`) builds on it, never the other way round: it also keeps the
``.llmfix`` folder (its layout, README and .gitignore, made whole or not at
all), the one reader that never follows a symlink (:func:`read_regular`), the
one digest (:func:`digest`, SHA-256 of bytes) and :func:`check_inside`, which
every file written or recovered passes first: each folder on the way from the
checkout to it must resolve inside the checkout (a folder swapped for a
symlink out after discovery is caught here).
"""

from __future__ import annotations

import ctypes
import errno
import hashlib
import json
import os
import re
import secrets
import stat
import sys
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from llmfix.errors import BadInput, LlmfixError, WriteFailed

STATE_DIR = ".llmfix"  # beside open_instruct/: llmfix's record, its journal while it writes, and a .gitignore
STATE_FILE = "record.json"  # the record (llmfix.record says what it holds)
IGNORE_FILE = ".gitignore"
JOURNAL_NAME = "pending.json"
RECORD_PATH = f"{STATE_DIR}/{STATE_FILE}"  # as the journal names it
TEMP_SUFFIX = ".llmfix-tmp"
NEW_FILE_MODE = 0o644
RUN_ID = re.compile(r"^[0-9a-f]{8,32}$")
JOURNAL_VERSION = 2
MIB = 1024 * 1024
MAX_STATE_BYTES = 64 * MIB  # the largest file of llmfix's own it reads (the record); nothing llmfix writes is larger


class ChangedMeanwhile(LlmfixError):
    """A target's bytes changed between planning and writing: someone else is editing it."""


@dataclass(frozen=True)
class PendingWrite:
    """One file of a group: what it holds now and what it will hold (None: absent)."""

    path: Path
    old: bytes | None
    new: bytes | None


def digest(data: bytes) -> str:
    """The SHA-256 of ``data`` (hex), as the journal and the record name file contents; text is digested as UTF-8."""
    return hashlib.sha256(data).hexdigest()


def _maybe_digest(data: bytes | None) -> str | None:
    return None if data is None else digest(data)


# --------------------------------------------------------------------------
# file system steps (module functions, so tests can make them fail)
# --------------------------------------------------------------------------

_RENAME_EXCHANGE = 2
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


# --------------------------------------------------------------------------
# reading, and where llmfix may read and write
# --------------------------------------------------------------------------


class TooLarge(BadInput):
    """A file is larger than llmfix reads."""


def _too_large(path: Path, limit: int, why: str) -> TooLarge:
    return TooLarge(f"{path}: larger than {limit // MIB} MiB; {why}")


def open_regular(path: Path, limit: int = MAX_STATE_BYTES, too_large: str = "not llmfix's (move it away)") -> int | None:
    """A read-only descriptor of a regular file of at most ``limit`` bytes, never through a symlink; None when absent.

    The type and size come from ``fstat`` on the opened descriptor (no race with a
    separate ``stat``), before a byte is read. BadInput (one line) otherwise.
    """
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        return None
    except OSError as error:
        raise BadInput(f"{path}: cannot read: {error.strerror}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise BadInput(f"{path}: is not a regular file; move it away")
        if info.st_size > limit:
            raise _too_large(path, limit, too_large)
    except BaseException:
        os.close(fd)
        raise
    return fd


def read_regular(path: Path, limit: int = MAX_STATE_BYTES, too_large: str = "not llmfix's (move it away)") -> bytes | None:
    """The bytes of a regular file (see :func:`open_regular`); None when it does not exist.

    A file growing while it is read stops at ``limit`` too.
    """
    fd = open_regular(path, limit, too_large)
    if fd is None:
        return None
    try:
        chunks, size = [], 0
        while chunk := os.read(fd, min(1 << 20, limit + 1 - size)):
            chunks.append(chunk)
            size += len(chunk)
            if size > limit:
                raise _too_large(path, limit, too_large)
        return b"".join(chunks)
    finally:
        os.close(fd)


class _Unreadable:
    """What :func:`_bytes_now` returns for a path that is no longer a regular file: equal to no bytes."""

    def __repr__(self) -> str:
        return "<not a regular file>"


_UNREADABLE = _Unreadable()


def _bytes_now(path: Path) -> bytes | None | _Unreadable:
    """The bytes at ``path`` now for a comparison: None when absent, never equal to any bytes when not a regular file."""
    try:
        return read_regular(path)
    except BadInput:
        return _UNREADABLE


def check_inside(top: Path, path: Path) -> None:
    """BadInput unless every folder from ``top`` down to ``path``'s own resolves inside ``top``.

    Each folder on the way is resolved (``os.path.realpath``, symlinks followed)
    and must stay inside ``top``'s real path: a symlinked folder leading out of
    the checkout is refused, one leading elsewhere inside it is followed.
    ``path`` itself is not resolved: a target that is a symlink is refused on its
    own (:func:`check_writable`, discovery).
    """
    real_top = os.path.realpath(top)
    try:
        parts = path.parent.relative_to(top).parts
    except ValueError:
        raise BadInput(f"{path}: not inside {top}; llmfix reads and writes only inside the checkout; nothing written") from None
    folder = top
    for part in parts:
        folder = folder / part
        real = os.path.realpath(folder)
        if os.path.commonpath([real, real_top]) != real_top:
            raise BadInput(
                f"{folder}: leads outside the checkout {top} (to {real}); llmfix reads and writes only inside the checkout "
                "(name the real folder); nothing written"
            )


def safe_record_path(name: object) -> str | None:
    """``name`` when it is a target file path relative to the checkout (no ``..``, not absolute), else None."""
    if not isinstance(name, str) or not name or "\\" in name or "\0" in name:
        return None
    path = PurePosixPath(name)
    if path.is_absolute() or any(part in ("", ".", "..") for part in name.split("/")):
        return None
    if not path.name.endswith(".py"):
        return None
    return name


# --------------------------------------------------------------------------
# creating files
# --------------------------------------------------------------------------


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _has_write_bit(path: Path) -> bool:
    """A file with no write bit at all is read-only on purpose, even for root."""
    return bool(path.stat().st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))


def check_writable(paths: Sequence[Path]) -> None:
    """BadInput for a target that can't be replaced (symlink, read-only file or folder)."""
    for path in paths:
        if path.is_symlink():
            raise BadInput(f"{path}: is a symbolic link; llmfix won't write through it")
        if path.exists() and (not path.is_file() or not os.access(path, os.W_OK) or not _has_write_bit(path)):
            raise BadInput(f"{path}: read-only; nothing was changed")
        if not os.access(path.parent, os.W_OK | os.X_OK):
            raise BadInput(f"{path}: read-only; nothing was changed")


def temp_path(path: Path, run: str) -> Path:
    return path.with_name(f".{path.name}.{run}{TEMP_SUFFIX}")


def _owner_like(path: Path, fallback: Path | None) -> os.stat_result | None:
    for candidate in (path, fallback):
        if candidate is None:
            continue
        try:
            return os.stat(candidate)
        except OSError:
            continue
    return None


# Extended attributes a copy must keep or fail: the user's own (``user.*``) and the POSIX
# ACL, both settable by the file's owner wherever the original had them (the temp file
# is beside it, on the same file system). Others (``security.*``, ``trusted.*``) need
# privileges the user may lack and are copied when permitted.
KEPT_XATTRS = ("user.", "system.posix_acl_access")
_XATTR_NOT_HERE = {errno.EPERM, errno.EACCES, errno.ENOTSUP, errno.EOPNOTSUPP}


def copy_xattrs(source: Path, fd: int) -> None:
    """Give the open file ``fd`` the extended attributes of ``source`` (its POSIX ACL included).

    An attribute in :data:`KEPT_XATTRS` that can't be set raises OSError: a
    write that would drop it fails instead (nothing is changed).
    """
    if not hasattr(os, "listxattr"):
        return  # not Linux: no xattr calls
    try:
        names = os.listxattr(source, follow_symlinks=False)
    except OSError as error:
        if error.errno in (errno.ENOTSUP, errno.EOPNOTSUPP, errno.ENOENT):
            return
        raise
    for name in names:
        try:
            value = os.getxattr(source, name, follow_symlinks=False)
        except OSError as error:
            if error.errno == errno.ENODATA:
                continue  # removed meanwhile
            raise
        try:
            os.setxattr(fd, name, value)
        except OSError as error:
            if name.startswith(KEPT_XATTRS) or error.errno not in _XATTR_NOT_HERE:
                raise OSError(error.errno, f"can't give the new copy its extended attribute {name} ({error.strerror})", str(source)) from None


def write_new_file(path: Path, data: bytes, mode: int, owner: os.stat_result | None, like: Path | None = None) -> None:
    """Create ``path`` (never existing before, never through a symlink) holding ``data``, fsynced.

    With ``like``, the new file also gets that file's extended attributes and ACL (:func:`copy_xattrs`).
    """
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), mode)
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            if owner is not None and hasattr(os, "fchown"):
                try:
                    os.fchown(fd, owner.st_uid, owner.st_gid)
                except PermissionError:
                    pass  # not root: the file is ours, as any editor would leave it
            os.fchmod(fd, mode)
            if like is not None:
                copy_xattrs(like, fd)  # after fchmod: an ACL sets the group bits to its mask, as on the original
            os.fsync(fd)
        finally:
            os.close(fd)
    except BaseException:
        path.unlink(missing_ok=True)  # never leave a partial temp file behind
        raise


def _write_temp(write: PendingWrite, run: str, owner_fallback: Path | None) -> Path:
    assert write.new is not None
    temp = temp_path(write.path, run)
    try:
        info = os.stat(write.path)
        mode, owner, like = stat.S_IMODE(info.st_mode), info, write.path
    except FileNotFoundError:
        mode, owner, like = NEW_FILE_MODE, _owner_like(write.path.parent, owner_fallback), None
    write_new_file(temp, write.new, mode, owner, like)
    return temp


# --------------------------------------------------------------------------
# the .llmfix folder
# --------------------------------------------------------------------------

IGNORE_TEXT = f"/{JOURNAL_NAME}\n/.*{TEMP_SUFFIX}\n"  # llmfix's transient files; the record is meant to be committed
STALE_BUILD = re.compile(rf"^{re.escape(STATE_DIR)}\.[0-9a-f]{{8,32}}{re.escape(TEMP_SUFFIX)}$")


def state_dir(checkout: Path) -> Path:
    return checkout / STATE_DIR


def state_path(checkout: Path) -> Path:
    return state_dir(checkout) / STATE_FILE


def check_state_dir(checkout: Path) -> None:
    """BadInput unless ``.llmfix`` is absent or a real folder whose known files are regular files."""
    folder = state_dir(checkout)
    try:
        info = os.lstat(folder)
    except FileNotFoundError:
        return
    if stat.S_ISLNK(info.st_mode):
        raise BadInput(f"{folder}: is a symbolic link; llmfix keeps its record in a real folder (move it away)")
    if not stat.S_ISDIR(info.st_mode):
        raise BadInput(f"{folder}: is not a folder; llmfix keeps its record there (move it away)")
    for name in (STATE_FILE, IGNORE_FILE, JOURNAL_NAME):
        try:
            entry = os.lstat(folder / name)
        except FileNotFoundError:
            continue
        if not stat.S_ISREG(entry.st_mode):
            kind = "a symbolic link" if stat.S_ISLNK(entry.st_mode) else "not a regular file"
            raise BadInput(f"{folder / name}: is {kind}; llmfix won't read or write through it (move it away)")


def write_small(path: Path, text: str, owner: os.stat_result | None) -> None:
    """Create or replace a small file of llmfix's own atomically (temp file, fsync, rename)."""
    temp = temp_path(path, secrets.token_hex(6))
    write_new_file(temp, text.encode("utf-8"), NEW_FILE_MODE, owner)
    try:
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def ensure_state_dir(checkout: Path) -> bool:
    """Make ``.llmfix/`` (with its .gitignore) whole or not at all; True when this call created it.

    A new folder is built under a temp name and renamed into place, owned like the checkout.
    """
    check_state_dir(checkout)
    folder = state_dir(checkout)
    owner = os.stat(checkout)
    try:
        if folder.exists():
            if read_regular(folder / IGNORE_FILE) is None:
                write_small(folder / IGNORE_FILE, IGNORE_TEXT, owner)
            return False
        building = checkout / f"{STATE_DIR}.{secrets.token_hex(6)}{TEMP_SUFFIX}"
        os.mkdir(building, 0o755)
        try:
            try:
                os.chown(building, owner.st_uid, owner.st_gid)
            except PermissionError:
                pass
            write_small(building / IGNORE_FILE, IGNORE_TEXT, owner)
            os.rename(building, folder)
        except BaseException:
            (building / IGNORE_FILE).unlink(missing_ok=True)
            for leftover in building.glob(f"*{TEMP_SUFFIX}"):
                leftover.unlink(missing_ok=True)
            building.rmdir()
            raise
        return True
    except OSError as error:
        raise WriteFailed(f"{error.filename or folder}: {error.strerror}; nothing was changed") from None


def remove_stale_builds(checkout: Path) -> None:
    """Remove a ``.llmfix`` folder a kill left half-built (it was never renamed into place)."""
    try:
        entries = [e for e in os.scandir(checkout) if STALE_BUILD.match(e.name) and e.is_dir(follow_symlinks=False)]
    except OSError:
        return
    for entry in entries:
        folder = Path(entry.path)
        try:
            for inner in os.scandir(folder):
                if inner.name == IGNORE_FILE or inner.name.endswith(TEMP_SUFFIX):
                    if not inner.is_dir(follow_symlinks=False):
                        os.unlink(inner.path)
            folder.rmdir()
        except OSError:
            continue


def remove_state_dir(checkout: Path) -> None:
    """Remove ``.llmfix/`` when it holds nothing but llmfix's own .gitignore."""
    folder = state_dir(checkout)
    known = {IGNORE_FILE: IGNORE_TEXT.encode()}
    try:
        names = set(os.listdir(folder))
    except OSError:
        return
    if not names <= set(known) or any(read_regular(folder / n) != known[n] for n in names):
        return
    try:
        for name in names:
            (folder / name).unlink()
        folder.rmdir()
    except OSError:
        pass


# --------------------------------------------------------------------------
# the journal
# --------------------------------------------------------------------------


def journal_path(checkout: Path) -> Path:
    return state_dir(checkout) / JOURNAL_NAME


def _relative(checkout: Path, path: Path) -> str:
    return path.relative_to(checkout).as_posix()


def _write_journal(checkout: Path, writes: Sequence[PendingWrite], command: str, run: str) -> None:
    entries = [{"path": _relative(checkout, w.path), "old": _maybe_digest(w.old), "new": _maybe_digest(w.new)} for w in writes]
    data = (json.dumps({"version": JOURNAL_VERSION, "command": command, "run": run, "writes": entries}, indent=1) + "\n").encode("utf-8")
    journal = journal_path(checkout)
    temp = temp_path(journal, run)
    write_new_file(temp, data, NEW_FILE_MODE, _owner_like(journal.parent, None))
    os.replace(temp, journal)
    _fsync_dir(journal.parent)


def _remove_journal(checkout: Path) -> None:
    journal_path(checkout).unlink(missing_ok=True)
    _fsync_dir(state_dir(checkout))


# --------------------------------------------------------------------------
# the group write
# --------------------------------------------------------------------------


@dataclass
class _Done:
    write: PendingWrite
    temp: Path
    how: str  # "exchanged": temp holds the old file; "replaced": old bytes gone; "created"; "removed": temp holds the old file


def _describe(path: Path, checkout: Path) -> str:
    try:
        return _relative(checkout, path)
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
    run = secrets.token_hex(6)
    temps: dict[Path, Path] = {}
    try:
        for write in writes:
            if write.new is not None:
                temps[write.path] = _write_temp(write, run, checkout)
        _write_journal(checkout, writes, command, run)
    except OSError as error:
        for temp in temps.values():
            temp.unlink(missing_ok=True)
        temp_path(journal_path(checkout), run).unlink(missing_ok=True)
        journal_path(checkout).unlink(missing_ok=True)
        raise WriteFailed(f"{error.filename or 'write'}: {error.strerror}; nothing was changed") from None
    done: list[_Done] = []
    try:
        for write in writes:
            done.append(_swap_in(checkout, write, temps.get(write.path), run))
    except (OSError, ChangedMeanwhile) as error:
        try:
            _roll_back(done)
        except OSError as undo_error:
            raise WriteFailed(
                f"{_failure(error, checkout)}; putting the files back failed too ({undo_error.strerror}); "
                "run the same command again to finish the write"
            ) from None
        for temp in temps.values():
            temp.unlink(missing_ok=True)
        _remove_journal(checkout)
        if isinstance(error, ChangedMeanwhile):
            raise
        raise WriteFailed(f"{_failure(error, checkout)}; nothing was changed") from None
    except BaseException:
        raise  # Ctrl-C and the like: the journal stays, the next run finishes or undoes the group
    for entry in done:
        if entry.how in ("exchanged", "removed"):
            entry.temp.unlink(missing_ok=True)
    for directory in {w.path.parent for w in writes}:
        _fsync_dir(directory)
    _remove_journal(checkout)


def _failure(error: BaseException, checkout: Path) -> str:
    if isinstance(error, OSError):
        return f"{_describe(Path(error.filename), checkout) if error.filename else 'rename'}: {error.strerror}"
    return str(error)


def _changed(checkout: Path, path: Path) -> ChangedMeanwhile:
    return ChangedMeanwhile(
        f"{_describe(path, checkout)} changed while llmfix was working (saved by an editor or another program?); "
        "nothing was changed: run the command again"
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
        entry = _Done(write, temp, "exchanged")
        if _bytes_now(temp) != write.old:  # saved during the swap: that save is now under the temp name
            exchange(temp, write.path)
            entry.how = "returned"
            raise _changed(checkout, write.path)
        return entry
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
            _restore_bytes(write.path, write.old)
        elif entry.how == "created" and current == write.new:
            write.path.unlink()
        elif entry.how == "removed" and current is None:
            os.rename(entry.temp, write.path)


def _restore_bytes(path: Path, data: bytes) -> None:
    temp = temp_path(path, secrets.token_hex(6))
    info = os.stat(path)
    write_new_file(temp, data, stat.S_IMODE(info.st_mode), info, path)
    os.replace(temp, path)


# --------------------------------------------------------------------------
# recovery after a kill
# --------------------------------------------------------------------------


class UnsafeJournal(BadInput):
    """The journal names something llmfix never writes."""


def _unsafe(journal: Path, why: str) -> UnsafeJournal:
    return UnsafeJournal(f"{journal}: {why}; nothing was touched (inspect it, then remove it to go on)")


@dataclass
class _Entry:
    path: Path
    temp: Path
    old: str | None
    new: str | None


def _journal_entries(checkout: Path, journal: Path, raw: bytes, allowed: Collection[str]) -> tuple[str, list[_Entry]]:
    """The journal's command and entries, each checked to name an allowed file; UnsafeJournal otherwise."""
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return "", []  # torn by a kill while it was written (it is written by rename, so: not ours)
    if not isinstance(data, dict) or not isinstance(data.get("writes"), list):
        raise _unsafe(journal, "not an llmfix journal")
    version = data.get("version")
    entries = []
    for raw_entry in data["writes"]:
        if not isinstance(raw_entry, dict):
            raise _unsafe(journal, "not an llmfix journal")
        old, new = raw_entry.get("old"), raw_entry.get("new")
        for value in (old, new):
            if value is not None and not (isinstance(value, str) and re.fullmatch(r"[0-9a-f]{64}", value)):
                raise _unsafe(journal, "not an llmfix journal (bad digest)")
        name = raw_entry.get("path")
        if version == JOURNAL_VERSION:
            run = data.get("run")
            if not isinstance(run, str) or not RUN_ID.match(run):
                raise _unsafe(journal, "not an llmfix journal (bad run id)")
            relative = safe_record_path(name) if name != RECORD_PATH else name
            if relative is None or relative not in allowed:
                raise _unsafe(journal, f"names {name!r}, which is not a file llmfix writes in {checkout}")
            path = checkout / relative
            temp = temp_path(path, run)
        elif version == 1:  # written by llmfix 0.1: absolute paths, one temp name per file
            temp_name = raw_entry.get("temp")
            if not isinstance(name, str) or not isinstance(temp_name, str):
                raise _unsafe(journal, "not an llmfix journal")
            path = Path(name)
            try:
                relative = path.relative_to(checkout).as_posix()
            except ValueError:
                relative = None
            if relative is None or relative not in allowed or ".." in relative.split("/"):
                raise _unsafe(journal, f"names {name!r}, which is not a file llmfix writes in {checkout} (was the checkout moved?)")
            temp = path.with_name(f".{path.name}{TEMP_SUFFIX}")
            if Path(temp_name) != temp:
                raise _unsafe(journal, f"names temp file {temp_name!r}, which llmfix never writes")
            if new is None:
                raise _unsafe(journal, "not an llmfix journal")
        else:
            raise _unsafe(journal, f"unknown journal version {version!r}")
        if (old is None or new is None) and relative != RECORD_PATH:
            raise _unsafe(journal, f"would create or delete {relative}; llmfix never creates or deletes a target file, it only replaces one")
        if old is None and new is None:
            raise _unsafe(journal, f"not an llmfix journal ({relative} absent before and after)")
        entries.append(_Entry(path, temp, old, new))
    command = data.get("command") if isinstance(data.get("command"), str) else "apply"
    return command, entries


def _regular_or_absent(path: Path, journal: Path) -> bytes | None:
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return None
    if not stat.S_ISREG(info.st_mode):
        raise _unsafe(journal, f"{path} is not a regular file")
    try:
        return read_regular(path)
    except BadInput as error:
        raise _unsafe(journal, str(error).removeprefix(f"{path}: ")) from None


def _delete_if_still(checkout: Path, path: Path, expected: str | None, journal: Path) -> bool:
    """Delete llmfix's own record, and only while it still holds the bytes the journal names.

    The only files recovery ever deletes: a record the interrupted run created
    (undone) or emptied (finished). :func:`_journal_entries` refuses any other
    deletion; this checks it once more, right before the unlink.
    """
    if path != state_path(checkout):
        raise _unsafe(journal, f"would delete {_describe(path, checkout)}, which is not llmfix's record")
    if expected is None or _maybe_digest(_regular_or_absent(path, journal)) != expected:
        return False  # changed since: not what llmfix wrote, left alone
    path.unlink()
    return True


def _stale_temps(paths: Collection[Path]) -> list[Path]:
    """Temp files llmfix itself would have named for ``paths`` (left by a kill before its journal)."""
    found = []
    for path in paths:
        pattern = re.compile(rf"^\.{re.escape(path.name)}\.[0-9a-f]{{8,32}}{re.escape(TEMP_SUFFIX)}$|^\.{re.escape(path.name)}{re.escape(TEMP_SUFFIX)}$")
        try:
            with os.scandir(path.parent) as scan:
                found += [Path(e.path) for e in scan if pattern.match(e.name) and not e.is_dir(follow_symlinks=False)]
        except OSError:
            continue
    return found


def recover(checkout: Path, allowed: Collection[str], undo_apply: bool = False) -> list[Path]:
    """Finish (or, for ``undo_apply`` and an interrupted apply, undo) a group a kill interrupted.

    ``allowed``: the paths relative to ``checkout`` llmfix may write there (the
    target files and its record). Every entry is checked before anything is
    touched. Only a temp file holding exactly the journalled new bytes replaces
    its target, and only while the target still holds the journalled old bytes;
    a target edited since the kill is left alone. Returns the files changed.
    """
    check_state_dir(checkout)
    remove_stale_builds(checkout)
    journal = journal_path(checkout)
    raw = read_regular(journal)
    allowed_paths = [checkout / name for name in allowed]
    if raw is None:
        for temp in _stale_temps([*allowed_paths, journal]):
            temp.unlink(missing_ok=True)  # killed before its journal was written: nothing was renamed
        return []
    command, entries = _journal_entries(checkout, journal, raw, allowed)
    for entry in entries:
        check_inside(checkout, entry.path)
    states = []
    for entry in entries:
        current = _regular_or_absent(entry.path, journal)
        kept = _regular_or_absent(entry.temp, journal)
        states.append((entry, _maybe_digest(current), _maybe_digest(kept), kept is not None))
    displaced = any(kept_exists and target == entry.new and kept not in (entry.old, entry.new) for entry, target, kept, kept_exists in states)
    undoable = all(
        target != entry.new or entry.old is None or kept_exists
        for entry, target, kept, kept_exists in states
        if entry.new is not None
    )
    backward = undoable and (displaced or (undo_apply and command == "apply"))
    changed = []
    try:
        for entry, target, kept, kept_exists in states:
            if backward:
                if target == entry.new and entry.new is not None:
                    if kept_exists and kept != entry.new:
                        os.replace(entry.temp, entry.path)  # the old (or displaced) file goes back
                        changed.append(entry.path)
                    elif entry.old is None and _delete_if_still(checkout, entry.path, entry.new, journal):
                        changed.append(entry.path)  # llmfix created it in that run: the journal's own hashes say so
                elif entry.new is None and target is None and kept_exists and kept == entry.old:
                    os.rename(entry.temp, entry.path)
                    changed.append(entry.path)
            elif target == entry.old and entry.new is not None and kept == entry.new:
                if entry.old is None:
                    os.link(entry.temp, entry.path)
                else:
                    os.replace(entry.temp, entry.path)
                changed.append(entry.path)
            elif target == entry.old and entry.new is None and target is not None:
                if _delete_if_still(checkout, entry.path, entry.old, journal):
                    changed.append(entry.path)  # the record, emptied by a revert
        for entry, *_ in states:
            entry.temp.unlink(missing_ok=True)
        for directory in {e.path.parent for e in entries}:
            _fsync_dir(directory)
        _remove_journal(checkout)
    except OSError as error:
        raise WriteFailed(
            f"{error.filename or journal}: can't finish the interrupted write ({error.strerror}); remove {journal} to give up on it"
        ) from None
    for temp in _stale_temps(allowed_paths):
        temp.unlink(missing_ok=True)
    return changed
