"""Find the target repo's own tests that pin a default the patch changes (``assert kwargs["num_retries"] == 5``).

Such a test fails by design after the patch; apply and ``diff --markdown`` name it. Only test files
mentioning a changed option are parsed (with :mod:`ast`).
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from llmfix.discovery import python_files

ASSERT_METHODS = {
    "assertEqual", "assertEquals", "assert_called_with", "assert_called_once_with", "assert_any_call", "assert_awaited_with", "assert_awaited_once_with"
}
_MISSING = object()  # what a node that is no literal evaluates to


@dataclass(frozen=True)
class PinnedTest:
    path: str  # relative to the checkout root
    line: int
    test: str  # Class::test_name or test_name
    key: str
    value: Any

    def __str__(self) -> str:
        return f"{self.path}::{self.test} (line {self.line}) pins {self.key} == {self.value!r}"


def test_files(root: Path) -> Iterator[Path]:
    return (path for path in python_files(root) if path.name.startswith("test_") or path.name.endswith("_test.py"))


def _literal(node: ast.AST) -> Any:
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return _MISSING


def _key_of(node: ast.AST) -> str | None:
    """``"k"`` in ``x["k"]`` or ``x.get("k")``."""
    if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant) and isinstance(node.slice.value, str):
        return node.slice.value
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "get"
        and node.args
        and isinstance(node.args[0], ast.Constant)
        and isinstance(node.args[0].value, str)
    ):
        return node.args[0].value
    return None


def _same(value: Any, old: Any) -> bool:
    if value is _MISSING:
        return False
    if isinstance(old, (list, tuple)) and isinstance(value, (list, tuple)):
        return list(value) == list(old)
    if isinstance(old, (int, float)) and isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value) == float(old)
    return bool(value == old)


def _pins(node: ast.AST, old: Mapping[str, Any]) -> Iterator[tuple[str, Any, int]]:
    """(key, value, line) for each comparison of a changed option with its old default in ``node``."""
    for sub in ast.walk(node):
        compared: list[tuple[str | None, ast.AST]] = []  # (option key, the node it is compared with)
        if isinstance(sub, ast.Compare) and len(sub.ops) == 1 and isinstance(sub.ops[0], ast.Eq):
            compared = [(_key_of(sub.left), sub.comparators[0]), (_key_of(sub.comparators[0]), sub.left)]
        elif isinstance(sub, ast.Call) and isinstance(sub.func, ast.Attribute) and sub.func.attr in ASSERT_METHODS:
            if sub.func.attr.startswith("assertEqual") and len(sub.args) >= 2:
                compared = [(_key_of(sub.args[0]), sub.args[1]), (_key_of(sub.args[1]), sub.args[0])]
            compared += [(keyword.arg, keyword.value) for keyword in sub.keywords]
        for key, value in compared:
            if key in old and _same(_literal(value), old[key]):
                yield key, old[key], sub.lineno


def _tests(tree: ast.Module) -> Iterator[tuple[str, ast.AST]]:
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith("test"):
            yield node.name, node
        elif isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)) and item.name.startswith("test"):
                    yield f"{node.name}::{item.name}", item


def pinned_tests(root: Path, old: Mapping[str, Any], files: Iterable[Path] | None = None) -> list[PinnedTest]:
    """The tests under ``root`` that assert an option of ``old`` (key -> old default) equals that default."""
    if not old:
        return []
    found = []
    for path in files if files is not None else test_files(root):
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        if not any(key in text for key in old):
            continue
        try:
            tree = ast.parse(text)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue
        for name, test in _tests(tree):
            seen = set()
            for key, value, line in _pins(test, old):
                if key not in seen:
                    seen.add(key)
                    found.append(PinnedTest(path.relative_to(root).as_posix(), line, name, key, value))
    return found
