"""Fast walks over a libcst tree, and a rebuild that touches only edited paths.

One walk per module (the dataclass fields read directly: ten times cheaper than libcst's
visitors) serves every analysis; a rebuild keeps the untouched rest of the tree, and its bytes.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Sequence
from typing import TypeVar

import libcst as cst

N = TypeVar("N", bound=cst.CSTNode)
T = TypeVar("T")

_FIELDS: dict[type, tuple[str, ...]] = {}


def _field_names(node: cst.CSTNode) -> tuple[str, ...]:
    names = _FIELDS.get(type(node))
    if names is None:
        names = _FIELDS[type(node)] = tuple(f.name for f in dataclasses.fields(node))  # type: ignore[arg-type]
    return names


_CHILD_FIELDS: dict[type, tuple[str, ...]] = {}
# fields that hold only whitespace, comments or punctuation (libcst's own names for them)
_TRIVIA_FIELDS = {
    "lpar", "rpar", "lbrace", "rbrace", "lbracket", "rbracket", "comma", "colon", "first_colon", "second_colon", "semicolon",
    "equal", "dot", "relative", "newline", "leading_lines", "lines_after_decorators", "header", "footer", "empty_lines",
    "trailing_whitespace",
}


def _child_fields(node: cst.CSTNode) -> tuple[str, ...]:
    """The fields a walk looks in: the others hold only what walks skip anyway."""
    names = _CHILD_FIELDS.get(type(node))
    if names is None:
        kept = (n for n in _field_names(node) if n not in _TRIVIA_FIELDS and not n.startswith("whitespace"))
        names = _CHILD_FIELDS[type(node)] = tuple(kept)
    return names


_IS_NODE: dict[type, bool] = {}

# Whitespace, comments and punctuation: about half of a tree's nodes, and nothing an analysis
# or an edit looks for, so walks skip them (the rebuilt tree still keeps every byte).
_TRIVIA = (
    cst.SimpleWhitespace, cst.ParenthesizedWhitespace, cst.TrailingWhitespace, cst.EmptyLine, cst.Newline, cst.Comment,
    cst.Comma, cst.Colon, cst.Semicolon, cst.AssignEqual, cst.Dot,
    cst.LeftParen, cst.RightParen, cst.LeftSquareBracket, cst.RightSquareBracket, cst.LeftCurlyBrace, cst.RightCurlyBrace,
)


def _is_node(value: object) -> bool:
    kind = type(value)
    known = _IS_NODE.get(kind)
    if known is None:
        mro = kind.__mro__  # not issubclass: an ABC's check fills caches across every libcst class (MiBs)
        known = _IS_NODE[kind] = cst.CSTNode in mro and not any(trivia in mro for trivia in _TRIVIA)
    return known


def copy_tree(node: N) -> N:
    """``node`` again, every node below it new (no validation: it was valid): one parse used in many places."""
    new = object.__new__(type(node))
    for name in _field_names(node):
        value = getattr(node, name)
        if type(value) is tuple or type(value) is list:
            value = type(value)(copy_tree(item) if is_kind(item, cst.CSTNode) else item for item in value)
        elif is_kind(value, cst.CSTNode):
            value = copy_tree(value)
        object.__setattr__(new, name, value)
    return new


def iter_children(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """The direct child nodes of ``node``, in field order (whitespace, comments and punctuation left out)."""
    for name in _child_fields(node):
        value = getattr(node, name)
        kind = type(value)
        if kind is tuple or kind is list:
            for item in value:
                if _is_node(item):
                    yield item
        elif _is_node(value):
            yield value


_FORGET: list[Callable[[], None]] = []  # what empties each cache that holds trees


def forgets(clear: Callable[[], None]) -> None:
    _FORGET.append(clear)  # forget_trees will call it


def forget_trees() -> None:
    """Empty every cache holding trees: a batch keeps one checkout's trees alive, not every checkout's."""
    for clear in _FORGET:
        clear()


def per_module(function: Callable[[cst.Module], T]) -> Callable[[cst.Module], T]:
    """Memoise an analysis of a whole (immutable) module for the last few trees."""
    cache: dict[int, tuple[cst.Module, T]] = {}
    forgets(cache.clear)

    def cached(module: cst.Module) -> T:
        hit = cache.get(id(module))
        if hit is not None and hit[0] is module:
            return hit[1]
        if len(cache) > 8:
            del cache[next(iter(cache))]  # the oldest: a snippet's tree never pushes out the file's
        result = function(module)
        cache[id(module)] = (module, result)
        return result

    cached.__doc__ = function.__doc__
    cached.__name__ = function.__name__
    cached.cache = cache  # type: ignore[attr-defined]
    return cached


class ModuleWalk:
    """One walk of a module (or any node) shared by every analysis: its nodes depth first in source order,
    where each node's subtree ends in that order (a subtree is a slice), and each node's parent."""

    def __init__(self, module: cst.CSTNode) -> None:
        order: list[cst.CSTNode] = []
        above: list[int] = []  # each node's parent, as its index in ``order``
        stack: list[tuple[cst.CSTNode, int]] = [(module, -1)]
        while stack:  # iter_children inlined: this visits every node of every file
            node, parent = stack.pop()
            index = len(order)
            order.append(node)
            above.append(parent)
            children = []
            for name in _CHILD_FIELDS.get(type(node)) or _child_fields(node):
                value = getattr(node, name)
                for item in value if type(value) is tuple or type(value) is list else (value,):
                    known = _IS_NODE.get(type(item))
                    if known or (known is None and _is_node(item)):
                        children.append((item, index))
            children.reverse()
            stack += children
        end = list(range(1, len(order) + 1))
        for index in range(len(order) - 1, 0, -1):
            parent = above[index]
            end[parent] = max(end[parent], end[index])
        self.order, self.end = order, end
        self.position = {id(node): index for index, node in enumerate(order)}
        self.parents = {id(node): id(order[parent]) for node, parent in zip(order, above) if parent >= 0}

    def span(self, node: cst.CSTNode) -> tuple[int, int] | None:
        """Where ``node``'s subtree lies in :attr:`order`; None when ``node`` is not in this module."""
        index = self.position.get(id(node))
        if index is None or self.order[index] is not node:
            return None
        return index, self.end[index]


