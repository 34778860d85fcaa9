"""1 healthy: the endpoint answers; helpers return the text, generators the parsed rubric, judges a score."""

from __future__ import annotations

from llmfix.verify import expect
from llmfix.verify.scenarios import BASICS, Case, Context, Scenario, Step, each


class Healthy(Scenario):
    NUMBER = 1
    NAME = "healthy"
    SUMMARY = "the helpers return the text; the generators return the parsed rubric; the judges score the answer"

    def build(self, context: Context) -> list[Case]:
        def case(case_id: str, steps: list[Step]) -> Case:
            return Case(case_id, self.NAME, "healthy endpoint", context.outcomes(steps, "text", "rubric dict"), steps,
                        each(steps, lambda obs, step: expect.answers(obs, step, BASICS, "a healthy endpoint")), limit=context.settings.passing_limit)

        return self.with_judge(context, case)
