"""7 empty: content "", content null, no choices; helpers return "", generators None with one warning."""

from __future__ import annotations

from llmfix.verify import expect
from llmfix.verify.scenarios import Case, Context, Endpoint, Scenario, each

SHAPES = (("a", "empty", 'content ""'), ("b", "null", "content: null"), ("c", "nochoices", "choices: []"))


class Empty(Scenario):
    NUMBER = 7
    NAME = "empty"
    SUMMARY = 'empty content, null content, no choices: "" / None with a warning, nothing raises'
    FIXES = ("guards",)

    def build(self, context: Context) -> list[Case]:
        cases = []
        for letter, behaviour, why in SHAPES:
            steps = context.callers(self.case_id(letter))
            evaluate = each(steps, lambda obs, step, why=why: expect.empty(obs, step, "guards", why))
            cases.append(Case(self.case_id(letter), self.NAME, why, context.outcomes(steps, '""', "None + 1 warning"), steps, evaluate,
                              limit=context.settings.passing_limit, env={"LITELLM_PRECHECK": "off"}, endpoint=Endpoint(then=behaviour)))
        return cases
