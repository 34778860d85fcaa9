"""guards: empty responses end in "" or None with a warning, never in a crash.

Why: ``choices: []`` makes ``response.choices[0]`` raise IndexError outside the
helper's try, ``content: null`` returns None where callers expect a string, and
the rubric generator parses whatever comes back, so an empty answer turns into
a silent ``None`` rubric (and, when the awaited call raises, the handler's
``print(resp)`` raises UnboundLocalError).

Helper, before::

    return response.choices[0].message.content

after::

    if not response.choices or response.choices[0].message is None or response.choices[0].message.content is None:
        logging.getLogger(__name__).warning("run_litellm_async: LiteLLM returned no message content; returning an empty string")
        return ""
    return response.choices[0].message.content

Generator, before::

    try:
        resp = await run_litellm_async(model_name=model_name, user_prompt=prompt)
        obj = extract_json_from_response(resp)

after::

    resp = None
    try:
        resp = await run_litellm_async(model_name=model_name, user_prompt=prompt)
        if not resp:
            logging.getLogger(__name__).warning("Rubric generation got an empty response from model %s; returning None", model_name)
            return None
        obj = extract_json_from_response(resp)

An existing guard (``if not response.choices ...: return ""``) is recognised;
one that lets a null content through gets ``or ""`` on its return. A helper
whose LiteLLM call sits outside any try (older versions) gets the contract of
later ones: the call is wrapped in ``try``/``except Exception`` that logs a
warning and returns ``""``; an existing try is left as it is.
"""

from __future__ import annotations

import libcst as cst
from llmfix.codemods._base import (
    Edits,
    Outcome,
    PlannedTransform,
    Sites,
    parse_statement,
    parse_statements,
)
from llmfix.codemods.analysis.generator import GeneratorSite, find_generators
from llmfix.codemods.analysis.helpers import find_litellm_calls, helper_functions
from llmfix.codemods.analysis.nodes import (
    block_of,
    is_attribute,
    is_choices_index,
    is_name,
    iter_statements,
    single_small,
    statement_of,
    top_statement,
)
from llmfix.codemods.analysis.tree import contains, find_all

HELPER_GUARD = """\
if not {r}.choices or {r}.choices[0].message is None or {r}.choices[0].message.content is None:
    logging.getLogger(__name__).warning("{where}: LiteLLM returned no message content; returning an empty string")
    return ""
"""

CALL_GUARD = """\
try:
    pass
except Exception as error:
    logging.getLogger(__name__).warning("{where}: LiteLLM call failed (%s); returning an empty string", error)
    return ""
"""

GENERATOR_GUARD = """\
if not {resp}:
    logging.getLogger(__name__).warning(
        "Rubric generation got an empty response from model %s; returning None", {model}
    )
    return None
"""



def _choices_access(stmt: cst.BaseStatement) -> str | None:
    """The response name ``r`` when ``stmt`` indexes ``r.choices[...]``."""
    if not isinstance(stmt, cst.SimpleStatementLine):
        return None
    found = find_all(stmt, cst.Subscript, is_choices_index)
    return found[0].value.value.value if found else None  # type: ignore[attr-defined]


def _guard_tests(func: cst.FunctionDef, name: str) -> list[cst.If]:
    """``if`` statements that test ``name`` (or ``name.choices``) and return."""
    guards = []
    for stmt in iter_statements(func.body):
        if (
            isinstance(stmt, cst.If)
            and find_all(stmt.test, cst.Name, lambda n: n.value == name)
            and find_all(stmt.body, cst.Return)
        ):
            guards.append(stmt)
    return guards


def _llm_call_in(tree: cst.Module, func: cst.FunctionDef) -> cst.Call | None:
    """The LiteLLM call in a helper, or the call to a helper in a wrapper."""
    calls = find_litellm_calls(tree)
    own = [c.call for c in calls if c.function is func]
    if own:
        return own[0]
    names = {c.function.name.value for c in calls}
    wrapped = find_all(func.body, cst.Call, lambda c: isinstance(c.func, cst.Name) and c.func.value in names)
    return wrapped[0] if wrapped else None


def _mentions_attribute(node: cst.CSTNode, attr: str) -> bool:
    return bool(find_all(node, cst.Attribute, lambda a: a.attr.value == attr))


def _precedes(block: cst.CSTNode, first: cst.CSTNode, second: cst.CSTNode) -> bool:
    body = list(getattr(block, "body", []))
    ids = [id(s) for s in body]
    return id(first) in ids and id(second) in ids and ids.index(id(first)) < ids.index(id(second))


