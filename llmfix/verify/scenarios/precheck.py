"""8 precheck: the generator checks the connection first: fails fast and clearly, once per process and model, can be turned off.

The patched generator awaits ``litellm_utils.ensure_connection(<the helper it awaits>, ...)``
before its request: one tiny request (``max_tokens=1``, which is how the endpoint tells a
check from a real request). A checkout without a generator has no connection check: its
precheck cases are skipped.
"""

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

NO_GENERATOR = "no rubric generator: the connection check runs in the generator"


def refused(steps: list[Step], bound: float) -> Evaluator:
    def evaluate(obs: Observation) -> list[Problem]:
        problems: list[Problem] = []
        endpoint = obs.env.get("OPENAI_API_BASE", "")
        for step in steps:
            problems += expect.raises_connection_error(obs, step, "a refused endpoint")
            models = obs.models_of(step)
            needles = [(endpoint, "the endpoint"), ("proxy", "the proxy in effect")] + [(m, "the model") for m in models[:1]]
            problems += expect.names_in_error(obs, step, needles)
            if obs.result(step).outcome == "raised":
                problems += expect.within(obs, step, bound, "precheck", "a refused endpoint")
        return problems

    return evaluate


def skipped(case: Case, steps: list[Step]) -> Case:
    case.skip_reason = None if steps else NO_GENERATOR
    return case


class Precheck(Scenario):
    NUMBER = 8
    NAME = "precheck"
    SUMMARY = "the generator checks the connection first: fails fast and clearly, once per process and model, can be turned off"
    FIXES = ("precheck",)

    def build(self, context: Context) -> list[Case]:
        s = context.settings
        bound = s.precheck_timeout + s.slack
        cases = []
        steps = context.generators(self.case_id("a"))
        cases.append(skipped(Case(self.case_id("a"), self.NAME, "refused endpoint", "raises; names endpoint, proxy, model", steps,
                                  refused(steps, bound), limit=s.failing_call_bound(False) + s.precheck_timeout + 4,
                                  env={"OPENAI_API_BASE": "$dead_base", **s.short_precheck}), steps))
        first, again = context.generators(self.case_id("b")), context.generators(self.case_id("b"), "-again")

        def once(obs: Observation) -> list[Problem]:
            problems = [p for step in first + again for p in expect.answers(obs, step, "precheck", "a healthy endpoint")]
            return problems + [p for step in first for p in expect.checks(obs, step, 1, "once per process and model")]

        cases.append(skipped(Case(self.case_id("b"), self.NAME, "healthy, called twice", "rubric twice; 1 check in all", first + again, once,
                                  limit=s.passing_limit, concurrent=False), first))
        off = context.generators(self.case_id("c"))

        def disabled(obs: Observation) -> list[Problem]:
            problems = [p for step in off for p in expect.answers(obs, step, "precheck", "LITELLM_PRECHECK=off")]
            for step in off:
                if obs.probes.get(step.label):
                    problems.append(("precheck", f"LITELLM_PRECHECK=off: {step.name} still sent {obs.probes[step.label]} connection check(s)"))
            return problems

        cases.append(skipped(Case(self.case_id("c"), self.NAME, "LITELLM_PRECHECK=off", "rubric; no check", off, disabled,
                                  limit=s.passing_limit, env={"LITELLM_PRECHECK": "off"}), off))
        blackholed = context.generators(self.case_id("d"))

        def hanging(obs: Observation) -> list[Problem]:
            why = f"a hanging endpoint with LITELLM_PRECHECK_TIMEOUT={s.precheck_timeout:g}"
            return [p for step in blackholed for p in expect.raises_connection_error(obs, step, "a hanging endpoint") + expect.within(obs, step, bound, "precheck", why)]

        cases.append(skipped(Case(self.case_id("d"), self.NAME, "hanging endpoint", f"raises within {s.precheck_timeout:g}s + slack", blackholed,
                                  hanging, limit=bound + 5, env=s.short_precheck, endpoint=Endpoint(then="hang")), blackholed))
        return cases
