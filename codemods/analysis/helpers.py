"""LiteLLM call helpers: functions that call ``litellm.(a)completion`` with a ``**kwargs`` splat, found through any
binding of litellm (aliases, ``from`` imports, lazy loaders), and the functions that call such a helper."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import libcst as cst

from llmfix.codemods import support
from llmfix.codemods.analysis.nodes import (
    all_functions,
    callee_name,
    dotted_name,
    is_choices_index,
    is_name,
    iter_statements,
    keyword_arg,
    number_literal,
    single_small,
    swallowing_try,
)
from llmfix.codemods.analysis.scopes import module_bindings
from llmfix.codemods.analysis.tree import module_walk, per_module, walk

COMPLETION_ATTRS = ("completion", "acompletion")


@dataclass
class LiteLLMCall:
    """One call of ``litellm.(a)completion``, however litellm is bound; ``splat`` is the
    ``**d`` it passes (a helper's call), None for a call with explicit arguments only."""

    function: cst.FunctionDef
    call: cst.Call
    splat: str | None
    model: cst.BaseExpression | None
    explicit_keys: frozenset[str]

    @property
    def is_async(self) -> bool:  # read by verify
        return self.function.asynchronous is not None


@per_module
def function_nodes(module: cst.Module) -> list[tuple[cst.FunctionDef, Sequence[cst.CSTNode]]]:
    """Each function with every node of its body (slices of the module's one walk)."""
    module_walk(module)
    return [(func, walk(func.body)) for func in all_functions(module)]


def _functions_importing_litellm(module: cst.Module) -> set[str]:
    imports = lambda node: type(node) is cst.Import and any(dotted_name(a.name) == "litellm" for a in node.names)  # noqa: E731
    return {func.name.value for func, nodes in function_nodes(module) if any(map(imports, nodes))}


def _litellm_binding(func: cst.FunctionDef, base: str, lazy_loaders: set[str]) -> cst.SimpleStatementLine | None:
    """The ``base = loader()`` line of a lazily imported litellm, if ``func`` has one."""
    for stmt in iter_statements(func.body):
        small = single_small(stmt)
        if isinstance(small, cst.Assign) and len(small.targets) == 1 and is_name(small.targets[0].target, base) and isinstance(small.value, cst.Call):
            if callee_name(small.value) in lazy_loaders:
                return stmt  # type: ignore[return-value]
    return None


def litellm_names(module: cst.Module) -> tuple[set[str], set[str]]:
    """(names bound to the litellm module, names bound to ``litellm.completion``/``acompletion``)."""
    bound = module_bindings(module)
    modules = {"litellm"} | {name for name, how in bound.items() if how == "import litellm"}
    functions = {name for name, how in bound.items() if how in {f"from litellm import {a}" for a in COMPLETION_ATTRS}}
    return modules, functions


def _local_completion_names(nodes: Sequence[cst.CSTNode]) -> set[str]:
    """Names a function binds to ``litellm.(a)completion`` with an import inside it (a lazy import)."""
    names = set()
    for node in nodes:
        if type(node) is cst.ImportFrom and dotted_name(node.module) == "litellm" and not isinstance(node.names, cst.ImportStar):
            for alias in node.names:
                if dotted_name(alias.name) in COMPLETION_ATTRS:
                    bound = alias.asname.name if alias.asname is not None else alias.name
                    if isinstance(bound, cst.Name):
                        names.add(bound.value)
    return names


def _completion_base(call: cst.Call, direct: set[str]) -> str | None:
    """The name a completion call goes through: ``ll`` in ``ll.completion(...)``, ``ac`` in ``ac(...)``."""
    func = call.func
    if isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name) and func.attr.value in COMPLETION_ATTRS:
        return func.value.value
    if isinstance(func, cst.Name) and func.value in direct:
        return func.value
    return None


def is_probe(call: cst.Call) -> bool:
    """A one-token completion is a connection check (like precheck's), not a helper."""
    return number_literal(keyword_arg(call, "max_tokens")) == 1


@per_module
def completion_calls(module: cst.Module) -> list[LiteLLMCall]:
    """Every call of LiteLLM's completion functions, resolved through the module's and the function's imports."""
    lazy_loaders = _functions_importing_litellm(module)
    modules, direct = litellm_names(module)
    calls: list[LiteLLMCall] = []
    for func, nodes in function_nodes(module):
        local = _local_completion_names(nodes)
        for call in (n for n in nodes if type(n) is cst.Call):
            base = _completion_base(call, direct | local)
            if base is None:
                continue
            binding = _litellm_binding(func, base, lazy_loaders) if isinstance(call.func, cst.Attribute) else None
            if base not in modules and base not in direct and base not in local and binding is None:
                continue
            splat = next((a.value.value for a in call.args if a.star == "**" and isinstance(a.value, cst.Name)), None)  # type: ignore[attr-defined]
            explicit = frozenset(a.keyword.value for a in call.args if a.keyword is not None)
            calls.append(LiteLLMCall(function=func, call=call, splat=splat, model=keyword_arg(call, "model"), explicit_keys=explicit))
    return calls


@per_module
def find_litellm_calls(module: cst.Module) -> list[LiteLLMCall]:
    """Every LiteLLM completion call that takes a ``**kwargs`` splat (the helpers' calls)."""
    return [c for c in completion_calls(module) if c.splat is not None and not is_probe(c.call)]


@per_module
def direct_calls(module: cst.Module) -> list[LiteLLMCall]:
    """Every LiteLLM completion call with explicit arguments only (a judge's call), outside the helpers."""
    helpers = {id(f) for f in helper_functions(module)}
    return [c for c in completion_calls(module) if c.splat is None and id(c.function) not in helpers and not is_probe(c.call)]


@per_module
def helper_functions(module: cst.Module) -> list[cst.FunctionDef]:
    """Helpers that call LiteLLM, and the functions that call those helpers, in source order (the split shape's
    ``run_litellm_async``, which awaits ``run_litellm_async_raw`` and reads the content)."""
    helpers = {id(c.function): c.function for c in find_litellm_calls(module)}
    names = {f.name.value for f in helpers.values()}
    for func, nodes in function_nodes(module):
        if any(type(n) is cst.Call and isinstance(n.func, cst.Name) and n.func.value in names for n in nodes):
            helpers.setdefault(id(func), func)
    return [f for f in all_functions(module) if id(f) in helpers]


def content_helpers(module: cst.Module) -> list[cst.FunctionDef]:
    """The helpers that return the response text (they read ``response.choices[...]``, or, patched,
    through the support module's ``response_text``)."""
    return [f for f in helper_functions(module) if any(is_choices_index(n) or support.is_call(n, "response_text") for n in walk(f.body))]


RAISES = "raises"
SWALLOWS = "swallows"


def llm_call_of(module: cst.Module, func: cst.FunctionDef) -> cst.Call | None:
    """The LiteLLM call in a helper, or (in a wrapper such as the split shape's) its call to a helper."""
    calls = find_litellm_calls(module)
    names = {c.function.name.value for c in calls}
    wrapped = (n for n in walk(func.body) if type(n) is cst.Call and isinstance(n.func, cst.Name) and n.func.value in names)
    return next((c.call for c in calls if c.function is func), None) or next(wrapped, None)


def error_contract(module: cst.Module, func: cst.FunctionDef) -> str:
    """``swallows`` when a failed LiteLLM call ends in one of ``func``'s own handlers, else ``raises``."""
    call = llm_call_of(module, func)
    return SWALLOWS if call is not None and swallowing_try(func, call) is not None else RAISES
