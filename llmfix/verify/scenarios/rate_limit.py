"""4 rate-limit: one 429 with Retry-After, then answers; every call waits, retries, succeeds."""

from __future__ import annotations

from llmfix.verify import expect
from llmfix.verify.scenarios import (
    Case,
    Context,
    Endpoint,
    Observation,
    Problem,
    Scenario,
)


class RateLimit(Scenario):
    NUMBER = 4
    NAME = "rate-limit"
    SUMMARY = "one 429 with Retry-After: retried, succeeds"
    FIXES = ("retries",)

    def build(self, context: Context) -> list[Case]:
        s = context.settings
        steps = context.callers(self.case_id())

        def evaluate(obs: Observation) -> list[Problem]:
            problems: list[Problem] = []
            for step in steps:
                problems += expect.answers(obs, step, "retries", "a 429 with Retry-After")
                problems += expect.exact_attempts(obs, step, 2, "retries")
            return problems

        return [
            Case(self.case_id(), self.NAME, f"429, Retry-After {s.retry_after:g}s, then ok", "succeeds; 2 attempts each", steps, evaluate,
                 limit=s.retry_after + s.failing_call_bound(False) + 5, env={"LITELLM_PRECHECK": "0"}, endpoint=Endpoint(("429",))),
        ]
