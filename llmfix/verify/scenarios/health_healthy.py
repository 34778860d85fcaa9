"""12 health-healthy: every call answers; one INFO summary line per function and model, no alarm (12j: a judge's).

Each function is called twice, the second call LITELLM_HEALTH_INTERVAL seconds after the
first: the first call after the interval makes the summary due, so every function and
model called (the generator's nested helper call included) gets exactly one line.
"""

from __future__ import annotations

from llmfix.verify import expect, health
from llmfix.verify.scenarios import (
    BASICS,
    Case,
    Context,
    Observation,
    Problem,
    Scenario,
    Step,
)


class HealthHealthy(Scenario):
    NUMBER = 12
    NAME = "health-healthy"
    SUMMARY = "a healthy endpoint: one INFO 'LiteLLM health' line per function and model each LITELLM_HEALTH_INTERVAL; no alarm"
    FIXES = ("health", "judge")

    def build(self, context: Context) -> list[Case]:
        s = context.settings
        plan = (health.OK, health.OK)
        why = "a healthy endpoint"

        def case(case_id: str, calls: list[Step]) -> Case:
            steps = health.repeated(calls, plan, pause=s.health_interval + health.PAUSE_SLACK)

            def evaluate(obs: Observation) -> list[Problem]:
                problems: list[Problem] = []
                for step in steps:
                    gone = health.unfinished(obs, step)
                    problems += gone or expect.answers(obs, step, BASICS, why)
                    problems += health.never_degraded(obs, step, f"on {why}")
                    problems += health.figures(obs, step, plan) if not gone else []
                for lane in obs.case.lanes():
                    problems += health.summary_lines(obs, lane, "INFO", health.one_interval(obs, lane, s.health_interval), cause=False)
                return problems

            return Case(case_id, self.NAME, f"healthy, {health.INTERVAL}={s.health_interval:g}s", "1 INFO line per function+model; no alarm",
                        steps, evaluate, limit=s.calls_limit(len(plan), s.health_interval), env=health.env(s, failing=False, rate=True, interval=True),
                        keep_lines=health.LINE_PREFIX, report=True)

        return [case(self.case_id(), context.callers(self.case_id())),
                *context.judge_case(self.case_id("j"), lambda steps: case(self.case_id("j"), steps))]
