"""14 health-unset: the same failures with LITELLM_MAX_FAILURE_RATE unset: WARNING lines naming the cause, never an alarm.

The last call comes LITELLM_HEALTH_INTERVAL seconds after the others, so a summary is due.
"""

from __future__ import annotations

from llmfix.verify import health
from llmfix.verify.scenarios import Case, Context, Endpoint, Observation, Problem, Scenario, each


class HealthUnset(Scenario):
    NUMBER = 14
    NAME = "health-unset"
    SUMMARY = "60% of calls fail, LITELLM_MAX_FAILURE_RATE unset: WARNING 'LiteLLM health' lines naming the cause, never an alarm"
    FIXES = ("health",)

    def build(self, context: Context) -> list[Case]:
        s = context.settings
        plan = health.intermittent(s.failure_window + 3)
        steps = health.repeated(context.callers(self.case_id()), plan, pause=s.health_interval + health.PAUSE_SLACK)
        per_step = each(steps, health.unfinished, lambda obs, step: health.never_degraded(obs, step, f"with {health.MAX_RATE} unset (it must only log)"),
                        lambda obs, step: health.figures(obs, step, plan))

        def evaluate(obs: Observation) -> list[Problem]:
            return per_step(obs) + health.lane_summaries(obs, "WARNING", s.health_interval, cause=True)

        return [
            Case(self.case_id(), self.NAME, f"3 of 5 calls 500, {health.MAX_RATE} unset", "WARNING lines naming the cause; never raises",
                 steps, evaluate, limit=s.calls_limit(len(plan), s.health_interval), env=health.env(s, failing=True, rate=False, interval=True),
                 endpoint=Endpoint(plan), keep_lines=health.LINE_PREFIX, report=True),
        ]
