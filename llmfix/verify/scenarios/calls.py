"""Scenarios 1-7: how each call fares against a healthy, flaky, failing, refused, hanging or empty endpoint."""

from __future__ import annotations

import json

from llmfix.verify import expect, health
from llmfix.verify.analysis import EITHER, RAISES
from llmfix.verify.scenarios import BASICS, Case, Endpoint, Observation, Problem, Scenario, Settings, Step, each, unit

NO_PRECHECK = {"LITELLM_PRECHECK": "off"}


@unit(1, "healthy", (), "the helpers return the text; the generators return the parsed rubric; the judges score the answer")
def healthy(sc: Scenario) -> list[Case]:
    return sc.with_judge(lambda letter, steps: sc.case(letter, "healthy endpoint", sc.outcomes(steps, "text", "rubric dict"), steps,
                                                       each(steps, lambda obs, step: expect.answers(obs, step, BASICS, "a healthy endpoint")),
                                                       sc.settings.passing_limit))


def _retried(sc: Scenario, title: str, expected: str, why: str, attempts: int, endpoint: Endpoint) -> list[Case]:
    """A blip the calls must retry past: each succeeds after ``attempts`` (a judge's too)."""

    def case(letter: str, steps: list[Step]) -> Case:
        evaluate = each(steps, lambda obs, step: expect.answers(obs, step, "retries", why),
                        lambda obs, step: expect.exact_attempts(obs, step, attempts, "retries"))
        return sc.case(letter, title, expected, steps, evaluate, sc.settings.passing_limit, env=NO_PRECHECK, endpoint=endpoint)

    return sc.with_judge(case)


@unit(2, "transient", ("retries", "judge"), "the first LITELLM_NUM_RETRIES attempts are reset: retried, succeeds")
def transient(sc: Scenario) -> list[Case]:
    k = sc.settings.retries
    return _retried(sc, f"{k} connection resets, then ok", f"succeeds; {k + 1} attempts each", f"{k} dropped connection(s)", k + 1, Endpoint(("drop",) * k))


ERROR_WORDS = ["InternalServerError", "500"]
SILENT = "a judge scored 0.0 silently under an outage"


def outcome_word(step: Step) -> str:
    contract = step.target.contract if step.target else RAISES
    if step.is_judge:
        return "score 0.0 or raises"
    return {RAISES: "raises", EITHER: "raises or None"}.get(contract, "None" if step.is_generator else '""')


def failed_call(obs: Observation, step: Step, s: Settings, why: str, words: list[str], per_attempt: float, fix: str, what: str,
                least: int | None = None) -> list[Problem]:
    """A call whose every attempt failed: ends as its contract says, after ``least`` (default N+1) to the most attempts its
    retries allow, within its bound."""
    is_async = step.target.is_async if step.target else True
    low = s.retries + 1 if least is None else least
    return (expect.fails(obs, step, "guards", why, words) + expect.attempts_between(obs, step, low, s.max_attempts(is_async))
            + expect.within(obs, step, s.failing_call_bound(is_async, per_attempt), fix, what))


def counted(obs: Observation, step: Step) -> list[Problem]:
    """A judge's failed call shows in ``health()``: counted as failed, its cause named."""
    result = obs.result(step)
    if not result.finished:
        return []
    report = obs.report_of(step)
    if report.outcome != "returned":
        return [(health.FIX, f"{SILENT}: {result.name} returned {result.describe()}; {health.problem_text(report)}")]
    entry = health.entry(report.value, result.name, health.models(step, obs))
    if entry is None or not entry.get("failed"):
        counts = "no figures for it" if entry is None else f"{entry.get('ok')} ok, {entry.get('failed')} failed"
        return [(health.FIX, f"{SILENT}: {result.name} returned {result.describe()} and health() shows {counts}")]
    if health.CAUSE not in str(entry.get("causes")):
        return [(health.FIX, f"health() counts {result.name}'s failure but its causes {entry.get('causes')!r} do not name {health.CAUSE}")]
    return []


