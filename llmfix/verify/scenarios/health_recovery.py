"""15 health-recovery: an outage, then the endpoint recovers; the alarm clears with the window.

A full window of failures makes the generator raise LiteLLMDegradedError (the run is told,
as it should be); it keeps raising while more than LITELLM_MAX_FAILURE_RATE of its last
LITELLM_FAILURE_WINDOW calls failed, successful ones included, and stops as soon as the good
calls bring the window's rate down to it.
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
    SUMMARY = "an outage, then recovery: LiteLLMDegradedError while the window's failure rate is too high, none once it falls"
    FIXES = ("health",)

    def build(self, context: Context) -> list[Case]:
        s = context.settings
        case_id = self.case_id()
        plan = health.outage_then_recovery(s.failure_window)
        steps = health.repeated(context.callers(case_id), plan)

        def evaluate(obs: Observation) -> list[Problem]:
            return health.alarm_problems(obs, steps, plan)

        failing = plan.count(health.FAILURE)
        due = health.describe_alarms(health.alarms_due(plan, s.failure_window, s.max_failure_rate))
        return [
            Case(case_id, self.NAME, f"{failing} calls 500, then {len(plan) - failing} ok", f"generator raises on {due}, then not",
                 steps, evaluate, limit=15, env=health.env(s, failing=True, rate=True, interval=False), endpoint=Endpoint(plan),
                 report=health.REPORT),
        ]
