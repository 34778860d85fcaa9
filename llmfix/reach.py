"""What a changed default reaches in the rest of the checkout: the calls of the patched helpers, and the
checkout's own tests that pin the old default (``assert kwargs["num_retries"] == 5``; such a test fails
by design after the patch). Only files mentioning what is looked for are parsed (with :mod:`ast`).
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from llmfix.discovery import python_files

ASSERT_METHODS = {
    "assertEqual", "assertEquals", "assert_called_with", "assert_called_once_with", "assert_any_call", "assert_awaited_with", "assert_awaited_once_with"
}
_MISSING = object()  # what a node that is no literal evaluates to


@dataclass(frozen=True)
class Caller:
    helper: str
    path: str  # relative to the checkout root
    line: int
    function: str  # the calling function, or "module level"

    def __str__(self) -> str:
        return f"`{self.path}:{self.line}` {self.function}"


@dataclass(frozen=True)
class PinnedTest:
    path: str  # relative to the checkout root
    line: int
    test: str  # Class::test_name or test_name
    key: str
    value: Any

    def __str__(self) -> str:
        return f"{self.path}::{self.test} (line {self.line}) pins {self.key} == {self.value!r}"


def _trees(paths: Iterable[Path], mentions: Callable[[bytes], bool]) -> Iterator[tuple[Path, ast.Module]]:
    """The parsed files of ``paths`` whose bytes ``mentions`` what is looked for (unreadable or broken ones skipped)."""
    for path in paths:
        try:
            data = path.read_bytes()
            if mentions(data):
                yield path, ast.parse(data)
        except (OSError, SyntaxError, ValueError, RecursionError, MemoryError):
            continue


def _bindings(tree: ast.Module, module: str, helpers: set[str]) -> tuple[dict[str, str], set[str]]:
    """(local name -> helper, names bound to the helpers' module) from the file's imports."""
    names: dict[str, str] = {}
    modules: set[str] = set()
    stem = module.rsplit(".", 1)[-1]
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            source = node.module or ""
            for alias in node.names:
                if (source == module or source.endswith("." + stem) or source == stem) and alias.name in helpers:
                    names[alias.asname or alias.name] = alias.name
                elif alias.name == stem and f"{source}.{stem}".endswith(module.split(".", 1)[-1]):
                    modules.add(alias.asname or alias.name)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == module or alias.name.endswith("." + stem):
                    modules.add(alias.asname or alias.name)
    return names, modules


def _enclosing(tree: ast.Module) -> dict[int, str]:
    """The function each line belongs to (the innermost def around it)."""
    owner: dict[int, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for line in range(node.lineno, (node.end_lineno or node.lineno) + 1):
                owner[line] = f"{node.name}()"
    return owner


def callers(root: Path, module: str, helpers: Iterable[str], defined_in: Path) -> list[Caller]:
    """Every call of ``helpers`` (defined in ``module``, the file ``defined_in``) under ``root``: a call counts when its
    name is bound to the helper by an import from the helpers' module, or goes through that module."""
    wanted = set(helpers)
    stem = module.rsplit(".", 1)[-1]
    others = (p for p in python_files(root) if p.resolve() != defined_in.resolve()) if wanted else ()
    found: list[Caller] = []
    for path, tree in _trees(others, lambda data: stem.encode() in data and any(h.encode() in data for h in wanted)):
        names, modules = _bindings(tree, module, wanted)
        owner = _enclosing(tree)
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            helper = None
            if isinstance(node.func, ast.Name):
                helper = names.get(node.func.id)
            elif isinstance(node.func, ast.Attribute) and node.func.attr in wanted:
                dotted = ast.unparse(node.func.value)
                helper = node.func.attr if dotted in modules or dotted.endswith("." + stem) else None
            if helper is not None:
                found.append(Caller(helper, path.relative_to(root).as_posix(), node.lineno, owner.get(node.lineno, "module level")))
    return sorted(found, key=lambda c: (c.helper, c.path, c.line))


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


def pinned_tests(root: Path, old: Mapping[str, Any]) -> list[PinnedTest]:
    """The tests under ``root`` that assert an option of ``old`` (key -> old default) equals that default."""
    tests = (p for p in python_files(root) if p.name.startswith("test_") or p.name.endswith("_test.py")) if old else ()
    found = []
    for path, tree in _trees(tests, lambda data: any(key.encode() in data for key in old)):
        for name, test in _tests(tree):
            seen = set()
            for key, value, line in _pins(test, old):
                if key not in seen:
                    seen.add(key)
                    found.append(PinnedTest(path.relative_to(root).as_posix(), line, name, key, value))
    return found