@per_module
def module_walk(module: cst.Module) -> ModuleWalk:
    """The walk of ``module`` (made once per tree)."""
    return ModuleWalk(module)


def _span(node: cst.CSTNode) -> tuple[ModuleWalk, int, int] | None:
    """The walked module ``node`` is in, and its subtree's slice there (the trees walked last are looked in)."""
    for _, walked in module_walk.cache.values():  # type: ignore[attr-defined]
        found = walked.span(node)
        if found is not None:
            return walked, *found
    return None


_IS_KIND: dict[tuple[type, object], bool] = {}


def is_kind(node: object, kind: type | tuple[type, ...]) -> bool:
    """``isinstance(node, kind)`` for libcst's classes, remembered per node type: they are ABCs, whose
    ``isinstance`` costs a Python call each time it is false (libcst registers no virtual subclasses)."""
    key = (type(node), kind)
    known = _IS_KIND.get(key)
    if known is None:
        mro = type(node).__mro__
        known = _IS_KIND[key] = any(k in mro for k in (kind if isinstance(kind, tuple) else (kind,)))
    return known


def find_all(node: cst.CSTNode, kind: type[N], where: Callable[[N], bool] | None = None) -> list[N]:
    """Every node of type ``kind`` below ``node`` (inclusive) that passes ``where``."""
    return [n for n in walk(node) if is_kind(n, kind) and (where is None or where(n))]  # type: ignore[misc]


