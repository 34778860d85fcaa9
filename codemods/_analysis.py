"""Structural matchers shared by the transforms.

Everything here anchors on the shape of the code, never on line numbers or
function names: a *LiteLLM call helper* is any function that calls
``litellm.completion``/``litellm.acompletion`` with a ``**kwargs`` splat, its
*defaults* are the ``d["key"] = d.get("key", default)`` lines on the dict that
reaches that call, and the *rubric generator* is the async function that awaits
a call, hands the result to ``extract_json_from_response`` and returns the
parsed object.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import libcst as cst

from llmfix.codemods._tree import contains, find_all, per_module, walk

COMPLETION_ATTRS = ("completion", "acompletion")
JSON_PARSER = "extract_json_from_response"


# --------------------------------------------------------------------------
# Small node helpers
# --------------------------------------------------------------------------


def string_value(node: cst.CSTNode | None) -> str | None:
    """The value of a plain string literal, else None."""
    if isinstance(node, cst.SimpleString):
        value = node.evaluated_value
        return value if isinstance(value, str) else None
    return None


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
        isinstance(node, cst.Subscript)
        and is_attribute(node.value, "choices")
        and isinstance(node.value.value, cst.Name)  # type: ignore[attr-defined]
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
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value in names:
            return arg.value
    return None


def first_positional(call: cst.Call) -> cst.BaseExpression | None:
    for arg in call.args:
        if arg.keyword is None and not arg.star:
            return arg.value
    return None


def mentions_string(node: cst.CSTNode, text: str) -> bool:
    """True when a string literal inside ``node`` equals ``text``."""
    return any(isinstance(n, cst.SimpleString) and string_value(n) == text for n in walk(node))


@per_module
def module_functions(module: cst.Module) -> dict[str, cst.FunctionDef]:
    """Top-level functions by name (the last definition wins, as at run time)."""
    return {
        stmt.name.value: stmt for stmt in module.body if isinstance(stmt, cst.FunctionDef)
    }


@per_module
def all_functions(module: cst.Module) -> list[cst.FunctionDef]:
    """Module-level functions and methods of module-level classes, in source order."""
    found: list[cst.FunctionDef] = []
    for stmt in module.body:
        if isinstance(stmt, cst.FunctionDef):
            found.append(stmt)
        elif isinstance(stmt, cst.ClassDef):
            found.extend(s for s in stmt.body.body if isinstance(s, cst.FunctionDef))
    return found


def reads_env(node: cst.CSTNode, variable: str, functions: dict[str, cst.FunctionDef]) -> bool:
    """True when ``node`` reads env ``variable``, directly or through a module function it calls."""
    if mentions_string(node, variable):
        return True
    for call in find_all(node, cst.Call, lambda c: isinstance(c.func, cst.Name)):
        helper = functions.get(call.func.value)  # type: ignore[attr-defined]
        if helper is not None and mentions_string(helper, variable):
            return True
    return False


def number_literal(node: cst.CSTNode | None) -> float | None:
    """The value of an int/float literal (or a numeric string literal), else None."""
    if isinstance(node, cst.Integer):
        return float(int(node.value.replace("_", ""), 0))
    if isinstance(node, cst.Float):
        return float(node.value.replace("_", ""))
    text = string_value(node)
    if text is not None:
        try:
            return float(text)
        except ValueError:
            return None
    return None


def env_default_literal(node: cst.CSTNode, variable: str) -> float | None:
    """The numeric default in ``os.environ.get(variable, "N")`` inside ``node``."""
    for call in find_all(node, cst.Call):
        args = [a.value for a in call.args]
        if len(args) == 2 and string_value(args[0]) == variable:
            return number_literal(args[1])
    return None


def format_number(value: float) -> str:
    return str(int(value)) if value == int(value) else repr(value)


# --------------------------------------------------------------------------
# Statements and blocks
# --------------------------------------------------------------------------


def iter_statements(block: cst.CSTNode) -> Iterator[cst.BaseStatement]:
    """Every statement inside ``block`` (depth first), compound ones included."""
    body = getattr(block, "body", None)
    if isinstance(body, cst.BaseSuite):
        body = body.body
    if not isinstance(body, (list, tuple)):
        return
    for stmt in body:
        if not isinstance(stmt, cst.BaseStatement):
            continue
        yield stmt
        if isinstance(stmt, cst.BaseCompoundStatement):
            yield from iter_statements(stmt)
            for extra in _compound_branches(stmt):
                yield from iter_statements(extra)


def _compound_branches(stmt: cst.BaseCompoundStatement) -> list[cst.CSTNode]:
    """The else/except/finally parts of a compound statement."""
    parts: list[cst.CSTNode] = []
    if isinstance(stmt, (cst.Try, cst.TryStar)):
        parts.extend(stmt.handlers)
        parts.extend(p for p in (stmt.orelse, stmt.finalbody) if p is not None)
    elif isinstance(stmt, cst.If):
        orelse = stmt.orelse
        if orelse is not None:
            parts.append(orelse)
    elif isinstance(stmt, (cst.For, cst.While)) and stmt.orelse is not None:
        parts.append(stmt.orelse)
    return parts


def top_statement(func: cst.FunctionDef, target: cst.CSTNode) -> cst.BaseStatement | None:
    """The statement directly in ``func``'s body that holds ``target``."""
    for stmt in func.body.body:
        if contains(stmt, target):
            return stmt
    return None


