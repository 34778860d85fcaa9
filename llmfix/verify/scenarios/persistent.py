"""3 persistent-500: every attempt is a 500; each function fails as its error contract says.

After N+1 attempts a raising function raises, a swallowing one returns "" / None and says why.
A judge's 0.0 must not be silent: 3j, ``health()`` counts it; 3k, with LITELLM_MAX_FAILURE_RATE
set (a window of one call) it raises LiteLLMDegradedError.
"""

from __future__ import annotations

from llmfix.verify import expect, health
from llmfix.verify.analysis import EITHER, RAISES
from llmfix.verify.scenarios import Case, Context, Endpoint, Observation, Problem, Scenario, Settings, Step, each

ERROR_WORDS = ["InternalServerError", "500"]
SILENT = "a judge scored 0.0 silently under an outage"


def outcome_word(step: Step) -> str:
    contract = step.target.contract if step.target else RAISES
    if step.is_judge:
        return "score 0.0 or raises"
    if contract == RAISES:
        return "raises"
    if contract == EITHER:
        return "raises or None"
    return "None" if step.is_generator else '""'


def failed_call(obs: Observation, step: Step, s: Settings, why: str, words: list[str], per_attempt: float, fix: str, what: str) -> list[Problem]:
    """A call whose every attempt failed: ends as its contract says, after N+1 attempts (at most), within its bound."""
    is_async = step.target.is_async if step.target else True
    return (expect.fails(obs, step, "guards", why, words) + expect.attempts_between(obs, step, s.retries + 1, s.max_attempts(is_async))
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


class PersistentError(Scenario):
    NUMBER = 3
    NAME = "persistent-500"
    SUMMARY = 'every attempt 500: retried, then each function fails as its contract says (raises, or "" / None and a log line); a judge\'s 0.0 is counted'
    FIXES = ("retries", "guards", "judge")

    def build(self, context: Context) -> list[Case]:
        s = context.settings
        n = s.retries
        steps = context.callers(self.case_id())
        why = "a persistent 500"
        evaluate = each(steps, lambda obs, step: failed_call(obs, step, s, why, ERROR_WORDS, 0.0, "retries", f"{why} with LITELLM_NUM_RETRIES={n}"))
        expected = f">= {n + 1} attempts; " + ", ".join(outcome_word(step) for step in steps)
        bound = context.judge_bound()

        def silent(steps: list[Step]) -> Case:
            def check(obs: Observation, step: Step) -> list[Problem]:
                return (expect.fails(obs, step, "judge", why, ERROR_WORDS) + health.never_degraded(obs, step, f"with {health.MAX_RATE} unset")
                        + counted(obs, step) + expect.within(obs, step, bound, "judge", why))

            return Case(self.case_id("j"), self.NAME, "500 on every attempt (a judge)", "score 0.0, counted failed by health()", steps, each(steps, check),
                        limit=bound + 4, env={}, endpoint=Endpoint(then="500"), report=True)

        def alarm(steps: list[Step]) -> Case:
            def check(obs: Observation, step: Step) -> list[Problem]:
                result = obs.result(step)
                problems = expect.unfinished(obs, step, "judge")
                if result.finished and result.raised != health.DEGRADED:
                    problems.append((health.FIX, f"{result.name} {'raised ' + str(result.raised) if result.raised else 'returned ' + result.describe()} "
                                                 f"on {why} with {health.MAX_RATE}={s.max_failure_rate:g} and {health.WINDOW}=1 (expected {health.DEGRADED})"))
                elif result.finished:
                    problems += health.names_cause_and_route(obs, step, result)
                return problems

            return Case(self.case_id("k"), self.NAME, f"500 on every attempt, {health.MAX_RATE} set (a judge)", f"raises {health.DEGRADED}", steps,
                        each(steps, check), limit=bound + 4, env={health.MAX_RATE: f"{s.max_failure_rate:g}", health.WINDOW: "1"},
                        endpoint=Endpoint(then="500"))

        return [
            Case(self.case_id(), self.NAME, "500 on every attempt", expected, steps, evaluate,
                 limit=s.failing_call_bound(False) + 10, env={"LITELLM_PRECHECK": "off"}, endpoint=Endpoint(then="500")),
            *context.judge_case(self.case_id("j"), silent),
            *context.judge_case(self.case_id("k"), alarm),
        ]
