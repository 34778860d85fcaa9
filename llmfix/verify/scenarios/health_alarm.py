"""13 health-alarm: 3 of every 5 calls fail; the rubric generator raises LiteLLMDegradedError.

Once the window is full and its failure rate above LITELLM_MAX_FAILURE_RATE, each failed call
raises (to the caller), naming the cause and the endpoint; an answered call never does, nor do
the helpers. (A judge's alarm: 3k of persistent-500.)
"""

from __future__ import annotations

from llmfix.verify import health
from llmfix.verify.scenarios import Case, Context, Endpoint, Scenario


def alarm_case(unit: Scenario, context: Context, plan: tuple[str, ...], title: str, expected: str) -> Case:
    """The calls answered as ``plan`` says, the rate set: the generator raises on the calls due (``{due}`` in ``expected``)."""
    s = context.settings
    steps = health.repeated(context.callers(unit.case_id()), plan)
    due = health.describe_alarms(health.alarms_due(plan, s.failure_window, s.max_failure_rate))
    return Case(unit.case_id(), unit.NAME, title, expected.format(due=due), steps, lambda obs: health.alarm_problems(obs, steps, plan),
                limit=s.calls_limit(len(plan)), env=health.env(s, failing=True, rate=True, interval=False), endpoint=Endpoint(plan), report=True)


class HealthAlarm(Scenario):
    NUMBER = 13
    NAME = "health-alarm"
    SUMMARY = "60% of calls fail: past LITELLM_MAX_FAILURE_RATE over LITELLM_FAILURE_WINDOW calls, the generator raises LiteLLMDegradedError on a failed call"
    FIXES = ("health",)

    def build(self, context: Context) -> list[Case]:
        s = context.settings
        title = f"3 of 5 calls 500, window {s.failure_window}, rate {s.max_failure_rate:g}"
        return [alarm_case(self, context, health.intermittent(s.failure_window + 3), title, "generator raises on {due}; helpers never")]
