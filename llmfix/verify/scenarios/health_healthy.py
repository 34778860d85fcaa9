"""12 health-healthy: every call answers; one INFO summary line per function and model, no alarm (12j: a judge's).

The second call of each function comes LITELLM_HEALTH_INTERVAL seconds after the first, which
makes the summary due: one line for every function and model called, nested ones included.
"""

from __future__ import annotations

from llmfix.verify import expect, health
from llmfix.verify.scenarios import BASICS, Case, Context, Observation, Problem, Scenario, Step, each

WHY = "a healthy endpoint"


def answered(obs: Observation, step: Step) -> list[Problem]:
    gone = health.unfinished(obs, step)
    problems = (gone or expect.answers(obs, step, BASICS, WHY)) + health.never_degraded(obs, step, f"on {WHY}")
    return problems + (health.figures(obs, step, (health.OK, health.OK)) if not gone else [])


class HealthHealthy(Scenario):
    NUMBER = 12
    NAME = "health-healthy"
    SUMMARY = "a healthy endpoint: one INFO 'LiteLLM health' line per function and model each LITELLM_HEALTH_INTERVAL; no alarm"
    FIXES = ("health", "judge")

    def build(self, context: Context) -> list[Case]:
        s = context.settings
        plan = (health.OK, health.OK)

        def case(case_id: str, calls: list[Step]) -> Case:
            steps = health.repeated(calls, plan, pause=s.health_interval + health.PAUSE_SLACK)
            per_step = each(steps, answered)

            def evaluate(obs: Observation) -> list[Problem]:
                return per_step(obs) + health.lane_summaries(obs, "INFO", s.health_interval, cause=False)

            return Case(case_id, self.NAME, f"healthy, {health.INTERVAL}={s.health_interval:g}s", "1 INFO line per function+model; no alarm",
                        steps, evaluate, limit=s.calls_limit(len(plan), s.health_interval), env=health.env(s, failing=False, rate=True, interval=True),
                        keep_lines=health.LINE_PREFIX, report=True)

        return self.with_judge(context, case)