class GuardsTransform(PlannedTransform):
    NAME = "guards"
    SUMMARY = 'empty responses: helpers return "" with a warning, the generator returns None before parsing'
    DESCRIPTION = __doc__.split("\n\n")[0]

    def plan(self, tree: cst.Module, edits: Edits) -> Outcome:
        sites = Sites()
        for func in helper_functions(tree):
            self._plan_helper(tree, func, edits, sites)
        for site in find_generators(tree):
            self._plan_generator(tree, site, edits, sites)
        return sites.outcome("no LiteLLM helper reads choices and no rubric generator parses a response")

    # -- helpers ----------------------------------------------------------

    def _plan_helper(self, tree: cst.Module, func: cst.FunctionDef, edits: Edits, sites: Sites) -> None:
        where = f"{func.name.value}()"
        access = next(
            ((s, r) for s in iter_statements(func.body) if (r := _choices_access(s)) is not None), None
        )
        if access is None:
            return
        stmt, response = access
        self._plan_failed_call(tree, func, stmt, edits, sites)
        guards = [g for g in _guard_tests(func, response) if _mentions_attribute(g.test, "choices")]
        if guards:
            self._complete_existing_guard(tree, where, stmt, guards, edits, sites)
            return
        block = block_of(func, stmt)
        if block is None:
            sites.missing.append(f"{where}: `{response}.choices[...]` is not on a line of its own")
            return
        edits.insert_before(stmt, [parse_statement(HELPER_GUARD.format(r=response, where=func.name.value), tree)])
        edits.need_import("logging")
        sites.applied.append(f"{where}: empty-response guard added")

    def _plan_failed_call(
        self, tree: cst.Module, func: cst.FunctionDef, access: cst.BaseStatement, edits: Edits, sites: Sites
    ) -> None:
        """A call outside any try (older versions) gets the later versions' contract: warn, return ""."""
        call = _llm_call_in(tree, func)
        if call is None or any(contains(t.body, call) for t in find_all(func.body, cst.Try)):
            return
        target = top_statement(func, call)
        if target is None or contains(target, access):
            target = statement_of(func, call)
        if target is None or contains(target, access):
            sites.missing.append(f"{func.name.value}(): the LiteLLM call and the content read share one statement")
            return
        wrapper = parse_statement(CALL_GUARD.format(where=func.name.value), tree)
        assert isinstance(wrapper, cst.Try) and isinstance(wrapper.body, cst.IndentedBlock)
        wrapper = wrapper.with_changes(
            body=wrapper.body.with_changes(body=[target.with_changes(leading_lines=())]),
            leading_lines=target.leading_lines,
        )
        edits.replace_node(target, wrapper)
        edits.need_import("logging")
        sites.applied.append(f'{func.name.value}(): a failed call now returns "" with a warning')

    @staticmethod
    def _complete_existing_guard(
        tree: cst.Module, where: str, stmt: cst.BaseStatement, guards: list[cst.If], edits: Edits, sites: Sites
    ) -> None:
        """An existing guard that lets ``content: null`` through gets ``or ""``."""
        if any(_mentions_attribute(g.test, "content") for g in guards):
            sites.present.append(f"{where} guards empty responses")
            return
        small = single_small(stmt)
        if (
            isinstance(small, cst.Return)
            and small.value is not None
            and is_attribute(small.value, "content")
        ):
            value = cst.BooleanOperation(
                left=small.value, operator=cst.Or(), right=cst.SimpleString('""')
            )
            edits.replace_node(small.value, value)
            sites.applied.append(f'{where}: existing guard kept; a null content now returns ""')
            return
        sites.present.append(f"{where} guards empty choices")

    # -- the rubric generator ----------------------------------------------

    def _plan_generator(self, tree: cst.Module, site: GeneratorSite, edits: Edits, sites: Sites) -> None:
        where = f"{site.function.name.value}()"
        name = site.result_name
        done = []
        guarded = any(
            _precedes(block_of(site.function, g) or site.function.body, site.await_line, g)
            for g in _guard_tests(site.function, name)
        )
        if not guarded:
            model = site.model
            model_code = tree.code_for_node(model) if model is not None else repr("unknown")
            edits.insert_after(site.await_line, parse_statements(GENERATOR_GUARD.format(resp=name, model=model_code), tree))
            edits.need_import("logging")
            done.append("empty-response guard added")
        if site.enclosing_try is not None and not self._bound_before(site):
            edits.insert_before(site.top, [parse_statement(f"{name} = None\n", tree)])
            done.append(f"`{name}` bound before the try")
        if done:
            sites.applied.append(f"{where}: {', '.join(done)}")
        else:
            sites.present.append(f"{where} guards an empty response")

    @staticmethod
    def _bound_before(site: GeneratorSite) -> bool:
        for stmt in site.function.body.body:
            if stmt is site.top:
                return False
            small = single_small(stmt)
            if isinstance(small, cst.Assign) and any(is_name(t.target, site.result_name) for t in small.targets):
                return True
            if isinstance(small, cst.AnnAssign) and is_name(small.target, site.result_name):
                return True
        return False


def __getattr__(name: str):
    """Build the libcst command class on first access (it imports libcst.codemod)."""
    if name == "GuardsCommand":
        from llmfix.codemods._command import command_for

        return command_for(GuardsTransform)
    raise AttributeError(name)
