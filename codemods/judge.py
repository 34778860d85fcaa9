"""judge: LiteLLM calls with explicit arguments (the LLM judge verifier) get a timeout, fallbacks and health.

Why: ``LMJudgeVerifier.async_call`` in ``ground_truth_utils.py`` awaits ``acompletion(...)``
itself, retries three times by hand, logs a warning and then scores the sample 0.0: an
unreachable judge hands every sample a zero and training goes on. Its call passes no
timeout (LiteLLM's own is 6000 s per request) and no fallbacks.

Each call is found by what its name means in the module (``from litellm import
acompletion``, ``import litellm as ll``, an import inside the function, a lazily loaded
litellm). Its own arguments win; llmfix adds what it lacks: ``timeout=litellm_utils.from_env(...)`` and
``fallbacks=litellm_utils.fallback_models([], <its model>)``.

Retries are added only where no retry layer exists (a hand loop, a tenacity ``@retry``): there the
number of requests stays what it was, and the report says how many a dead endpoint gets.
The function holding the call counts its outcomes (``@litellm_utils.track_calls(raise_on_degraded=True)``):
a call that returned its default (the zero score) after a failed request counts as failed, and
past LITELLM_MAX_FAILURE_RATE it raises LiteLLMDegradedError (its own warning already logs it).
"""

from __future__ import annotations

import libcst as cst

from llmfix.codemods import litellm_facts, notes, support
from llmfix.codemods.analysis.helpers import LiteLLMCall, direct_calls
from llmfix.codemods.analysis.nodes import all_functions, dotted_name, iter_statements, keyword_arg, number_literal, qualname, single_small, statement_of
from llmfix.codemods.analysis.tree import contains, find_all, indent_of, rebuild
from llmfix.codemods.building import expression, format_number
from llmfix.codemods.context import FileContext
from llmfix.codemods.edits import Edits
from llmfix.codemods.health import decorator, is_tracking, tracked
from llmfix.codemods.style.wrap import wrapped
from llmfix.codemods.transform import Change, Example, Outcome, Sites, Transform

ADDED = {  # keyword: the default llmfix adds (``__model__``: the call's model)
    "timeout": f'{support.NAME}.from_env("LITELLM_DEFAULT_TIMEOUT", {format_number(litellm_facts.DEFAULT_TIMEOUT)})',
    "fallbacks": f"{support.NAME}.fallback_models([], __model__)",
    "num_retries": f'{support.NAME}.from_env("LITELLM_NUM_RETRIES", {litellm_facts.DEFAULT_RETRIES})',
}


def retry_layer(func: cst.FunctionDef, call: cst.Call) -> tuple[str, int | None] | None:
    """(what, attempts) of the retry layer around ``call``: a tenacity decorator or a hand loop."""
    for decorated in func.decorators:
        node = decorated.decorator
        name = dotted_name(node.func if isinstance(node, cst.Call) else node) or ""
        if name.split(".")[-1] == "retry":
            stops = find_all(node, cst.Call, lambda c: (dotted_name(c.func) or "").endswith("stop_after_attempt") and bool(c.args))
            attempts = number_literal(stops[0].args[0].value) if stops else None
            return "tenacity", int(attempts) if attempts else None
    for loop in find_all(func.body, (cst.For, cst.While)):  # type: ignore[arg-type]
        if contains(loop, call) and any(contains(t, call) for t in find_all(loop.body, cst.Try)):
            return "loop", _loop_count(func, loop)
    return None


def _loop_count(func: cst.FunctionDef, loop: cst.CSTNode) -> int | None:
    """N in ``for _ in range(N)``, N a literal or a name set to one earlier in the function."""
    if not isinstance(loop, cst.For) or not isinstance(loop.iter, cst.Call) or dotted_name(loop.iter.func) != "range" or len(loop.iter.args) != 1:
        return None
    value = loop.iter.args[0].value
    if isinstance(value, cst.Name):
        for stmt in iter_statements(func.body):
            small = single_small(stmt)
            if isinstance(small, cst.Assign) and any(dotted_name(t.target) == value.value for t in small.targets):
                value = small.value
                break
    count = number_literal(value)
    return int(count) if count is not None and count == int(count) else None


