"""Who calls the patched helpers (for ``diff --markdown``): the code a changed default reaches.

A call counts when its name is bound to the helper by an import from the helpers' module, or goes
through that module; only files mentioning both are parsed (with :mod:`ast`).
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from llmfix.discovery import python_files


@dataclass(frozen=True)
class Caller:
    helper: str
    path: str  # relative to the checkout root
    line: int
    function: str  # the calling function, or "module level"

    def __str__(self) -> str:
        return f"`{self.path}:{self.line}` {self.function}"


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
    """Every call of ``helpers`` (defined in ``module``, the file ``defined_in``) under ``root``."""
    wanted = set(helpers)
    found: list[Caller] = []
    if not wanted:
        return found
    stem = module.rsplit(".", 1)[-1].encode()
    for path in python_files(root):
        try:
            data = path.read_bytes()
        except OSError:
            continue
        if path.resolve() == defined_in.resolve() or stem not in data or not any(h.encode() in data for h in wanted):
            continue
        try:
            tree = ast.parse(data)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue
        names, modules = _bindings(tree, module, wanted)
        owner = _enclosing(tree)
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            helper = None
            if isinstance(node.func, ast.Name):
                helper = names.get(node.func.id)
            elif isinstance(node.func, ast.Attribute) and node.func.attr in wanted:
                base = node.func.value
                dotted = ast.unparse(base)
                helper = node.func.attr if dotted in modules or dotted.endswith("." + stem.decode()) else None
            if helper is not None:
                found.append(Caller(helper, path.relative_to(root).as_posix(), node.lineno, owner.get(node.lineno, "module level")))
    return sorted(found, key=lambda c: (c.helper, c.path, c.line))
