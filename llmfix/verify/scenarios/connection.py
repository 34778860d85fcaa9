"""Scenarios 8-11: the connection check the generator makes first (one ``max_tokens=1`` request; none without a generator), and proxies."""

from __future__ import annotations

from dataclasses import replace

from llmfix.verify import expect
from llmfix.verify.scenarios import BASICS, Case, Endpoint, Observation, Problem, Scenario, Step, each, unit

NO_GENERATOR = "no rubric generator: the connection check runs in the generator"
PROXY_VARIABLES = ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY")


def needs_generator(case: Case) -> Case:
    """``case``, skipped when the checkout has no rubric generator to call."""
    case.skip_reason = None if case.steps else NO_GENERATOR
    return case


@unit(8, "precheck", ("precheck",), "the generator checks the connection first: fails fast and clearly, once per process and model, can be turned off")
def precheck(sc: Scenario) -> list[Case]:
    s = sc.settings
    bound = s.precheck_timeout + s.slack
    steps = sc.generators("a")

    def refused(obs: Observation, step: Step) -> list[Problem]:
        needles = [(obs.env.get("OPENAI_API_BASE", ""), "the endpoint"), ("proxy", "the proxy in effect")]
        problems = expect.raises_connection_error(obs, step, "a refused endpoint")
        problems += expect.names_in_error(obs, step, needles + [(m, "the model") for m in obs.models_of(step)[:1]])
        if obs.result(step).outcome == "raised":
            problems += expect.within(obs, step, bound, "precheck", "a refused endpoint")
        return problems

    cases = [sc.case("a", "refused endpoint", "raises; names endpoint, proxy, model", steps, each(steps, refused),
                     s.failing_call_bound(False) + s.precheck_timeout + 4, env={"OPENAI_API_BASE": "$dead_base", **s.short_precheck})]
    first, again = sc.generators("b"), sc.generators("b", "-again")

    def once(obs: Observation) -> list[Problem]:
        problems = [p for step in first + again for p in expect.answers(obs, step, "precheck", "a healthy endpoint")]
        return problems + [p for step in first for p in expect.checks(obs, step, 1, "once per process and model")]

    cases.append(sc.case("b", "healthy, called twice", "rubric twice; 1 check in all", first + again, once, s.passing_limit, concurrent=False))
    off = sc.generators("c")

    def unchecked(obs: Observation, step: Step) -> list[Problem]:
        problems = expect.answers(obs, step, "precheck", "LITELLM_PRECHECK=off")
        if obs.probes.get(step.label):
            problems.append(("precheck", f"LITELLM_PRECHECK=off: {step.name} still sent {obs.probes[step.label]} connection check(s)"))
        return problems

    cases.append(sc.case("c", "LITELLM_PRECHECK=off", "rubric; no check", off, each(off, unchecked), s.passing_limit, env={"LITELLM_PRECHECK": "off"}))
    hanging = sc.generators("d")
    why = f"a hanging endpoint with LITELLM_PRECHECK_TIMEOUT={s.precheck_timeout:g}"
    cases.append(sc.case("d", "hanging endpoint", f"raises within {s.precheck_timeout:g}s + slack", hanging,
                         each(hanging, lambda obs, step: expect.raises_connection_error(obs, step, "a hanging endpoint")
                              + expect.within(obs, step, bound, "precheck", why)),
                         bound + 5, env=s.short_precheck, endpoint=Endpoint(then="hang")))
    return [needs_generator(case) for case in cases]


