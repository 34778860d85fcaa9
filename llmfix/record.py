"""llmfix's record (``<checkout>/.llmfix/record.json``): the little revert needs that the patched code can't tell.

It is meant to be committed with the patch. It holds the SHA-256 of the support module as llmfix
wrote it, and per patched file the transforms' notes (see :mod:`llmfix.codemods.notes`). It is
input, never code: a note is a number, a model name, a list of those, a digest or ``null``/``true``;
a path is a Python file inside the checkout; anything else is refused before a file is touched.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from llmfix.errors import BadInput
from llmfix.writing import STATE_DIR, STATE_FILE, check_state_dir, read_regular

RECORD_FILE = STATE_FILE
FORMER_RECORD = "state.json"  # an earlier, never released llmfix's record
VERSION = 1
MAX_RECORD_BYTES = 1024 * 1024
ABOUT = "what `llmfix revert` needs to undo `llmfix apply` here; commit it with the patch"
_DIGEST = re.compile(r"^[0-9a-f]{64}$")
_KEY = re.compile(r"^[A-Za-z_][\w.]*(?::[a-z-]+)?(?:#\d+)?$")
_TRANSFORM = re.compile(r"^[a-z][a-z0-9_-]*$")


class UnreadableRecord(BadInput):
    """The record is malformed, or holds something llmfix never writes."""


@dataclass
class Record:
    """One checkout's record."""

    checkout: Path
    support: str | None = None  # SHA-256 of the support module llmfix wrote
    notes: dict[str, dict[str, dict[str, object]]] = field(default_factory=dict)  # file -> transform -> key -> note
    raw: bytes | None = None  # the bytes read (None: no record yet)

    @property
    def path(self) -> Path:
        return self.checkout / STATE_DIR / RECORD_FILE

    def notes_for(self, relpath: str) -> dict[str, dict[str, object]]:
        return self.notes.get(relpath, {})

    def key_for(self, relpath: str, gone_only: bool = True) -> str | None:
        """The key of a file's notes: its path, else (a file a merge moved) the one key of a file of its name, a missing one
        unless not ``gone_only`` (git's merge driver runs before the work tree moves)."""
        if relpath in self.notes:
            return relpath
        name = PurePosixPath(relpath).name
        same = [key for key in self.notes if PurePosixPath(key).name == name and not (gone_only and (self.checkout / key).is_file())]
        return same[0] if len(same) == 1 else None

    def add_notes(self, relpath: str, transform: str, notes: dict[str, object]) -> None:
        """Keep ``notes`` for a transform's edits in a file (earlier notes for other keys stay)."""
        if notes:
            self.notes.setdefault(relpath, {}).setdefault(transform, {}).update(notes)

    def forget(self, relpath: str) -> None:
        self.notes.pop(relpath, None)

    def to_bytes(self) -> bytes | None:
        """The record as written, one line (None when there is nothing to record)."""
        if self.support is None and not any(self.notes.values()):
            return None
        notes = {name: per_transform for name, per_transform in sorted(self.notes.items()) if per_transform}
        data = {"version": VERSION, "about": ABOUT, "support": self.support, "notes": notes}
        return (json.dumps(data, sort_keys=False, ensure_ascii=False) + "\n").encode("utf-8")


def _unreadable(path: Path, why: str) -> UnreadableRecord:
    return UnreadableRecord(f"{path}: llmfix's record is unreadable ({why}); restore it from git, or move it away to start over")


def load(checkout: Path) -> Record:
    """The checkout's record (an empty one when there is none); :class:`UnreadableRecord` for anything malformed."""
    check_state_dir(checkout)
    _refuse_former_record(checkout)
    record = Record(checkout)
    raw = read_regular(record.path, MAX_RECORD_BYTES)
    if raw is None:
        return record
    record.raw = raw
    try:
        data = json.loads(raw.decode("utf-8"))
    except RecursionError:
        raise _unreadable(record.path, "nested too deeply") from None
    except (UnicodeDecodeError, ValueError) as error:
        raise _unreadable(record.path, f"not JSON: {error}") from None
    if not isinstance(data, dict) or data.get("version") != VERSION or type(data.get("version")) is not int:
        raise _unreadable(record.path, f"not a version {VERSION} record")
    support, notes = data.get("support"), data.get("notes")
    if support is not None and (not isinstance(support, str) or not _DIGEST.match(support)):
        raise _unreadable(record.path, "'support' is not a SHA-256 digest")
    if not isinstance(notes, dict):
        raise _unreadable(record.path, "'notes' is not an object")
    record.support = support
    for name, per_transform in notes.items():
        if not _safe_path(name):
            raise _unreadable(record.path, f"names {name!r}, which is not a Python file inside the checkout")
        if not isinstance(per_transform, dict) or not all(isinstance(t, str) and _TRANSFORM.match(t) and isinstance(v, dict) for t, v in per_transform.items()):
            raise _unreadable(record.path, f"{name}: notes are not grouped by transform")
        for transform, keyed in per_transform.items():
            for key, note in keyed.items():
                if not isinstance(key, str) or not _KEY.match(key) or not _plain(note):
                    raise _unreadable(record.path, f"{name}: {transform}: {key!r} is not a note llmfix writes")
        record.notes[name] = per_transform
    return record


def _refuse_former_record(checkout: Path) -> None:
    """BadInput where an earlier, never released llmfix left its record: in the ``.llmfix`` of the checkout or of a folder
    above it (it kept it at the folder the user named), up to the repository's top."""
    for folder in (checkout, *checkout.parents):
        former = folder / STATE_DIR / FORMER_RECORD
        if os.path.lexists(former):
            raise BadInput(f"{former}: this checkout was patched by an earlier llmfix; revert it with the llmfix that wrote it, then apply again")
        if os.path.lexists(folder / ".git"):
            return


def _plain(note: object, depth: int = 0) -> bool:
    """A note is a literal: null, true/false, a number, a short string, or a short list of those."""
    if note is None or isinstance(note, (bool, int, float)):
        return True
    if isinstance(note, str):
        return len(note) <= 200
    if isinstance(note, list) and depth == 0:
        return len(note) <= 50 and all(_plain(item, 1) or (isinstance(item, list) and all(_plain(i, 2) for i in item)) for item in note)
    return False


def _safe_path(name: object) -> bool:
    """A path relative to the checkout, without ``..``, naming a Python file."""
    if not isinstance(name, str) or not name or "\\" in name or "\0" in name:
        return False
    path = PurePosixPath(name)
    return not path.is_absolute() and all(part not in ("", ".", "..") for part in name.split("/")) and path.name.endswith(".py")
