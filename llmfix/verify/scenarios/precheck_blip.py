"""10 precheck-blip: one transient failure during the connection check, then healthy: the check passes.

The check retries what may pass (a reset, 408/409/429/5xx, obeying Retry-After) within
LITELLM_PRECHECK_TIMEOUT; only a definitive failure raises.
"""

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
from llmfix.verify.scenarios.precheck import skipped

BLIPS = (("a", "500", "one 500, then ok"), ("b", "drop", "one connection reset, then ok"), ("c", "429", "one 429 + Retry-After, then ok"))


def _evaluator(steps: list[Step], what: str, bound: float) -> Evaluator:
    def evaluate(obs: Observation) -> list[Problem]:
        problems: list[Problem] = []
        for step in steps:
            problems += expect.answers(obs, step, "precheck", f"{what} during the check (a blip: it must retry)")
            problems += expect.checks(obs, step, 2, "the blip, then its retry")
            problems += expect.within(obs, step, bound, "precheck", what)
        return problems

    return evaluate


class PrecheckBlip(Scenario):
    NUMBER = 10
    NAME = "precheck-blip"
    SUMMARY = "one transient 500, reset or 429 during the connection check: retried within LITELLM_PRECHECK_TIMEOUT, passes"
    FIXES = ("precheck",)

    def build(self, context: Context) -> list[Case]:
        s = context.settings
        bound = s.precheck_timeout_passing + s.slack
        cases = []
        for letter, behaviour, title in BLIPS:
            steps = context.generators(self.case_id(letter))
            cases.append(skipped(Case(self.case_id(letter), self.NAME, title, "rubric; 2 checks", steps, _evaluator(steps, title.split(",")[0], bound),
                                      limit=bound + 5, endpoint=Endpoint((behaviour,))), steps))
        return cases
