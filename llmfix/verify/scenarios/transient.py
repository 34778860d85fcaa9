"""2 transient: the first N connections are reset; every call is retried and succeeds."""

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


class Transient(Scenario):
    NUMBER = 2
    NAME = "transient"
    SUMMARY = "the first LITELLM_NUM_RETRIES attempts are reset: retried, succeeds"
    FIXES = ("retries",)

    def build(self, context: Context) -> list[Case]:
        k = context.settings.retries
        steps = context.callers(self.case_id())

        def evaluate(obs: Observation) -> list[Problem]:
            problems: list[Problem] = []
            for step in steps:
                problems += expect.answers(obs, step, "retries", f"{k} dropped connection(s)")
                problems += expect.exact_attempts(obs, step, k + 1, "retries")
            return problems

        return [
            Case(self.case_id(), self.NAME, f"{k} connection resets, then ok", f"succeeds; {k + 1} attempts each", steps, evaluate,
                 limit=context.settings.failing_call_bound(False) + 8, env={"LITELLM_PRECHECK": "0"}, endpoint=Endpoint(("drop",) * k)),
        ]
