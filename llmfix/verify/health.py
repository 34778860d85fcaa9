"""What the ``health`` fix shows from outside: ``LiteLLM health`` lines, ``health()``, the alarm; by names, never wording.
A health case plans each call's answer (LITELLM_NUM_RETRIES=0), so where the alarm must fire follows from the plan."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from llmfix.verify import expect
from llmfix.verify.cases import Observation, Problem, Settings, Step, StepResult, each

FIX = "health"
LINE_PREFIX = "LiteLLM health"
REPORT = "health"
DEGRADED = "LiteLLMDegradedError"
INTERVAL, WINDOW, MAX_RATE = "LITELLM_HEALTH_INTERVAL", "LITELLM_FAILURE_WINDOW", "LITELLM_MAX_FAILURE_RATE"
FIGURES = ("ok", "failed", "empty", "window_failure_rate", "causes")  # health()'s keys per function and model
OK, FAILURE = "ok", "500"  # a call's planned answer; a 500 surfaces as InternalServerError at every link of its chain
CAUSE = "InternalServerError"
PAUSE_SLACK = 0.1  # seconds past the interval before the call that makes a summary due

Plan = Sequence[str]


def env(settings: Settings, *, failing: bool, rate: bool, interval: bool) -> dict[str, str | None]:
    """A health case's environment: small window, the rate set or not, a short summary interval or the default."""
    return {"LITELLM_PRECHECK": "off", "LITELLM_NUM_RETRIES": "0" if failing else None,  # None: verify's own setting
            WINDOW: str(settings.failure_window), MAX_RATE: f"{settings.max_failure_rate:g}" if rate else None,
            INTERVAL: f"{settings.health_interval:g}" if interval else None}


def repeated(steps: list[Step], plan: Plan, pause: float = 0.0) -> list[Step]:
    """``steps`` with one call per planned answer, the last ``pause`` seconds after the others."""
    return [replace(step, repeat=len(plan), pause=pause) for step in steps]


def intermittent(calls: int) -> tuple[str, ...]:
    """``calls`` planned answers, 3 of every 5 in a row failing (60%)."""
    return tuple((FAILURE, OK, FAILURE, FAILURE, OK)[n % 5] for n in range(calls))


def outage_then_recovery(window: int) -> tuple[str, ...]:
    """A full window of failures, one good call and a failure (still alarming), then good calls and a
    failure that finds one failure in the window: the alarm must not sound on it."""
    return (FAILURE,) * window + (OK, FAILURE) + (OK,) * (window - 1) + (FAILURE,)


def describe_alarms(due: list[bool]) -> str:
    """``calls 5-8`` for the calls on which the alarm is due."""
    runs: list[list[int]] = []
    for n in (n for n, on in enumerate(due, 1) if on):
        if runs and runs[-1][1] == n - 1:
            runs[-1][1] = n
        else:
            runs.append([n, n])
    text = ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in runs)
    return f"call{'s' if sum(due) != 1 else ''} {text}" if runs else "no call"


def alarms_due(plan: Plan, window: int, limit: float) -> list[bool]:
    """Per call: must the generator raise? On a failed call, with a full window whose share of failures exceeds ``limit``."""
    return [plan[n - 1] != OK and n >= window and _failed_in_window(plan, window, n) / window > limit for n in range(1, len(plan) + 1)]


def _failed_in_window(plan: Plan, window: int, n: int) -> int:
    return sum(answer != OK for answer in plan[max(0, n - window):n])


def _numbers(numbers: list[int]) -> str:
    return ", ".join(str(n) for n in numbers)


def unfinished(obs: Observation, step: Step) -> list[Problem]:
    """A step not defined, or killed at the case's limit."""
    result = obs.result(step)
    if result.outcome != "unfinished":
        return expect.unfinished(obs, step, FIX)
    text = f"{result.name}: its {step.repeat} call(s) had not ended after {obs.case.limit:g}s (killed)"
    seen = obs.attempts.get(step.label)
    if seen is not None and obs.process(step).env.get("LITELLM_NUM_RETRIES") == "0":
        text += f"; the server saw {seen} attempt(s), LITELLM_NUM_RETRIES=0 allows one per call"
    return [(FIX, text)]


def never_degraded(obs: Observation, step: Step, why: str) -> list[Problem]:
    result = obs.result(step)
    raised = [n for n, call in enumerate(result.each, 1) if call.raised == DEGRADED]
    return [(FIX, f"{result.name} raised {DEGRADED} on call(s) {_numbers(raised)} {why}")] if raised else []


