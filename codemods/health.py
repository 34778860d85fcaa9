"""health: the patched code says when the reward is going bad, and can stop the run.

Why: retries, fallbacks and the precheck make each call sturdier, but a mid-run
outage or a slowly failing proxy still turns into thousands of empty rubrics and
zero-scored judgements, one warning line at a time, which nobody reads.

Every LiteLLM helper and the rubric generator records each call's outcome (ok, empty
answer, failed with its root cause, answered by a fallback) in one small per-process
structure: thread- and event-loop-safe, constant memory. Every
LITELLM_HEALTH_INTERVAL seconds (300) with activity, one summary line per function
and model goes to the module's logger, e.g.::

    LiteLLM health, last 300 s: generate_instance_wise_adaptive_rubrics gpt-4.1: 812 ok, 37 failed (4.4%, InternalServerError: Connection error via proxy http://proxy:8888), 12 answered by fallback gpt-4.1-mini

``litellm_health()`` returns the same figures as a dict, for a trainer's metrics. With
LITELLM_MAX_FAILURE_RATE set (say 0.2) and at least LITELLM_FAILURE_WINDOW calls (100)
seen, the rubric generator raises ``LiteLLMDegradedError`` once the failure rate over
the window exceeds it, naming the rate, the dominant error, the endpoint and the proxy.
Unset, it only logs.

Before::

    async def run_litellm_async(model_name, user_prompt=None, **chat_kwargs):

After::

    @_litellm_tracked("run_litellm_async")
    async def run_litellm_async(model_name, user_prompt=None, **chat_kwargs):

and the generator gets ``@_litellm_tracked("generate_instance_wise_adaptive_rubrics",
raise_on_degraded=True)``, imported from where its helper comes from.
"""

from __future__ import annotations

import libcst as cst

from llmfix.codemods._sibling import Unreachable, reach
from llmfix.codemods.analysis.generator import find_generators
from llmfix.codemods.analysis.helpers import content_helpers, find_litellm_calls
from llmfix.codemods.analysis.nodes import callee_name
from llmfix.codemods.analysis.scopes import module_bindings
from llmfix.codemods.building import string
from llmfix.codemods.context import FileContext
from llmfix.codemods.edits import Edits
from llmfix.codemods.transform import ALREADY_PRESENT, APPLIED, Change, Example, Outcome, Sites, Transform

TRACKED = "_litellm_tracked"


def _uses_bare_name(function: cst.FunctionDef) -> bool:
    return any(isinstance(d.decorator, cst.Call) and isinstance(d.decorator.func, cst.Name) and d.decorator.func.value == TRACKED for d in function.decorators)


def _tracked(function: cst.FunctionDef) -> bool:
    return any(
        isinstance(d.decorator, cst.Call) and callee_name(d.decorator) == TRACKED for d in function.decorators
    )


