"""7 empty: content "", content null, no choices; helpers return "", generators None with one warning."""

from __future__ import annotations

from llmfix.verify import expect
from llmfix.verify.scenarios import (
    Case,
    Context,
    Endpoint,
    Evaluator,
    Observation,
    Problem,
    Scenario,
    Step,
)

SHAPES = (("a", "empty", 'content ""'), ("b", "null", "content: null"), ("c", "nochoices", "choices: []"))


def _evaluator(steps: list[Step], why: str) -> Evaluator:
    def evaluate(obs: Observation) -> list[Problem]:
        return [p for step in steps for p in expect.empty(obs, step, "guards", why)]

    return evaluate


class Empty(Scenario):
    NUMBER = 7
    NAME = "empty"
    SUMMARY = 'empty content, null content, no choices: "" / None with a warning, nothing raises'
    FIXES = ("guards",)

    def build(self, context: Context) -> list[Case]:
        cases = []
        for letter, behaviour, why in SHAPES:
            case_id = self.case_id(letter)
            steps = context.callers(case_id)
            cases.append(Case(case_id, self.NAME, why, context.outcomes(steps, '""', "None + 1 warning"), steps, _evaluator(steps, why),
                              limit=context.settings.passing_limit, env={"LITELLM_PRECHECK": "off"}, endpoint=Endpoint(then=behaviour)))
        return cases
