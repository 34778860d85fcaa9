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

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from llmfix import writing
from llmfix.errors import BadInput
from llmfix.linediff import Hunk, hunks, split_lines

# The .llmfix folder, its files and the one symlink-safe reader belong to the write path
# (llmfix.writing); they are imported here, and kept importable from here for now.
from llmfix.writing import (  # noqa: F401  (re-exported)
    IGNORE_FILE,
    IGNORE_TEXT,
    MAX_STATE_BYTES,
    OLD_IGNORE_TEXT,
    README_FILE,
    README_TEXT,
    STALE_BUILD,
    STATE_DIR,
    STATE_FILE,
    check_state_dir,
    ensure_state_dir,
    read_regular,
    remove_stale_builds,
    remove_state_dir,
    safe_record_path,
    state_dir,
    state_path,
)
from llmfix.writing import write_small as _write_small

VERSION = 2
READABLE_VERSIONS = (1, 2)
DIGEST = re.compile(r"^[0-9a-f]{64}$")
ABOUT = "llmfix's record of what `llmfix apply` changed in this checkout, so that `llmfix revert` can undo it; commit it with the patched files"


def digest(text: str) -> str:
    """The write path's digest (:func:`llmfix.writing.digest`) of ``text`` as UTF-8, for the callers that hold text."""
    return writing.digest(text.encode("utf-8"))


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


class UnreadableState(BadInput):
    """The record is malformed, or names something it must not."""


def _unreadable(path: Path, why: str) -> UnreadableState:
    return UnreadableState(f"{path}: unreadable llmfix state ({why}) (move it away to start over)")


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
