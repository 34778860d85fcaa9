"""4 rate-limit: one 429 with Retry-After, then answers; every call waits, retries, succeeds (a judge's too)."""

from __future__ import annotations

from llmfix.verify import expect
from llmfix.verify.scenarios import Case, Context, Endpoint, Scenario, Step, each


class RateLimit(Scenario):
    NUMBER = 4
    NAME = "rate-limit"
    SUMMARY = "one 429 with Retry-After: retried, succeeds"
    FIXES = ("retries", "judge")

    def build(self, context: Context) -> list[Case]:
        s = context.settings

        def case(case_id: str, steps: list[Step]) -> Case:
            evaluate = each(steps, lambda obs, step: expect.answers(obs, step, "retries", "a 429 with Retry-After"),
                            lambda obs, step: expect.exact_attempts(obs, step, 2, "retries"))
            return Case(case_id, self.NAME, f"429, Retry-After {s.retry_after:g}s, then ok", "succeeds; 2 attempts each", steps, evaluate,
                        limit=s.passing_limit, env={"LITELLM_PRECHECK": "off"}, endpoint=Endpoint(("429",)))

        return self.with_judge(context, case)