def block_of(root: cst.CSTNode, stmt: cst.BaseStatement) -> cst.CSTNode | None:
    """The node (IndentedBlock or Module) whose body lists ``stmt`` directly."""
    body = getattr(root, "body", None)
    if isinstance(body, (list, tuple)) and any(s is stmt for s in body):
        return root
    for child in root.children:
        found = block_of(child, stmt)
        if found is not None:
            return found
    return None


def statement_of(func: cst.FunctionDef, target: cst.CSTNode) -> cst.SimpleStatementLine | None:
    """The simple statement line inside ``func`` that holds ``target``."""
    for stmt in iter_statements(func.body):
        if isinstance(stmt, cst.SimpleStatementLine) and contains(stmt, target):
            return stmt
    return None


def single_small(stmt: cst.BaseStatement) -> cst.BaseSmallStatement | None:
    if isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1:
        return stmt.body[0]
    return None


# --------------------------------------------------------------------------
# LiteLLM call helpers
# --------------------------------------------------------------------------


@dataclass
class LiteLLMCall:
    """One ``litellm.(a)completion(..., **d)`` call inside a helper."""

    function: cst.FunctionDef
    call: cst.Call
    splat: str
    model: cst.BaseExpression | None
    explicit_keys: frozenset[str]
    litellm_binding: cst.SimpleStatementLine | None  # e.g. ``litellm = _get_litellm()``

    @property
    def is_async(self) -> bool:
        return self.function.asynchronous is not None


@per_module
def function_nodes(module: cst.Module) -> list[tuple[cst.FunctionDef, list[cst.CSTNode]]]:
    """Each function with every node of its body (one walk per module, shared)."""
    return [(func, list(walk(func.body))) for func in all_functions(module)]


def _nodes_of(module: cst.Module, func: cst.FunctionDef) -> list[cst.CSTNode]:
    return next(nodes for f, nodes in function_nodes(module) if f is func)


def _functions_importing_litellm(module: cst.Module) -> set[str]:
    importing = set()
    for func, nodes in function_nodes(module):
        for node in nodes:
            if isinstance(node, cst.Import) and any(dotted_name(a.name) == "litellm" for a in node.names):
                importing.add(func.name.value)
    return importing


def _litellm_binding(
    func: cst.FunctionDef, base: str, lazy_loaders: set[str]
) -> cst.SimpleStatementLine | None:
    """The ``base = loader()`` line of a lazily imported litellm, if ``func`` has one."""
    for stmt in iter_statements(func.body):
        small = single_small(stmt)
        if (
            isinstance(small, cst.Assign)
            and len(small.targets) == 1
            and is_name(small.targets[0].target, base)
            and isinstance(small.value, cst.Call)
            and callee_name(small.value) in lazy_loaders
        ):
            return stmt  # type: ignore[return-value]
    return None


