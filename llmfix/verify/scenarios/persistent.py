"""3 persistent-500: every attempt is a 500; each function fails as its error contract says.

A raising helper raises once its N+1 attempts are spent; a swallowing one returns ""
and its module's logger names the error; generators return None with a warning (or
raise, when neither they nor the helper they await catch errors).
"""

from __future__ import annotations

from llmfix.verify import expect
from llmfix.verify.analysis import EITHER, RAISES
from llmfix.verify.scenarios import (
    Case,
    Context,
    Endpoint,
    Observation,
    Problem,
    Scenario,
    Step,
)

ERROR_WORDS = ["InternalServerError", "500"]


def outcome_word(step: Step) -> str:
    contract = step.target.contract if step.target else RAISES
    if contract == RAISES:
        return "raises"
    if contract == EITHER:
        return "raises or None"
    return "None" if step.is_generator else '""'


class PersistentError(Scenario):
    NUMBER = 3
    NAME = "persistent-500"
    SUMMARY = 'every attempt 500: retried, then each function fails as its contract says (raises, or "" / None and a log line)'
    FIXES = ("retries", "guards")

    def build(self, context: Context) -> list[Case]:
        s = context.settings
        n = s.retries
        steps = context.callers(self.case_id())
        why = "a persistent 500"

        def evaluate(obs: Observation) -> list[Problem]:
            problems: list[Problem] = []
            for step in steps:
                is_async = step.target.is_async if step.target else True
                problems += expect.fails(obs, step, "guards", why, ERROR_WORDS)
                problems += expect.attempts_between(obs, step, n + 1, s.max_attempts(is_async))
                problems += expect.within(obs, step, s.failing_call_bound(is_async), "retries", f"{why} with LITELLM_NUM_RETRIES={n}")
            return problems

        expected = f">= {n + 1} attempts; " + ", ".join(outcome_word(step) for step in steps)
        return [
            Case(self.case_id(), self.NAME, "500 on every attempt", expected, steps, evaluate,
                 limit=s.failing_call_bound(False) + 4, env={"LITELLM_PRECHECK": "0"}, endpoint=Endpoint(then="500")),
        ]