def alarms(obs: Observation, step: Step, plan: Plan) -> list[Problem]:
    """The generator raised LiteLLMDegradedError on exactly the calls :func:`alarms_due` names, and the first names cause and route."""
    s, result = obs.settings, obs.result(step)
    calls, seen, window = result.each, obs.attempts.get(step.label), s.failure_window
    if not result.finished or len(calls) != len(plan):
        return []
    if seen is not None and seen != len(plan):
        return [(FIX, (f"{result.name}: the server saw {seen} attempts for {len(plan)} calls (LITELLM_NUM_RETRIES=0: one each), "
                       "so which calls failed is unknown"))]
    due = alarms_due(plan, window, s.max_failure_rate)
    settings = f"{MAX_RATE}={s.max_failure_rate:g}, {WINDOW}={window}"
    raised = [call.raised == DEGRADED for call in calls]
    numbers = range(1, len(plan) + 1)
    early = [n for n in numbers if raised[n - 1] and n < window]
    missed = [n for n in numbers if due[n - 1] and not raised[n - 1]]
    on_ok = [n for n in numbers if raised[n - 1] and plan[n - 1] == OK]
    cleared = [n for n in numbers if n >= window and raised[n - 1] and not due[n - 1] and plan[n - 1] != OK]
    problems: list[Problem] = []
    if early:
        problems.append((FIX, f"{result.name} raised {DEGRADED} on call(s) {_numbers(early)}, before {window} calls filled the window ({settings})"))
    if on_ok:
        problems.append((FIX, f"{result.name} raised {DEGRADED} on call(s) {_numbers(on_ok)}, which the endpoint answered (only a failed or empty call may)"))
    if missed and not any(raised):
        problems.append((FIX, (f"{result.name} never raised {DEGRADED} in {len(plan)} calls ({settings}): by call {missed[0]}, "
                               f"{_failed_in_window(plan, window, missed[0])} of the last {window} had failed")))
    elif missed:
        problems.append((FIX, (f"{result.name} did not raise {DEGRADED} on call(s) {_numbers(missed)}, with more than "
                               f"{s.max_failure_rate:.0%} of the last {window} calls failed ({settings})")))
    if cleared:
        problems.append((FIX, (f"{result.name} still raised {DEGRADED} on call(s) {_numbers(cleared)}, when {_failed_in_window(plan, window, cleared[0])} "
                               f"of the last {window} calls had failed ({settings}): the alarm must clear as the calls recover")))
    first_alarm = next((call for call in calls if call.raised == DEGRADED), None)
    return problems + (names_cause_and_route(obs, step, first_alarm) if first_alarm is not None else [])


def names_cause_and_route(obs: Observation, step: Step, call: StepResult) -> list[Problem]:
    message, endpoint = (call.error or {}).get("message", ""), obs.process(step).env.get("OPENAI_API_BASE", "")
    return [(FIX, f"{obs.result(step).name}: {DEGRADED} does not name {what} ({text})")
            for text, what in ((CAUSE, "the cause"), (endpoint, "the endpoint")) if text and text not in message]


def models(step: Step, obs: Observation) -> set[str]:
    """The names the step's model may go by: as verify passed it, as the endpoint saw it."""
    return {name for name in (step.model, step.key, *obs.models_of(step)) if name}


def _same_model(name: str, models: set[str]) -> bool:
    return name in models or name.split("/", 1)[-1] in models


def entry(report: Any, function: str, models: set[str]) -> dict[str, Any] | None:
    per_model = report.get(function) if isinstance(report, dict) else None
    return next((e for name, e in per_model.items() if _same_model(str(name), models) and isinstance(e, dict)), None) if isinstance(per_model, dict) else None


def problem_text(report: StepResult) -> str:
    """Why ``health()`` gave no figures."""
    if report.outcome == "missing":
        return f"no {REPORT}(): {report.error['message']}" if report.error else f"{REPORT}() not defined"
    if report.outcome == "raised":
        return f"{REPORT}() raised {report.raised}: {(report.error or {}).get('message', '')}"
    return f"{REPORT}() gave nothing: the process did not get that far"


def figures(obs: Observation, step: Step, plan: Plan) -> list[Problem]:
    """``health()`` in the step's process counts its function and model as the plan says."""
    s, result, report = obs.settings, obs.result(step), obs.report_of(step)
    if report.outcome != "returned":
        return [(FIX, problem_text(report))]
    found = entry(report.value, result.name, models(step, obs))
    shown = f"{result.name} with {step.known_model or 'its model'}"
    if found is None:
        return [(FIX, f"{REPORT}() has no figures for {shown} after {len(plan)} call(s)")]
    if any(key not in found for key in FIGURES):
        return [(FIX, f"{REPORT}() for {shown} lacks {', '.join(key for key in FIGURES if key not in found)}")]
    ok = sum(answer == OK for answer in plan)
    rate = _failed_in_window(plan, s.failure_window, len(plan)) / min(s.failure_window, len(plan))
    problems: list[Problem] = []
    if (found["ok"], found["failed"] + found["empty"]) != (ok, len(plan) - ok):
        problems.append((FIX, (f"{REPORT}() counts {shown} as {found['ok']} ok, {found['failed']} failed, {found['empty']} empty "
                               f"(expected {ok} ok and {len(plan) - ok} failed or empty)")))
    if not (isinstance(found["window_failure_rate"], (int, float)) and abs(found["window_failure_rate"] - rate) < 1e-9):
        problems.append((FIX, f"{REPORT}() for {shown}: window_failure_rate {found['window_failure_rate']} (expected {rate:g})"))
    if ok < len(plan) and not any(CAUSE in str(group) for group in (found["causes"] or {})):
        problems.append((FIX, f"{REPORT}() for {shown}: causes {found['causes']!r} do not name {CAUSE}"))
    return problems


