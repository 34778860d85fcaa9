"""4 rate-limit: one 429 with Retry-After, then answers; every call waits, retries, succeeds (a judge's too)."""

from __future__ import annotations

from llmfix.verify import expect
from llmfix.verify.scenarios import (
    Case,
    Context,
    Endpoint,
    Observation,
    Problem,
    Scenario,
    Step,
)


class RateLimit(Scenario):
    NUMBER = 4
    NAME = "rate-limit"
    SUMMARY = "one 429 with Retry-After: retried, succeeds"
    FIXES = ("retries", "judge")

    def build(self, context: Context) -> list[Case]:
        s = context.settings

        def case(case_id: str, steps: list[Step]) -> Case:
            def evaluate(obs: Observation) -> list[Problem]:
                problems: list[Problem] = []
                for step in steps:
                    problems += expect.answers(obs, step, "retries", "a 429 with Retry-After")
                    problems += expect.exact_attempts(obs, step, 2, "retries")
                return problems

            return Case(case_id, self.NAME, f"429, Retry-After {s.retry_after:g}s, then ok", "succeeds; 2 attempts each", steps, evaluate,
                        limit=s.passing_limit, env={"LITELLM_PRECHECK": "off"}, endpoint=Endpoint(("429",)))

        return [case(self.case_id(), context.callers(self.case_id())),
                *context.judge_case(self.case_id("j"), lambda steps: case(self.case_id("j"), steps))]
