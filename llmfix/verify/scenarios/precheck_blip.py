"""10 precheck-blip: one transient failure during the connection check, then healthy: the check passes.

The precheck retries what may pass (a reset, 408/409/429/5xx, obeying Retry-After) within
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

BLIPS = (("a", "500", "one 500, then ok"), ("b", "drop", "one connection reset, then ok"), ("c", "429", "one 429 + Retry-After, then ok"))


def _evaluator(step: Step, what: str, bound: float) -> Evaluator:
    def evaluate(obs: Observation) -> list[Problem]:
        problems = expect.answers(obs, step, "precheck", f"{what} during the check (a blip: it must retry)")
        problems += expect.exact_attempts(obs, step, 2, "precheck")
        return problems + expect.within(obs, step, bound, "precheck", what)

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
            step = context.ensure(self.case_id(letter))
            cases.append(Case(self.case_id(letter), self.NAME, title, "passes; 2 requests", [step], _evaluator(step, title.split(",")[0], bound),
                              limit=bound + 5, endpoint=Endpoint((behaviour,))))
        return cases
