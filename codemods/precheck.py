"""precheck: fail fast and loudly when the LLM endpoint can't be reached.

Why: a dead proxy or endpoint makes every rubric call swallow its error and return
None, and training runs on for hours with a degraded reward. One tiny request before
the first real one tells a dead endpoint apart in seconds.

The check goes through the very helper the generator awaits, with the same arguments, so
it proves the real path; when nothing answers within LITELLM_PRECHECK_TIMEOUT (30 s) it
raises ``LiteLLMConnectionError`` naming the cause, the endpoint and the proxy.
``LITELLM_PRECHECK=off`` skips it, ``warn`` only logs (docs/environment.md, "The connection check").
"""

from __future__ import annotations

import libcst as cst

from llmfix.codemods import support
from llmfix.codemods.analysis.generator import GeneratorSite, find_generators
from llmfix.codemods.analysis.nodes import iter_statements, single_small
from llmfix.codemods.analysis.scopes import binds_name, parameters, statement_bindings
from llmfix.codemods.analysis.tree import find_all, indent_of
from llmfix.codemods.building import call, expression, statement
from llmfix.codemods.context import FileContext
from llmfix.codemods.edits import Edits
from llmfix.codemods.notes import unwrapped
from llmfix.codemods.style.wrap import fit
from llmfix.codemods.transform import Change, Example, Outcome, Sites, Transform

ENSURE = "ensure_connection"


def _names_read(node: cst.CSTNode) -> set[str]:
    return {n.value for n in find_all(node, cst.Name)} - {"True", "False", "None"}


def _bound_before(site: GeneratorSite, names: set[str]) -> set[str]:
    """The ``names`` that are not bound yet where the check goes (module globals count as bound)."""
    params, body = parameters(site.function), site.function.body.body
    assigned = {name for stmt in body[: body.index(site.top)] for name, _ in statement_bindings(stmt)}
    return {n for n in names if binds_name(site.function, n) and n not in params and n not in assigned}


PROBE = "Reply with OK."


def _probe_value(arg: cst.Arg) -> str | None:
    """The probe that stands for a prompt argument (``user_prompt=``, ``prompt=``, ``messages=``), else None."""
    name = arg.keyword.value if arg.keyword is not None else ""
    if name == "messages":
        return f'[{{"role": "user", "content": "{PROBE}"}}]'
    return f'"{PROBE}"' if "prompt" in name else None


class PrecheckTransform(Transform):
    NAME = "precheck"
    SUMMARY = "connection check through the generator's own helper before its first request; fails fast and loudly"
    ORDER = 50
    AFTER = ("fallbacks",)
    EXAMPLES = (
        Example.change(
            "the generator checks the path its call takes, outside its try",
            """
            +from open_instruct.rubrics import litellm_utils
             from open_instruct.rubrics.run_utils import extract_json_from_response, run_litellm_async


             async def generate_instance_wise_adaptive_rubrics(question, response_list, model_name="gpt-4.1"):
                 resp = None
            +    await litellm_utils.ensure_connection(run_litellm_async, model_name=model_name, user_prompt=question)
                 try:
                     resp = await run_litellm_async(model_name=model_name, user_prompt=question)
                     obj = extract_json_from_response(resp)
                 except Exception:
                     return None
                 return obj
            """,
        ),
        Example(
            "a check that still makes the call the generator makes is left alone",
            """
            from open_instruct.rubrics import litellm_utils
            from open_instruct.rubrics.run_utils import extract_json_from_response, run_litellm_async


            async def generate(question, model_name="gpt-4.1"):
                await litellm_utils.ensure_connection(run_litellm_async, model_name=model_name, user_prompt=question)
                resp = await run_litellm_async(model_name=model_name, user_prompt=question)
                return extract_json_from_response(resp)
            """,
        ),
    )

    def plan(self, file: FileContext, edits: Edits) -> Outcome:
        sites = Sites()
        for site in find_generators(file.module):
            self._plan_generator(file, site, edits, sites)
        return sites.outcome("no rubric generator")

    def _plan_generator(self, file: FileContext, site: GeneratorSite, edits: Edits, sites: Sites) -> None:
        where = f"{site.function.name.value}()"
        wanted = self._check(file, site)
        existing = find_all(site.function, cst.Call, lambda c: support.is_call(c, ENSURE))
        if existing:
            if unwrapped(file.code(existing[0])) == unwrapped(cst.Module([]).code_for_node(wanted)):
                sites.present.append(f"{where} awaits {ENSURE}()")
            else:  # a merge changed the call the generator makes: the check follows
                edits.replace_node(existing[0], wanted)
                sites.applied.append(f"{where}: its connection check now makes the call the generator makes")
            return
        clash = file.support_clash(site.function)
        unbound = [a for a in site.helper_call.args if _bound_before(site, _names_read(a.value)) and not _probe_value(a)]
        if clash or unbound:
            why = clash or f"the awaited call's argument `{file.code(unbound[0]).strip().rstrip(',')}` is computed after where the check must go"
            sites.missing.append(f"{where}: {why}; apply the rest with `--skip precheck`")
            return
        line = statement("await __check__\n", file, check=wanted)
        line = fit(line, file.module, indent_of(file.module, site.top) or "", file.style.line_length)
        edits.insert_before(site.top, [line])
        edits.need_support()
        sites.applied.append(f"{where} awaits {ENSURE}() through {file.code(site.helper_call.func)} before its first request")
        sites.changes.append(
            Change(
                f"{where}: before the first request for a model, one tiny request through {file.code(site.helper_call.func)} "
                "checks the endpoint and raises LiteLLMConnectionError when nothing answers; LITELLM_PRECHECK=off "
                "turns it off, LITELLM_PRECHECK=warn only logs",
                (("LITELLM_PRECHECK", "off"),),
            )
        )

    @staticmethod
    def _check(file: FileContext, site: GeneratorSite) -> cst.Call:
        """``litellm_utils.ensure_connection(helper, <the awaited call's arguments>)``; a prompt computed
        after the check's place (inside the try) is replaced by a short probe prompt."""
        args = [cst.Arg(site.helper_call.func.deep_clone())]
        for arg in site.helper_call.args:
            probe = _probe_value(arg) if _bound_before(site, _names_read(arg.value)) else None
            arg = arg.deep_clone() if probe is None else arg.with_changes(value=expression(probe, file))
            args.append(arg.with_changes(whitespace_after_arg=cst.SimpleWhitespace("")))
        return call(f"{support.NAME}.{ENSURE}", *args)

    def undo(self, file: FileContext, edits: Edits, noted: dict[str, object]) -> list[str]:
        for stmt in iter_statements(file.module):
            small = single_small(stmt)
            if isinstance(small, cst.Expr) and isinstance(small.value, cst.Await) and support.is_call(small.value.expression, ENSURE):
                edits.remove(stmt)
        return []
