"""Default lines (``d["key"] = d.get("key", default)`` / ``d.setdefault(...)``) and the groups of them that reach a
LiteLLM call: in the helper, a defaults function it calls, or the callers that hand it their ``**kwargs``."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import libcst as cst

from llmfix.codemods.analysis.helpers import LiteLLMCall, find_litellm_calls
from llmfix.codemods.analysis.nodes import is_method_call, is_name, iter_statements, module_functions, single_small, string_value, top_statement
from llmfix.codemods.analysis.tree import contains, find_all, module_walk, per_module


@dataclass
class DefaultLine:
    statement: cst.SimpleStatementLine
    dict_name: str
    key: str
    default: cst.BaseExpression


def _item(node: cst.CSTNode) -> tuple[str, str | None] | None:
    """(``d``, ``"key"``'s value) for ``d["key"]``, else None."""
    if isinstance(node, cst.Subscript) and isinstance(node.value, cst.Name) and len(node.slice) == 1 and isinstance(node.slice[0].slice, cst.Index):
        return node.value.value, string_value(node.slice[0].slice.value)
    return None


def default_line(stmt: cst.BaseStatement) -> DefaultLine | None:
    """Recognise a default-setting line, in either of its two spellings."""
    small = single_small(stmt)
    if isinstance(small, cst.Assign) and len(small.targets) == 1 and isinstance(small.value, cst.Call):
        item, value = _item(small.targets[0].target), small.value
        if item is not None and item[1] is not None and is_method_call(value, item[0], "get") and len(value.args) == 2:
            if string_value(value.args[0].value) == item[1]:
                return DefaultLine(stmt, item[0], item[1], value.args[1].value)  # type: ignore[arg-type]
    call = small.value if isinstance(small, cst.Expr) else None
    if isinstance(call, cst.Call) and isinstance(call.func, cst.Attribute) and isinstance(call.func.value, cst.Name) and len(call.args) == 2:
        key = string_value(call.args[0].value)
        if key is not None and call.func.attr.value == "setdefault":
            return DefaultLine(stmt, call.func.value.value, key, call.args[1].value)  # type: ignore[arg-type]
    return None


@dataclass
class DefaultsGroup:
    """The default lines of one dict in one function: where LiteLLM's options are set. ``anchor`` is where a missing
    key's line goes: after the last default line (after the ``if`` around it when the call is not in that ``if``: a
    default for some models only must not take a new key with it), or (with none) before the statement holding the call."""

    function: cst.FunctionDef
    dict_name: str
    lines: list[DefaultLine]
    anchor: cst.BaseStatement
    insert_after: bool
    calls: list[LiteLLMCall] = field(default_factory=list)
    in_branch: set[int] = field(default_factory=set)  # id() of the lines inside an ``if`` the call is not in (not a guard)

    def line_for(self, key: str) -> DefaultLine | None:
        """The key's last default line outside such an ``if``, else its last one."""
        lines = [line for line in self.lines if line.key == key]
        return next((line for line in reversed(lines) if id(line.statement) not in self.in_branch), lines[-1] if lines else None)

    @property
    def model(self) -> cst.BaseExpression | None:
        """The primary model's expression, when the call sits in this function."""
        return next((call.model for call in self.calls if call.function is self.function and call.model is not None), None)

    @property
    def where(self) -> str:
        return f"{self.function.name.value}()"


def _default_lines(func: cst.FunctionDef, dict_name: str | None) -> list[DefaultLine]:
    lines = [d for d in map(default_line, iter_statements(func.body)) if d is not None]
    if dict_name is not None:
        return [d for d in lines if d.dict_name == dict_name]
    by_dict: dict[str, list[DefaultLine]] = {}
    for line in lines:
        by_dict.setdefault(line.dict_name, []).append(line)
    return max(by_dict.values(), key=len) if by_dict else []


def _assigned_from_module_call(func: cst.FunctionDef, name: str, functions: dict[str, cst.FunctionDef]) -> cst.FunctionDef | None:
    """The module function ``f`` in ``name = f(...)`` inside ``func``."""
    for stmt in iter_statements(func.body):
        small = single_small(stmt)
        if isinstance(small, cst.Assign) and any(is_name(t.target, name) for t in small.targets) and isinstance(small.value, cst.Call):
            if isinstance(small.value.func, cst.Name) and small.value.func.value in functions:
                return functions[small.value.func.value]
    return None


def _callers_with_splat(helper: cst.FunctionDef, functions: dict[str, cst.FunctionDef]) -> Iterator[tuple[cst.FunctionDef, cst.Call, str]]:
    for func in functions.values():
        if func is helper:
            continue
        for call in find_all(func.body, cst.Call, lambda c: is_name(c.func, helper.name.value)):
            for arg in call.args:
                if arg.star == "**" and isinstance(arg.value, cst.Name):
                    yield func, call, arg.value.value  # type: ignore[misc]


def _groups_for(func: cst.FunctionDef, dict_name: str, call_node: cst.Call, functions: dict[str, cst.FunctionDef], depth: int = 0) -> list[DefaultsGroup]:
    """Where the defaults of the dict that reaches ``call_node`` are set."""
    found = []
    own = _default_lines(func, dict_name)
    if own:
        found.append(DefaultsGroup(func, dict_name, own, own[-1].statement, True))
    source = _assigned_from_module_call(func, dict_name, functions)
    lines = _default_lines(source, None) if source is not None else []
    if lines:
        found.append(DefaultsGroup(source, lines[0].dict_name, lines, lines[-1].statement, True))  # type: ignore[arg-type]
    star = func.params.star_kwarg
    if not found and depth < 2 and star is not None and dict_name == star.name.value:
        for caller, call, splat in _callers_with_splat(func, functions):
            found.extend(_groups_for(caller, splat, call, functions, depth + 1))
    anchor = top_statement(func, call_node) if not found and depth == 0 else None
    if anchor is not None:
        found.append(DefaultsGroup(func, dict_name, [], anchor, False))
    return found


@per_module
def defaults_groups(module: cst.Module) -> list[DefaultsGroup]:
    """One group per (function, dict) that sets defaults for a LiteLLM call."""
    functions = module_functions(module)
    groups: dict[tuple[int, str], DefaultsGroup] = {}
    for llm_call in find_litellm_calls(module):
        for group in _groups_for(llm_call.function, llm_call.splat, llm_call.call, functions):  # type: ignore[arg-type]
            groups.setdefault((id(group.function), group.dict_name), group).calls.append(llm_call)
    walked = module_walk(module)
    for group in groups.values():
        calls = [c.call for c in group.calls if c.function is group.function]
        for line in group.lines:
            node, branch = id(line.statement), None
            while node != id(group.function) and node in walked.parents:
                node = walked.parents[node]
                above = walked.order[walked.position[node]]
                if type(above) is cst.If and not _tests_absence(above.test, group.dict_name, line.key) and not any(contains(above, c) for c in calls):
                    branch = above  # the outermost such ``if`` (one that only tests the key's absence guards a default)
            if branch is not None:
                group.in_branch.add(id(line.statement))
                if line.statement is group.anchor:
                    group.anchor = branch
    return list(groups.values())


@dataclass
class KeyAssignment:
    """``d["key"] = value`` (not the ``d.get`` form) in a helper; ``guarded`` when an enclosing ``if`` sets it only while
    the key is absent (``"key" not in d``, ``not d.get("key")``, ``d.get("key") is None``): a default written by hand."""

    statement: cst.SimpleStatementLine
    value: cst.BaseExpression
    guarded: bool


def _tests_absence(test: cst.BaseExpression, dict_name: str, key: str) -> bool:
    if isinstance(test, cst.BooleanOperation):
        return _tests_absence(test.left, dict_name, key) or _tests_absence(test.right, dict_name, key)
    if isinstance(test, cst.Comparison) and len(test.comparisons) == 1:
        target = test.comparisons[0]
        if isinstance(target.operator, cst.NotIn):
            return string_value(test.left) == key and is_name(target.comparator, dict_name)
        if isinstance(target.operator, (cst.Is, cst.Equal)) and is_name(target.comparator, "None"):
            return _is_get_of(test.left, dict_name, key)
    if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
        return _is_get_of(test.expression, dict_name, key)
    return False


def _is_get_of(node: cst.BaseExpression, dict_name: str, key: str) -> bool:
    return isinstance(node, cst.Call) and is_method_call(node, dict_name, "get") and bool(node.args) and string_value(node.args[0].value) == key


def _assignment_to(stmt: cst.BaseStatement, dict_name: str, key: str) -> cst.Assign | None:
    small = single_small(stmt)
    if not isinstance(small, cst.Assign) or default_line(stmt) is not None:
        return None
    return small if any(_item(t.target) == (dict_name, key) for t in small.targets) else None


def _statements(node: cst.CSTNode) -> Sequence[cst.CSTNode]:
    """The statements of ``node``'s body (a suite's, or a module's)."""
    body = getattr(node, "body", None)
    body = body.body if isinstance(body, cst.BaseSuite) else body
    return body if isinstance(body, (list, tuple)) else ()


def key_assignments(func: cst.FunctionDef, dict_name: str, key: str) -> list[KeyAssignment]:
    """Every plain assignment of ``dict_name[key]`` in ``func``, with whether it is guarded."""
    found: list[KeyAssignment] = []

    def visit(statements: Sequence[cst.CSTNode], guarded: bool) -> None:
        for stmt in statements:
            assign = _assignment_to(stmt, dict_name, key) if isinstance(stmt, cst.SimpleStatementLine) else None
            if assign is not None:
                found.append(KeyAssignment(stmt, assign.value, guarded))  # type: ignore[arg-type]
            elif isinstance(stmt, cst.BaseCompoundStatement) and not isinstance(stmt, (cst.FunctionDef, cst.ClassDef)):
                visit(_statements(stmt), guarded or (isinstance(stmt, cst.If) and _tests_absence(stmt.test, dict_name, key)))
                for part in (getattr(stmt, "orelse", None), getattr(stmt, "finalbody", None), *getattr(stmt, "handlers", ())):
                    if part is not None:
                        visit([part] if isinstance(part, cst.If) else _statements(part), guarded)  # an elif: its own test

    visit(_statements(func), False)
    return found
