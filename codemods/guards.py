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

after (``response_text`` returns ``""`` with one warning for no choices, no message or
null content)::

    return litellm_utils.response_text(response)

A handler that swallows the failure without saying anything, before / after (a handler
that already prints or logs the error is left alone: never two lines for one failure)::

    except:
        return ""

    except:
        litellm_utils.log_failure("run_litellm")
        return ""

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

from llmfix.codemods import notes, support
from llmfix.codemods.analysis.generator import GeneratorSite, find_generators
from llmfix.codemods.analysis.helpers import SWALLOWS, error_contract, helper_functions, llm_call_of
from llmfix.codemods.analysis.nodes import (
    all_functions,
    block_of,
    callee_name,
    is_attribute,
    is_broad_handler,
    is_choices_index,
    is_name,
    iter_statements,
    qualname,
    single_small,
    string_value,
    swallowing_try,
)
from llmfix.codemods.analysis.tree import find_all, indent_of
from llmfix.codemods.building import expression, statement, statements, string
from llmfix.codemods.context import FileContext
from llmfix.codemods.edits import Edits
from llmfix.codemods.style.wrap import fit
from llmfix.codemods.transform import ALREADY_PRESENT, APPLIED, Change, Example, Outcome, Sites, Transform

EMPTY_WARNING = "Empty rubric response from model %s"
FAILURE_WARNING = "Rubric generation with model %s failed: %s"
WARNINGS = (EMPTY_WARNING, FAILURE_WARNING)


def _is_content_read(node: cst.CSTNode) -> bool:
    """``r.choices[...].message.content``."""
    return (
        isinstance(node, cst.Attribute)
        and node.attr.value == "content"
        and is_attribute(node.value, "message")
        and is_choices_index(node.value.value)  # type: ignore[attr-defined]
    )


def _content_reads(func: cst.FunctionDef) -> list[cst.Attribute]:
    """``r.choices[...].message.content`` expressions in ``func``."""
    return find_all(func.body, cst.Attribute, _is_content_read)


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


def _support_calls(node: cst.CSTNode, name: str) -> list[cst.Call]:
    return find_all(node, cst.Call, lambda c: support.is_call(c, name))


LOG_METHODS = ("debug", "info", "warning", "warn", "error", "exception", "critical", "log")


def reports_error(handler: cst.ExceptHandler) -> bool:
    """True when the handler already prints or logs (``print(...)``, ``x.warning(...)``, ...)."""
    return any(
        callee_name(call) == "print" or (isinstance(call.func, cst.Attribute) and call.func.attr.value in LOG_METHODS)
        for call in find_all(handler.body, cst.Call)
    )


