"""The shape every llmfix transform shares: analyse first, then edit.

A transform's ``plan()`` reads the whole module and returns an :class:`Outcome`
plus the edits it wants (replace a node, insert statements before or after a
statement). Nothing is edited unless the whole plan is safe: when any anchor is
missing the transform reports ``anchor-missing`` and returns the tree unchanged.
The edits are applied by rebuilding only the edited paths of the tree.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import ClassVar

import libcst as cst
from llmfix.codemods.analysis.tree import rebuild

APPLIED = "applied"
ALREADY_PRESENT = "already-present"
NOT_APPLICABLE = "not-applicable"
ANCHOR_MISSING = "anchor-missing"


@dataclass
class Outcome:
    """What a transform did (or would do) to one file, and why."""

    status: str
    reason: str

    def to_json(self) -> dict[str, str]:
        return {"status": self.status, "reason": self.reason}


@dataclass
class Edits:
    """Edits keyed by the identity of the nodes of the analysed tree."""

    replace: dict[int, cst.CSTNode] = field(default_factory=dict)
    before: dict[int, list[cst.BaseStatement]] = field(default_factory=dict)
    after: dict[int, list[cst.BaseStatement]] = field(default_factory=dict)
    imports: list[str] = field(default_factory=list)
    _keep: list[cst.CSTNode] = field(default_factory=list)  # keeps ids valid

    def replace_node(self, old: cst.CSTNode, new: cst.CSTNode) -> None:
        self._keep.append(old)
        self.replace[id(old)] = new

    def insert_before(self, anchor: cst.CSTNode, statements: Sequence[cst.BaseStatement]) -> None:
        self._keep.append(anchor)
        self.before.setdefault(id(anchor), []).extend(statements)

    def insert_after(self, anchor: cst.CSTNode, statements: Sequence[cst.BaseStatement]) -> None:
        self._keep.append(anchor)
        self.after.setdefault(id(anchor), []).extend(statements)

    def need_import(self, module_name: str) -> None:
        if module_name not in self.imports:
            self.imports.append(module_name)

    def __bool__(self) -> bool:
        return bool(self.replace or self.before or self.after)


class Sites:
    """Per-site outcomes folded into one file-level :class:`Outcome`."""

    def __init__(self) -> None:
        self.applied: list[str] = []
        self.present: list[str] = []
        self.missing: list[str] = []

    def outcome(self, nothing_found: str) -> Outcome:
        if self.missing:
            return Outcome(ANCHOR_MISSING, "; ".join(self.missing))
        if self.applied:
            extra = f" (already present: {'; '.join(self.present)})" if self.present else ""
            return Outcome(APPLIED, "; ".join(self.applied) + extra)
        if self.present:
            return Outcome(ALREADY_PRESENT, "; ".join(self.present))
        return Outcome(NOT_APPLICABLE, nothing_found)


class PlannedTransform:
    """Base class: subclasses implement :meth:`plan`; :meth:`apply` does the rest."""

    NAME: ClassVar[str]
    SUMMARY: ClassVar[str]
    DESCRIPTION: ClassVar[str]

    def plan(self, tree: cst.Module, edits: Edits) -> Outcome:
        raise NotImplementedError

    def apply(self, tree: cst.Module) -> tuple[cst.Module, Outcome]:
        """The edited tree (``tree`` itself when nothing changes) and the outcome."""
        edits = Edits()
        outcome = self.plan(tree, edits)
        if outcome.status == ANCHOR_MISSING or not edits:
            return tree, outcome
        new = rebuild(tree, edits.replace, edits.before, edits.after)
        assert isinstance(new, cst.Module)
        return ensure_imports(new, edits.imports), outcome


# --------------------------------------------------------------------------
# Building new code
# --------------------------------------------------------------------------


def reindent(source: str, indent: str) -> str:
    """Turn the 4-space indentation of a template into the module's own."""
    if indent == "    ":
        return source
    return re.sub(r"^((?:    )+)", lambda found: indent * (len(found.group(1)) // 4), source, flags=re.M)


def parse_statements(source: str, module: cst.Module) -> list[cst.BaseStatement]:
    """Statements parsed with the target module's newline and indentation."""
    source = reindent(source, module.default_indent)
    if module.default_newline != "\n":  # multi-line strings keep their newlines verbatim
        source = source.replace("\n", module.default_newline)
    return list(cst.parse_module(source, config=module.config_for_parsing).body)


def parse_statement(source: str, module: cst.Module) -> cst.BaseStatement:
    (statement,) = parse_statements(source, module)
    return statement


def parse_expression(source: str, module: cst.Module) -> cst.BaseExpression:
    return cst.parse_expression(source, config=module.config_for_parsing)


def imported_modules(tree: cst.Module) -> set[str]:
    """Names bound by top-level ``import x`` statements."""
    names = set()
    for stmt in tree.body:
        if isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                if isinstance(small, cst.Import):
                    for alias in small.names:
                        if alias.asname is None and isinstance(alias.name, cst.Name):
                            names.add(alias.name.value)
    return names


def _is_import_line(stmt: cst.BaseStatement) -> bool:
    return isinstance(stmt, cst.SimpleStatementLine) and all(
        isinstance(s, (cst.Import, cst.ImportFrom)) for s in stmt.body
    )


def _is_docstring(stmt: cst.BaseStatement) -> bool:
    small = stmt.body[0] if isinstance(stmt, cst.SimpleStatementLine) and stmt.body else None
    return isinstance(small, cst.Expr) and isinstance(small.value, (cst.SimpleString, cst.ConcatenatedString))


def import_position(tree: cst.Module) -> int:
    """Index in ``tree.body`` just after the leading block of imports (and docstring)."""
    position = 0
    for index, stmt in enumerate(tree.body):
        if _is_import_line(stmt) or (index == 0 and _is_docstring(stmt)):
            position = index + 1
        elif index > position:
            break
    return position


def ensure_imports(tree: cst.Module, module_names: Sequence[str]) -> cst.Module:
    """Add ``import x`` for each name the module does not import yet."""
    missing = [name for name in module_names if name not in imported_modules(tree)]
    if not missing:
        return tree
    position = import_position(tree)
    new = [parse_statement(f"import {name}\n", tree) for name in missing]
    body = list(tree.body)
    if position == 0 and body:
        new[-1] = new[-1].with_changes(leading_lines=())
    body[position:position] = new
    return tree.with_changes(body=body)
