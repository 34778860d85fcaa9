"""15 health-recovery: an outage, then the endpoint recovers; the alarm clears with the window.

A full window of failures, and a failure right after one good call, raise LiteLLMDegradedError;
once good calls have brought the window's failure rate down, a failure does not.
"""

from __future__ import annotations

from llmfix.verify import health
from llmfix.verify.scenarios import Case, Context, Scenario
from llmfix.verify.scenarios.health_alarm import alarm_case


class HealthRecovery(Scenario):
    NUMBER = 15
    NAME = "health-recovery"
    SUMMARY = "an outage, then recovery: LiteLLMDegradedError on failures while the window's failure rate is too high, none once it falls"
    FIXES = ("health",)

    def build(self, context: Context) -> list[Case]:
        window = context.settings.failure_window
        plan = health.outage_then_recovery(window)
        title = f"{window} calls 500, ok, 500, {window - 1} ok, 500"
        return [alarm_case(self, context, plan, title, f"generator raises on {{due}}, not on call {len(plan)}")]
