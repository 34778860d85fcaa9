"""Small, generic questions about libcst nodes: names, literals, statements and blocks."""

from __future__ import annotations

from collections.abc import Iterator

import libcst as cst

from llmfix.codemods.analysis.tree import contains, find_all, is_kind, per_module, walk


def string_value(node: cst.CSTNode | None) -> str | None:
    """The value of a plain string literal, else None."""
    if not isinstance(node, cst.SimpleString):
        return None
    raw = node.value
    if raw[:1] in "'\"" and "\\" not in raw and raw[:3] not in ('"""', "'''"):
        return raw[1:-1]  # the common case, without libcst's literal_eval
    value = node.evaluated_value
    return value if isinstance(value, str) else None


def dotted_name(node: cst.CSTNode | None) -> str | None:
    """``a.b.c`` for a Name/Attribute chain, else None."""
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        base = dotted_name(node.value)
        return f"{base}.{node.attr.value}" if base else None
    return None


def is_name(node: cst.CSTNode | None, name: str) -> bool:
    return isinstance(node, cst.Name) and node.value == name


def is_attribute(node: cst.CSTNode | None, attr: str) -> bool:
    """``<anything>.attr``."""
    return isinstance(node, cst.Attribute) and node.attr.value == attr


def is_method_call(call: cst.CSTNode, owner: str, method: str) -> bool:
    """``owner.method(...)``."""
    return isinstance(call, cst.Call) and is_attribute(call.func, method) and is_name(call.func.value, owner)  # type: ignore[attr-defined]


def is_choices_index(node: cst.CSTNode) -> bool:
    """``r.choices[...]`` for a plain name ``r``."""
    return (
        type(node) is cst.Subscript and is_attribute(node.value, "choices") and isinstance(node.value.value, cst.Name)  # type: ignore[attr-defined]
    )


def callee_name(call: cst.Call) -> str | None:
    """The last name of what a call calls: ``f`` for ``f()`` and ``m.f()``."""
    if isinstance(call.func, cst.Name):
        return call.func.value
    if isinstance(call.func, cst.Attribute):
        return call.func.attr.value
    return None


def keyword_arg(call: cst.Call, *names: str) -> cst.BaseExpression | None:
    """The value of the first keyword argument named in ``names``."""
    return next((arg.value for arg in call.args if arg.keyword is not None and arg.keyword.value in names), None)


def first_positional(call: cst.Call) -> cst.BaseExpression | None:
    return next((arg.value for arg in call.args if arg.keyword is None and not arg.star), None)


def _mentions_string(node: cst.CSTNode, text: str) -> bool:
    return any(isinstance(n, cst.SimpleString) and string_value(n) == text for n in walk(node))


@per_module
def module_functions(module: cst.Module) -> dict[str, cst.FunctionDef]:
    """Top-level functions by name (the last definition wins, as at run time)."""
    return {stmt.name.value: stmt for stmt in module.body if isinstance(stmt, cst.FunctionDef)}


@per_module
def qualified_names(module: cst.Module) -> dict[int, tuple[cst.FunctionDef, str]]:
    """Module-level functions and methods of module-level classes, in source order, by node identity:
    each with its ``name`` or ``Class.name``."""
    names: dict[int, tuple[cst.FunctionDef, str]] = {}
    for stmt in module.body:
        if isinstance(stmt, cst.FunctionDef):
            names[id(stmt)] = (stmt, stmt.name.value)
        elif isinstance(stmt, cst.ClassDef):
            names.update((id(s), (s, f"{stmt.name.value}.{s.name.value}")) for s in stmt.body.body if isinstance(s, cst.FunctionDef))
    return names


@per_module
def all_functions(module: cst.Module) -> list[cst.FunctionDef]:
    """Module-level functions and methods of module-level classes, in source order."""
    return [func for func, _ in qualified_names(module).values()]


