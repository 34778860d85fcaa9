"""15 health-recovery: an outage, then the endpoint recovers; the alarm clears with the window.

A full window of failures makes the generator raise LiteLLMDegradedError (the run is told,
as it should be); a failure right after one good call still finds the window above
LITELLM_MAX_FAILURE_RATE and raises; once good calls have brought the window's rate down, a
failure no longer does (the alarm does not stick).
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


class HealthRecovery(Scenario):
    NUMBER = 15
    NAME = "health-recovery"
    SUMMARY = "an outage, then recovery: LiteLLMDegradedError on failures while the window's failure rate is too high, none once it falls"
    FIXES = ("health",)

    def build(self, context: Context) -> list[Case]:
        s = context.settings
        case_id = self.case_id()
        plan = health.outage_then_recovery(s.failure_window)
        steps = health.repeated(context.callers(case_id), plan)

        def evaluate(obs: Observation) -> list[Problem]:
            return health.alarm_problems(obs, steps, plan)

        due = health.describe_alarms(health.alarms_due(plan, s.failure_window, s.max_failure_rate))
        title = f"{s.failure_window} calls 500, ok, 500, {s.failure_window - 1} ok, 500"
        return [
            Case(case_id, self.NAME, title, f"generator raises on {due}, not on call {len(plan)}",
                 steps, evaluate, limit=s.calls_limit(len(plan)), env=health.env(s, failing=True, rate=True, interval=False), endpoint=Endpoint(plan),
                 report=True),
        ]
