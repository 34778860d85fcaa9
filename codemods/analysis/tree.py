"""Fast walks over a libcst tree, and a rebuild that touches only edited paths.

libcst's visitor machinery costs about 80 ms per traversal of a 250-line
file; the transforms need dozens of look-ups per file. Walking the dataclass
fields directly is ten times cheaper, and rebuilding only the ancestors of the
edited nodes keeps the untouched rest of the tree (and its bytes) as it was.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
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


_IS_NODE: dict[type, bool] = {}


def _is_node(value: object) -> bool:
    kind = type(value)
    known = _IS_NODE.get(kind)
    if known is None:
        known = _IS_NODE[kind] = issubclass(kind, cst.CSTNode)
    return known


def iter_children(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """The direct child nodes of ``node``, in field order."""
    for name in _field_names(node):
        value = getattr(node, name)
        kind = type(value)
        if kind is tuple or kind is list:
            for item in value:
                if _is_node(item):
                    yield item
        elif _is_node(value):
            yield value


def per_module(function: Callable[[cst.Module], T]) -> Callable[[cst.Module], T]:
    """Memoise an analysis of a whole (immutable) module for the last few trees."""
    cache: dict[int, tuple[cst.Module, T]] = {}

    def cached(module: cst.Module) -> T:
        hit = cache.get(id(module))
        if hit is not None and hit[0] is module:
            return hit[1]
        if len(cache) > 8:
            cache.clear()
        result = function(module)
        cache[id(module)] = (module, result)
        return result

    cached.__doc__ = function.__doc__
    cached.__name__ = function.__name__
    return cached


def walk(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """``node`` and everything below it, depth first, in source order."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed(list(iter_children(current))))


def find_all(node: cst.CSTNode, kind: type[N], where: Callable[[N], bool] | None = None) -> list[N]:
    """Every node of type ``kind`` below ``node`` (inclusive) that passes ``where``."""
    return [n for n in walk(node) if isinstance(n, kind) and (where is None or where(n))]  # type: ignore[misc]


def contains(node: cst.CSTNode, target: cst.CSTNode) -> bool:
    """True when ``target`` (by identity) is ``node`` or inside it."""
    return any(n is target for n in walk(node))


def rebuild(
    node: cst.CSTNode,
    replace: dict[int, cst.CSTNode],
    before: dict[int, list[cst.BaseStatement]],
    after: dict[int, list[cst.BaseStatement]],
) -> cst.CSTNode:
    """``node`` with nodes replaced and statements spliced in, keyed by node identity."""
    targets = set(replace) | set(before) | set(after)
    hot: set[int] = set()
    _mark_ancestors(node, targets, hot)
    return _rebuild(node, replace, before, after, hot)


def _mark_ancestors(node: cst.CSTNode, targets: set[int], hot: set[int]) -> bool:
    found = id(node) in targets
    for child in iter_children(node):
        if _mark_ancestors(child, targets, hot):
            found = True
    if found:
        hot.add(id(node))
    return found


def _rebuild(node, replace, before, after, hot):
    if id(node) in replace:
        return replace[id(node)]
    if id(node) not in hot:
        return node
    changes = {}
    for name in _field_names(node):
        value = getattr(node, name)
        if isinstance(value, cst.CSTNode):
            new = _rebuild(value, replace, before, after, hot)
            if new is not value:
                changes[name] = new
        elif isinstance(value, (list, tuple)) and any(isinstance(v, cst.CSTNode) for v in value):
            items = []
            for item in value:
                items.extend(before.get(id(item), ()))
                items.append(_rebuild(item, replace, before, after, hot) if isinstance(item, cst.CSTNode) else item)
                items.extend(after.get(id(item), ()))
            if len(items) != len(value) or any(a is not b for a, b in zip(items, value)):
                changes[name] = type(value)(items)
    return node.with_changes(**changes) if changes else node
