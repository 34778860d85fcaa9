"""13 health-alarm: 3 of every 5 calls fail; the rubric generator raises LiteLLMDegradedError.

With LITELLM_MAX_FAILURE_RATE and a small LITELLM_FAILURE_WINDOW set, the generator raises
(outside its own try: the error reaches the caller) on each failed call once the window is
full and its failure rate above the limit, naming the cause and the endpoint; never on a call
that was answered. The helpers, tracked without the alarm, never raise it. (A judge's alarm:
3k of persistent-500.)
"""

from __future__ import annotations

from llmfix.verify import health
from llmfix.verify.scenarios import (
    Case,
    Context,
    Endpoint,
    Observation,
    Problem,
    Scenario,
)


class HealthAlarm(Scenario):
    NUMBER = 13
    NAME = "health-alarm"
    SUMMARY = "60% of calls fail: past LITELLM_MAX_FAILURE_RATE over LITELLM_FAILURE_WINDOW calls, the generator raises LiteLLMDegradedError on a failed call"
    FIXES = ("health",)

    def build(self, context: Context) -> list[Case]:
        s = context.settings
        case_id = self.case_id()
        plan = health.intermittent(s.failure_window + 3)
        steps = health.repeated(context.callers(case_id), plan)

        def evaluate(obs: Observation) -> list[Problem]:
            return health.alarm_problems(obs, steps, plan)

        due = health.describe_alarms(health.alarms_due(plan, s.failure_window, s.max_failure_rate))
        return [
            Case(case_id, self.NAME, f"3 of 5 calls 500, window {s.failure_window}, rate {s.max_failure_rate:g}",
                 f"generator raises on {due}; helpers never", steps, evaluate, limit=s.calls_limit(len(plan)),
                 env=health.env(s, failing=True, rate=True, interval=False), endpoint=Endpoint(plan), report=True),
        ]