def _is_completion_call(call: cst.Call) -> bool:
    return isinstance(call.func, cst.Attribute) and isinstance(call.func.value, cst.Name) and call.func.attr.value in COMPLETION_ATTRS


def is_probe(call: cst.Call) -> bool:
    """A one-token completion is a connection check (like precheck's), not a helper."""
    return number_literal(keyword_arg(call, "max_tokens")) == 1


@per_module
def find_litellm_calls(module: cst.Module) -> list[LiteLLMCall]:
    """Every LiteLLM completion call that takes a ``**kwargs`` splat."""
    lazy_loaders = _functions_importing_litellm(module)
    calls: list[LiteLLMCall] = []
    for func, nodes in function_nodes(module):
        for call in (n for n in nodes if isinstance(n, cst.Call) and _is_completion_call(n)):
            assert isinstance(call.func, cst.Attribute)
            base = call.func.value.value  # type: ignore[attr-defined]
            binding = _litellm_binding(func, base, lazy_loaders)
            if base != "litellm" and binding is None:
                continue
            splats = [a.value for a in call.args if a.star == "**" and isinstance(a.value, cst.Name)]
            if not splats or is_probe(call):
                continue
            calls.append(
                LiteLLMCall(
                    function=func,
                    call=call,
                    splat=splats[0].value,  # type: ignore[attr-defined]
                    model=keyword_arg(call, "model"),
                    explicit_keys=frozenset(a.keyword.value for a in call.args if a.keyword is not None),
                    litellm_binding=binding,
                )
            )
    return calls


@per_module
def helper_functions(module: cst.Module) -> list[cst.FunctionDef]:
    """Helpers that call LiteLLM, and the functions that call those helpers, in source order.

    In the split shape ``run_litellm_async`` awaits ``run_litellm_async_raw``
    (the one calling LiteLLM) and reads the content: both are listed.
    """
    helpers = {id(c.function): c.function for c in find_litellm_calls(module)}
    names = {f.name.value for f in helpers.values()}
    for func, nodes in function_nodes(module):
        if any(isinstance(n, cst.Call) and isinstance(n.func, cst.Name) and n.func.value in names for n in nodes):
            helpers.setdefault(id(func), func)
    return [f for f in all_functions(module) if id(f) in helpers]


def content_helpers(module: cst.Module) -> list[cst.FunctionDef]:
    """The helpers that return the response text (they read ``response.choices[...]``)."""
    return [f for f in helper_functions(module) if any(is_choices_index(n) for n in _nodes_of(module, f))]


# --------------------------------------------------------------------------
# Default lines:  d["key"] = d.get("key", default)   /   d.setdefault("key", default)
# --------------------------------------------------------------------------


@dataclass
class DefaultLine:
    statement: cst.SimpleStatementLine
    dict_name: str
    key: str
    default: cst.BaseExpression


def default_line(stmt: cst.BaseStatement) -> DefaultLine | None:
    """Recognise a default-setting line, in either of its two spellings."""
    small = single_small(stmt)
    if isinstance(small, cst.Assign) and len(small.targets) == 1:
        target, value = small.targets[0].target, small.value
        if (
            isinstance(target, cst.Subscript)
            and isinstance(target.value, cst.Name)
            and len(target.slice) == 1
            and isinstance(target.slice[0].slice, cst.Index)
            and isinstance(value, cst.Call)
            and is_method_call(value, target.value.value, "get")
            and len(value.args) == 2
        ):
            key = string_value(target.slice[0].slice.value)
            if key is not None and string_value(value.args[0].value) == key:
                return DefaultLine(stmt, target.value.value, key, value.args[1].value)  # type: ignore[arg-type]
    if isinstance(small, cst.Expr) and isinstance(small.value, cst.Call):
        call = small.value
        if isinstance(call.func, cst.Attribute) and isinstance(call.func.value, cst.Name) and is_method_call(call, call.func.value.value, "setdefault") and len(call.args) == 2:
            key = string_value(call.args[0].value)
            if key is not None:
                return DefaultLine(stmt, call.func.value.value, key, call.args[1].value)  # type: ignore[attr-defined,arg-type]
    return None


