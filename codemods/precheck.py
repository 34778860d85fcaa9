"""precheck: fail fast and loudly when the LLM endpoint can't be reached.

Why: a dead proxy or endpoint makes every rubric call swallow its error and return
None, and training runs on for hours with a degraded reward. One tiny completion
before the first request tells a dead endpoint apart in seconds.

run_utils.py gains, in its runtime support block, ``check_litellm_connection(model_name=None,
timeout=None) -> bool`` and ``ensure_litellm_connection(model_name)``. The check
retries transient failures (reset, 408/409/429/5xx, obeying Retry-After) within
LITELLM_PRECHECK_TIMEOUT (30 s); only a definitive failure counts. Success is cached
per process and model; a failure is re-checked at most once per
LITELLM_PRECHECK_RECHECK seconds (60), so a recovered endpoint recovers the run. When
the model and every fallback fail it raises ``LiteLLMConnectionError`` naming the
endpoint, the proxy in effect for it (credentials redacted) and the model.
``LITELLM_PRECHECK=0`` skips the check; ``LITELLM_PRECHECK=warn`` logs the failure and
goes on; unset under pytest, the check is off (a test's mocks answer, not the network).

The rubric generator, before::

    resp = None
    try:
        resp = await run_litellm_async(model_name=model_name, user_prompt=prompt)

after (outside the try, so the failure is not swallowed; the argument is the same
expression the awaited call passes as its model)::

    resp = None
    await ensure_litellm_connection(model_name)
    try:
        resp = await run_litellm_async(model_name=model_name, user_prompt=prompt)

and ``ensure_litellm_connection`` is imported from where the helper comes from (added
to that import), only when that module defines it after the same run.
"""

from __future__ import annotations

import libcst as cst

from llmfix.codemods.analysis.generator import GeneratorSite, find_generators
from llmfix.codemods.analysis.helpers import find_litellm_calls
from llmfix.codemods._sibling import Unreachable, reach
from llmfix.codemods.analysis.nodes import callee_name, module_functions
from llmfix.codemods.analysis.scopes import module_bindings
from llmfix.codemods.analysis.tree import find_all, indent_of
from llmfix.codemods.building import statement
from llmfix.codemods.context import FileContext
from llmfix.codemods.edits import Edits
from llmfix.codemods.style.wrap import fit
from llmfix.codemods.transform import ALREADY_PRESENT, APPLIED, Change, Example, Outcome, Sites, Transform

ENSURE = "ensure_litellm_connection"
# the first docstring line of the check an earlier llmfix inserted (no retry of a blip, no re-check)
OLD_DOCSTRING = "Raise LiteLLMConnectionError, once per process and model, when nothing answers (added by llmfix)."


def _awaited_ensure(func: cst.FunctionDef) -> list[cst.Call]:
    return find_all(func, cst.Call, lambda c: callee_name(c) == ENSURE)


def _is_older_llmfix(func: cst.FunctionDef) -> bool:
    """The runtime an earlier llmfix inserted (its docstrings carried a marker)."""
    body = func.body.body
    first = body[0] if body else None
    if isinstance(first, cst.SimpleStatementLine) and first.body and isinstance(first.body[0], cst.Expr):
        value = first.body[0].value
        return isinstance(value, cst.SimpleString) and OLD_DOCSTRING in value.value
    return False