@unit(3, "persistent-500", ("retries", "guards", "judge"),
      'every attempt 500: retried, then each function fails as its contract says (raises, or "" / None and a log line); a judge\'s 0.0 is counted')
def persistent_error(sc: Scenario) -> list[Case]:
    s = sc.settings
    steps = sc.callers()
    why = "a persistent 500"
    what = f"{why} with LITELLM_NUM_RETRIES={s.retries}"
    bound = sc.judge_bound()

    def silent(steps: list[Step]) -> Case:
        def check(obs: Observation, step: Step) -> list[Problem]:
            return (expect.fails(obs, step, "judge", why, ERROR_WORDS) + health.never_degraded(obs, step, f"with {health.MAX_RATE} unset")
                    + counted(obs, step) + expect.within(obs, step, bound, "judge", why))

        return sc.case("j", "500 on every attempt (a judge)", "score 0.0, counted failed by health()", steps, each(steps, check),
                       bound + 4, endpoint=Endpoint(then="500"), report=True)

    def alarm(steps: list[Step]) -> Case:
        def check(obs: Observation, step: Step) -> list[Problem]:
            result = obs.result(step)
            problems = expect.unfinished(obs, step, "judge")
            if result.finished and result.raised != health.DEGRADED:
                did = f"raised {result.raised}" if result.raised else f"returned {result.describe()}"
                problems.append((health.FIX, (f"{result.name} {did} on {why} with {health.MAX_RATE}={s.max_failure_rate:g} and "
                                              f"{health.WINDOW}=1 (expected {health.DEGRADED})")))
            elif result.finished:
                problems += health.names_cause_and_route(obs, step, result)
            return problems

        return sc.case("k", f"500 on every attempt, {health.MAX_RATE} set (a judge)", f"raises {health.DEGRADED}", steps, each(steps, check),
                       bound + 4, env={health.MAX_RATE: f"{s.max_failure_rate:g}", health.WINDOW: "1"}, endpoint=Endpoint(then="500"))

    evaluate = each(steps, lambda obs, step: failed_call(obs, step, s, why, ERROR_WORDS, 0.0, "retries", what))
    expected = f">= {s.retries + 1} attempts; " + ", ".join(outcome_word(step) for step in steps)
    return [sc.case("", "500 on every attempt", expected, steps, evaluate, s.failing_call_bound(False) + 10, env=NO_PRECHECK,
                    endpoint=Endpoint(then="500")),
            *sc.judge_case("j", silent), *sc.judge_case("k", alarm)]


@unit(4, "rate-limit", ("retries", "judge"), "one 429 with Retry-After: retried, succeeds")
def rate_limit(sc: Scenario) -> list[Case]:
    title = f"429, Retry-After {sc.settings.retry_after:g}s, then ok"
    return _retried(sc, title, "succeeds; 2 attempts each", "a 429 with Retry-After", 2, Endpoint(("429",)))


FALLBACK_KEY = "sk-llmfix-verify-fallback"


@unit(5, "fallback", ("fallbacks", "judge"), "dead primary; a LITELLM_FALLBACK_MODELS object with its own api_base answers (a judge's call too)")
def fallback(sc: Scenario) -> list[Case]:
    s = sc.settings

    def case(letter: str, steps: list[Step]) -> Case:
        fallbacks = json.dumps([{"model": sc.model(sc.id(letter), "fallback"), "api_base": "$fallback", "api_key": FALLBACK_KEY}])
        answered = each(steps, lambda obs, step: expect.answers(obs, step, "fallbacks", "a dead primary with LITELLM_FALLBACK_MODELS set", fallback=True))

        def evaluate(obs: Observation) -> list[Problem]:
            unused = steps and not obs.extra_attempts.get("fallback")
            return answered(obs) + ([("fallbacks", "the fallback endpoint saw no request (LITELLM_FALLBACK_MODELS not used)")] if unused else [])

        limit = s.passing_limit + 2 * s.failing_call_bound(False) + (sc.judge_bound() if sc.judges and letter == "j" else 0)
        return sc.case(letter, "primary refused, fallback up", sc.outcomes(steps, "fallback text", "dict", "fallback's score"),
                       steps, evaluate, limit, env={"OPENAI_API_BASE": "$dead_base", "LITELLM_FALLBACK_MODELS": fallbacks})

    return sc.with_judge(case)


