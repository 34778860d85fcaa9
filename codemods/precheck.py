"""precheck: fail fast and loudly when the LLM endpoint can't be reached.

Why: a dead proxy or endpoint makes every rubric call swallow its error and
return None, and training runs on for hours with a degraded reward. One tiny
completion before the first request tells a dead endpoint apart in seconds.

run_utils.py gains ``check_litellm_connection(model_name=None, timeout=None) -> bool``
(one completion: max_tokens 1, no retries, timeout from LITELLM_PRECHECK_TIMEOUT,
default 30 s) and ``ensure_litellm_connection(model_name)``, which runs the check
once per process and model (concurrent callers share it) and, when the model
and every fallback fail, raises ``LiteLLMConnectionError`` naming the endpoint,
the proxy variables in effect and the model. ``LITELLM_PRECHECK=0`` skips the
check; ``LITELLM_PRECHECK=warn`` logs the failure and goes on.

The rubric generator, before::

    resp = None
    try:
        resp = await run_litellm_async(model_name=model_name, user_prompt=prompt)

after (outside the try, so the failure is not swallowed)::

    resp = None
    await ensure_litellm_connection(model_name)
    try:
        resp = await run_litellm_async(model_name=model_name, user_prompt=prompt)

and ``ensure_litellm_connection`` is imported from where the helper comes from.
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
from llmfix.codemods.analysis.helpers import find_litellm_calls
from llmfix.codemods.analysis.nodes import callee_name, module_functions
from llmfix.codemods.analysis.tree import find_all
from llmfix.codemods.fallbacks import HELPER_NAME as FALLBACKS_HELPER
from llmfix.codemods.fallbacks import helper_default_models

ENSURE = "ensure_litellm_connection"

PRECHECK_SOURCE = '''

class LiteLLMConnectionError(RuntimeError):
    """The LLM endpoint did not answer the connection check (added by llmfix)."""


_LITELLM_CONNECTION_CHECKS = {{}}
_LITELLM_PRECHECK_WARNED = set()
_PROXY_VARIABLES = ("https_proxy", "HTTPS_PROXY", "http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY", "no_proxy", "NO_PROXY")


async def check_litellm_connection(model_name=None, timeout=None) -> bool:
    """True when one tiny completion to ``model_name`` answers (added by llmfix).

    max_tokens 1, no retries, ``timeout`` seconds (default LITELLM_PRECHECK_TIMEOUT, 30 s).
    """
    if model_name is None:
        model_name = os.environ.get("RUBRIC_GENERATION_MODEL", "gpt-4.1")
    return await _litellm_connection_error(model_name, timeout) is None


async def _litellm_connection_error(target, timeout=None):
    """None when ``target`` (a model name or a fallback object) answers, else why not."""
{binding}    if timeout is None:
        timeout = float(os.environ.get("LITELLM_PRECHECK_TIMEOUT", "30"))
    request = dict(target) if isinstance(target, dict) else {{"model": target}}
    try:
        await asyncio.wait_for(
            litellm.acompletion(
                messages=[{{"role": "user", "content": "ping"}}],
                max_tokens=1,
                num_retries=0,
                timeout=timeout,
                **request,
            ),
            timeout + 5,
        )
    except Exception as error:
        root = error
        for _ in range(20):
            if (root.__cause__ or root.__context__) is None:
                break
            root = root.__cause__ or root.__context__
        detail = f"{{type(error).__name__}}: {{error}}"
        if root is not error:
            detail += f" [root cause: {{type(root).__name__}}: {{root}}]"
        return detail
    return None


def _litellm_connection_report(model_name, failures):
    """The error message: endpoint, proxy variables in effect, model, what failed."""
    endpoint = os.environ.get("OPENAI_BASE_URL") or os.environ.get("OPENAI_API_BASE") or "https://api.openai.com/v1 (default)"
    proxies = []
    for name in _PROXY_VARIABLES:
        value = os.environ.get(name)
        if value:
            proxies.append(f"{{name}}={{re.sub(r'//[^@/]*@', '//***@', value)}}")
    lines = [
        f"LiteLLM connection check failed for model {{model_name!r}} at endpoint {{endpoint}}",
        f"proxy variables: {{', '.join(proxies) or 'none set'}}",
    ]
    lines += [f"  {{name}}: {{detail}}" for name, detail in failures]
    lines.append("Fix the endpoint, key or proxy; LITELLM_PRECHECK=warn logs this and goes on, LITELLM_PRECHECK=0 skips the check.")
    return "\\n".join(lines)


async def _diagnose_litellm_connection(model_name):
    """None when the model or one of its fallbacks answers, else the report.

    All are checked at once, so a blackholed endpoint costs one timeout, not one per model.
    """
    targets = [model_name, *{fallbacks}]
    checks = [asyncio.ensure_future(_litellm_connection_error(target)) for target in targets]
    try:
        for finished in asyncio.as_completed(checks):
            if await finished is None:
                return None
    finally:
        for check in checks:
            check.cancel()
    failures = [
        (target.get("model") if isinstance(target, dict) else target, check.result())
        for target, check in zip(targets, checks)
    ]
    return _litellm_connection_report(model_name, failures)


async def ensure_litellm_connection(model_name):
    """Raise LiteLLMConnectionError, once per process and model, when nothing answers (added by llmfix).

    LITELLM_PRECHECK=0 skips the check; LITELLM_PRECHECK=warn logs the failure and goes on.
    """
    mode = os.environ.get("LITELLM_PRECHECK", "1").strip().lower()
    if mode in ("0", "false", "no", "off"):
        return
    check = _LITELLM_CONNECTION_CHECKS.get(model_name)
    if check is None or (not check.done() and check.get_loop() is not asyncio.get_running_loop()):
        check = asyncio.ensure_future(_diagnose_litellm_connection(model_name))
        _LITELLM_CONNECTION_CHECKS[model_name] = check
    report = check.result() if check.done() else await asyncio.shield(check)
    if report is None:
        return
    if mode == "warn":
        if model_name not in _LITELLM_PRECHECK_WARNED:
            _LITELLM_PRECHECK_WARNED.add(model_name)
            logging.getLogger(__name__).warning(report)
        return
    raise LiteLLMConnectionError(report)
'''


def _imported_names(tree: cst.Module) -> set[str]:
    """Names bound by top-level ``from ... import`` statements."""
    names = set()
    for stmt in tree.body:
        for small in getattr(stmt, "body", ()) if isinstance(stmt, cst.SimpleStatementLine) else ():
            if isinstance(small, cst.ImportFrom) and not isinstance(small.names, cst.ImportStar):
                names.update(a.asname.name.value if a.asname else a.name.value for a in small.names)  # type: ignore[union-attr]
    return names


class PrecheckTransform(PlannedTransform):
    NAME = "precheck"
    SUMMARY = "connection check before the first rubric request; fails fast, names endpoint and proxy"
    DESCRIPTION = __doc__.split("\n\n")[0]

    def plan(self, tree: cst.Module, edits: Edits) -> Outcome:
        sites = Sites()
        self._import_added = False
        self._plan_functions(tree, edits, sites)
        for site in find_generators(tree):
            self._plan_generator(tree, site, edits, sites)
        return sites.outcome("no LiteLLM call helper and no rubric generator")

    # -- run_utils.py: the check itself -----------------------------------

    def _plan_functions(self, tree: cst.Module, edits: Edits, sites: Sites) -> None:
        calls = find_litellm_calls(tree)
        if not calls:
            return
        if ENSURE in module_functions(tree):
            sites.present.append(f"{ENSURE}() is defined")
            return
        binding = next((c.litellm_binding for c in calls if c.litellm_binding is not None), None)
        binding_code = ""
        if binding is not None:  # the loader call only: the helper may bind it to another name, with comments
            loader = binding.body[0].value  # type: ignore[attr-defined]
            binding_code = f"    litellm = {cst.Module([]).code_for_node(loader)}\n"
        defaults = helper_default_models(tree)
        fallbacks = f"{FALLBACKS_HELPER}({tree.code_for_node(defaults)}, model_name)" if defaults is not None else "[]"
        source = PRECHECK_SOURCE.format(binding=binding_code, fallbacks=fallbacks).lstrip("\n")
        statements = parse_statements(source, tree)
        statements[0] = statements[0].with_changes(leading_lines=[cst.EmptyLine(), cst.EmptyLine()])
        last_helper = [s for s in tree.body if any(s is c.function for c in calls)]
        anchor = last_helper[-1] if last_helper else tree.body[-1]
        edits.insert_after(anchor, statements)
        for name in ("asyncio", "logging", "os", "re"):
            edits.need_import(name)
        sites.applied.append(f"check_litellm_connection() and {ENSURE}() added")

    # -- rubric_utils.py: await the check before the first request ----------

    def _plan_generator(self, tree: cst.Module, site: GeneratorSite, edits: Edits, sites: Sites) -> None:
        where = f"{site.function.name.value}()"
        if find_all(site.function, cst.Call, lambda c: callee_name(c) == ENSURE):
            sites.present.append(f"{where} awaits {ENSURE}()")
            return
        model = site.model
        if model is None:
            sites.missing.append(f"{where}: the awaited call passes no model name to check")
            return
        ensure_call = self._ensure_callee(tree, site, edits)
        if ensure_call is None:
            sites.missing.append(
                f"{where}: can't tell where `{tree.code_for_node(site.helper_call.func)}` is imported from"
            )
            return
        line = parse_statement(f"await {ensure_call}({tree.code_for_node(model)})\n", tree)
        edits.insert_before(site.top, [line])
        sites.applied.append(f"{where} awaits {ENSURE}() before its first request")

    def _ensure_callee(self, tree: cst.Module, site: GeneratorSite, edits: Edits) -> str | None:
        """How the generator's module reaches ``ensure_litellm_connection`` (importing it if needed)."""
        func = site.helper_call.func
        if isinstance(func, cst.Attribute):
            return f"{tree.code_for_node(func.value)}.{ENSURE}"
        if not isinstance(func, cst.Name):
            return None
        if func.value in module_functions(tree) or ENSURE in module_functions(tree) or ENSURE in _imported_names(tree):
            return ENSURE
        for stmt in tree.body:
            if not isinstance(stmt, cst.SimpleStatementLine):
                continue
            for small in stmt.body:
                if isinstance(small, cst.ImportFrom) and not isinstance(small.names, cst.ImportStar):
                    imported = {(a.asname.name.value if a.asname else a.name.value) for a in small.names}  # type: ignore[union-attr]
                    if func.value in imported:
                        if ENSURE not in imported and not self._import_added:
                            self._import_added = True
                            module = "." * len(small.relative) + (tree.code_for_node(small.module) if small.module else "")
                            edits.insert_after(stmt, [parse_statement(f"from {module} import {ENSURE}\n", tree)])
                        return ENSURE
        return None


def __getattr__(name: str):
    """Build the libcst command class on first access (it imports libcst.codemod)."""
    if name == "PrecheckCommand":
        from llmfix.codemods._command import command_for

        return command_for(PrecheckTransform)
    raise AttributeError(name)