class PrecheckTransform(Transform):
    NAME = "precheck"
    SUMMARY = "connection check before the first rubric request; fails fast, names endpoint and proxy"
    ORDER = 50
    RUNTIME = ("precheck",)
    AFTER = ("fallbacks",)
    EXAMPLES = (
        Example(
            "the generator checks the model its call uses, outside its try",
            """
            from open_instruct.rubrics.run_utils import extract_json_from_response, run_litellm_async


            async def generate_instance_wise_adaptive_rubrics(question, response_list, model_name="gpt-4.1"):
                resp = None
                try:
                    resp = await run_litellm_async(model_name=model_name, user_prompt=question)
                    obj = extract_json_from_response(resp)
                except Exception:
                    return None
                return obj
            """,
            """
            from open_instruct.rubrics.run_utils import ensure_litellm_connection, extract_json_from_response, run_litellm_async


            async def generate_instance_wise_adaptive_rubrics(question, response_list, model_name="gpt-4.1"):
                resp = None
                await ensure_litellm_connection(model_name)
                try:
                    resp = await run_litellm_async(model_name=model_name, user_prompt=question)
                    obj = extract_json_from_response(resp)
                except Exception:
                    return None
                return obj
            """,
            APPLIED,
            siblings={"open_instruct.rubrics.run_utils": ("ensure_litellm_connection", "extract_json_from_response", "run_litellm_async")},
        ),
        Example(
            "a check that still names the model the call uses is left alone",
            """
            from open_instruct.rubrics.run_utils import ensure_litellm_connection, extract_json_from_response, run_litellm_async


            async def generate(question, model_name="gpt-4.1"):
                await ensure_litellm_connection(model_name)
                resp = await run_litellm_async(model_name=model_name, user_prompt=question)
                return extract_json_from_response(resp)
            """,
            None,
            ALREADY_PRESENT,
        ),
    )

    def plan(self, file: FileContext, edits: Edits) -> Outcome:
        sites = Sites()
        self._plan_runtime(file, edits, sites)
        for site in find_generators(file.module):
            self._plan_generator(file, site, edits, sites)
        return sites.outcome("no LiteLLM call helper and no rubric generator")

    # -- run_utils.py: the check itself -----------------------------------

    def _plan_runtime(self, file: FileContext, edits: Edits, sites: Sites) -> None:
        if not find_litellm_calls(file.module):
            return
        existing = module_functions(file.module).get(ENSURE)
        if existing is not None and not _is_older_llmfix(existing):
            sites.present.append(f"{ENSURE}() is defined")
            return
        edits.need_runtime(*self.RUNTIME)
        if existing is not None:
            edits.removed_runtime.extend(self.RUNTIME)
            sites.applied.append(f"{ENSURE}() from an earlier llmfix replaced by the current one (retries a blip, re-checks a failure)")
        else:
            sites.applied.append(f"check_litellm_connection() and {ENSURE}() added")
        sites.changes.append(
            Change(
                "a connection check runs before the first rubric request of each model and raises LiteLLMConnectionError "
                "when nothing answers; LITELLM_PRECHECK=0 turns it off, LITELLM_PRECHECK=warn only logs",
                (("LITELLM_PRECHECK", "0"),),
            )
        )

    # -- rubric_utils.py: await the check before the first request ----------

    def _plan_generator(self, file: FileContext, site: GeneratorSite, edits: Edits, sites: Sites) -> None:
        where = f"{site.function.name.value}()"
        skip = "; apply the rest with `--skip precheck`"
        model = site.model
        existing = _awaited_ensure(site.function)
        if existing:
            if isinstance(existing[0].func, cst.Name) and ENSURE not in module_bindings(file.module):
                try:
                    reach(file, site, ENSURE, edits)  # the call survived a merge that dropped its import
                except Unreachable as problem:
                    sites.missing.append(f"{where}: calls {ENSURE} but does not import it, and {problem}{skip}")
                    return
                sites.applied.append(f"{where}: the import of {ENSURE} it calls is back")
            self._check_argument(file, where, existing[0], model, edits, sites)
            return
        if model is None:
            sites.missing.append(f"{where}: the awaited call passes no model name to check{skip}")
            return
        try:
            callee = reach(file, site, ENSURE, edits)
        except Unreachable as problem:
            sites.missing.append(f"{where}: {problem}{skip}")
            return
        line = statement("await __ensure__(__model__)\n", file, ensure=callee, model=model.deep_clone())
        line = fit(line, file.module, indent_of(file.module, site.top) or "", file.style.line_length)
        edits.insert_before(site.top, [line])
        sites.applied.append(f"{where} awaits {ENSURE}({file.code(model)}) before its first request")

    def _check_argument(self, file: FileContext, where: str, call: cst.Call, model: cst.BaseExpression | None, edits: Edits, sites: Sites) -> None:
        """The check must name the model the call uses; after a merge changed that expression, it is stale."""
        argument = call.args[0].value if call.args else None
        if model is None or argument is None or file.code(argument).strip() == file.code(model).strip():
            sites.present.append(f"{where} awaits {ENSURE}()")
            return
        edits.replace_node(argument, model.deep_clone())
        sites.applied.append(
            f"{where}: {ENSURE}({file.code(argument).strip()}) is stale: the call now uses {file.code(model).strip()}; updated"
        )
