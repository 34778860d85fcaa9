"""5 fallback: the primary endpoint refuses; LITELLM_FALLBACK_MODELS names a model on an endpoint of its own (5j: a judge's)."""

from __future__ import annotations

import json

from llmfix.verify import expect
from llmfix.verify.scenarios import Case, Context, Observation, Problem, Scenario, Step, each

FALLBACK_KEY = "sk-llmfix-verify-fallback"


class Fallback(Scenario):
    NUMBER = 5
    NAME = "fallback"
    SUMMARY = "dead primary; a LITELLM_FALLBACK_MODELS object with its own api_base answers (a judge's call too)"
    FIXES = ("fallbacks", "judge")

    def build(self, context: Context) -> list[Case]:
        s = context.settings

        def case(case_id: str, steps: list[Step]) -> Case:
            fallbacks = json.dumps([{"model": context.model(case_id, "fallback"), "api_base": "$fallback", "api_key": FALLBACK_KEY}])
            answered = each(steps, lambda obs, step: expect.answers(obs, step, "fallbacks", "a dead primary with LITELLM_FALLBACK_MODELS set", fallback=True))

            def evaluate(obs: Observation) -> list[Problem]:
                problems = answered(obs)
                if steps and not obs.extra_attempts.get("fallback"):
                    problems.append(("fallbacks", "the fallback endpoint saw no request (LITELLM_FALLBACK_MODELS not used)"))
                return problems

            limit = s.passing_limit + 2 * s.failing_call_bound(False) + (context.judge_bound() if context.judges and case_id.endswith("j") else 0)
            return Case(case_id, self.NAME, "primary refused, fallback up", context.outcomes(steps, "fallback text", "dict", "fallback's score"),
                        steps, evaluate, limit=limit, env={"OPENAI_API_BASE": "$dead_base", "LITELLM_FALLBACK_MODELS": fallbacks})

        return self.with_judge(context, case)
