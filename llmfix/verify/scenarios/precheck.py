"""8 precheck: ensure_litellm_connection fails fast and clearly, checks once, can be turned off."""

from __future__ import annotations

from llmfix.verify import expect
from llmfix.verify.scenarios import (
    Case,
    Context,
    Endpoint,
    Evaluator,
    Observation,
    Problem,
    Scenario,
    Step,
)


def refused(steps: list[Step], bound: float) -> Evaluator:
    def evaluate(obs: Observation) -> list[Problem]:
        problems: list[Problem] = []
        endpoint = obs.env.get("OPENAI_API_BASE", "")
        for step in steps:
            problems += expect.raises_connection_error(obs, step, "a refused endpoint")
            models = obs.models_of(step)
            needles = [(endpoint, "the endpoint"), ("proxy", "the proxy variables")] + [(m, "the model") for m in models[:1]]
            problems += expect.names_in_error(obs, step, needles)
            if obs.result(step).outcome == "raised":
                problems += expect.within(obs, step, bound, "precheck", "a refused endpoint")
        return problems

    return evaluate


class Precheck(Scenario):
    NUMBER = 8
    NAME = "precheck"
    SUMMARY = "ensure_litellm_connection fails fast and clearly, checks once per process and model, can be turned off"
    FIXES = ("precheck",)

    def build(self, context: Context) -> list[Case]:
        s = context.settings
        bound = s.precheck_timeout + s.slack
        cases = []

        steps = [context.ensure(self.case_id("a")), *context.generators(self.case_id("a"))]
        cases.append(Case(self.case_id("a"), self.NAME, "refused endpoint", "raises; names endpoint, proxies, model", steps,
                          refused(steps, bound), limit=s.failing_call_bound(False) + s.precheck_timeout + 4,
                          env={"OPENAI_API_BASE": "$dead_base", **s.short_precheck}))

        first, again = context.ensure(self.case_id("b")), context.ensure(self.case_id("b"), "ensure-again")

        def once(obs: Observation) -> list[Problem]:
            problems = expect.answers(obs, first, "precheck", "a healthy endpoint") + expect.answers(obs, again, "precheck", "a healthy endpoint")
            if not problems and obs.attempts.get(first.label) != 1:
                problems.append(("precheck", f"two checks sent {obs.attempts.get(first.label)} request(s) (expected 1: once per process and model)"))
            return problems

        cases.append(Case(self.case_id("b"), self.NAME, "healthy, checked twice", "passes; 1 request in all", [first, again], once,
                          limit=15, concurrent=False))

        off = context.ensure(self.case_id("c"))

        def disabled(obs: Observation) -> list[Problem]:
            problems = expect.answers(obs, off, "precheck", "LITELLM_PRECHECK=0")
            if not problems and obs.attempts.get(off.label):
                problems.append(("precheck", f"LITELLM_PRECHECK=0 still sent {obs.attempts[off.label]} request(s)"))
            return problems

        cases.append(Case(self.case_id("c"), self.NAME, "LITELLM_PRECHECK=0", "passes; no request", [off], disabled,
                          limit=15, env={"LITELLM_PRECHECK": "0"}))

        blackholed = context.ensure(self.case_id("d"))

        def hanging(obs: Observation) -> list[Problem]:
            problems = expect.raises_connection_error(obs, blackholed, "a hanging endpoint")
            return problems + expect.within(obs, blackholed, bound, "precheck", f"a hanging endpoint with LITELLM_PRECHECK_TIMEOUT={s.precheck_timeout:g}")

        cases.append(Case(self.case_id("d"), self.NAME, "hanging endpoint", f"raises within {s.precheck_timeout:g}s + slack", [blackholed],
                          hanging, limit=bound + 5, env=s.short_precheck, endpoint=Endpoint(then="hang")))
        return cases
