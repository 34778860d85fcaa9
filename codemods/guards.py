"""guards: empty responses end in "" or None with a warning; swallowed errors are logged.

Why: ``choices: []`` makes ``response.choices[0]`` raise IndexError, ``content:
null`` returns None where callers expect a string, and the rubric generator parses
whatever comes back, so an empty answer turns into a silent ``None`` rubric (and,
when its awaited call raises, the handler's ``print(resp)`` raises UnboundLocalError).
A helper that swallows a failed call says nothing about why.

Each helper keeps its error contract: one that lets a failed call raise still raises
(after its retries and fallbacks); one that swallows it still returns ``""`` and now
logs the root cause through the module's own logger.

A helper's content read becomes ``litellm_utils.response_text(response)`` (``""`` with one warning for no
choices, no message or null content); a handler that swallows the failure without a word first calls
``litellm_utils.log_failure("run_litellm")`` (one that already prints or logs is left alone).

The rubric generator binds its result before its ``try`` (``resp = None``) and, right after
the awaited call, returns None with a warning naming the model when the answer is empty.

An existing guard (``if not response.choices ...: return ""``) is recognised; one that
lets a null content through gets ``or ""`` on its return.
"""

from __future__ import annotations

import libcst as cst

from llmfix.codemods import support
from llmfix.codemods._generator_guard import _is_empty_guard, _is_failure_warning, binding_before, guard_tests, plan_generator, reports_error
from llmfix.codemods.analysis.generator import find_generators
from llmfix.codemods.analysis.helpers import helper_functions, llm_call_of
from llmfix.codemods.analysis.nodes import (
    all_functions,
    is_attribute,
    is_broad_handler,
    is_choices_index,
    iter_statements,
    qualname,
    single_small,
    string_value,
    swallowing_try,
)
from llmfix.codemods.analysis.tree import find_all
from llmfix.codemods.building import call, expression, string
from llmfix.codemods.context import FileContext
from llmfix.codemods.edits import Edits
from llmfix.codemods.transform import Change, Example, Outcome, Sites, Transform


def _is_content_read(node: cst.CSTNode) -> bool:
    """``r.choices[...].message.content``."""
    return (
        isinstance(node, cst.Attribute)
        and node.attr.value == "content"
        and is_attribute(node.value, "message")
        and is_choices_index(node.value.value)  # type: ignore[attr-defined]
    )


def _response_name(read: cst.Attribute) -> str:
    """``r`` in ``r.choices[i].message.content``."""
    return read.value.value.value.value.value  # type: ignore[attr-defined]


def _mentions_attribute(node: cst.CSTNode, attr: str) -> bool:
    return bool(find_all(node, cst.Attribute, lambda a: a.attr.value == attr))


def _support_calls(node: cst.CSTNode, name: str) -> list[cst.Call]:
    return find_all(node, cst.Call, lambda c: support.is_call(c, name))


