"""llmfix's record of what apply changed, kept so ``revert`` can undo exactly that.

The record lives beside the patched files, in ``<checkout>/.llmfix/state.json``
(the checkout is the folder holding ``open_instruct/``, whatever PATH named it),
and is meant to be committed with them: a teammate's clone can revert too. It
holds, per file (its path relative to the checkout), one entry per apply that
changed it: the SHA-256 of the text before and after, and llmfix's hunks (the
lines it removed and added, with three lines of context). No file text, no
absolute path. A file patched again after an upstream merge gets a second
entry; revert undoes the entries newest first.

The record is input like any other: a malformed one, or one naming a path
that is not a target file inside the checkout, is refused with one line.
Version 1 records (whole texts before and after) are still read; the next
write turns them into version 2.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from llmfix.errors import BadInput
from llmfix.linediff import Hunk, hunks, split_lines

STATE_DIR = ".llmfix"
STATE_FILE = "state.json"
IGNORE_FILE = ".gitignore"
README_FILE = "README.md"
VERSION = 2
READABLE_VERSIONS = (1, 2)
MAX_STATE_BYTES = 64 * 1024 * 1024
DIGEST = re.compile(r"^[0-9a-f]{64}$")
ABOUT = "llmfix's record of what `llmfix apply` changed in this checkout, so that `llmfix revert` can undo it; commit it with the patched files"


def digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Record:
    """One apply of one file: the digests of its text before and after, and llmfix's hunks."""

    original: str
    patched: str
    hunks: tuple[Hunk, ...]

    @classmethod
    def of_texts(cls, original: str, patched: str) -> Record:
        return cls(digest(original), digest(patched), tuple(hunks(split_lines(original), split_lines(patched))))

    def to_json(self) -> dict[str, Any]:
        return {
            "original": self.original,
            "patched": self.patched,
            "hunks": [{"old_line": h.old_start + 1, "new_line": h.new_start + 1, "lines": list(h.lines)} for h in self.hunks],
        }


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


@dataclass
class State:
    """The records of one checkout, keyed by each file's path relative to the checkout."""

    checkout: Path
    files: dict[str, list[Record]] = field(default_factory=dict)
    raw: bytes | None = None  # the bytes read (None: no state file yet)
    legacy: list[tuple[Path, str]] = field(default_factory=list)  # (llmfix 0.1 state file, its key) folded in

    @property
    def path(self) -> Path:
        return state_path(self.checkout)

    def add(self, record_path: str, record: Record) -> None:
        self.files.setdefault(record_path, []).append(record)

    def to_bytes(self) -> bytes:
        files = {name: [r.to_json() for r in records] for name, records in sorted(self.files.items()) if records}
        data = {"version": VERSION, "about": ABOUT, "files": files}
        return (json.dumps(data, indent=1, ensure_ascii=False) + "\n").encode("utf-8")


def state_dir(checkout: Path) -> Path:
    return checkout / STATE_DIR


def state_path(checkout: Path) -> Path:
    return state_dir(checkout) / STATE_FILE


class UnreadableState(BadInput):
    """The record is malformed, or names something it must not."""


def _unreadable(path: Path, why: str) -> UnreadableState:
    return UnreadableState(f"{path}: unreadable llmfix state ({why}) (move it away to start over)")


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
    for name in (STATE_FILE, IGNORE_FILE, README_FILE, "pending.json"):
        try:
            entry = os.lstat(folder / name)
        except FileNotFoundError:
            continue
        if not stat.S_ISREG(entry.st_mode):
            kind = "a symbolic link" if stat.S_ISLNK(entry.st_mode) else "not a regular file"
            raise BadInput(f"{folder / name}: is {kind}; llmfix won't read or write through it (move it away)")


def read_regular(path: Path, limit: int = MAX_STATE_BYTES) -> bytes | None:
    """The bytes of a regular file, never through a symlink; None when it does not exist."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        return None
    except OSError as error:
        raise BadInput(f"{path}: cannot read: {error.strerror}") from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise BadInput(f"{path}: is not a regular file; move it away")
        chunks, size = [], 0
        while chunk := os.read(fd, 1 << 20):
            chunks.append(chunk)
            size += len(chunk)
            if size > limit:
                raise BadInput(f"{path}: larger than {limit // (1024 * 1024)} MiB; not llmfix's (move it away)")
        return b"".join(chunks)
    finally:
        os.close(fd)


def load_state(checkout: Path) -> State:
    """The checkout's records; :class:`UnreadableState` (one line) for anything malformed."""
    check_state_dir(checkout)
    path = state_path(checkout)
    raw = read_regular(path)
    if raw is None:
        return State(checkout, {}, None)
    return State(checkout, parse_state(path, raw), raw)


