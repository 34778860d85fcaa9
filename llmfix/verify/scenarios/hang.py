"""6 hang: the endpoint never answers; LITELLM_DEFAULT_TIMEOUT ends each attempt (6j: each of a judge's requests)."""

from __future__ import annotations

from llmfix.verify import expect
from llmfix.verify.scenarios import (
    Case,
    Context,
    Endpoint,
    Observation,
    Problem,
    Scenario,
    Step,
)
from llmfix.verify.scenarios.persistent import outcome_word

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
        n = s.retries
        steps = context.callers(self.case_id())
        why = "a hanging endpoint"
        env = {"LITELLM_PRECHECK": "off", "LITELLM_DEFAULT_TIMEOUT": f"{s.hang_timeout:g}"}
        judges = context.checkout.judges if context.checkout else []
        judge_bound = s.judge_bound(judges[0] if judges else None, s.hang_timeout)

        def judged(steps: list[Step]) -> Case:
            def evaluate(obs: Observation) -> list[Problem]:
                problems: list[Problem] = []
                for step in steps:
                    if obs.result(step).outcome == "unfinished":
                        problems += hung(obs, step)
                        continue
                    problems += expect.fails(obs, step, "timeout", why, ERROR_WORDS)
                    problems += expect.within(obs, step, judge_bound, "timeout", f"a hang with LITELLM_DEFAULT_TIMEOUT={s.hang_timeout:g}")
                return problems

            return Case(self.case_id("j"), self.NAME, f"no answer, timeout {s.hang_timeout:g}s (a judge)", f"score 0.0 or raises within {judge_bound:.1f}s",
                        steps, evaluate, limit=judge_bound + 4, env=env, endpoint=Endpoint(then="hang"))

        def evaluate(obs: Observation) -> list[Problem]:
            problems: list[Problem] = []
            for step in steps:
                if obs.result(step).outcome == "unfinished":
                    problems += hung(obs, step)
                    continue
                is_async = step.target.is_async if step.target else True
                problems += expect.fails(obs, step, "guards", why, ERROR_WORDS)
                problems += expect.attempts_between(obs, step, n + 1, s.max_attempts(is_async))
                bound = s.failing_call_bound(is_async, s.hang_timeout)
                problems += expect.within(obs, step, bound, "timeout", f"a hang with LITELLM_DEFAULT_TIMEOUT={s.hang_timeout:g}")
            return problems

        bound = s.failing_call_bound(False, s.hang_timeout)
        expected = ", ".join(outcome_word(step) for step in steps) + f" within {bound:.1f}s"
        return [
            Case(self.case_id(), self.NAME, f"no answer, timeout {s.hang_timeout:g}s", expected, steps, evaluate, limit=bound + 10,
                 env=env, endpoint=Endpoint(then="hang")),
            *context.judge_case(self.case_id("j"), judged),
        ]
