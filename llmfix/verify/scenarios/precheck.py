"""8 precheck: the generator checks the connection first: fails fast and clearly, once per process and model, can be turned off.

The check is one tiny request (``max_tokens=1``: how the endpoint tells it from a real one).
A checkout without a generator has no check: its precheck cases are skipped.
"""

from __future__ import annotations

from llmfix.verify import expect
from llmfix.verify.scenarios import Case, Context, Endpoint, Observation, Problem, Scenario, Step, each

NO_GENERATOR = "no rubric generator: the connection check runs in the generator"


def needs_generator(case: Case) -> Case:
    """``case``, skipped when the checkout has no rubric generator to call."""
    case.skip_reason = None if case.steps else NO_GENERATOR
    return case


class Precheck(Scenario):
    NUMBER = 8
    NAME = "precheck"
    SUMMARY = "the generator checks the connection first: fails fast and clearly, once per process and model, can be turned off"
    FIXES = ("precheck",)

    def build(self, context: Context) -> list[Case]:
        s = context.settings
        bound = s.precheck_timeout + s.slack
        steps = context.generators(self.case_id("a"))

        def refused(obs: Observation, step: Step) -> list[Problem]:
            needles = [(obs.env.get("OPENAI_API_BASE", ""), "the endpoint"), ("proxy", "the proxy in effect")]
            problems = expect.raises_connection_error(obs, step, "a refused endpoint")
            problems += expect.names_in_error(obs, step, needles + [(m, "the model") for m in obs.models_of(step)[:1]])
            if obs.result(step).outcome == "raised":
                problems += expect.within(obs, step, bound, "precheck", "a refused endpoint")
            return problems

        cases = [Case(self.case_id("a"), self.NAME, "refused endpoint", "raises; names endpoint, proxy, model", steps, each(steps, refused),
                      limit=s.failing_call_bound(False) + s.precheck_timeout + 4, env={"OPENAI_API_BASE": "$dead_base", **s.short_precheck})]
        first, again = context.generators(self.case_id("b")), context.generators(self.case_id("b"), "-again")

        def once(obs: Observation) -> list[Problem]:
            problems = [p for step in first + again for p in expect.answers(obs, step, "precheck", "a healthy endpoint")]
            return problems + [p for step in first for p in expect.checks(obs, step, 1, "once per process and model")]

        cases.append(Case(self.case_id("b"), self.NAME, "healthy, called twice", "rubric twice; 1 check in all", first + again, once,
                          limit=s.passing_limit, concurrent=False))
        off = context.generators(self.case_id("c"))
        answered = each(off, lambda obs, step: expect.answers(obs, step, "precheck", "LITELLM_PRECHECK=off"))
        unchecked = each(off, lambda obs, step: [("precheck", f"LITELLM_PRECHECK=off: {step.name} still sent {obs.probes[step.label]} connection check(s)")]
                         if obs.probes.get(step.label) else [])
        cases.append(Case(self.case_id("c"), self.NAME, "LITELLM_PRECHECK=off", "rubric; no check", off, lambda obs: answered(obs) + unchecked(obs),
                          limit=s.passing_limit, env={"LITELLM_PRECHECK": "off"}))
        hanging = context.generators(self.case_id("d"))
        why = f"a hanging endpoint with LITELLM_PRECHECK_TIMEOUT={s.precheck_timeout:g}"
        cases.append(Case(self.case_id("d"), self.NAME, "hanging endpoint", f"raises within {s.precheck_timeout:g}s + slack", hanging,
                          each(hanging, lambda obs, step: expect.raises_connection_error(obs, step, "a hanging endpoint") + expect.within(obs, step, bound, "precheck", why)),
                          limit=bound + 5, env=s.short_precheck, endpoint=Endpoint(then="hang")))
        return [needs_generator(case) for case in cases]
