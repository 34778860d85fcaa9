"""What a step is expected to do, by its function's kind and error contract; each check returns problems ``(fix, text)``.
On a failure a raising function raises; a swallowing one returns ``""`` (a generator None) and says why; a judge scores 0.0 or raises."""

from __future__ import annotations

import json
from typing import Any

from llmfix.verify.analysis import EITHER, RAISES, SUPPORT
from llmfix.verify.cases import ANSWER, ENSURE, FALLBACK_ANSWER, FALLBACK_RUBRIC, RUBRIC, Observation, Problem, Step, StepResult

ROOT_CAUSE_FIX = "guards"  # the transform that makes a swallowed failure visible in the log
CONNECTION_ERROR = "LiteLLMConnectionError"


def first_line(text: str, limit: int = 120) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= limit else line[: limit - 3] + "..."


def show(value: Any) -> str:
    if isinstance(value, str):
        return json.dumps(value) if len(value) <= 40 else f"{json.dumps(value[:30])[:-1]}…\" ({len(value)} chars)"
    return "the rubric dict" if isinstance(value, dict) else repr(value)


def unfinished(obs: Observation, step: Step, fix: str) -> list[Problem]:
    """Problems for a step that never finished: killed at the case limit, or not defined at all (one verify
    could not call is not a problem here: the run reports it as not exercised)."""
    result = obs.result(step)
    if result.outcome == "missing":
        return [(fix, result.error["message"] if result.error else f"{result.name}: not defined")]
    if result.outcome != "unfinished":
        return []
    n, seen = obs.settings.retries, obs.attempts.get(step.label)
    text = f"{result.name}: no result after {obs.case.limit:g}s (killed)"
    if seen is None:
        return [(fix, text)]
    text += f"; the server saw {seen} attempt{'s' if seen != 1 else ''}"
    sync_with_tenacity = step.target is not None and not step.target.is_async and obs.settings.tenacity
    return [("retries", f"{text}, LITELLM_NUM_RETRIES={n} allows {n + 1}")] if seen > n + 1 and not sync_with_tenacity else [(fix, text)]


def _raised(result: StepResult, why: str) -> str:
    assert result.error is not None
    return f"{result.name} raised {result.error['type']} on {why}: {first_line(result.error['message'])}"


def _returned(result: StepResult, why: str, expected: str) -> str:
    return f"{result.name} returned {result.describe()} on {why} (expected {expected})"


def own_warnings(result: StepResult, step: Step, told: bool = False) -> list[dict[str, Any]]:
    """The warnings the step's own module logged (through any logger), attributed to this step; ``told``:
    also the support module's and the lines the step printed (how a swallowed failure is told)."""
    module = step.target.module if step.target else None
    path = f"/{module.replace('.', '/')}.py" if module else ""

    def own(w: dict[str, Any]) -> bool:
        return module is None or w["logger"] == module or (w.get("path") or "").replace("\\", "/").endswith(path)

    mine = [w for w in result.warnings if own(w) or (told and w["logger"].rsplit(".", 1)[-1] == SUPPORT)]
    return mine + ([{"logger": "stdout", "message": line} for line in result.printed] if told else [])


def _naming(warnings: list[dict[str, Any]], words: list[str]) -> list[dict[str, Any]]:
    lowered = [w.lower() for w in words if w]
    return [w for w in warnings if any(word in f"{w['message']} {w.get('exception') or ''}".lower() for word in lowered)]


def answers(obs: Observation, step: Step, fix: str, why: str, fallback: bool = False) -> list[Problem]:
    """The step succeeds: helpers return the answer's text, generators the parsed rubric, the precheck passes."""
    result = obs.result(step)
    if not result.finished:
        return unfinished(obs, step, fix)
    if result.outcome == "raised":
        return [(fix, _raised(result, why))]
    if step.op == ENSURE or (step.is_judge and result.score):
        return []
    if step.is_judge:
        reasoning = result.value.get("reasoning") if isinstance(result.value, dict) else None
        return [(fix, f"{result.name} returned {result.describe()} on {why} (expected the score of {'the fallback' if fallback else 'the'} answer)"
                      + (f": {first_line(str(reasoning))}" if reasoning else ""))]
    expected: Any = (FALLBACK_RUBRIC if fallback else RUBRIC) if step.is_generator else (FALLBACK_ANSWER if fallback else ANSWER)
    if result.value != expected:
        return [(fix, _returned(result, why, "the fallback's answer" if fallback else show(expected)))]
    return []


