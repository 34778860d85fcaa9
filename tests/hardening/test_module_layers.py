"""The write path is one module the record module imports, one way.

``llmfix.writing`` owns everything about touching files: the ``.llmfix`` folder (its
names and .gitignore), the one symlink-safe reader, the one digest, temp files, the
journal. ``llmfix.record`` (what the record says) uses it and is never imported by it,
not even lazily inside a function.
"""

from __future__ import annotations

import ast
import hashlib
from pathlib import Path

import pytest

import llmfix

PACKAGE = Path(llmfix.__file__).resolve().parent
FOLDER_NAMES = ("check_state_dir", "ensure_state_dir", "remove_state_dir", "remove_stale_builds", "read_regular", "replace_file", "IGNORE_TEXT")


def imported_modules(path: Path) -> set[str]:
    """Every llmfix module ``path`` imports, at the top or inside a function."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {name for name in found if name.startswith("llmfix")}


def defined_names(path: Path) -> set[str]:
    names = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
    return names


@pytest.mark.parametrize("module", ["writing", "discovery", "sourcetext", "lock"])
def test_the_file_modules_never_import_the_record(module):
    assert not {name for name in imported_modules(PACKAGE / f"{module}.py") if name.startswith("llmfix.record")}


def test_the_record_imports_the_write_path_and_defines_none_of_its_names():
    assert "llmfix.writing" in imported_modules(PACKAGE / "record.py")
    assert not set(FOLDER_NAMES) & defined_names(PACKAGE / "record.py")


def test_one_symlink_safe_reader_and_one_digest():
    from llmfix import writing

    assert not hasattr(writing, "_read")
    for name in ("record", "discovery", "sourcetext", "lock"):
        assert "import hashlib" not in (PACKAGE / f"{name}.py").read_text(encoding="utf-8"), name
    assert writing.digest(b"x") == hashlib.sha256(b"x").hexdigest()


def test_the_write_path_names_its_own_files():
    """record.py spells none of the write path's file names (the journal, the temp suffix)."""
    text = (PACKAGE / "record.py").read_text(encoding="utf-8")
    assert "pending.json" not in text and "llmfix-tmp" not in text