def walk(node: cst.CSTNode) -> Sequence[cst.CSTNode]:
    """``node`` and everything below it, depth first, in source order: a slice of its module's walk when that
    module was walked (transforms share one walk)."""
    found = _span(node)
    if found is None:
        return ModuleWalk(node).order  # type: ignore[arg-type]
    walked_module, start, end = found
    return walked_module.order[start:end]


def contains(node: cst.CSTNode, target: cst.CSTNode) -> bool:
    """True when ``target`` (by identity) is ``node`` or inside it."""
    found = _span(node)
    if found is None:
        return any(n is target for n in walk(node))
    walked_module, start, end = found
    index = walked_module.position.get(id(target))
    return index is not None and start <= index < end and walked_module.order[index] is target


def rebuild(
    node: cst.CSTNode,
    replace: dict[int, cst.CSTNode],
    before: dict[int, list[cst.BaseStatement]],
    after: dict[int, list[cst.BaseStatement]],
    decorate: dict[int, list[cst.Decorator]] | None = None,
) -> cst.CSTNode:
    """``node`` with nodes replaced (by ``cst.RemovalSentinel.REMOVE``: dropped from their list), statements spliced in
    and decorators added on top, keyed by node identity; only the edited nodes' ancestors are rebuilt, the rest kept."""
    decorate = decorate or {}
    targets = set(replace) | set(before) | set(after) | set(decorate)
    hot: set[int] = set()
    parents = (module_walk(node) if isinstance(node, cst.Module) else ModuleWalk(node)).parents  # type: ignore[arg-type]
    for target in targets:  # climb from each target instead of walking everything
        while target in parents and target not in hot:
            hot.add(target)
            target = parents[target]
    if hot or id(node) in targets:
        hot.add(id(node))

    def rebuilt(node: cst.CSTNode) -> cst.CSTNode:
        if id(node) in replace:
            return replace[id(node)]
        if id(node) not in hot:
            return node
        changes: dict[str, object] = {}
        for name in _field_names(node):
            value = getattr(node, name)
            if is_kind(value, cst.CSTNode):
                new = rebuilt(value)
                if new is not value:
                    changes[name] = new
            elif isinstance(value, (list, tuple)) and any(is_kind(v, cst.CSTNode) for v in value):
                items: list[object] = []
                for item in value:
                    items.extend(before.get(id(item), ()))
                    new_item = rebuilt(item) if is_kind(item, cst.CSTNode) else item
                    if new_item is not cst.RemovalSentinel.REMOVE:
                        items.append(new_item)
                    items.extend(after.get(id(item), ()))
                if len(items) != len(value) or any(a is not b for a, b in zip(items, value)):
                    changes[name] = type(value)(items)
        added = decorate.get(id(node))  # type: ignore[union-attr]
        if added:
            changes["decorators"] = (*added, *changes.get("decorators", node.decorators))  # type: ignore[attr-defined]
        return node.with_changes(**changes) if changes else node

    return rebuilt(node)


def indent_of(module: cst.Module, target: cst.CSTNode) -> str | None:
    """The indentation of the line ``target`` (a statement) starts on, or None if it is not in ``module``."""
    return _statement_indents(module).get(id(target))


_HOLDS_STATEMENTS = (cst.Module, cst.BaseCompoundStatement, cst.ExceptHandler, cst.Else, cst.Finally, cst.If, cst.BaseSuite)


@per_module
def _statement_indents(module: cst.Module) -> dict[int, str]:
    """id(statement) -> its indentation, for every statement of ``module`` (one walk)."""
    found: dict[int, str] = {}
    stack: list[tuple[cst.CSTNode, str]] = [(module, "")]
    while stack:
        node, indent = stack.pop()
        if is_kind(node, cst.BaseStatement):
            found[id(node)] = indent
        if type(node) is cst.IndentedBlock:
            indent += module.default_indent if node.indent is None else node.indent
            stack.extend((child, indent) for child in node.body)
        elif is_kind(node, _HOLDS_STATEMENTS):
            stack.extend((child, indent) for child in iter_children(node))
    return found