def _naming(lines: list[dict[str, Any]], function: str, models: set[str]) -> list[dict[str, Any]]:
    """The lines that name ``function`` (``LiteLLM requests`` too) and one of ``models`` as words of their own."""
    found = []
    for line in lines:
        words = {word.strip(":,;()[]") for word in line["message"].split()}
        if (function in line["message"] if " " in function else function in words) and any(_same_model(word, models) for word in words):
            found.append(line)
    return found


def _pairs(obs: Observation, lane: list[Step]) -> list[tuple[str, set[str], str]]:
    """(function, model names, shown) for every function and model a process called: its steps' and, from health(), the nested ones."""
    pairs = [(obs.result(step).name, models(step, obs), f"{obs.result(step).name} with {step.known_model or 'its model'}") for step in lane]
    report = obs.report_of(lane[0])
    for function, per_model in report.value.items() if report.outcome == "returned" and isinstance(report.value, dict) else []:
        for model in per_model if isinstance(per_model, dict) else {}:
            if not any(function == f and _same_model(str(model), names) for f, names, _ in pairs):
                pairs.append((str(function), {str(model)}, f"{function} with {model}"))
    return pairs


def summary_lines(obs: Observation, lane: list[Step], level: str, exact: bool, cause: bool) -> list[Problem]:
    """Each function and model the process called has a summary line at ``level`` (naming the cause when ``cause``);
    ``exact``: exactly one, logged by the last call (else more may have fallen due, one of good calls only at INFO)."""
    if not all(obs.result(step).finished for step in lane):
        return []
    interval, lines, last = obs.process(lane[0]).env.get(INTERVAL, ""), obs.process(lane[0]).lines, max(step.repeat for step in lane)
    problems: list[Problem] = []
    for function, names, shown in _pairs(obs, lane):
        mine = _naming(lines, function, names)
        if not mine:
            problems.append((FIX, f"no {LINE_PREFIX!r} line for {shown} after {INTERVAL}={interval} passed"))
            continue
        if not any(line["level"] == level and (not cause or CAUSE in line["message"]) for line in mine):
            levels = ", ".join(sorted({line["level"] for line in mine}))
            problems.append((FIX, f"the {LINE_PREFIX!r} line(s) for {shown}: {levels}, none at {level}" + (f" naming the cause ({CAUSE})" if cause else "")))
        if level == "INFO" and any(line["level"] != "INFO" for line in mine):
            problems.append((FIX, f"a {LINE_PREFIX!r} line for {shown} is above INFO although every call was ok"))
        early = sorted({line["call"] for line in mine if line.get("call") not in (None, last)})
        if exact and len(mine) != 1:
            problems.append((FIX, f"{len(mine)} {LINE_PREFIX!r} lines for {shown} in one interval (expected 1)"))
        if exact and early:
            problems.append((FIX, f"a {LINE_PREFIX!r} line for {shown} came during call {_numbers(early)}, before {INTERVAL}={interval} passed"))
    return problems


def one_interval(obs: Observation, lane: list[Step], interval: float) -> bool:
    """Whether exactly one summary fell due (at the last call): from the support module's import to the end of
    the calls before the pause, less than the interval; to the end, less than two (a busy machine may take longer)."""
    results, setup = [obs.result(step) for step in lane], obs.process(lane[0]).setup
    before = [setup + sum(call.seconds or 0.0 for call in r.each[:-1]) for r in results]
    totals = [setup + (r.seconds or 0.0) for r in results]
    return max(before, default=0.0) < interval and max(totals, default=0.0) < 2 * interval


def lane_summaries(obs: Observation, level: str, interval: float, cause: bool) -> list[Problem]:
    """:func:`summary_lines` for every process of the case, exact where its calls fitted :func:`one_interval`."""
    return [p for lane in obs.case.lanes() for p in summary_lines(obs, lane, level, one_interval(obs, lane, interval), cause)]


def alarm_problems(obs: Observation, steps: Sequence[Step], plan: Plan) -> list[Problem]:
    """With the rate set: every call finishes, only the generator raises, on the calls due, with right figures."""
    helper_why = "(a helper: only the rubric generator and the judge may)"
    return each(list(steps), unfinished, lambda obs, step: alarms(obs, step, plan) if step.is_generator else never_degraded(obs, step, helper_why),
                lambda obs, step: figures(obs, step, plan))(obs)