def fold_in_legacy(state: State, roots_and_targets: list[tuple[Path, Path]]) -> None:
    """Fold in what llmfix 0.1 recorded at the folder the user named (an ancestor of the checkout).

    ``roots_and_targets``: (named folder, target file). The entries come first
    (they are older); :func:`retire_legacy` removes them once the new record is written.
    """
    for root, target in roots_and_targets:
        if root == state.checkout or root not in state.checkout.parents:
            continue
        check_state_dir(root)
        path = state_path(root)
        raw = read_regular(path)
        if raw is None:
            continue
        key = target.relative_to(root).as_posix()
        entries = parse_state(path, raw).get(key)
        if entries:
            name = target.relative_to(state.checkout).as_posix()
            state.files[name] = [*entries, *state.files.get(name, [])]
            state.legacy.append((path, key))


def retire_legacy(state: State) -> None:
    """Drop the folded-in llmfix 0.1 entries from their old files (the folder too, once empty)."""
    by_file: dict[Path, set[str]] = {}
    for path, key in state.legacy:
        by_file.setdefault(path, set()).add(key)
    for path, keys in by_file.items():
        raw = read_regular(path)
        if raw is None:
            continue
        data = json.loads(raw.decode("utf-8"))
        data["files"] = {k: v for k, v in data["files"].items() if k not in keys}
        if data["files"]:
            _write_small(path, json.dumps(data, indent=1, ensure_ascii=False) + "\n", os.stat(path))
            continue
        path.unlink()
        ignore = path.parent / IGNORE_FILE
        if read_regular(ignore) == OLD_IGNORE_TEXT.encode() and set(os.listdir(path.parent)) == {IGNORE_FILE}:
            ignore.unlink()
            path.parent.rmdir()
    state.legacy.clear()


def parse_state(path: Path, raw: bytes) -> dict[str, list[Record]]:
    try:
        data = json.loads(raw.decode("utf-8"))
    except RecursionError:
        raise _unreadable(path, "nested too deeply") from None
    except (UnicodeDecodeError, ValueError) as error:
        raise _unreadable(path, f"not JSON: {error}") from None
    if not isinstance(data, dict):
        raise _unreadable(path, "not a JSON object")
    version = data.get("version")
    if type(version) is not int or version not in READABLE_VERSIONS:
        raise _unreadable(path, f"unknown version {version!r}; this llmfix reads {', '.join(map(str, READABLE_VERSIONS))}")
    files = data.get("files")
    if not isinstance(files, dict):
        raise _unreadable(path, f"'files' is {type(files).__name__}, not an object")
    parsed: dict[str, list[Record]] = {}
    for name, entries in files.items():
        if safe_record_path(name) is None:
            raise _unreadable(path, f"names {name!r}, which is not a target file inside the checkout")
        if not isinstance(entries, list):
            raise _unreadable(path, f"{name}: not a list of records")
        parsed[name] = [_record(path, name, entry, version) for entry in entries]
    return parsed


def _record(path: Path, name: str, entry: object, version: int) -> Record:
    if not isinstance(entry, dict):
        raise _unreadable(path, f"{name}: a record is not an object")
    original, patched = entry.get("original"), entry.get("patched")
    if not isinstance(original, str) or not isinstance(patched, str):
        raise _unreadable(path, f"{name}: a record lacks 'original'/'patched'")
    if version == 1:
        return Record.of_texts(original, patched)
    if not DIGEST.match(original) or not DIGEST.match(patched):
        raise _unreadable(path, f"{name}: 'original'/'patched' are not SHA-256 digests")
    raw_hunks = entry.get("hunks")
    if not isinstance(raw_hunks, list):
        raise _unreadable(path, f"{name}: 'hunks' is not a list")
    found = []
    for raw in raw_hunks:
        if not isinstance(raw, dict):
            raise _unreadable(path, f"{name}: a hunk is not an object")
        old_line, new_line, lines = raw.get("old_line"), raw.get("new_line"), raw.get("lines")
        if type(old_line) is not int or type(new_line) is not int or old_line < 0 or new_line < 0:
            raise _unreadable(path, f"{name}: a hunk's 'old_line'/'new_line' are not line numbers")
        if not isinstance(lines, list) or not all(isinstance(x, str) and x[:1] in (" ", "-", "+") for x in lines):
            raise _unreadable(path, f"{name}: a hunk's 'lines' are not diff lines")
        found.append(Hunk(max(old_line - 1, 0), max(new_line - 1, 0), tuple(lines)))
    return Record(original, patched, tuple(found))


