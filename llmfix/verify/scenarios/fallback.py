"""5 fallback: the primary endpoint refuses; LITELLM_FALLBACK_MODELS names a model on an endpoint of its own."""

from __future__ import annotations

import json

from llmfix.verify import expect
from llmfix.verify.scenarios import Case, Context, Observation, Problem, Scenario

FALLBACK_KEY = "sk-llmfix-verify-fallback"


class Fallback(Scenario):
    NUMBER = 5
    NAME = "fallback"
    SUMMARY = "dead primary; a LITELLM_FALLBACK_MODELS object with its own api_base answers"
    FIXES = ("fallbacks",)

    def build(self, context: Context) -> list[Case]:
        case_id = self.case_id()
        steps = context.callers(case_id)
        fallbacks = json.dumps([{"model": context.model(case_id, "fallback"), "api_base": "$fallback", "api_key": FALLBACK_KEY}])

        def evaluate(obs: Observation) -> list[Problem]:
            problems: list[Problem] = []
            for step in steps:
                problems += expect.answers(obs, step, "fallbacks", "a dead primary with LITELLM_FALLBACK_MODELS set", fallback=True)
            if steps and not obs.extra_attempts.get("fallback"):
                problems.append(("fallbacks", "the fallback endpoint saw no request (LITELLM_FALLBACK_MODELS not used)"))
            return problems

        return [
            Case(case_id, self.NAME, "primary refused, fallback up", context.outcomes(steps, "fallback text", "dict"), steps, evaluate,
                 limit=2 * context.settings.failing_call_bound(False) + 5,
                 env={"OPENAI_API_BASE": "$dead_base", "LITELLM_FALLBACK_MODELS": fallbacks}),
        ]
