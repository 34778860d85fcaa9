"""The health scenarios (12-15): their evaluators on constructed observations, then real runs.

The unit tests build what a run of a patched checkout would show (each call's outcome, the
kept ``LiteLLM health`` lines, the support module's ``health()`` dict) for the
drtulu-canonical fixture's functions, check the case passes, then take one behaviour out at
a time and check the case fails naming ``health``. The end-to-end tests read the session's
runs of the four scenarios through real litellm against the mock on patched, unpatched and
``--skip health`` copies.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from verify_support import analyse, by_group, group_of

from llmfix.verify import health, report, runner, scenarios
from llmfix.verify.cases import (
    ANSWER,
    RUBRIC,
    Case,
    Observation,
    Process,
    Settings,
    Step,
    StepResult,
)

REPO = Path(__file__).resolve().parents[2]
ENDPOINT = "http://127.0.0.1:9/scope/0-13-0/v1"
SETTINGS = Settings()
HEALTH = ("health-healthy", "health-alarm", "health-unset", "health-recovery")


@pytest.fixture(scope="module")
def built() -> dict[str, Case]:
    """The health cases for drtulu-canonical, by scenario name."""
    checkout = analyse(REPO / "fixtures" / "drtulu-canonical")
    chosen = scenarios.select(scenarios.build(SETTINGS, checkout), HEALTH)
    return {scenario.NAME: scenario.cases[0] for scenario in chosen}


def _plan(case: Case) -> tuple[str, ...]:
    repeat = case.steps[0].repeat
    if case.endpoint.each:
        return tuple(case.endpoint.each)[:repeat]
    return (health.OK,) * repeat


def _call(step: Step, number: int, answer: str, degraded: bool) -> StepResult:
    label = f"{step.label}#{number}"
    if degraded:
        message = (f"LiteLLM calls are failing: 3 of the last 5 calls of {step.name} failed\n"
                   f"  most often (3): InternalServerError: Error code: 500\n  endpoint {ENDPOINT} (OPENAI_API_BASE), proxy variables: none set")
        return StepResult(label, "call", step.name, "raised", error={"type": health.DEGRADED, "message": message}, seconds=0.05)
    if answer == health.OK:
        value: Any = RUBRIC if step.is_generator else ANSWER
    else:
        value = None if step.is_generator else ""
    return StepResult(label, "call", step.name, "returned", value=value, type=type(value).__name__, seconds=0.05)


def _entry(plan: tuple[str, ...]) -> dict[str, Any]:
    ok = plan.count(health.OK)
    last = plan[-SETTINGS.failure_window:]
    return {
        "ok": ok, "failed": len(plan) - ok, "empty": 0, "window_failure_rate": sum(a != health.OK for a in last) / len(last),
        "causes": {"InternalServerError": "InternalServerError: Error code: 500"} if ok < len(plan) else {},
    }


def observe(case: Case, *, degraded: dict[str, list[int]] | None = None, lines: list[dict[str, Any]] | None = None,
            report_value: Any = None, report_outcome: str = "returned") -> Observation:
    """What a patched checkout shows for ``case``; ``degraded``: step label -> the calls that raised LiteLLMDegradedError."""
    plan = _plan(case)
    due = health.alarms_due(plan, SETTINGS.failure_window, SETTINGS.max_failure_rate)
    degraded = degraded if degraded is not None else {
        s.label: [n for n, on in enumerate(due, 1) if on] for s in case.steps if s.is_generator and case.env.get(health.MAX_RATE)}
    steps, figures, kept = {}, {}, []
    level = "WARNING" if health.FAILURE in plan else "INFO"
    for step in case.steps:
        calls = [_call(step, n, answer, n in degraded.get(step.label, [])) for n, answer in enumerate(plan, 1)]
        last = calls[-1]
        steps[step.label] = StepResult(step.label, "call", step.name, last.outcome, last.value, last.type, last.error,
                                       seconds=0.1 + step.pause, calls=calls)
        for function, model in ((step.name, step.model), *((("run_litellm_async", step.model),) if step.is_generator else ())):
            figures.setdefault(function, {})[model] = _entry(plan)
            cause = f" ({health.CAUSE}: Error code: 500)" if level == "WARNING" else ""
            kept.append({"step": step.label, "call": len(plan), "logger": "run_utils", "level": level,
                         "message": f"{health.LINE_PREFIX}, last 2 s: {function} {model}: {plan.count(health.OK)} ok{cause}"})
    if report_value is None:
        report_value = figures
    result = StepResult("report", "report", health.REPORT, report_outcome, report_value if report_outcome == "returned" else None,
                        error=None if report_outcome == "returned" else {"type": "MissingFunction", "message": "health not defined in run_utils"})
    env = {"OPENAI_API_BASE": ENDPOINT, **{k: v for k, v in case.env.items() if v is not None}}
    process = Process(env, kept if lines is None else lines, result if case.report else None)
    return Observation(case, SETTINGS, steps, {s.label: len(plan) for s in case.steps}, {s.label: [s.key] for s in case.steps}, {},
                       1.0, False, env, processes={s.label: process for s in case.steps})


def _health_problems(case: Case, obs: Observation) -> list[str]:
    problems = case.evaluate(obs)
    assert {fix for fix, _ in problems} <= {"health"}, problems
    return [text for _, text in problems]


@pytest.mark.parametrize("name", HEALTH)
def test_a_patched_run_passes(built, name):
    case = built[name]
    assert case.evaluate(observe(case)) == []


def test_the_cases_run_sequences_in_one_process(built):
    for case in built.values():
        assert all(step.repeat >= 2 for step in case.steps)
        assert len(case.lanes()) == 1  # drtulu-canonical's generator takes the model verify chooses
    assert built["health-healthy"].keep_lines == built["health-unset"].keep_lines == health.LINE_PREFIX
    assert built["health-alarm"].keep_lines is None and built["health-alarm"].env[health.INTERVAL] is None
    assert built["health-unset"].env[health.MAX_RATE] is None and built["health-alarm"].env[health.MAX_RATE] == "0.3"
    assert all(case.report for case in built.values())


def test_the_alarm_is_due_on_a_failed_call_in_a_full_window_above_the_rate():
    assert health.intermittent(8) == ("500", "ok", "500", "500", "ok", "500", "ok", "500")
    assert health.alarms_due(health.intermittent(8), 5, 0.3) == [False] * 5 + [True, False, True]  # never on an answered call
    assert health.alarms_due(health.outage_then_recovery(5), 5, 0.3) == [False] * 4 + [True, False, True] + [False] * 5
    assert health.alarms_due(health.intermittent(8), 5, 0.6) == [False] * 8  # 60% is not more than 0.6
    assert health.describe_alarms(health.alarms_due(health.outage_then_recovery(5), 5, 0.3)) == "calls 5, 7"


def test_healthy_fails_without_summary_lines(built):
    case = built["health-healthy"]
    problems = _health_problems(case, observe(case, lines=[]))
    assert len(problems) == 5  # the four steps and the generator's nested helper call
    assert all(p.startswith("no 'LiteLLM health' line for ") for p in problems), problems


def test_healthy_fails_on_a_second_line_a_warning_or_a_line_before_the_interval(built):
    case = built["health-healthy"]
    obs = observe(case)
    line = obs.process(case.steps[0]).lines[0]
    twice = _health_problems(case, observe(case, lines=[*obs.process(case.steps[0]).lines, line]))
    assert any("2 'LiteLLM health' lines for run_chatopenai" in p for p in twice), twice
    loud = _health_problems(case, observe(case, lines=[{**line, "level": "WARNING"}, *obs.process(case.steps[0]).lines[1:]]))
    assert any("above INFO" in p for p in loud), loud
    early = _health_problems(case, observe(case, lines=[{**line, "call": 1}, *obs.process(case.steps[0]).lines[1:]]))
    assert any("came during call 1, before LITELLM_HEALTH_INTERVAL=2 passed" in p for p in early), early


def test_healthy_accepts_more_summaries_when_the_calls_outlasted_the_interval(built):
    case = built["health-healthy"]
    obs = observe(case)
    slow = obs.steps[case.steps[0].label]
    slow.calls[0].seconds = SETTINGS.health_interval + 0.5  # a busy machine: a second summary may fall due
    line = obs.process(case.steps[0]).lines[0]
    obs.processes[case.steps[0].label].lines.append({**line, "call": 1})
    assert case.evaluate(obs) == []


def test_a_missing_report_or_wrong_figures_fail(built):
    case = built["health-alarm"]
    missing = _health_problems(case, observe(case, report_outcome="missing"))
    assert "no health(): health not defined in run_utils" in missing
    figures = observe(case).report_of(case.steps[-1]).value
    generator = case.steps[-1]
    figures[generator.name][generator.model] = {**figures[generator.name][generator.model], "ok": 7, "failed": 0}
    wrong = _health_problems(case, observe(case, report_value=figures))
    assert any(p.startswith(f"health() counts {generator.name} with {generator.key} as 7 ok, 0 failed") for p in wrong), wrong
    figures[generator.name][generator.model] = {k: v for k, v in figures[generator.name][generator.model].items() if k != "window_failure_rate"}
    absent = _health_problems(case, observe(case, report_value=figures))
    assert any(p.endswith("lacks window_failure_rate") for p in absent), absent


def test_alarm_fails_when_the_generator_never_raises(built):
    case = built["health-alarm"]
    problems = _health_problems(case, observe(case, degraded={}))
    assert problems == ["generate_instance_wise_adaptive_rubrics never raised LiteLLMDegradedError in 8 calls "
                        "(LITELLM_MAX_FAILURE_RATE=0.3, LITELLM_FAILURE_WINDOW=5): by call 6, 3 of the last 5 had failed"]


def test_alarm_fails_when_it_raises_before_the_window_is_full_on_an_answered_call_or_in_a_helper(built):
    case = built["health-alarm"]
    generator, helper = case.steps[-1].label, case.steps[0].label
    early = _health_problems(case, observe(case, degraded={generator: [3, 4, 6, 8]}))
    assert early == ["generate_instance_wise_adaptive_rubrics raised LiteLLMDegradedError on call(s) 3, 4, before 5 calls filled the window "
                     "(LITELLM_MAX_FAILURE_RATE=0.3, LITELLM_FAILURE_WINDOW=5)"]
    answered = _health_problems(case, observe(case, degraded={generator: [6, 7, 8]}))
    assert answered == ["generate_instance_wise_adaptive_rubrics raised LiteLLMDegradedError on call(s) 7, which the endpoint answered "
                        "(only a failed or empty call may)"]
    helpers = _health_problems(case, observe(case, degraded={generator: [6, 8], helper: [6]}))
    assert helpers == ["run_chatopenai raised LiteLLMDegradedError on call(s) 6 (a helper: only the rubric generator and the judge may)"]


def test_alarm_fails_when_the_error_does_not_name_cause_and_endpoint(built):
    case = built["health-alarm"]
    obs = observe(case)
    for call in obs.steps[case.steps[-1].label].calls:
        if call.error:
            call.error["message"] = "too many failures"
    problems = _health_problems(case, obs)
    assert any("does not name the cause (InternalServerError)" in p for p in problems), problems
    assert any(f"does not name the endpoint ({ENDPOINT})" in p for p in problems), problems


def test_unset_fails_on_an_alarm_or_info_lines(built):
    case = built["health-unset"]
    generator = case.steps[-1].label
    raised = _health_problems(case, observe(case, degraded={generator: [6]}))
    assert raised == ["generate_instance_wise_adaptive_rubrics raised LiteLLMDegradedError on call(s) 6 with LITELLM_MAX_FAILURE_RATE unset (it must only log)"]
    quiet = [{**line, "level": "INFO", "message": line["message"].split(" (")[0]} for line in observe(case).process(case.steps[0]).lines]
    problems = _health_problems(case, observe(case, lines=quiet))
    assert len(problems) == 5 and all("none at WARNING naming the cause (InternalServerError)" in p for p in problems), problems


def test_recovery_fails_when_the_alarm_sticks_or_stops_too_soon(built):
    case = built["health-recovery"]
    generator = case.steps[-1].label
    stuck = _health_problems(case, observe(case, degraded={generator: [5, 7, 12]}))
    assert stuck == ["generate_instance_wise_adaptive_rubrics still raised LiteLLMDegradedError on call(s) 12, when 1 of the last 5 calls "
                     "had failed (LITELLM_MAX_FAILURE_RATE=0.3, LITELLM_FAILURE_WINDOW=5): the alarm must clear as the calls recover"]
    late = _health_problems(case, observe(case, degraded={generator: [5]}))
    assert late == ["generate_instance_wise_adaptive_rubrics did not raise LiteLLMDegradedError on call(s) 7, with more than 30% "
                    "of the last 5 calls failed (LITELLM_MAX_FAILURE_RATE=0.3, LITELLM_FAILURE_WINDOW=5)"]


def test_a_killed_step_names_health(built):
    case = built["health-recovery"]
    obs = observe(case)
    del obs.steps[case.steps[-1].label]
    problems = _health_problems(case, obs)
    assert problems == [f"generate_instance_wise_adaptive_rubrics: its 12 call(s) had not ended after {case.limit:g}s (killed); "
                        "the server saw 12 attempt(s), LITELLM_NUM_RETRIES=0 allows one per call"]


# ----------------------------------------------------------------------------- real runs (the session's, conftest.py)


def _explain(result: runner.RunResult) -> str:
    return "\n".join(f"{fix}: {p}" for fix, problems in report.missing_fixes(result).items() for p in problems) or "(no problems)"


def _health(result: runner.RunResult) -> list:
    return [o for o in result.outcomes if o.case.scenario in HEALTH and not o.case.is_judge]


FIXTURES_WITH_HEALTH = ["drtulu-canonical", "upstream-main-split"]


@pytest.mark.parametrize("key", by_group([f"fixture/{name}/patched" for name in FIXTURES_WITH_HEALTH], FIXTURES_WITH_HEALTH))
def test_the_health_scenarios_pass_patched(verify_runs, key):
    patched = verify_runs[key]
    assert [o.case.scenario for o in _health(patched)] == list(HEALTH)
    assert all(o.status == "pass" for o in _health(patched)), _explain(patched)


@pytest.mark.parametrize("key", by_group([f"fixture/{name}/unpatched" for name in FIXTURES_WITH_HEALTH], FIXTURES_WITH_HEALTH))
def test_the_health_scenarios_fail_unpatched_naming_health(verify_runs, key):
    unpatched = verify_runs[key]
    failed = [o for o in _health(unpatched) if o.status == "fail"]
    assert [o.case.scenario for o in failed] == list(HEALTH)
    for outcome in failed:
        assert {fix for fix, _ in outcome.problems} == {"health"}, outcome.problems
    assert any("no health(): no support module" in p for p in report.missing_fixes(unpatched)["health"])


@group_of("fixture/drtulu-canonical/skip-health")
def test_without_the_health_fix_the_health_scenarios_fail(verify_runs):
    """--skip health: the support module is there (other fixes use it) but nothing is counted; precheck-recheck's
    generator raises nothing else."""
    result = verify_runs["fixture/drtulu-canonical/skip-health"]
    assert result.error is None, result.error
    assert sorted(o.case.scenario for o in result.failed) == sorted(HEALTH), _explain(result)
    assert set(report.missing_fixes(result)) == {"health"}, _explain(result)
    alarm = next(o for o in result.outcomes if o.case.scenario == "health-alarm")
    assert any("never raised LiteLLMDegradedError" in text for _, text in alarm.problems), alarm.problems


@group_of("fixture/drtulu-canonical/patched")
def test_a_patched_run_shows_its_lines_figures_and_alarm(verify_runs):
    result = verify_runs["fixture/drtulu-canonical/patched"]
    outcomes = {o.case.scenario: o for o in _health(result)}
    healthy = outcomes["health-healthy"].observation
    steps = healthy.case.steps
    lines = healthy.process(steps[0]).lines
    assert all(line["level"] == "INFO" and line["message"].startswith(health.LINE_PREFIX) for line in lines)
    figures = healthy.report_of(steps[0]).value
    assert {name for name in figures} == {step.name for step in steps} | {"LiteLLM requests"}
    if health.one_interval(healthy, steps, SETTINGS.health_interval):
        assert len(lines) == len(steps) + 1 + len(figures["LiteLLM requests"])  # + the generator's nested helper call, + the requests
    alarm = outcomes["health-alarm"].observation
    generator = next(step for step in alarm.case.steps if step.is_generator)
    calls = alarm.result(generator).calls
    assert [call.raised == health.DEGRADED for call in calls] == [False] * 5 + [True, False, True]
    assert alarm.attempts[generator.label] == len(calls)  # LITELLM_NUM_RETRIES=0: one attempt per call
    assert "[None, dict, None x2, dict, raised LiteLLMDegradedError, dict, raised LiteLLMDegradedError]" in report.observed(outcomes["health-alarm"])