class GuardsTransform(Transform):
    NAME = "guards"
    SUMMARY = 'empty responses: helpers return "" with a warning, the generator None; swallowed errors logged'
    ORDER = 40
    EXAMPLES = (
        Example(
            "a helper that swallows errors silently: the content read is guarded, the failure logged",
            """
            import litellm


            def run_litellm(model_name, user_prompt=None, **chat_kwargs):
                try:
                    response = litellm.completion(model=model_name, messages=[], **chat_kwargs)
                except:
                    return ""
                return response.choices[0].message.content
            """,
            """
            import litellm

            from open_instruct.rubrics import litellm_utils


            def run_litellm(model_name, user_prompt=None, **chat_kwargs):
                try:
                    response = litellm.completion(model=model_name, messages=[], **chat_kwargs)
                except:
                    litellm_utils.log_failure("run_litellm")
                    return ""
                return litellm_utils.response_text(response)
            """,
            APPLIED,
        ),
        Example(
            "a helper that already prints its error gets no second line; a raising helper keeps raising",
            """
            import litellm


            async def run_litellm_async(model_name, user_prompt=None, **chat_kwargs):
                try:
                    response = await litellm.acompletion(model=model_name, messages=[], **chat_kwargs)
                except Exception as e:
                    print(f"Error in run_litellm_async: {e}")
                    return ""
                return response.choices[0].message.content


            def run_chatopenai(model_name, system_prompt, user_prompt, json_mode=False, **chat_kwargs):
                resp = litellm.completion(model=model_name, messages=[], **chat_kwargs)
                return resp.choices[0].message.content
            """,
            """
            import litellm

            from open_instruct.rubrics import litellm_utils


            async def run_litellm_async(model_name, user_prompt=None, **chat_kwargs):
                try:
                    response = await litellm.acompletion(model=model_name, messages=[], **chat_kwargs)
                except Exception as e:
                    print(f"Error in run_litellm_async: {e}")
                    return ""
                return litellm_utils.response_text(response)


            def run_chatopenai(model_name, system_prompt, user_prompt, json_mode=False, **chat_kwargs):
                resp = litellm.completion(model=model_name, messages=[], **chat_kwargs)
                return litellm_utils.response_text(resp)
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
        clash = file.support_clash()
        for func in helper_functions(file.module):
            self._plan_helper(file, func, edits, sites)
        for site in find_generators(file.module):
            self._plan_generator(file, site, edits, sites)
        if clash and edits.support:
            return Outcome("anchor-missing", f"{clash}; apply the rest with `--skip {self.NAME}`")
        return sites.outcome("no LiteLLM helper reads choices and no rubric generator parses a response")

    # -- helpers ----------------------------------------------------------

    def _plan_helper(self, file: FileContext, func: cst.FunctionDef, edits: Edits, sites: Sites) -> None:
        where = f"{func.name.value}()"
        reads = _content_reads(func)
        if not reads and not _support_calls(func, "response_text"):
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
                edits.replace_node(read, expression(f"{support.NAME}.response_text(__response__)", file, response=cst.Name(_response_name(read))))
            edits.need_support()
            done.append("empty responses return \"\" with a warning")
            sites.changes.append(Change(f'{where}: an empty response (no choices, no message, null content) returns "" with a warning instead of raising or returning None'))
        if done:
            sites.applied.append(f"{where}: {'; '.join(done)}")

    def _log_failures(self, file: FileContext, func: cst.FunctionDef, edits: Edits, done: list[str], sites: Sites) -> None:
        """A swallowing helper's broad handlers that say nothing log the root cause first (its contract is kept)."""
        if error_contract(file.module, func) != SWALLOWS:
            return
        call = llm_call_of(file.module, func)
        handling = swallowing_try(func, call) if call is not None else None
        if handling is None:
            return
        handlers = [h for h in handling.handlers if is_broad_handler(h) and not find_all(h.body, cst.Raise)]
        pending = [h for h in handlers if not _support_calls(h.body, "log_failure") and not reports_error(h)]
        if not pending:
            if handlers:
                sites.present.append(f"{func.name.value}() reports swallowed errors")
            return
        for handler in pending:
            line = statement(f"{support.NAME}.log_failure(__helper__)\n", file, helper=string(func.name.value, file.style.quote))
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
        returned = [r for r in reads if find_all(func.body, cst.Return, lambda ret: ret.value is r)]
        if not returned:
            sites.present.append(f"{where} guards empty choices")
            return
        for read in returned:
            edits.replace_node(read, cst.BooleanOperation(left=read, operator=cst.Or(), right=string("", file.style.quote)))
        edits.note(f"{qualname(file.module, func)}:or-empty", True)
        done.append('existing guard kept; a null content now returns ""')
        sites.changes.append(Change(f'{where}: a null content returns "" instead of None'))

    # -- the rubric generator ----------------------------------------------

    def _plan_generator(self, file: FileContext, site: GeneratorSite, edits: Edits, sites: Sites) -> None:
        where = f"{site.function.name.value}()"
        key = qualname(file.module, site.function)
        name = site.result_name
        done = []
        guarded = any(
            _precedes(block_of(site.function, g) or site.function.body, site.await_line, g)
            for g in _guard_tests(site.function, name)
        )
        if not guarded:
            model = site.model if site.model is not None else string("unknown", file.style.quote)
            guard = statements(
                "if not __resp__:\n    __logger__.warning(__message__, __model__)\n    return None\n",
                file,
                resp=cst.Name(name),
                logger=self._logger(file, edits),
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
            edits.note(f"{key}:bound", True)
            done.append(f"`{name}` bound before the try")
        self._log_generator_failure(file, site, edits, done, sites)
        self._update_stale_models(file, site, edits, done)
        if done:
            sites.applied.append(f"{where}: {', '.join(done)}")
        else:
            sites.present.append(f"{where} guards an empty response")

    @staticmethod
    def _logger(file: FileContext, edits: Edits) -> cst.BaseExpression:
        """The module's logger; the support module's when the file has none."""
        if file.style.logger:
            return cst.Name(file.style.logger)
        edits.need_support()
        return expression(f"{support.NAME}.logger", file)

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
        """A generator whose handler swallows a failed call without a word says why, through its module's logger."""
        handling = swallowing_try(site.function, site.await_line)
        if handling is None:
            return
        where = f"{site.function.name.value}()"
        for handler in handling.handlers:
            if not is_broad_handler(handler) or find_all(handler.body, cst.Raise) or reports_error(handler):
                continue
            named = handler.name.name.value if handler.name is not None and isinstance(handler.name.name, cst.Name) else None
            bound = named or "error"
            model = site.model if site.model is not None else string("unknown", file.style.quote)
            line = statement(
                "__logger__.warning(__message__, __model__, __error__)\n",
                file,
                logger=self._logger(file, edits),
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
                edits.note(f"{qualname(file.module, site.function)}:handler", "bare" if handler.type is None else "unnamed")
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

    # -- revert ----------------------------------------------------------------

    def undo(self, file: FileContext, edits: Edits, noted: dict[str, object]) -> list[str]:
        module = file.module
        restored_handlers: set[int] = set()
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
                for node in find_all(func, cst.BooleanOperation, lambda b: isinstance(b.operator, cst.Or) and string_value(b.right) == "" and _is_content_read(b.left)):
                    edits.replace_node(node, node.left)
            site = next((g for g in find_generators(module) if g.function is func), None)
            if noted.get(f"{key}:bound") is True and site is not None:
                for stmt in func.body.body[: func.body.body.index(site.top)]:
                    small = single_small(stmt)
                    if isinstance(small, cst.Assign) and any(is_name(t.target, site.result_name) for t in small.targets) and is_name(small.value, "None"):
                        edits.remove(stmt)
                        break
        for call in find_all(module, cst.Call, lambda c: support.is_call(c, "response_text") and len(c.args) == 1):
            edits.replace_node(call, expression("__response__.choices[0].message.content", file, response=call.args[0].value.deep_clone()))
        for stmt in iter_statements(module):
            small = single_small(stmt)
            if id(stmt) in restored_handlers:
                continue
            if (isinstance(small, cst.Expr) and support.is_call(small.value, "log_failure")) or _is_failure_warning(stmt):
                edits.remove(stmt)
            elif isinstance(stmt, cst.If) and _is_empty_guard(stmt):
                edits.remove(stmt)
        return []


def _is_failure_warning(stmt: cst.BaseStatement) -> bool:
    small = single_small(stmt)
    return isinstance(small, cst.Expr) and isinstance(small.value, cst.Call) and len(small.value.args) >= 2 and string_value(small.value.args[0].value) == FAILURE_WARNING


def _is_empty_guard(stmt: cst.If) -> bool:
    """llmfix's generator guard: ``if not resp:`` warning EMPTY_WARNING, then ``return None``."""
    body = stmt.body.body if isinstance(stmt.body, cst.IndentedBlock) else ()
    if stmt.orelse is not None or len(body) != 2 or not isinstance(stmt.test, cst.UnaryOperation):
        return False
    first, second = single_small(body[0]), single_small(body[1])
    return (
        isinstance(first, cst.Expr)
        and isinstance(first.value, cst.Call)
        and bool(first.value.args)
        and string_value(first.value.args[0].value) == EMPTY_WARNING
        and isinstance(second, cst.Return)
        and is_name(second.value, "None")
    )
