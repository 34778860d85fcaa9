"""Reading and creating files safely, and llmfix's own folder (``.llmfix``: the record, the journal, a .gitignore).

One reader that never follows a symlink nor reads past a limit, one digest, :func:`check_inside`,
:func:`write_new_file` (exclusive, never through a symlink, with mode, owner, xattrs and ACL, fsynced)
and :func:`exchange` (two paths swapped atomically), for :mod:`llmfix.writing`'s group write.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import stat
import sys
from pathlib import Path

from llmfix.errors import BadInput, WriteFailed

try:  # CPython's own SHA-256: importing hashlib loads OpenSSL, 4 MiB and 10 ms on every run
    from _sha256 import sha256
except ImportError:  # not on Python 3.12+ (there it is _sha2) or other builds: hashlib
    from hashlib import sha256

STATE_DIR = ".llmfix"
STATE_FILE = "record.json"  # the record (llmfix.record says what it holds)
IGNORE_FILE = ".gitignore"
JOURNAL_NAME = "pending.json"
TEMP_SUFFIX = ".llmfix-tmp"
IGNORE_TEXT = f"/{JOURNAL_NAME}\n/.*{TEMP_SUFFIX}\n"  # llmfix's transient files; the record is meant to be committed
NEW_FILE_MODE = 0o644
MIB = 1024 * 1024
MAX_STATE_BYTES = 64 * MIB  # the largest file of llmfix's own it reads (the record); nothing llmfix writes is larger
# Extended attributes a copy must keep or fail: the user's own and the POSIX ACL, which the owner can always set
# beside the original; others (security.*, trusted.*) need privileges and are copied when permitted.
KEPT_XATTRS = ("user.", "system.posix_acl_access")
_XATTR_NOT_HERE = {errno.EPERM, errno.EACCES, errno.ENOTSUP, errno.EOPNOTSUPP}


def digest(data: bytes) -> str:
    """The SHA-256 of ``data`` (hex), as the journal and the record name file contents; text is digested as UTF-8."""
    return sha256(data).hexdigest()


class TooLarge(BadInput):
    """A file is larger than llmfix reads."""


def _too_large(path: Path, limit: int, why: str) -> TooLarge:
    return TooLarge(f"{path}: larger than {limit // MIB} MiB; {why}")


def open_regular(path: Path, limit: int = MAX_STATE_BYTES, too_large: str = "not llmfix's (move it away)") -> int | None:
    """A read-only descriptor of a regular file of at most ``limit`` bytes (``fstat``-checked), never through a symlink; None when absent."""
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
    """The bytes of a regular file (see :func:`open_regular`), a growing one stopped at ``limit`` too; None when absent."""
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


def check_inside(top: Path, path: Path) -> None:
    """BadInput unless every folder from ``top`` down to ``path``'s own resolves inside ``top`` (``path`` itself: not resolved)."""
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


def fsync_dir(directory: Path) -> None:
    """Make a folder's renames durable, where the system lets us."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        with contextlib.suppress(OSError):
            os.fsync(fd)
    finally:
        os.close(fd)


def owner_of(*candidates: Path) -> os.stat_result | None:
    """The ``stat`` of the first of ``candidates`` that exists, to give a new file its owner."""
    for candidate in candidates:
        try:
            return os.stat(candidate)
        except OSError:
            continue
    return None


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


def temp_path(path: Path, run: str) -> Path:
    """The temp file beside ``path`` for one run (``.NAME.RUN.llmfix-tmp``)."""
    return path.with_name(f".{path.name}.{run}{TEMP_SUFFIX}")


def copy_xattrs(source: Path, fd: int) -> None:
    """Give the open file ``fd`` the extended attributes of ``source``; OSError when one of :data:`KEPT_XATTRS` can't be set."""
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
    """Create ``path`` (exclusively, never through a symlink) holding ``data``, fsynced, owned like ``owner`` and with
    ``like``'s extended attributes."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), mode)
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            if owner is not None and hasattr(os, "fchown"):
                with contextlib.suppress(PermissionError):  # not root: the file is ours, as any editor would leave it
                    os.fchown(fd, owner.st_uid, owner.st_gid)
            os.fchmod(fd, mode)
            if like is not None:
                copy_xattrs(like, fd)  # after fchmod: an ACL sets the group bits to its mask, as on the original
            os.fsync(fd)
        finally:
            os.close(fd)
    except BaseException:
        path.unlink(missing_ok=True)  # never leave a partial temp file behind
        raise


def state_dir(checkout: Path) -> Path:
    return checkout / STATE_DIR


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


def replace_file(path: Path, data: bytes, owner: os.stat_result | None = None, mode: int = NEW_FILE_MODE, like: Path | None = None) -> None:
    """Create or replace ``path`` atomically: a temp file beside it (see :func:`write_new_file`), fsynced, renamed."""
    temp = temp_path(path, os.urandom(6).hex())
    write_new_file(temp, data, mode, owner, like)
    try:
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def ensure_state_dir(checkout: Path) -> bool:
    """Make ``.llmfix/`` with its .gitignore (owned like the checkout), or nothing; True when this call created it."""
    check_state_dir(checkout)
    folder, owner = state_dir(checkout), os.stat(checkout)
    created = not folder.exists()
    try:
        if created:
            os.mkdir(folder, 0o755)
            with contextlib.suppress(PermissionError):
                os.chown(folder, owner.st_uid, owner.st_gid)
        if read_regular(folder / IGNORE_FILE) is None:
            replace_file(folder / IGNORE_FILE, IGNORE_TEXT.encode(), owner)
    except OSError as error:
        if created:
            with contextlib.suppress(OSError):
                folder.rmdir()
        raise WriteFailed(f"{error.filename or folder}: {error.strerror}; nothing was changed") from None
    return created


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
    with contextlib.suppress(OSError):
        for name in names:
            (folder / name).unlink()
        folder.rmdir()