IGNORE_TEXT = "# llmfix's transient files; state.json is llmfix's record and is meant to be committed\n/pending.json\n/.*.llmfix-tmp\n"
OLD_IGNORE_TEXT = "*\n"  # llmfix 0.1 hid the whole folder from git
README_TEXT = """# .llmfix

This folder is written by llmfix. `state.json` records
what `llmfix apply` changed in this checkout (for each file: the SHA-256 of its text before
and after, and llmfix's hunks), so that `llmfix revert` can undo exactly that, here or in
any clone. Commit it together with the patched files. `pending.json` exists only while
llmfix is writing, or after it was killed (the next `llmfix apply` or `llmfix revert`
finishes or undoes that write); git ignores it.
"""


def _write_small(path: Path, text: str, owner: os.stat_result | None) -> None:
    """Create or replace a small file atomically (temp file, fsync, rename)."""
    from llmfix.writing import temp_path, write_new_file

    import secrets

    temp = temp_path(path, secrets.token_hex(6))
    write_new_file(temp, text.encode("utf-8"), 0o644, owner)
    try:
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def ensure_state_dir(checkout: Path) -> bool:
    """Make ``.llmfix/`` (README, .gitignore) whole or not at all; True when this call created it.

    A new folder is built under a temp name and renamed into place, owned like
    the checkout. An existing one from llmfix 0.1 (which ignored itself in git)
    gets the new .gitignore and the README.
    """
    from llmfix.errors import WriteFailed

    check_state_dir(checkout)
    folder = state_dir(checkout)
    owner = os.stat(checkout)
    try:
        if folder.exists():
            ignore = folder / IGNORE_FILE
            if read_regular(ignore) in (None, OLD_IGNORE_TEXT.encode(), b""):
                _write_small(ignore, IGNORE_TEXT, owner)
            if read_regular(folder / README_FILE) is None:
                _write_small(folder / README_FILE, README_TEXT, owner)
            return False
        import secrets

        building = checkout / f"{STATE_DIR}.{secrets.token_hex(6)}.llmfix-tmp"
        os.mkdir(building, 0o755)
        try:
            try:
                os.chown(building, owner.st_uid, owner.st_gid)
            except PermissionError:
                pass
            _write_small(building / IGNORE_FILE, IGNORE_TEXT, owner)
            _write_small(building / README_FILE, README_TEXT, owner)
            os.rename(building, folder)
        except BaseException:
            for name in (IGNORE_FILE, README_FILE):
                (building / name).unlink(missing_ok=True)
            for leftover in building.glob("*.llmfix-tmp"):
                leftover.unlink(missing_ok=True)
            building.rmdir()
            raise
        return True
    except OSError as error:
        raise WriteFailed(f"{error.filename or folder}: {error.strerror}; nothing was changed") from None


STALE_BUILD = re.compile(r"^\.llmfix\.[0-9a-f]{8,32}\.llmfix-tmp$")


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
                if inner.name in (IGNORE_FILE, README_FILE) or inner.name.endswith(".llmfix-tmp"):
                    if not inner.is_dir(follow_symlinks=False):
                        os.unlink(inner.path)
            folder.rmdir()
        except OSError:
            continue


def remove_state_dir(checkout: Path) -> None:
    """Remove ``.llmfix/`` when it holds nothing but llmfix's own README and .gitignore."""
    folder = state_dir(checkout)
    known = {IGNORE_FILE: IGNORE_TEXT.encode(), README_FILE: README_TEXT.encode()}
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
