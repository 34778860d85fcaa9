"""The edits a transform plans, keyed by the nodes of the one analysed tree, and their application in one rebuild.

Besides edits, a transform leaves *notes*: what revert needs that the patched code can't tell."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import libcst as cst

from llmfix.codemods.analysis.tree import module_walk, rebuild
from llmfix.codemods.style.imports import add_support_import

if TYPE_CHECKING:
    from llmfix.codemods.context import FileContext


class EditConflict(Exception):
    """Two transforms want incompatible changes to the same node (an llmfix bug)."""


@dataclass
class Edits:
    replace: dict[int, cst.CSTNode] = field(default_factory=dict)
    before: dict[int, list[cst.BaseStatement]] = field(default_factory=dict)
    after: dict[int, list[cst.BaseStatement]] = field(default_factory=dict)
    decorate: dict[int, list[cst.Decorator]] = field(default_factory=dict)
    support: bool = False  # the new code calls the support module
    notes: dict[str, object] = field(default_factory=dict)  # what revert needs and the code can't tell
    removals: list[cst.CSTNode] = field(default_factory=list)  # statements to drop (revert)
    _anchors: dict[int, cst.CSTNode] = field(default_factory=dict)  # keeps ids valid, and for conflict checks

    def replace_node(self, old: cst.CSTNode, new: cst.CSTNode) -> None:
        self._anchors[id(old)] = old
        self.replace[id(old)] = new

    def insert_before(self, anchor: cst.BaseStatement, statements: Sequence[cst.BaseStatement]) -> None:
        self._anchors[id(anchor)] = anchor
        self.before.setdefault(id(anchor), []).extend(statements)

    def insert_after(self, anchor: cst.BaseStatement, statements: Sequence[cst.BaseStatement]) -> None:
        self._anchors[id(anchor)] = anchor
        self.after.setdefault(id(anchor), []).extend(statements)

    def add_decorator(self, function: cst.FunctionDef, decorator: cst.Decorator) -> None:
        self._anchors[id(function)] = function
        self.decorate.setdefault(id(function), []).append(decorator)

    def need_support(self) -> None:
        self.support = True

    def note(self, key: str, value: object) -> None:
        self.notes[key] = value

    def remove(self, statement: cst.CSTNode) -> None:
        self._anchors[id(statement)] = statement
        self.removals.append(statement)

    def __bool__(self) -> bool:
        return bool(self.replace or self.before or self.after or self.decorate or self.support or self.removals)

    @classmethod
    def merged(cls, parts: Sequence[Edits], module: cst.Module) -> Edits:
        """All of ``parts`` as one set of edits; :class:`EditConflict` when two replace one node, or
        when an edit lies inside a replaced node (found by climbing ``module``'s parent links)."""
        total = cls()
        for part in parts:
            for key, node in part.replace.items():
                if key in total.replace and total.replace[key] is not node:
                    raise EditConflict(f"two transforms replace the same {type(part._anchors[key]).__name__}")
                total.replace[key] = node
            for source, target in ((part.before, total.before), (part.after, total.after), (part.decorate, total.decorate)):
                for key, items in source.items():
                    target.setdefault(key, []).extend(items)
            total._anchors.update(part._anchors)
            total.support = total.support or part.support
            total.removals.extend(part.removals)
        replaced = set(total.replace) | {id(node) for node in total.removals}
        parents = module_walk(module).parents
        for key in replaced | set(total.before) | set(total.after) | set(total.decorate):
            above = parents.get(key)
            while above is not None:
                if above in replaced:
                    raise EditConflict(f"an edit inside a replaced {type(total._anchors[above]).__name__} would be lost")
                above = parents.get(above)
        return total


def apply_edits(file: FileContext, parts: Sequence[Edits]) -> cst.Module:
    """The module with every edit of ``parts`` applied (``file.module`` itself when there are none)."""
    edits = Edits.merged(parts, file.module)
    if not edits:
        return file.module
    replace = {**edits.replace, **{id(node): cst.RemovalSentinel.REMOVE for node in edits.removals}}
    tree = rebuild(file.module, replace, edits.before, edits.after, edits.decorate)
    assert isinstance(tree, cst.Module)
    return add_support_import(file, tree) if edits.support else tree