def _requests(layer: tuple[str, int | None] | None, retries: float | None) -> str:
    """How many requests a dead endpoint gets, in words."""
    per_call = 1 + int(retries if retries is not None else litellm_facts.SDK_DEFAULT_RETRIES)
    if layer is None:
        return f"{per_call} requests"
    kind, attempts = layer
    what = "its own retry loop" if kind == "loop" else "its tenacity retry"
    if attempts is None:
        return f"{per_call} requests per attempt of {what}"
    return f"{attempts * per_call} requests ({attempts} attempts of {what} x {per_call})"


def _one_per_line(call: cst.Call) -> bool:
    """True when each argument of ``call`` sits on a line of its own."""
    return isinstance(call.whitespace_before_args, cst.ParenthesizedWhitespace) and all(
        isinstance(arg.comma, cst.Comma) and isinstance(arg.comma.whitespace_after, cst.ParenthesizedWhitespace) for arg in call.args[:-1]
    )


def _with_arguments(call: cst.Call, added: list[cst.Arg]) -> cst.Call:
    """``call`` with ``added`` after its arguments: one per line when its own are, else on one line
    (the statement is then wrapped as black would)."""
    *args, last = call.args
    if _one_per_line(call):
        between = cst.Comma(whitespace_after=call.whitespace_before_args.with_changes(first_line=cst.TrailingWhitespace(), empty_lines=[]))  # type: ignore[attr-defined]
        new = [arg.with_changes(comma=between) for arg in added[:-1]]
        new.append(added[-1].with_changes(comma=last.comma, whitespace_after_arg=last.whitespace_after_arg))
        return call.with_changes(args=[*args, last.with_changes(comma=between, whitespace_after_arg=cst.SimpleWhitespace("")), *new])
    spaced = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
    new = [arg.with_changes(comma=spaced) for arg in [last, *added[:-1]]]
    return call.with_changes(args=[*args, *new, added[-1]], whitespace_before_args=cst.SimpleWhitespace(""))


def _innermost(function: cst.FunctionDef, call: cst.Call) -> cst.FunctionDef:
    """The function the call is in: ``function`` or a function nested in it."""
    nested = [f for f in find_all(function.body, cst.FunctionDef) if contains(f, call)]
    return nested[-1] if nested else function


def _without_arguments(call: cst.Call) -> cst.Call:
    """``call`` without the arguments llmfix added (their layout handed back to the last one left)."""
    args = list(call.args)
    kept = [a for a in args if not _added(a)]
    if len(kept) == len(args) or not kept:
        return call
    final = args[-1]
    kept[-1] = kept[-1].with_changes(comma=final.comma, whitespace_after_arg=final.whitespace_after_arg)
    return call.with_changes(args=kept)