def fails(obs: Observation, step: Step, fix: str, why: str, error_words: list[str]) -> list[Problem]:
    """A failed call ends as its contract says (``error_words`` name the error in a log line)."""
    result = obs.result(step)
    if not result.finished:
        return unfinished(obs, step, fix)
    contract = step.target.contract if step.target else RAISES
    if step.is_judge:  # its default score or an error; health tells whether the failure is counted
        return [] if result.outcome == "raised" or not result.score else [(fix, f"{result.name} scored {result.score:g} on {why}")]
    if result.outcome == "raised":
        expected = "None" if step.is_generator else show("")
        return [] if contract in (RAISES, EITHER) else [(fix, f"{_raised(result, why)} (it swallows errors: expected {expected})")]
    if contract == RAISES:
        return [(fix, f"{result.name} returned {result.describe()} on {why}; it has no try of its own, so it must raise")]
    if step.is_generator:
        if result.value is not None:
            return [(fix, _returned(result, why, "None"))]
        mine, models = own_warnings(result, step, told=True), obs.models_of(step)
        if not (_naming(mine, models + error_words) if models else mine):  # the model unknown: any warning of its own
            return [(fix, f"{result.name} returned None on {why} but logged no warning naming {', '.join(models) or 'the model'} or the error")]
        return []
    if result.value != "" or result.type != "str":
        return [(fix, _returned(result, why, show("")))]
    if not own_warnings(result, step, told=True):  # its own log line or print, or the support module's root cause
        return [(ROOT_CAUSE_FIX, f"{result.name} returned \"\" on {why} silently: no warning, no printed line")]
    return []


def empty(obs: Observation, step: Step, fix: str, why: str) -> list[Problem]:
    """An empty answer: helpers return ``""`` (never None, never a raise), generators None with one warning naming the model."""
    result = obs.result(step)
    if not result.finished:
        return unfinished(obs, step, fix)
    if result.outcome == "raised":
        return [(fix, _raised(result, why))]
    if not step.is_generator:
        return [(fix, _returned(result, why, show("")))] if result.value != "" or result.type != "str" else []
    if result.value is not None:
        return [(fix, _returned(result, why, "None"))]
    mine, models = own_warnings(result, step), obs.models_of(step)
    naming = _naming(mine, models) if models else mine
    if len(naming) == 1:
        return []
    detail = f"{len(naming)} warnings naming the model" if len(naming) > 1 else f"{len(mine)} warning(s)" + (", none naming the model" if mine else "")
    return [(fix, f"{result.name} returned None on {why} but logged {detail} (expected one naming {', '.join(models) or 'the model'})")]


def attempts_between(obs: Observation, step: Step, low: int, high: int) -> list[Problem]:
    seen, n, name = obs.attempts.get(step.label), obs.settings.retries, obs.result(step).name
    if not obs.result(step).finished or seen is None or low <= seen <= high:
        return []
    if seen < low:
        return [("retries", f"{name}: the server saw {seen} attempt(s), expected at least {low} with LITELLM_NUM_RETRIES={n}")]
    return [("retries", f"{name}: the server saw {seen} attempts, LITELLM_NUM_RETRIES={n} allows {high}")]


def exact_attempts(obs: Observation, step: Step, expected: int, fix: str) -> list[Problem]:
    seen = obs.attempts.get(step.label)
    if obs.result(step).outcome != "returned" or seen == expected:
        return []
    return [(fix, f"{obs.result(step).name}: the server saw {seen} attempt(s) (expected {expected})")]


def within(obs: Observation, step: Step, bound: float, fix: str, what: str) -> list[Problem]:
    result = obs.result(step)
    if result.seconds is not None and result.seconds > bound:
        return [(fix, f"{result.name} took {result.seconds:.1f}s on {what} (bound {bound:.1f}s)")]
    return []


def checks(obs: Observation, step: Step, expected: int, why: str) -> list[Problem]:
    """The endpoint saw ``expected`` connection checks (one-token requests) for the step's model."""
    seen, name = obs.probes.get(step.label), obs.result(step).name
    if seen is None or seen == expected or not obs.result(step).finished:
        return []
    if seen == 0:
        return [("precheck", f"{name} sent no connection check before its first request ({why})")]
    return [("precheck", f"{name}: the endpoint saw {seen} connection check request(s) (expected {expected}: {why})")]


def raises_connection_error(obs: Observation, step: Step, why: str) -> list[Problem]:
    """The generator (through its connection check) raised LiteLLMConnectionError."""
    result = obs.result(step)
    if result.outcome == "unfinished":
        return [("precheck", f"{result.name}: still waiting on {why} after {obs.case.limit:g}s (killed): no connection check first")]
    if not result.finished:
        return unfinished(obs, step, "precheck")
    if result.raised != CONNECTION_ERROR:
        what = result.describe() if result.outcome == "raised" else f"returned {result.describe()}"
        return [("precheck", f"{result.name} {what} on {why} (expected {CONNECTION_ERROR})")]
    return []


def names_in_error(obs: Observation, step: Step, needles: list[tuple[str, str]]) -> list[Problem]:
    """The raised error's message holds each ``(text, what)`` of ``needles``."""
    result = obs.result(step)
    if result.raised != CONNECTION_ERROR or result.error is None:
        return []
    return [("precheck", f"{result.name}: the error does not name {what} ({text})") for text, what in needles if text and text not in result.error["message"]]
