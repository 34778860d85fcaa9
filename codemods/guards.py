"""guards: empty responses end in "" or None with a warning; swallowed errors are logged.

Why: ``choices: []`` makes ``response.choices[0]`` raise IndexError, ``content:
null`` returns None where callers expect a string, and the rubric generator parses
whatever comes back, so an empty answer turns into a silent ``None`` rubric (and,
when its awaited call raises, the handler's ``print(resp)`` raises UnboundLocalError).
A helper that swallows a failed call says nothing about why.

Each helper keeps its error contract: one that lets a failed call raise still raises
(after its retries and fallbacks); one that swallows it still returns ``""`` and now
logs the root cause through the module's own logger.

Helper, before::

    return response.choices[0].message.content

after (``_litellm_response_text`` returns ``""`` with one warning for no choices, no
message or null content)::

    return _litellm_response_text(response, "run_litellm_async")

A swallowing handler, before / after::

    except Exception as e:
        print(f"Error in run_litellm_async: {e}")

    except Exception as e:
        _log_litellm_failure("run_litellm_async")
        print(f"Error in run_litellm_async: {e}")

The rubric generator, before::

    try:
        resp = await run_litellm_async(model_name=model_name, user_prompt=prompt)
        obj = extract_json_from_response(resp)

after::

    resp = None
    try:
        resp = await run_litellm_async(model_name=model_name, user_prompt=prompt)
        if not resp:
            logger.warning("Empty rubric response from model %s", model_name)
            return None
        obj = extract_json_from_response(resp)

An existing guard (``if not response.choices ...: return ""``) is recognised; one that
lets a null content through gets ``or ""`` on its return.
"""

from __future__ import annotations

import libcst as cst

from llmfix.codemods.analysis.generator import GeneratorSite, find_generators
from llmfix.codemods.analysis.helpers import RESPONSE_TEXT, SWALLOWS, error_contract, helper_functions, llm_call_of
from llmfix.codemods.analysis.nodes import block_of, callee_name, string_value, is_attribute, is_broad_handler, is_choices_index, is_name, iter_statements, single_small, swallowing_try
from llmfix.codemods.analysis.tree import find_all, indent_of
from llmfix.codemods.building import expression, statement, statements, string
from llmfix.codemods.context import FileContext
from llmfix.codemods.edits import Edits
from llmfix.codemods.style.wrap import fit
from llmfix.codemods.transform import ALREADY_PRESENT, APPLIED, Change, Example, Outcome, Sites, Transform

LOG_FAILURE = "_log_litellm_failure"
EMPTY_WARNING = "Empty rubric response from model %s"
FAILURE_WARNING = "Rubric generation with model %s failed: %s"
WARNINGS = (EMPTY_WARNING, FAILURE_WARNING)


def _content_reads(func: cst.FunctionDef) -> list[cst.Attribute]:
    """``r.choices[...].message.content`` expressions in ``func``."""
    return find_all(
        func.body,
        cst.Attribute,
        lambda a: a.attr.value == "content"
        and is_attribute(a.value, "message")
        and is_choices_index(a.value.value),  # type: ignore[attr-defined]
    )


def _response_name(read: cst.Attribute) -> str:
    """``r`` in ``r.choices[i].message.content``."""
    return read.value.value.value.value.value  # type: ignore[attr-defined]


def _guard_tests(func: cst.FunctionDef, name: str) -> list[cst.If]:
    """``if`` statements that test ``name`` (or ``name.choices``) and return."""
    return [
        stmt
        for stmt in iter_statements(func.body)
        if isinstance(stmt, cst.If)
        and find_all(stmt.test, cst.Name, lambda n: n.value == name)
        and find_all(stmt.body, cst.Return)
    ]


def _mentions_attribute(node: cst.CSTNode, attr: str) -> bool:
    return bool(find_all(node, cst.Attribute, lambda a: a.attr.value == attr))


def _precedes(block: cst.CSTNode, first: cst.CSTNode, second: cst.CSTNode) -> bool:
    ids = [id(s) for s in getattr(block, "body", [])]
    return id(first) in ids and id(second) in ids and ids.index(id(first)) < ids.index(id(second))


def _calls(node: cst.CSTNode, name: str) -> list[cst.Call]:
    return find_all(node, cst.Call, lambda c: callee_name(c) == name)