@unit(9, "proxy", ("precheck",), "a dead proxy fails fast and is named; a live proxy carries the calls; no_proxy bypasses")
def proxy(sc: Scenario) -> list[Case]:
    s = sc.settings
    bound = s.precheck_timeout + s.slack
    dead = sc.generators("a")
    dead_proxy = {name: "$dead_proxy" for name in PROXY_VARIABLES}

    def refused(obs: Observation, step: Step) -> list[Problem]:
        problems = expect.raises_connection_error(obs, step, "a dead proxy")
        problems += expect.names_in_error(obs, step, [(obs.env.get("https_proxy", ""), "the proxy")])
        if obs.result(step).outcome == "raised":
            problems += expect.within(obs, step, bound, "precheck", "a dead proxy")
        if obs.attempts.get(step.label):
            problems.append(("precheck", f"{step.name}: the endpoint saw a request although the proxy is dead"))
        return problems

    def live(letter: str, steps: list[Step]) -> Case:
        answered = each(steps, lambda obs, step: expect.answers(obs, step, BASICS, "a live forward proxy"))

        def evaluate(obs: Observation) -> list[Problem]:
            problems = answered(obs)
            if not problems and "127.0.0.1" not in obs.proxy_log:
                problems.append((BASICS, "the proxy log shows no request: the calls did not go through the proxy"))
            return problems

        return sc.case(letter, "live forward proxy (tinyproxy)", "all calls succeed through it", steps, evaluate, s.passing_limit, server="proxied",
                       env={"OPENAI_API_BASE": "$proxied_base", "SSL_CERT_FILE": "$proxied_ca", **{name: "$proxy" for name in PROXY_VARIABLES}})

    bypassing = sc.callers("c")
    no_proxy = "127.0.0.1,localhost"
    return [
        needs_generator(sc.case("a", "proxy at a closed port", "raises fast; names the proxy", dead, each(dead, refused), bound + 5,
                                env={**dead_proxy, **s.short_precheck})),
        live("b", sc.callers("b")),
        sc.case("c", "dead proxy, no_proxy=127.0.0.1", "calls bypass the proxy and succeed", bypassing,
                each(bypassing, lambda obs, step: expect.answers(obs, step, BASICS, "no_proxy covering the endpoint")), s.passing_limit,
                env={**dead_proxy, "no_proxy": no_proxy, "NO_PROXY": no_proxy}),
        *sc.judge_case("j", lambda steps: live("j", steps)),
    ]


@unit(10, "precheck-blip", ("precheck",), "one transient 500, reset or 429 during the connection check: retried within LITELLM_PRECHECK_TIMEOUT, passes")
def precheck_blip(sc: Scenario) -> list[Case]:
    bound = sc.settings.precheck_timeout_passing + sc.settings.slack
    cases = []
    for letter, behaviour, title in (("a", "500", "one 500, then ok"), ("b", "drop", "one connection reset, then ok"),
                                     ("c", "429", "one 429 + Retry-After, then ok")):
        what = title.split(",")[0]

        def check(obs: Observation, step: Step, what: str = what) -> list[Problem]:
            return (expect.answers(obs, step, "precheck", f"{what} during the check (a blip: it must retry)")
                    + expect.checks(obs, step, 2, "the blip, then its retry") + expect.within(obs, step, bound, "precheck", what))

        steps = sc.generators(letter)
        cases.append(needs_generator(sc.case(letter, title, "rubric; 2 checks", steps, each(steps, check), bound + 5, endpoint=Endpoint((behaviour,)))))
    return cases


@unit(11, "precheck-recheck", ("precheck",),
      "a failed check raises, is cached, and is re-checked after LITELLM_PRECHECK_RECHECK: a recovered endpoint recovers the run")
def precheck_recheck(sc: Scenario) -> list[Case]:
    s = sc.settings
    first, cached = sc.generators(), sc.generators("", "-cached")
    after = [replace(step, pause=s.recheck + 0.5) for step in sc.generators("", "-after-recheck")]
    recheck = f"LITELLM_PRECHECK_RECHECK={s.recheck:g}"

    def evaluate(obs: Observation) -> list[Problem]:
        problems: list[Problem] = []
        for one, two, three in zip(first, cached, after):
            problems += expect.raises_connection_error(obs, one, "a 404 (a definitive failure)")
            problems += expect.raises_connection_error(obs, two, f"a call right after a failed check ({recheck}: the failure is cached)")
            if obs.result(three).outcome == "raised":
                problems.append(("precheck", (f"{obs.result(three).name} still raised {s.recheck + 0.5:g}s after a failed check although the endpoint "
                                              f"recovered ({recheck}): a failure must be re-checked, not cached for good")))
            else:
                problems += expect.answers(obs, three, "precheck", "a recovered endpoint")
            if not problems:
                problems += expect.checks(obs, one, 2, f"the failure, then one re-check after {s.recheck:g}s")
        return problems

    return [needs_generator(sc.case("", "404 once, then ok; called 3 times", "raises, raises (cached), rubric after the recheck",
                                    [*first, *cached, *after], evaluate, s.recheck + s.precheck_timeout_passing * 2 + s.slack + 5,
                                    env={"LITELLM_PRECHECK_RECHECK": f"{s.recheck:g}"}, endpoint=Endpoint(("404",)), concurrent=False))]
