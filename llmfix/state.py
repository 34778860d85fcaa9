"""What llmfix applied, kept so ``revert`` can undo exactly that.

Each ``apply`` that changes a file records the text before and after in
``<checkout root>/.llmfix/state.json`` (the folder ignores itself in git). A
file patched again after an upstream merge gets a second record; revert undoes
the records newest first.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path

from llmfix.errors import BadInput

STATE_DIR = ".llmfix"
STATE_FILE = "state.json"
IGNORE_FILE = ".gitignore"
VERSION = 1


def digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Record:
    """One apply of one file: the text before and after."""

    original: str
    patched: str

    @property
    def patched_digest(self) -> str:
        return digest(self.patched)


@dataclass
class State:
    root: Path
    files: dict[str, list[Record]]

    @property
    def path(self) -> Path:
        return state_path(self.root)

    def add(self, relpath: str, record: Record) -> None:
        self.files.setdefault(relpath, []).append(record)

    def to_bytes(self) -> bytes:
        data = {"version": VERSION, "files": {k: [asdict(r) for r in v] for k, v in sorted(self.files.items()) if v}}
        return (json.dumps(data, indent=1, ensure_ascii=False) + "\n").encode("utf-8")


def state_path(root: Path) -> Path:
    return root / STATE_DIR / STATE_FILE


def load_state(root: Path) -> State:
    path = state_path(root)
    if not path.exists():
        return State(root, {})
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        files = {k: [Record(**r) for r in v] for k, v in data["files"].items()}
    except (ValueError, KeyError, TypeError) as error:
        raise BadInput(f"{path}: unreadable llmfix state ({error}); remove it to start afresh") from None
    return State(root, files)


def ensure_state_dir(root: Path) -> None:
    """Create ``.llmfix/`` with a .gitignore that hides it from git."""
    folder = root / STATE_DIR
    folder.mkdir(exist_ok=True)
    ignore = folder / IGNORE_FILE
    if not ignore.exists():
        ignore.write_text("*\n", encoding="utf-8")