def overriding_assignments(func: cst.FunctionDef, dict_name: str, key: str) -> list[cst.SimpleStatementLine]:
    """Lines that set ``dict_name[key]`` unconditionally (not a default)."""
    found = []
    for stmt in iter_statements(func.body):
        small = single_small(stmt)
        if default_line(stmt) is None and isinstance(small, cst.Assign):
            for t in small.targets:
                if (
                    isinstance(t.target, cst.Subscript)
                    and is_name(t.target.value, dict_name)
                    and isinstance(t.target.slice[0].slice, cst.Index)
                    and string_value(t.target.slice[0].slice.value) == key
                ):
                    found.append(stmt)
    return found  # type: ignore[return-value]


@dataclass
class DefaultsGroup:
    """The default lines of one dict in one function: where LiteLLM's options are set.

    ``anchor`` is where a missing key's line goes: after the last default line,
    or (with no default lines at all) before the statement holding the call.
    """

    function: cst.FunctionDef
    dict_name: str
    lines: list[DefaultLine]
    anchor: cst.BaseStatement
    insert_after: bool
    calls: list[LiteLLMCall] = field(default_factory=list)

    def line_for(self, key: str) -> DefaultLine | None:
        matches = [line for line in self.lines if line.key == key]
        return matches[-1] if matches else None

    @property
    def model(self) -> cst.BaseExpression | None:
        """The primary model's expression, when the call sits in this function."""
        for call in self.calls:
            if call.function is self.function and call.model is not None:
                return call.model
        return None

    def describe(self) -> str:
        return f"{self.function.name.value}()"


def _default_lines(func: cst.FunctionDef, dict_name: str | None) -> list[DefaultLine]:
    lines = [d for d in map(default_line, iter_statements(func.body)) if d is not None]
    if dict_name is not None:
        return [d for d in lines if d.dict_name == dict_name]
    by_dict: dict[str, list[DefaultLine]] = {}
    for line in lines:
        by_dict.setdefault(line.dict_name, []).append(line)
    return max(by_dict.values(), key=len) if by_dict else []


def _assigned_from_module_call(
    func: cst.FunctionDef, name: str, functions: dict[str, cst.FunctionDef]
) -> cst.FunctionDef | None:
    """The module function ``f`` in ``name = f(...)`` inside ``func``."""
    for stmt in iter_statements(func.body):
        small = single_small(stmt)
        if (
            isinstance(small, cst.Assign)
            and any(is_name(t.target, name) for t in small.targets)
            and isinstance(small.value, cst.Call)
            and isinstance(small.value.func, cst.Name)
            and small.value.func.value in functions
        ):
            return functions[small.value.func.value]
    return None


def _star_kwargs_name(func: cst.FunctionDef) -> str | None:
    star = func.params.star_kwarg
    return star.name.value if star is not None else None


def _callers_with_splat(
    helper: cst.FunctionDef, functions: dict[str, cst.FunctionDef]
) -> Iterator[tuple[cst.FunctionDef, cst.Call, str]]:
    for func in functions.values():
        if func is helper:
            continue
        for call in find_all(func.body, cst.Call, lambda c: is_name(c.func, helper.name.value)):
            for arg in call.args:
                if arg.star == "**" and isinstance(arg.value, cst.Name):
                    yield func, call, arg.value.value  # type: ignore[misc]