class HealthTransform(Transform):
    NAME = "health"
    SUMMARY = "count call outcomes; log a health line per interval; optionally stop on a failure rate"
    ORDER = 60
    AFTER = ("guards",)
    RUNTIME = ("health",)
    EXAMPLES = (
        Example(
            "a helper records the outcome of every call",
            """
            import litellm


            async def run_litellm_async(model_name, user_prompt=None, **chat_kwargs):
                response = await litellm.acompletion(model=model_name, messages=[], **chat_kwargs)
                return response.choices[0].message.content
            """,
            """
            import collections
            import contextvars
            import functools
            import inspect
            import logging
            import os
            import re
            import threading
            import time

            import litellm

            logger = logging.getLogger(__name__)


            __RUNTIME__


            @_litellm_tracked("run_litellm_async")
            async def run_litellm_async(model_name, user_prompt=None, **chat_kwargs):
                response = await litellm.acompletion(model=model_name, messages=[], **chat_kwargs)
                return response.choices[0].message.content
            """,
            APPLIED,
        ),
        Example(
            "the generator can stop the run when the failure rate is too high",
            """
            from open_instruct.rubrics.run_utils import extract_json_from_response, run_litellm_async


            async def generate(question, model_name="gpt-4.1"):
                resp = await run_litellm_async(model_name=model_name, user_prompt=question)
                return extract_json_from_response(resp)
            """,
            """
            from open_instruct.rubrics.run_utils import _litellm_tracked, extract_json_from_response, run_litellm_async


            @_litellm_tracked("generate", raise_on_degraded=True)
            async def generate(question, model_name="gpt-4.1"):
                resp = await run_litellm_async(model_name=model_name, user_prompt=question)
                return extract_json_from_response(resp)
            """,
            APPLIED,
            siblings={"open_instruct.rubrics.run_utils": ("_litellm_tracked", "extract_json_from_response", "run_litellm_async")},
        ),
        Example(
            "already tracked: left alone",
            """
            from open_instruct.rubrics.run_utils import _litellm_tracked, extract_json_from_response, run_litellm_async


            @_litellm_tracked("generate", raise_on_degraded=True)
            async def generate(question, model_name="gpt-4.1"):
                resp = await run_litellm_async(model_name=model_name, user_prompt=question)
                return extract_json_from_response(resp)
            """,
            None,
            ALREADY_PRESENT,
            siblings={"open_instruct.rubrics.run_utils": ("_litellm_tracked", "extract_json_from_response", "run_litellm_async")},
        ),
    )

    def plan(self, file: FileContext, edits: Edits) -> Outcome:
        sites = Sites()
        direct = {id(c.function): c.function for c in find_litellm_calls(file.module)}
        helpers = {**direct, **{id(f): f for f in content_helpers(file.module)}}
        tracked_here = []
        for function in helpers.values():
            if _tracked(function):
                sites.present.append(f"{function.name.value}() is tracked")
                continue
            edits.add_decorator(function, self._decorator(file, cst.Name(TRACKED), function, False))
            tracked_here.append(f"{function.name.value}()")
        if tracked_here:
            edits.need_runtime(*self.RUNTIME)
            verb = "records" if len(tracked_here) == 1 else "record"
            sites.applied.append(f"{', '.join(tracked_here)} {verb} each call's outcome")
        for site in find_generators(file.module):
            where = f"{site.function.name.value}()"
            if _tracked(site.function):
                if TRACKED in module_bindings(file.module) or not _uses_bare_name(site.function):
                    sites.present.append(f"{where} is tracked")
                    continue
                try:
                    reach(file, site, TRACKED, edits)  # the decorator survived a merge that dropped its import
                except Unreachable as problem:
                    sites.missing.append(f"{where}: is decorated with {TRACKED} but does not import it, and {problem}; apply the rest with `--skip health`")
                    continue
                sites.applied.append(f"{where}: the import of {TRACKED} its decorator uses is back")
                continue
            try:
                tracked = reach(file, site, TRACKED, edits)
            except Unreachable as problem:
                sites.missing.append(f"{where}: {problem}; apply the rest with `--skip health`")
                continue
            edits.add_decorator(site.function, self._decorator(file, tracked, site.function, True))
            sites.applied.append(f"{where} records each rubric generation and raises LiteLLMDegradedError past LITELLM_MAX_FAILURE_RATE")
            sites.changes.append(
                Change(
                    f"{where}: rubric generations are counted and a health line is logged every LITELLM_HEALTH_INTERVAL "
                    "seconds (300); with LITELLM_MAX_FAILURE_RATE set it raises LiteLLMDegradedError when more than that "
                    "share of the last LITELLM_FAILURE_WINDOW (100) generations failed (unset: it only logs)"
                )
            )
        return sites.outcome("no LiteLLM helper and no rubric generator")

    @staticmethod
    def _decorator(file: FileContext, callee: cst.BaseExpression, function: cst.FunctionDef, loud: bool) -> cst.Decorator:
        args = [cst.Arg(string(function.name.value, file.style.quote))]
        if loud:
            args.append(cst.Arg(cst.Name("True"), keyword=cst.Name("raise_on_degraded"), equal=cst.AssignEqual(cst.SimpleWhitespace(""), cst.SimpleWhitespace(""))))
        return cst.Decorator(cst.Call(callee, args=[a.with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))) if i < len(args) - 1 else a for i, a in enumerate(args)]))
