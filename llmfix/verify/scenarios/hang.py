"""6 hang: the endpoint never answers; LITELLM_DEFAULT_TIMEOUT ends each attempt (6j: each of a judge's requests)."""

from __future__ import annotations

from llmfix.verify import expect
from llmfix.verify.scenarios import Case, Context, Endpoint, Observation, Problem, Scenario, Step, each
from llmfix.verify.scenarios.persistent import failed_call, outcome_word

ERROR_WORDS = ["timeout", "timed out"]


def hung(obs: Observation, step: Step) -> list[Problem]:
    """A call still waiting on a hanging endpoint: no timeout (1 attempt) or too many retries."""
    seen = obs.attempts.get(step.label, 0)
    timeout = obs.env.get("LITELLM_DEFAULT_TIMEOUT")
    if seen <= 1:
        return [("timeout", f"{step.name}: still waiting after {obs.case.limit:g}s on its first request: LITELLM_DEFAULT_TIMEOUT={timeout} not applied")]
    return expect.unfinished(obs, step, "timeout")


class Hang(Scenario):
    NUMBER = 6
    NAME = "hang"
    SUMMARY = "the endpoint never answers; each attempt ends at LITELLM_DEFAULT_TIMEOUT, then the call fails as its contract says"
    FIXES = ("timeout", "retries", "guards", "judge")

    def build(self, context: Context) -> list[Case]:
        s = context.settings
        steps = context.callers(self.case_id())
        why = "a hanging endpoint"
        what = f"a hang with LITELLM_DEFAULT_TIMEOUT={s.hang_timeout:g}"
        env = {"LITELLM_PRECHECK": "off", "LITELLM_DEFAULT_TIMEOUT": f"{s.hang_timeout:g}"}
        judge_bound = context.judge_bound(s.hang_timeout)

        def judged(steps: list[Step]) -> Case:
            def check(obs: Observation, step: Step) -> list[Problem]:
                if obs.result(step).outcome == "unfinished":
                    return hung(obs, step)
                return expect.fails(obs, step, "timeout", why, ERROR_WORDS) + expect.within(obs, step, judge_bound, "timeout", what)

            return Case(self.case_id("j"), self.NAME, f"no answer, timeout {s.hang_timeout:g}s (a judge)", f"score 0.0 or raises within {judge_bound:.1f}s",
                        steps, each(steps, check), limit=judge_bound + 4, env=env, endpoint=Endpoint(then="hang"))

        def check(obs: Observation, step: Step) -> list[Problem]:
            if obs.result(step).outcome == "unfinished":
                return hung(obs, step)
            return failed_call(obs, step, s, why, ERROR_WORDS, s.hang_timeout, "timeout", what)

        bound = s.failing_call_bound(False, s.hang_timeout)
        expected = ", ".join(outcome_word(step) for step in steps) + f" within {bound:.1f}s"
        return [
            Case(self.case_id(), self.NAME, f"no answer, timeout {s.hang_timeout:g}s", expected, steps, each(steps, check), limit=bound + 10,
                 env=env, endpoint=Endpoint(then="hang")),
            *context.judge_case(self.case_id("j"), judged),
        ]