HANG_WORDS = ["timeout", "timed out"]


def hung(obs: Observation, step: Step) -> list[Problem]:
    """A call still waiting on a hanging endpoint: no timeout (1 attempt) or too many retries."""
    if obs.attempts.get(step.label, 0) <= 1:
        timeout = obs.env.get("LITELLM_DEFAULT_TIMEOUT")
        return [("timeout", f"{step.name}: still waiting after {obs.case.limit:g}s on its first request: LITELLM_DEFAULT_TIMEOUT={timeout} not applied")]
    return expect.unfinished(obs, step, "timeout")


@unit(6, "hang", ("timeout", "retries", "guards", "judge"),
      "the endpoint never answers; each attempt ends at LITELLM_DEFAULT_TIMEOUT, then the call fails as its contract says")
def hang(sc: Scenario) -> list[Case]:
    s = sc.settings
    steps = sc.callers()
    why, what = "a hanging endpoint", f"a hang with LITELLM_DEFAULT_TIMEOUT={s.hang_timeout:g}"
    env = {**NO_PRECHECK, "LITELLM_DEFAULT_TIMEOUT": f"{s.hang_timeout:g}"}
    judge_bound = sc.judge_bound(s.hang_timeout)

    def judged(steps: list[Step]) -> Case:
        def check(obs: Observation, step: Step) -> list[Problem]:
            if obs.result(step).outcome == "unfinished":
                return hung(obs, step)
            return expect.fails(obs, step, "timeout", why, HANG_WORDS) + expect.within(obs, step, judge_bound, "timeout", what)

        return sc.case("j", f"no answer, timeout {s.hang_timeout:g}s (a judge)", f"score 0.0 or raises within {judge_bound:.1f}s",
                       steps, each(steps, check), judge_bound + 4, env=env, endpoint=Endpoint(then="hang"))

    def check(obs: Observation, step: Step) -> list[Problem]:
        if obs.result(step).outcome == "unfinished":
            return hung(obs, step)
        # no lower bound on the attempts: under load the mock may not read a request before the client's timeout
        # gives up on it; that retries happen is transient's and persistent-500's to show, the time bound is hang's
        return failed_call(obs, step, s, why, HANG_WORDS, s.hang_timeout, "timeout", what, least=0)

    bound = s.failing_call_bound(False, s.hang_timeout)
    expected = ", ".join(outcome_word(step) for step in steps) + f" within {bound:.1f}s"
    return [sc.case("", f"no answer, timeout {s.hang_timeout:g}s", expected, steps, each(steps, check), bound + 10, env=env,
                    endpoint=Endpoint(then="hang")),
            *sc.judge_case("j", judged)]


@unit(7, "empty", ("guards",), 'empty content, null content, no choices: "" / None with a warning, nothing raises')
def empty(sc: Scenario) -> list[Case]:
    cases = []
    for letter, behaviour, why in (("a", "empty", 'content ""'), ("b", "null", "content: null"), ("c", "nochoices", "choices: []")):
        steps = sc.callers(letter)
        evaluate = each(steps, lambda obs, step, why=why: expect.empty(obs, step, "guards", why))
        cases.append(sc.case(letter, why, sc.outcomes(steps, '""', "None + 1 warning"), steps, evaluate, sc.settings.passing_limit,
                             env=NO_PRECHECK, endpoint=Endpoint(then=behaviour)))
    return cases
