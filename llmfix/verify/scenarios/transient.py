"""2 transient: the first N connections are reset; every call is retried and succeeds (a judge's too)."""

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


class Transient(Scenario):
    NUMBER = 2
    NAME = "transient"
    SUMMARY = "the first LITELLM_NUM_RETRIES attempts are reset: retried, succeeds"
    FIXES = ("retries", "judge")

    def build(self, context: Context) -> list[Case]:
        k = context.settings.retries

        def case(case_id: str, steps: list[Step]) -> Case:
            def evaluate(obs: Observation) -> list[Problem]:
                problems: list[Problem] = []
                for step in steps:
                    problems += expect.answers(obs, step, "retries", f"{k} dropped connection(s)")
                    problems += expect.exact_attempts(obs, step, k + 1, "retries")
                return problems

            return Case(case_id, self.NAME, f"{k} connection resets, then ok", f"succeeds; {k + 1} attempts each", steps, evaluate,
                        limit=context.settings.passing_limit, env={"LITELLM_PRECHECK": "off"}, endpoint=Endpoint(("drop",) * k))

        return [case(self.case_id(), context.callers(self.case_id())),
                *context.judge_case(self.case_id("j"), lambda steps: case(self.case_id("j"), steps))]