def _groups_for(
    func: cst.FunctionDef,
    dict_name: str,
    call_node: cst.Call,
    functions: dict[str, cst.FunctionDef],
    depth: int = 0,
) -> list[tuple[cst.FunctionDef, str, list[DefaultLine], cst.BaseStatement, bool]]:
    """Where the defaults of the dict that reaches ``call_node`` are set."""
    found = []
    own = _default_lines(func, dict_name)
    if own:
        found.append((func, dict_name, own, own[-1].statement, True))
    source = _assigned_from_module_call(func, dict_name, functions)
    if source is not None:
        lines = _default_lines(source, None)
        if lines:
            found.append((source, lines[0].dict_name, lines, lines[-1].statement, True))
    if not found and depth < 2 and dict_name == _star_kwargs_name(func):
        for caller, call, splat in _callers_with_splat(func, functions):
            found.extend(_groups_for(caller, splat, call, functions, depth + 1))
    if not found and depth == 0:
        anchor = top_statement(func, call_node)
        if anchor is not None:
            found.append((func, dict_name, [], anchor, False))
    return found


@per_module
def defaults_groups(module: cst.Module) -> list[DefaultsGroup]:
    """One group per (function, dict) that sets defaults for a LiteLLM call."""
    functions = module_functions(module)
    groups: dict[tuple[int, str], DefaultsGroup] = {}
    for llm_call in find_litellm_calls(module):
        for func, dict_name, lines, anchor, after in _groups_for(
            llm_call.function, llm_call.splat, llm_call.call, functions
        ):
            key = (id(func), dict_name)
            if key not in groups:
                groups[key] = DefaultsGroup(func, dict_name, lines, anchor, after)
            groups[key].calls.append(llm_call)
    return list(groups.values())


# --------------------------------------------------------------------------
# The rubric generator
# --------------------------------------------------------------------------


@dataclass
class GeneratorSite:
    """``resp = await helper(...)`` whose result is parsed and returned."""

    function: cst.FunctionDef
    await_line: cst.SimpleStatementLine
    result_name: str
    helper_call: cst.Call
    top: cst.BaseStatement  # the function-body statement holding the await

    @property
    def model(self) -> cst.BaseExpression | None:
        return keyword_arg(self.helper_call, "model_name", "model") or first_positional(self.helper_call)

    @property
    def enclosing_try(self) -> cst.Try | None:
        return self.top if isinstance(self.top, cst.Try) else None


def _is_json_parse_of(node: cst.CSTNode, name: str) -> bool:
    return (
        isinstance(node, cst.Call)
        and callee_name(node) == JSON_PARSER
        and any(is_name(a.value, name) for a in node.args)
    )


def _returns_parsed(func: cst.FunctionDef, result_name: str) -> bool:
    """True when ``func`` returns what the JSON parser made of ``result_name``."""
    parsed_names = set()
    for stmt in iter_statements(func.body):
        small = single_small(stmt)
        if isinstance(small, cst.Assign) and _is_json_parse_of(small.value, result_name):
            parsed_names.update(t.target.value for t in small.targets if isinstance(t.target, cst.Name))
    for ret in find_all(func.body, cst.Return):
        value = ret.value
        if value is None:
            continue
        if _is_json_parse_of(value, result_name):
            return True
        if isinstance(value, cst.Name) and value.value in parsed_names:
            return True
    return False


@per_module
def find_generators(module: cst.Module) -> list[GeneratorSite]:
    """Async functions that await a call, parse its text as JSON and return the result."""
    sites = []
    for func in all_functions(module):
        if func.asynchronous is None:
            continue
        for stmt in iter_statements(func.body):
            small = single_small(stmt)
            if not (
                isinstance(small, cst.Assign)
                and len(small.targets) == 1
                and isinstance(small.targets[0].target, cst.Name)
                and isinstance(small.value, cst.Await)
                and isinstance(small.value.expression, cst.Call)
            ):
                continue
            name = small.targets[0].target.value
            if _returns_parsed(func, name):
                top = top_statement(func, stmt)
                assert top is not None
                sites.append(GeneratorSite(func, stmt, name, small.value.expression, top))  # type: ignore[arg-type]
                break
    return sites
