"""1 healthy: the endpoint answers; helpers return the text, generators the parsed rubric."""

from __future__ import annotations

from llmfix.verify import expect
from llmfix.verify.scenarios import (
    BASICS,
    Case,
    Context,
    Observation,
    Problem,
    Scenario,
)


class Healthy(Scenario):
    NUMBER = 1
    NAME = "healthy"
    SUMMARY = "the helpers return the text; the generators return the parsed rubric"

    def build(self, context: Context) -> list[Case]:
        steps = context.callers(self.case_id())

        def evaluate(obs: Observation) -> list[Problem]:
            return [p for step in steps for p in expect.answers(obs, step, BASICS, "a healthy endpoint")]

        return [Case(self.case_id(), self.NAME, "healthy endpoint", context.outcomes(steps, "text", "rubric dict"), steps, evaluate, limit=20)]
