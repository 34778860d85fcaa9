"""1 healthy: the endpoint answers; helpers return the text, generators the parsed rubric, judges a score."""

from __future__ import annotations

from llmfix.verify import expect
from llmfix.verify.scenarios import (
    BASICS,
    Case,
    Context,
    Observation,
    Problem,
    Scenario,
    Step,
)


class Healthy(Scenario):
    NUMBER = 1
    NAME = "healthy"
    SUMMARY = "the helpers return the text; the generators return the parsed rubric; the judges score the answer"

    def build(self, context: Context) -> list[Case]:
        def case(case_id: str, steps: list[Step]) -> Case:
            def evaluate(obs: Observation) -> list[Problem]:
                return [p for step in steps for p in expect.answers(obs, step, BASICS, "a healthy endpoint")]

            return Case(case_id, self.NAME, "healthy endpoint", context.outcomes(steps, "text", "rubric dict"), steps, evaluate, limit=context.settings.passing_limit)

        return [case(self.case_id(), context.callers(self.case_id())),
                *context.judge_case(self.case_id("j"), lambda steps: case(self.case_id("j"), steps))]
