"""Write the files of one checkout all together, or not at all.

Each new text goes to a temp file beside its target (same mode), is fsynced,
and only when every temp file is ready are they renamed over the targets. A
rename that fails midway puts back the files already renamed. A crash at any
point leaves each file either wholly old or wholly new.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from llmfix.errors import BadInput, WriteFailed

TEMP_SUFFIX = ".llmfix-tmp"
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
        view = memoryview(write.new)
        while view:
            written = os.write(fd, view)
            view = view[written:]
        os.fsync(fd)
    finally:
        os.close(fd)
    os.chmod(temp, mode)
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


def write_all(writes: Sequence[PendingWrite]) -> None:
    """Replace every file with its new bytes, atomically as a group."""
    writes = [w for w in writes if w.new != w.old]
    check_writable([w.path for w in writes])
    temps: list[Path] = []
    try:
        for write in writes:
            temps.append(_write_temp(write))
    except OSError as error:
        for temp in temps + [_temp_path(w.path) for w in writes[len(temps):]]:
            temp.unlink(missing_ok=True)
        raise WriteFailed(f"{error.filename or 'write'}: {error.strerror}; nothing was changed") from None
    done: list[PendingWrite] = []
    try:
        for write, temp in zip(writes, temps):
            os.replace(temp, write.path)
            done.append(write)
    except OSError as error:
        for temp in temps[len(done):]:
            temp.unlink(missing_ok=True)
        for write in done:  # put the old text back, atomically too
            if write.old is None:
                write.path.unlink(missing_ok=True)
            else:
                os.replace(_write_temp(PendingWrite(write.path, write.new, write.old)), write.path)
        raise WriteFailed(f"{error.filename or 'rename'}: {error.strerror}; nothing was changed") from None
    for directory in {w.path.parent for w in writes}:
        _fsync_dir(directory)
