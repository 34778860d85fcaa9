"""Scenarios 12-15: the ``health`` fix from outside; a summary falls due when the last call comes LITELLM_HEALTH_INTERVAL after the others."""

from __future__ import annotations

from llmfix.verify import expect, health
from llmfix.verify.scenarios import BASICS, Case, Endpoint, Observation, Problem, Scenario, Step, each, unit

WHY = "a healthy endpoint"


def answered(obs: Observation, step: Step) -> list[Problem]:
    gone = health.unfinished(obs, step)
    problems = (gone or expect.answers(obs, step, BASICS, WHY)) + health.never_degraded(obs, step, f"on {WHY}")
    return problems + (health.figures(obs, step, (health.OK, health.OK)) if not gone else [])


@unit(12, "health-healthy", ("health", "judge"),
      "a healthy endpoint: one INFO 'LiteLLM health' line per function and model each LITELLM_HEALTH_INTERVAL; no alarm")
def health_healthy(sc: Scenario) -> list[Case]:
    s = sc.settings
    plan = (health.OK, health.OK)

    def case(letter: str, calls: list[Step]) -> Case:
        steps = health.repeated(calls, plan, pause=s.health_interval + health.PAUSE_SLACK)
        per_step = each(steps, answered)

        def evaluate(obs: Observation) -> list[Problem]:
            return per_step(obs) + health.lane_summaries(obs, "INFO", s.health_interval, cause=False)

        return sc.case(letter, f"healthy, {health.INTERVAL}={s.health_interval:g}s", "1 INFO line per function+model; no alarm", steps, evaluate,
                       s.calls_limit(len(plan), s.health_interval), env=health.env(s, failing=False, rate=True, interval=True),
                       keep_lines=health.LINE_PREFIX, report=True)

    return sc.with_judge(case)


def alarm_case(sc: Scenario, plan: tuple[str, ...], title: str, expected: str) -> Case:
    """The calls answered as ``plan`` says, the rate set: the generator raises on the calls due (``{due}`` in ``expected``)."""
    s = sc.settings
    steps = health.repeated(sc.callers(), plan)
    due = health.describe_alarms(health.alarms_due(plan, s.failure_window, s.max_failure_rate))
    return sc.case("", title, expected.format(due=due), steps, lambda obs: health.alarm_problems(obs, steps, plan), s.calls_limit(len(plan)),
                   env=health.env(s, failing=True, rate=True, interval=False), endpoint=Endpoint(plan), report=True)


@unit(13, "health-alarm", ("health",),
      "60% of calls fail: past LITELLM_MAX_FAILURE_RATE over LITELLM_FAILURE_WINDOW calls, the generator raises LiteLLMDegradedError on a failed call")
def health_alarm(sc: Scenario) -> list[Case]:
    s = sc.settings
    title = f"3 of 5 calls 500, window {s.failure_window}, rate {s.max_failure_rate:g}"
    return [alarm_case(sc, health.intermittent(s.failure_window + 3), title, "generator raises on {due}; helpers never")]


@unit(14, "health-unset", ("health",), "60% of calls fail, LITELLM_MAX_FAILURE_RATE unset: WARNING 'LiteLLM health' lines naming the cause, never an alarm")
def health_unset(sc: Scenario) -> list[Case]:
    s = sc.settings
    plan = health.intermittent(s.failure_window + 3)
    steps = health.repeated(sc.callers(), plan, pause=s.health_interval + health.PAUSE_SLACK)
    per_step = each(steps, health.unfinished, lambda obs, step: health.never_degraded(obs, step, f"with {health.MAX_RATE} unset (it must only log)"),
                    lambda obs, step: health.figures(obs, step, plan))

    def evaluate(obs: Observation) -> list[Problem]:
        return per_step(obs) + health.lane_summaries(obs, "WARNING", s.health_interval, cause=True)

    return [sc.case("", f"3 of 5 calls 500, {health.MAX_RATE} unset", "WARNING lines naming the cause; never raises", steps, evaluate,
                    s.calls_limit(len(plan), s.health_interval), env=health.env(s, failing=True, rate=False, interval=True),
                    endpoint=Endpoint(plan), keep_lines=health.LINE_PREFIX, report=True)]


@unit(15, "health-recovery", ("health",),
      "an outage, then recovery: LiteLLMDegradedError on failures while the window's failure rate is too high, none once it falls")
def health_recovery(sc: Scenario) -> list[Case]:
    window = sc.settings.failure_window
    plan = health.outage_then_recovery(window)
    return [alarm_case(sc, plan, f"{window} calls 500, ok, 500, {window - 1} ok, 500", f"generator raises on {{due}}, not on call {len(plan)}")]
