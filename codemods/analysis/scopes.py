"""Which names a module or a function binds, without libcst's slow scope metadata, so generated code never means the
wrong thing (``os.environ`` in a helper that binds ``os`` itself)."""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache

import libcst as cst

from llmfix.codemods.analysis.nodes import dotted_name
from llmfix.codemods.analysis.tree import forgets, iter_children, per_module

_NEW_SCOPES = frozenset((cst.FunctionDef, cst.ClassDef, cst.Lambda, cst.ListComp, cst.SetComp, cst.DictComp, cst.GeneratorExp))
_TARGETED = frozenset((cst.AnnAssign, cst.AugAssign, cst.For, cst.CompFor, cst.NamedExpr))  # bind their ``target``


def _target_names(node: cst.CSTNode) -> Iterator[str]:
    """Names bound by an assignment target (``a``, ``a, b``, ``[a, *b]``); not ``a.x`` or ``a[i]``."""
    if isinstance(node, cst.Name):
        yield node.value
    elif isinstance(node, (cst.Tuple, cst.List)):
        for element in node.elements:
            yield from _target_names(element.value)
    elif isinstance(node, cst.StarredElement):
        yield from _target_names(node.value)


def _import_bindings(node: cst.Import | cst.ImportFrom) -> Iterator[tuple[str, str]]:
    if isinstance(node, cst.Import):
        for alias in node.names:
            module = dotted_name(alias.name) or ""
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                yield alias.asname.name.value, f"import {module}"
            else:
                yield module.split(".")[0], f"import {module.split('.')[0]}"
    elif not isinstance(node.names, cst.ImportStar):
        module = "." * len(node.relative) + (dotted_name(node.module) or "")
        for alias in node.names:
            bound = alias.asname.name if alias.asname is not None else alias.name
            if isinstance(bound, cst.Name):
                yield bound.value, f"from {module} import {dotted_name(alias.name)}"


def statement_bindings(node: cst.CSTNode, top: bool = False) -> Iterator[tuple[str, str]]:
    """(name, how) for every binding ``node`` makes in its scope (``top``: in its own, a function's), not
    descending into new scopes (types compared by identity: an ABC's ``isinstance`` is slow when false)."""
    kind = type(node)
    if kind is cst.Import or kind is cst.ImportFrom:
        yield from _import_bindings(node)  # type: ignore[arg-type]
        return
    if (kind is cst.FunctionDef or kind is cst.ClassDef) and not top:
        yield node.name.value, "def" if kind is cst.FunctionDef else "class"  # type: ignore[attr-defined]
        return
    if kind in _NEW_SCOPES and not top:
        return
    if kind is cst.Assign:
        for target in node.targets:  # type: ignore[attr-defined]
            yield from ((n, "assign") for n in _target_names(target.target))
    elif kind in _TARGETED:
        yield from ((n, "assign") for n in _target_names(node.target))  # type: ignore[attr-defined]
    elif kind is cst.WithItem and node.asname is not None:  # type: ignore[attr-defined]
        yield from ((n, "assign") for n in _target_names(node.asname.name))  # type: ignore[attr-defined]
    elif kind is cst.ExceptHandler and node.name is not None:  # type: ignore[attr-defined]
        yield from ((n, "assign") for n in _target_names(node.name.name))  # type: ignore[attr-defined]
    elif kind is cst.Param:
        yield node.name.value, "param"  # type: ignore[attr-defined]
    elif kind is cst.Global or kind is cst.Nonlocal:
        yield from ((item.name.value, "global") for item in node.names)  # type: ignore[attr-defined]
    for child in iter_children(node):
        if kind is cst.FunctionDef and top and child is node.name:  # type: ignore[attr-defined]
            continue
        yield from statement_bindings(child)


@per_module
def module_bindings(module: cst.Module) -> dict[str, str]:
    """Module-level name -> how it is bound (the last binding wins): ``import os`` (``import os`` or ``import os as x``),
    ``from m import n``, ``def``, ``class`` or ``assign``."""
    found: dict[str, str] = {}
    for statement in module.body:
        found.update((name, how) for name, how in statement_bindings(statement) if how != "global")
    return found


def binds_name(function: cst.FunctionDef, name: str) -> bool:
    """True when ``name`` is a local of ``function`` (a parameter or bound in its body)."""
    if name in parameters(function):  # the common case, without walking the body
        return True
    bound, declared = _scope(function)
    return name in bound and name not in declared


def parameters(function: cst.FunctionDef) -> set[str]:
    params = function.params
    names = {p.name.value for p in (*params.posonly_params, *params.params, *params.kwonly_params)}
    names.update(p.name.value for p in (params.star_arg, params.star_kwarg) if isinstance(p, cst.Param))
    return names


@lru_cache(maxsize=256)
def _scope(function: cst.FunctionDef) -> tuple[frozenset[str], frozenset[str]]:
    """The names ``function`` binds in its own scope, and those it declares ``global`` or ``nonlocal`` there
    (cached per node: libcst nodes hash by identity)."""
    found = list(statement_bindings(function, True))
    return frozenset(n for n, how in found if how != "global"), frozenset(n for n, how in found if how == "global")


forgets(_scope.cache_clear)
