"""10 precheck-blip: one transient failure (a reset, a 5xx, a 429 with Retry-After) during the connection check:
retried within LITELLM_PRECHECK_TIMEOUT, the check passes; only a definitive failure raises."""

from __future__ import annotations

from llmfix.verify import expect
from llmfix.verify.scenarios import Case, Context, Endpoint, Observation, Problem, Scenario, Step, each
from llmfix.verify.scenarios.precheck import needs_generator

BLIPS = (("a", "500", "one 500, then ok"), ("b", "drop", "one connection reset, then ok"), ("c", "429", "one 429 + Retry-After, then ok"))


class PrecheckBlip(Scenario):
    NUMBER = 10
    NAME = "precheck-blip"
    SUMMARY = "one transient 500, reset or 429 during the connection check: retried within LITELLM_PRECHECK_TIMEOUT, passes"
    FIXES = ("precheck",)

    def build(self, context: Context) -> list[Case]:
        bound = context.settings.precheck_timeout_passing + context.settings.slack
        cases = []
        for letter, behaviour, title in BLIPS:
            what = title.split(",")[0]

            def check(obs: Observation, step: Step, what: str = what) -> list[Problem]:
                return (expect.answers(obs, step, "precheck", f"{what} during the check (a blip: it must retry)")
                        + expect.checks(obs, step, 2, "the blip, then its retry") + expect.within(obs, step, bound, "precheck", what))

            steps = context.generators(self.case_id(letter))
            cases.append(needs_generator(Case(self.case_id(letter), self.NAME, title, "rubric; 2 checks", steps, each(steps, check),
                                              limit=bound + 5, endpoint=Endpoint((behaviour,)))))
        return cases