class GuardsTransform(Transform):
    NAME = "guards"
    SUMMARY = 'empty responses: helpers return "" with a warning, the generator None; swallowed errors logged'
    ORDER = 40
    EXAMPLES = (
        Example.change(
            "a helper that swallows errors silently: the content read is guarded, the failure logged",
            """
             import litellm
            +
            +from open_instruct.rubrics import litellm_utils


             def run_litellm(model_name, user_prompt=None, **chat_kwargs):
                 try:
                     response = litellm.completion(model=model_name, messages=[], **chat_kwargs)
                 except:
            +        litellm_utils.log_failure("run_litellm")
                     return ""
            -    return response.choices[0].message.content
            +    return litellm_utils.response_text(response)
            """,
        ),
        Example.change(
            "a helper that already prints its error gets no second line; a raising helper keeps raising",
            """
             import litellm
            +
            +from open_instruct.rubrics import litellm_utils


             async def run_litellm_async(model_name, user_prompt=None, **chat_kwargs):
                 try:
                     response = await litellm.acompletion(model=model_name, messages=[], **chat_kwargs)
                 except Exception as e:
                     print(f"Error in run_litellm_async: {e}")
                     return ""
            -    return response.choices[0].message.content
            +    return litellm_utils.response_text(response)


             def run_chatopenai(model_name, system_prompt, user_prompt, json_mode=False, **chat_kwargs):
                 resp = litellm.completion(model=model_name, messages=[], **chat_kwargs)
            -    return resp.choices[0].message.content
            +    return litellm_utils.response_text(resp)
            """,
        ),
        Example(
            "a helper that already guards empty responses is left alone",
            """
            import litellm


            def run_litellm(model_name, **chat_kwargs):
                response = litellm.completion(model=model_name, **chat_kwargs)
                if not response.choices or response.choices[0].message.content is None:
                    return ""
                return response.choices[0].message.content
            """,
        ),
    )

    def plan(self, file: FileContext, edits: Edits) -> Outcome:
        sites = Sites()
        clash = file.support_clash()
        for func in helper_functions(file.module):
            self._plan_helper(file, func, edits, sites)
        for site in find_generators(file.module):
            plan_generator(file, site, edits, sites)
        if clash and edits.support:
            return Outcome("anchor-missing", f"{clash}; apply the rest with `--skip {self.NAME}`")
        return sites.outcome("no LiteLLM helper reads choices and no rubric generator parses a response")

    # -- helpers ----------------------------------------------------------

    def _plan_helper(self, file: FileContext, func: cst.FunctionDef, edits: Edits, sites: Sites) -> None:
        where = f"{func.name.value}()"
        reads = find_all(func.body, cst.Attribute, _is_content_read)
        if not reads and not _support_calls(func, "response_text"):
            return
        clash = file.support_clash(func)
        if clash:
            sites.missing.append(f"{clash}; apply the rest with `--skip {self.NAME}`")
            return
        done: list[str] = []
        self._log_failures(file, func, edits, done, sites)
        guards = [g for g in guard_tests(func, _response_name(reads[0])) if _mentions_attribute(g.test, "choices")] if reads else []
        if guards:
            self._complete_existing_guard(file, func, reads, guards, edits, done, sites)
        elif not reads:
            sites.present.append(f"{where} guards empty responses")
        else:
            for read in reads:
                edits.replace_node(read, call(f"{support.NAME}.response_text", cst.Name(_response_name(read))))
            edits.need_support()
            done.append("empty responses return \"\" with a warning")
            sites.changes.append(
                Change(f'{where}: an empty response (no choices, no message, null content) returns "" with a warning instead of raising or returning None')
            )
        if done:
            sites.applied.append(f"{where}: {'; '.join(done)}")

    def _log_failures(self, file: FileContext, func: cst.FunctionDef, edits: Edits, done: list[str], sites: Sites) -> None:
        """A swallowing helper's broad handlers that say nothing log the root cause first (its contract is kept)."""
        llm_call = llm_call_of(file.module, func)
        handling = swallowing_try(func, llm_call) if llm_call is not None else None
        if handling is None:
            return
        handlers = [h for h in handling.handlers if is_broad_handler(h) and not find_all(h.body, cst.Raise)]
        pending = [h for h in handlers if not _support_calls(h.body, "log_failure") and not reports_error(h)]
        if not pending:
            if handlers:
                sites.present.append(f"{func.name.value}() reports swallowed errors")
            return
        for handler in pending:
            line = cst.SimpleStatementLine([cst.Expr(call(f"{support.NAME}.log_failure", string(func.name.value, file.style.quote)))])
            edits.insert_before(handler.body.body[0], [line])
        edits.need_support()
        done.append("swallowed errors logged with their root cause")
        sites.changes.append(Change(f"{func.name.value}(): a failed call still returns its fallback value, and now logs the root cause as a warning"))

    def _complete_existing_guard(
        self, file: FileContext, func: cst.FunctionDef, reads: list[cst.Attribute], guards: list[cst.If], edits: Edits, done: list[str], sites: Sites
    ) -> None:
        """An existing guard that lets ``content: null`` through gets ``or ""`` on the return."""
        where = f"{func.name.value}()"
        if any(_mentions_attribute(g.test, "content") for g in guards):
            sites.present.append(f"{where} guards empty responses")
            return
        returned = [r for r in reads if find_all(func.body, cst.Return, lambda ret, read=r: ret.value is read)]
        if not returned:
            sites.present.append(f"{where} guards empty choices")
            return
        for read in returned:
            edits.replace_node(read, cst.BooleanOperation(left=read, operator=cst.Or(), right=string("", file.style.quote)))
        edits.note(f"{qualname(file.module, func)}:or-empty", True)
        done.append('existing guard kept; a null content now returns ""')
        sites.changes.append(Change(f'{where}: a null content returns "" instead of None'))

    # -- revert ----------------------------------------------------------------

    def undo(self, file: FileContext, edits: Edits, noted: dict[str, object]) -> list[str]:
        module, problems, restored_handlers = file.module, [], set()
        for func in all_functions(module):
            key = qualname(module, func)
            handler_note = noted.get(f"{key}:handler")
            for handler in find_all(func, cst.ExceptHandler, lambda h: h.name is not None and any(map(_is_failure_warning, h.body.body))):
                if handler_note in ("bare", "unnamed"):
                    body = handler.body.with_changes(body=[s for s in handler.body.body if not _is_failure_warning(s)])
                    kind = None if handler_note == "bare" else handler.type
                    space = cst.SimpleWhitespace("" if kind is None else " ")
                    edits.replace_node(handler, handler.with_changes(type=kind, name=None, whitespace_after_except=space, body=body))
                    restored_handlers.update(id(s) for s in handler.body.body)
            if noted.get(f"{key}:or-empty") is True:
                or_empty = lambda b: isinstance(b.operator, cst.Or) and string_value(b.right) == "" and _is_content_read(b.left)  # noqa: E731
                for node in find_all(func, cst.BooleanOperation, or_empty):
                    edits.replace_node(node, node.left)
        for site in find_generators(module):
            key = qualname(module, site.function)
            binding = binding_before(site, to_none=True) if isinstance(site.top, cst.Try) else None
            if binding is not None and noted.get(f"{key}:bound") is True:
                edits.remove(binding)
            elif binding is not None and f"{key}:bound" not in noted and not file.recorded:
                problems.append(f"{key}(): llmfix's record does not say whether `{site.result_name} = None` before the try was upstream's")
        for read in find_all(module, cst.Call, lambda c: support.is_call(c, "response_text") and len(c.args) == 1):
            edits.replace_node(read, expression("__response__.choices[0].message.content", file, response=read.args[0].value.deep_clone()))
        for stmt in iter_statements(module):
            logs = isinstance(small := single_small(stmt), cst.Expr) and support.is_call(small.value, "log_failure")
            if id(stmt) not in restored_handlers and (logs or _is_failure_warning(stmt) or (isinstance(stmt, cst.If) and _is_empty_guard(stmt))):
                edits.remove(stmt)
        return problems