class JudgeTransform(Transform):
    NAME = "judge"
    SUMMARY = "LiteLLM calls with explicit arguments (the LLM judge): env-driven timeout, fallbacks, health; retries only without a retry layer"
    ORDER = 70
    AFTER = ("health",)
    EXAMPLES = (
        Example.change(
            "the judge's call in a hand retry loop: a timeout and fallbacks, no extra retries; its outcomes counted",
            """
             from litellm import acompletion
            +
            +from open_instruct.rubrics import litellm_utils


             class LMJudgeVerifier:
            +    @litellm_utils.track_calls(raise_on_degraded=True)
                 async def async_call(self, prompt):
                     max_retries = 3
                     for attempt in range(max_retries):
                         try:
            -                response = await acompletion(model=self.model, messages=[{"role": "user", "content": prompt}])
            +                response = await acompletion(
            +                    model=self.model,
            +                    messages=[{"role": "user", "content": prompt}],
            +                    timeout=litellm_utils.from_env("LITELLM_DEFAULT_TIMEOUT", 600),
            +                    fallbacks=litellm_utils.fallback_models([], self.model),
            +                )
                             return float(response.choices[0].message.content)
                         except Exception as e:
                             if attempt == max_retries - 1:
                                 return 0.0
                     return 0.0
            """,
        ),
        Example(
            "a call that routes through the patched helper needs nothing",
            """
            from open_instruct.rubrics.run_utils import run_litellm_async_raw


            class LMJudgeVerifier:
                async def async_call(self, prompt):
                    response = await run_litellm_async_raw(model_name=self.model, user_prompt=prompt)
                    return float(response.choices[0].message.content)
            """,
            status="not-applicable",
        ),
    )

    def plan(self, file: FileContext, edits: Edits) -> Outcome:
        sites = Sites()
        numbered: dict[str, int] = {}
        calls = direct_calls(file.module)
        if file.noted.get(self.NAME):
            self._leftovers(file, {id(site.call) for site in calls}, edits, sites)
        for site in calls:
            function = _innermost(site.function, site.call)
            where = f"{qualname(file.module, site.function)}()" if function is site.function else f"{function.name.value}()"
            missing = [key for key in ADDED if key not in site.explicit_keys]
            layer = retry_layer(function, site.call)
            if layer is not None or "num_retries" in site.explicit_keys:
                missing = [key for key in missing if key != "num_retries"]
            decorate = not tracked(function)
            if not missing and not decorate:
                sites.present.append(f"{where} passes a timeout and fallbacks and counts its outcomes")
                continue
            statement = statement_of(function, site.call)
            clash = file.support_clash(function)
            why = clash or (
                "its call has no model= argument" if site.model is None
                else "its call unpacks *args or **kwargs" if any(a.star for a in site.call.args)
                else "its call is not a simple statement" if statement is None
                else None
            )
            if why:
                sites.missing.append(f"{where}: {why}; apply the rest with `--skip judge`")
                continue
            key = qualname(file.module, site.function)
            numbered[key] = numbered.get(key, -1) + 1 if missing else numbered.get(key, -1)
            note = key if numbered[key] <= 0 else f"{key}#{numbered[key]}"
            self._patch(file, site, function, where, statement, missing, decorate, layer, note, edits, sites)  # type: ignore[arg-type]
        return sites.outcome("no LiteLLM call with explicit arguments outside the helpers")

    def _patch(
        self, file: FileContext, site: LiteLLMCall, function: cst.FunctionDef, where: str, statement: cst.SimpleStatementLine, missing: list[str],
        decorate: bool, layer, note: str, edits: Edits, sites: Sites,
    ) -> None:
        if missing:
            no_space = cst.AssignEqual(cst.SimpleWhitespace(""), cst.SimpleWhitespace(""))
            holes = lambda key: {"model": site.model.deep_clone()} if "__model__" in ADDED[key] else {}  # type: ignore[union-attr]  # noqa: E731
            added = [cst.Arg(expression(ADDED[k], file, **holes(k)), keyword=cst.Name(k), equal=no_space) for k in missing]
            new = rebuild(statement, {id(site.call): _with_arguments(site.call, added)}, {}, {})
            if not _one_per_line(site.call):  # laid out again, as black would
                text, indent = notes.one_line(notes.statement_code(new)), indent_of(file.module, statement) or ""
                new = wrapped(file.module, text, indent, file.style.line_length).with_changes(leading_lines=statement.leading_lines)
            edits.replace_node(statement, new)
            edits.note(note, notes.digest(statement))
        if decorate:
            edits.add_decorator(function, decorator(file, True))
        edits.need_support()
        sites.applied.append(f"{where}: {', '.join(missing) or 'nothing'} added to its call{'; its outcomes counted' if decorate else ''}")
        sites.changes.append(Change(f"{where}: {self._describe(file, site, missing, layer, decorate)}"))

    @staticmethod
    def _describe(file: FileContext, site: LiteLLMCall, missing: list[str], layer, decorate: bool) -> str:
        retries = number_literal(keyword_arg(site.call, "num_retries"))
        before = _requests(layer, retries)
        after = _requests(layer, retries if "num_retries" not in missing else litellm_facts.DEFAULT_RETRIES)
        count = f"{after}, as before (llmfix adds no retries inside a retry layer)" if before == after else f"{after} instead of {before}"
        timeout = keyword_arg(site.call, "timeout")
        if timeout is None:
            waits = f"each request now waits at most {format_number(litellm_facts.DEFAULT_TIMEOUT)} s (LITELLM_DEFAULT_TIMEOUT) instead of LiteLLM's own 6000 s"
        else:
            waits = f"each request keeps its own timeout, `{file.code(timeout)}`"
        text = f"a dead endpoint gets {count} before the call gives up; {waits}"
        text += "; fallbacks from LITELLM_FALLBACK_MODELS" if "fallbacks" in missing else ""
        text += "; a default it returns after a failed request counts as a failure, and LITELLM_MAX_FAILURE_RATE can stop the run" if decorate else ""
        return text

    def undo(self, file: FileContext, edits: Edits, noted: dict[str, object]) -> list[str]:
        for func in all_functions(file.module):
            for number, call in enumerate(c for c in find_all(func, cst.Call) if _ours(c)):
                _take_off(file, func, call, number, noted, edits)
        for site in direct_calls(file.module):  # the decorator the judge's function got
            for decorated in _innermost(site.function, site.call).decorators:
                if is_tracking(decorated):
                    edits.remove(decorated)
        return []

    def _leftovers(self, file: FileContext, direct: set[int], edits: Edits, sites: Sites) -> None:
        """Take llmfix's change off a call that no longer calls LiteLLM itself (after a merge, upstream routes it
        through a helper, which the other transforms patch): as a fresh apply, which leaves such a call alone."""
        for func in all_functions(file.module):
            ours = [c for c in find_all(func, cst.Call) if _ours(c)]
            left = [(n, c) for n, c in enumerate(ours) if id(c) not in direct and _innermost(func, c) is func]
            for number, call in left:
                _take_off(file, func, call, number, file.noted.get(self.NAME, {}), edits)
            if left:
                for decorated in func.decorators:
                    if is_tracking(decorated) and isinstance(decorated.decorator, cst.Call):
                        edits.remove(decorated)
                sites.applied.append(f"{qualname(file.module, func)}() no longer calls LiteLLM itself: llmfix's timeout, fallbacks and health taken off it")


def _added(arg: cst.Arg) -> bool:
    """True for an argument llmfix added (a keyword of ADDED set by the support module)."""
    return arg.keyword is not None and arg.keyword.value in ADDED and support.is_call(arg.value)


def _ours(call: cst.Call) -> bool:
    return any(map(_added, call.args))


def _take_off(file: FileContext, func: cst.FunctionDef, call: cst.Call, number: int, noted: dict[str, object], edits: Edits) -> None:
    """The statement of ``call`` as upstream had it: llmfix's arguments out, its layout from the note's digest."""
    key = qualname(file.module, func) if number == 0 else f"{qualname(file.module, func)}#{number}"
    expected = notes.check_digest(noted[key]) if key in noted else None
    statement = statement_of(func, call)
    if statement is None:
        return
    indent, limit = indent_of(file.module, statement) or "", file.style.line_length
    build = lambda quote: rebuild(statement, {id(call): _without_arguments(call)}, {}, {})  # noqa: E731
    as_black = lambda built: wrapped(file.module, notes.unwrapped(notes.statement_code(built)), indent, limit)  # noqa: E731
    edits.replace_node(statement, notes.restored(statement, build, expected, file.style.quote, (as_black,)))