def qualname(module: cst.Module, func: cst.FunctionDef) -> str:
    return qualified_names(module).get(id(func), (func, func.name.value))[1]


def reads_env(node: cst.CSTNode, variable: str, functions: dict[str, cst.FunctionDef]) -> bool:
    """True when ``node`` reads env ``variable``, directly or through a module function it calls."""
    calls = find_all(node, cst.Call, lambda c: isinstance(c.func, cst.Name) and c.func.value in functions)
    return _mentions_string(node, variable) or any(_mentions_string(functions[c.func.value], variable) for c in calls)  # type: ignore[attr-defined]


def number_literal(node: cst.CSTNode | None) -> float | None:
    """The value of an int/float literal (or a numeric string literal), else None."""
    if isinstance(node, cst.Integer):
        return float(int(node.value.replace("_", ""), 0))
    if isinstance(node, cst.Float):
        return float(node.value.replace("_", ""))
    text = string_value(node)
    try:
        return float(text) if text is not None else None
    except ValueError:
        return None


def env_default_literal(node: cst.CSTNode, variable: str) -> float | None:
    """The numeric default in ``os.environ.get(variable, "N")`` inside ``node``."""
    for call in find_all(node, cst.Call):
        args = [a.value for a in call.args]
        if len(args) == 2 and string_value(args[0]) == variable:
            return number_literal(args[1])
    return None


def iter_statements(block: cst.CSTNode) -> Iterator[cst.BaseStatement]:
    """Every statement inside ``block`` (depth first), compound ones included."""
    body = getattr(block, "body", None)
    if is_kind(body, cst.BaseSuite):
        body = body.body  # type: ignore[union-attr]
    if not isinstance(body, (list, tuple)):
        return
    for stmt in body:
        if not is_kind(stmt, cst.BaseStatement):
            continue
        yield stmt
        if is_kind(stmt, cst.BaseCompoundStatement):  # its body, then its except, else and finally parts
            for part in (stmt, *getattr(stmt, "handlers", ()), getattr(stmt, "orelse", None), getattr(stmt, "finalbody", None)):
                if part is not None:
                    yield from iter_statements(part)


def top_statement(func: cst.FunctionDef, target: cst.CSTNode) -> cst.BaseStatement | None:
    """The statement directly in ``func``'s body that holds ``target``."""
    return next((stmt for stmt in func.body.body if contains(stmt, target)), None)


def statement_of(func: cst.FunctionDef, target: cst.CSTNode) -> cst.SimpleStatementLine | None:
    """The simple statement line inside ``func`` that holds ``target``."""
    return next((stmt for stmt in iter_statements(func.body) if isinstance(stmt, cst.SimpleStatementLine) and contains(stmt, target)), None)


def single_small(stmt: cst.BaseStatement) -> cst.BaseSmallStatement | None:
    if isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1:
        return stmt.body[0]
    return None


BROAD_EXCEPTIONS = ("Exception", "BaseException", "builtins.Exception")


def is_broad_handler(handler: cst.ExceptHandler) -> bool:
    """``except:``, ``except Exception`` / ``BaseException`` (alone or in a tuple)."""
    kind = handler.type
    if kind is None:
        return True
    names = [e.value for e in kind.elements] if isinstance(kind, cst.Tuple) else [kind]
    return any(dotted_name(n) in BROAD_EXCEPTIONS for n in names)


def swallowing_try(func: cst.FunctionDef, target: cst.CSTNode) -> cst.Try | None:
    """The ``try`` in ``func`` whose body holds ``target`` and whose broad handler does not re-raise: where an exception
    ``target`` raises ends (the function swallows it, usually returning a fallback value)."""
    tries = (stmt for stmt in iter_statements(func.body) if isinstance(stmt, cst.Try) and contains(stmt.body, target))
    return next((t for t in tries if any(is_broad_handler(h) and not find_all(h.body, cst.Raise) for h in t.handlers)), None)