class GuardsTransform(Transform):
    NAME = "guards"
    SUMMARY = 'empty responses: helpers return "" with a warning, the generator None; swallowed errors logged'
    ORDER = 40
    RUNTIME = ("responses",)
    EXAMPLES = (
        Example(
            "a swallowing helper: the content read is guarded, the swallowed error logged",
            """
            import litellm


            async def run_litellm_async(model_name, user_prompt=None, **chat_kwargs):
                try:
                    response = await litellm.acompletion(model=model_name, messages=[], **chat_kwargs)
                except Exception as e:
                    print(f"Error in run_litellm_async: {e}")
                    return ""
                return response.choices[0].message.content
            """,
            """
            import contextvars
            import logging
            import re
            import sys

            import litellm

            logger = logging.getLogger(__name__)


            __RUNTIME__


            async def run_litellm_async(model_name, user_prompt=None, **chat_kwargs):
                try:
                    response = await litellm.acompletion(model=model_name, messages=[], **chat_kwargs)
                except Exception as e:
                    _log_litellm_failure("run_litellm_async")
                    print(f"Error in run_litellm_async: {e}")
                    return ""
                return _litellm_response_text(response, "run_litellm_async")
            """,
            APPLIED,
        ),
        Example(
            "a raising helper keeps raising; only the empty response is guarded",
            """
            import litellm


            def run_chatopenai(model_name, system_prompt, user_prompt, json_mode=False, **chat_kwargs):
                resp = litellm.completion(model=model_name, messages=[], **chat_kwargs)
                return resp.choices[0].message.content
            """,
            """
            import contextvars
            import logging
            import re
            import sys

            import litellm

            logger = logging.getLogger(__name__)


            __RUNTIME__


            def run_chatopenai(model_name, system_prompt, user_prompt, json_mode=False, **chat_kwargs):
                resp = litellm.completion(model=model_name, messages=[], **chat_kwargs)
                return _litellm_response_text(resp, "run_chatopenai")
            """,
            APPLIED,
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
            None,
            ALREADY_PRESENT,
        ),
    )

    def plan(self, file: FileContext, edits: Edits) -> Outcome:
        sites = Sites()
        for func in helper_functions(file.module):
            self._plan_helper(file, func, edits, sites)
        for site in find_generators(file.module):
            self._plan_generator(file, site, edits, sites)
        return sites.outcome("no LiteLLM helper reads choices and no rubric generator parses a response")

    # -- helpers ----------------------------------------------------------

    def _plan_helper(self, file: FileContext, func: cst.FunctionDef, edits: Edits, sites: Sites) -> None:
        where = f"{func.name.value}()"
        reads = _content_reads(func)
        if not reads and not _calls(func, RESPONSE_TEXT):
            return
        done: list[str] = []
        self._log_failures(file, func, edits, done, sites)
        guards = [g for g in _guard_tests(func, _response_name(reads[0])) if _mentions_attribute(g.test, "choices")] if reads else []
        if guards:
            self._complete_existing_guard(file, func, reads, guards, edits, done, sites)
        elif not reads:
            sites.present.append(f"{where} guards empty responses")
        else:
            for read in reads:
                text = expression(
                    f"{RESPONSE_TEXT}(__response__, __helper__)",
                    file,
                    response=cst.Name(_response_name(read)),
                    helper=string(func.name.value, file.style.quote),
                )
                edits.replace_node(read, text)
            edits.need_runtime(*self.RUNTIME)
            done.append("empty responses return \"\" with a warning")
            sites.changes.append(Change(f'{where}: an empty response (no choices, no message, null content) returns "" with a warning instead of raising or returning None'))
        if done:
            sites.applied.append(f"{where}: {'; '.join(done)}")

    def _log_failures(self, file: FileContext, func: cst.FunctionDef, edits: Edits, done: list[str], sites: Sites) -> None:
        """A swallowing helper's broad handlers log the root cause first (its contract is kept)."""
        if error_contract(file.module, func) != SWALLOWS:
            return
        call = llm_call_of(file.module, func)
        handling = swallowing_try(func, call) if call is not None else None
        if handling is None:
            return
        handlers = [h for h in handling.handlers if is_broad_handler(h) and not find_all(h.body, cst.Raise)]
        pending = [h for h in handlers if not _calls(h.body, LOG_FAILURE)]
        if not pending:
            if handlers:
                sites.present.append(f"{func.name.value}() logs swallowed errors")
            return
        for handler in pending:
            first = handler.body.body[0]
            line = statement(f"{LOG_FAILURE}(__helper__)\n", file, helper=string(func.name.value, file.style.quote))
            edits.insert_before(first, [line])
        edits.need_runtime(*self.RUNTIME)
        done.append("swallowed errors logged with their root cause")
        sites.changes.append(Change(f"{func.name.value}(): a failed call still returns its fallback value, and now logs the root cause as a warning"))

    @staticmethod
    def _complete_existing_guard(
        file: FileContext, func: cst.FunctionDef, reads: list[cst.Attribute], guards: list[cst.If], edits: Edits, done: list[str], sites: Sites
    ) -> None:
        """An existing guard that lets ``content: null`` through gets ``or ""`` on the return."""
        where = f"{func.name.value}()"
        if any(_mentions_attribute(g.test, "content") for g in guards):
            sites.present.append(f"{where} guards empty responses")
            return
        returned = [r for r in reads if find_all(func.body, cst.Return, lambda ret: ret.value is r)]
        if not returned:
            sites.present.append(f"{where} guards empty choices")
            return
        for read in returned:
            edits.replace_node(read, cst.BooleanOperation(left=read, operator=cst.Or(), right=string("", file.style.quote)))
        done.append('existing guard kept; a null content now returns ""')
        sites.changes.append(Change(f'{where}: a null content returns "" instead of None'))

    # -- the rubric generator ----------------------------------------------

    def _plan_generator(self, file: FileContext, site: GeneratorSite, edits: Edits, sites: Sites) -> None:
        where = f"{site.function.name.value}()"
        name = site.result_name
        done = []
        guarded = any(
            _precedes(block_of(site.function, g) or site.function.body, site.await_line, g)
            for g in _guard_tests(site.function, name)
        )
        if not guarded:
            model = site.model if site.model is not None else string("unknown", file.style.quote)
            logger = file.uses_logger(edits)
            guard = statements(
                "if not __resp__:\n    __logger__.warning(__message__, __model__)\n    return None\n",
                file,
                resp=cst.Name(name),
                logger=cst.Name(logger),
                message=string(EMPTY_WARNING, file.style.quote),
                model=model.deep_clone(),
            )
            indent = (indent_of(file.module, site.await_line) or "") + file.module.default_indent
            body = guard[0].body  # type: ignore[attr-defined]
            body = body.with_changes(body=[fit(s, file.module, indent, file.style.line_length) for s in body.body])
            edits.insert_after(site.await_line, [guard[0].with_changes(body=body)])
            done.append("empty-response guard added")
            sites.changes.append(Change(f"{where}: an empty answer returns None with a warning naming the model, before parsing"))
        if site.enclosing_try is not None and not self._bound_before(site):
            edits.insert_before(site.top, [statement(f"{name} = None\n", file)])
            done.append(f"`{name}` bound before the try")
        self._log_generator_failure(file, site, edits, done, sites)
        self._update_stale_models(file, site, edits, done)
        if done:
            sites.applied.append(f"{where}: {', '.join(done)}")
        else:
            sites.present.append(f"{where} guards an empty response")

    @staticmethod
    def _update_stale_models(file: FileContext, site: GeneratorSite, edits: Edits, done: list[str]) -> None:
        """llmfix's warnings name the model the call uses; after a merge changed that expression, they follow."""
        model = site.model
        if model is None:
            return
        for call in find_all(site.function, cst.Call, lambda c: len(c.args) >= 2 and string_value(c.args[0].value) in WARNINGS):
            argument = call.args[1].value
            if file.code(argument).strip() != file.code(model).strip():
                edits.replace_node(argument, model.deep_clone())
                done.append(f"its warning named {file.code(argument).strip()}, the call now uses {file.code(model).strip()}: updated")

    def _log_generator_failure(self, file: FileContext, site: GeneratorSite, edits: Edits, done: list[str], sites: Sites) -> None:
        """A generator whose handler swallows a failed call says why, through its module's logger."""
        handling = swallowing_try(site.function, site.await_line)
        if handling is None:
            return
        where = f"{site.function.name.value}()"
        logger = file.logger_name()
        for handler in handling.handlers:
            if not is_broad_handler(handler) or find_all(handler.body, cst.Raise):
                continue
            if any(isinstance(c.func, cst.Attribute) and isinstance(c.func.value, cst.Name) and c.func.value.value == logger for c in find_all(handler.body, cst.Call)):
                continue  # it logs already
            named = handler.name.name.value if handler.name is not None and isinstance(handler.name.name, cst.Name) else None
            bound = named or "error"
            model = site.model if site.model is not None else string("unknown", file.style.quote)
            line = statement(
                "__logger__.warning(__message__, __model__, __error__)\n",
                file,
                logger=cst.Name(file.uses_logger(edits)),
                message=string(FAILURE_WARNING, file.style.quote),
                model=model.deep_clone(),
                error=cst.Name(bound),
            )
            indent = (indent_of(file.module, handler.body.body[0]) or "")
            line = fit(line, file.module, indent, file.style.line_length)
            if named is not None:
                edits.insert_before(handler.body.body[0], [line])
            else:  # bind the exception it catches: `except Exception:` -> `except Exception as error:`
                edits.replace_node(handler, self._handler_with(handler, bound, line))
            done.append("its swallowed failure logged with the model")
            sites.changes.append(Change(f"{where}: a failed call still returns None, and now logs a warning naming the model and the error"))

    @staticmethod
    def _handler_with(handler: cst.ExceptHandler, bound: str, line: cst.BaseStatement) -> cst.ExceptHandler:
        kind = handler.type if handler.type is not None else cst.Name("BaseException")
        body = handler.body.with_changes(body=[line, *handler.body.body])
        return handler.with_changes(type=kind, name=cst.AsName(cst.Name(bound)), whitespace_after_except=cst.SimpleWhitespace(" "), body=body)

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

