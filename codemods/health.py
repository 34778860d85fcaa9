"""health: the patched code says when the reward is going bad, and can stop the run.

Why: retries, fallbacks and the precheck make each call sturdier, but a mid-run
outage or a slowly failing proxy still turns into thousands of empty rubrics and
zero-scored judgements, one warning line at a time, which nobody reads.

Every LiteLLM helper and the rubric generator counts its calls' outcomes (ok, failed with
its root cause, empty); every LITELLM_HEALTH_INTERVAL seconds one line per function and
model goes to the log, ``litellm_utils.health()`` returns the figures, and with
LITELLM_MAX_FAILURE_RATE set the generator raises ``LiteLLMDegradedError`` once the failure
rate over the window exceeds it (docs/environment.md, "Knowing when the reward degrades").

Helpers get ``@litellm_utils.track_calls``, the generator ``@litellm_utils.track_calls(raise_on_degraded=True)``.
"""

from __future__ import annotations

import libcst as cst

from llmfix.codemods import support
from llmfix.codemods.analysis.generator import find_generators
from llmfix.codemods.analysis.helpers import content_helpers, find_litellm_calls
from llmfix.codemods.analysis.nodes import all_functions, dotted_name
from llmfix.codemods.building import expression
from llmfix.codemods.context import FileContext
from llmfix.codemods.edits import Edits
from llmfix.codemods.transform import Change, Example, Outcome, Sites, Transform

TRACK = f"{support.NAME}.track_calls"


def is_tracking(decorator: cst.Decorator) -> bool:
    """``@litellm_utils.track_calls`` or ``@litellm_utils.track_calls(...)``."""
    node = decorator.decorator
    return dotted_name(node.func if isinstance(node, cst.Call) else node) == TRACK


def tracked(function: cst.FunctionDef) -> bool:
    return any(map(is_tracking, function.decorators))


def decorator(file: FileContext, loud: bool) -> cst.Decorator:
    """``@litellm_utils.track_calls``, with ``(raise_on_degraded=True)`` when ``loud``."""
    return cst.Decorator(expression(f"{TRACK}(raise_on_degraded=True)" if loud else TRACK, file))


class HealthTransform(Transform):
    NAME = "health"
    SUMMARY = "count call outcomes; log a health line per interval; optionally stop on a failure rate"
    ORDER = 60
    AFTER = ("guards",)
    EXAMPLES = (
        Example.change(
            "a helper counts the outcome of every call",
            """
             import litellm

            +from open_instruct.rubrics import litellm_utils

            +
            +@litellm_utils.track_calls
             async def run_litellm_async(model_name, user_prompt=None, **chat_kwargs):
                 response = await litellm.acompletion(model=model_name, messages=[], **chat_kwargs)
                 return response.choices[0].message.content
            """,
        ),
        Example.change(
            "the generator can stop the run when the failure rate is too high",
            """
            +from open_instruct.rubrics import litellm_utils
             from open_instruct.rubrics.run_utils import extract_json_from_response, run_litellm_async


            +@litellm_utils.track_calls(raise_on_degraded=True)
             async def generate(question, model_name="gpt-4.1"):
                 resp = await run_litellm_async(model_name=model_name, user_prompt=question)
                 return extract_json_from_response(resp)
            """,
        ),
    )
    EXAMPLES += (EXAMPLES[1].unchanged("already tracked: left alone"),)

    def plan(self, file: FileContext, edits: Edits) -> Outcome:
        sites = Sites()
        helpers = {id(f): f for f in [*(c.function for c in find_litellm_calls(file.module)), *content_helpers(file.module)]}
        wanted = [(f, False) for f in helpers.values()] + [(site.function, True) for site in find_generators(file.module)]
        clash = file.support_clash()
        added = []
        for function, loud in wanted:
            where = f"{function.name.value}()"
            if tracked(function):
                sites.present.append(f"{where} is tracked")
            elif clash:
                sites.missing.append(f"{where}: {clash}; apply the rest with `--skip health`")
            else:
                edits.add_decorator(function, decorator(file, loud))
                edits.need_support()
                added.append(where)
                if loud:
                    sites.changes.append(
                        Change(
                            f"{where}: rubric generations are counted and a health line is logged every LITELLM_HEALTH_INTERVAL "
                            "seconds (300); with LITELLM_MAX_FAILURE_RATE set it raises LiteLLMDegradedError when more than that "
                            "share of the last LITELLM_FAILURE_WINDOW (100) generations failed (unset: it only logs)"
                        )
                    )
        if added:
            sites.applied.append(f"{', '.join(added)} {'counts' if len(added) == 1 else 'count'} each call's outcome")
        return sites.outcome("no LiteLLM helper and no rubric generator")

    def undo(self, file: FileContext, edits: Edits, noted: dict[str, object]) -> list[str]:
        for function in all_functions(file.module):
            for decorated in function.decorators:
                if is_tracking(decorated):
                    edits.remove(decorated)
        return []
