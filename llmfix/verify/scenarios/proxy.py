"""9 proxy: a dead proxy fails fast and is named; a live proxy carries the calls; no_proxy bypasses."""

from __future__ import annotations

from llmfix.verify import expect
from llmfix.verify.scenarios import BASICS, Case, Context, Observation, Problem, Scenario, Step, each
from llmfix.verify.scenarios.precheck import needs_generator

PROXY_VARIABLES = ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY")


class Proxy(Scenario):
    NUMBER = 9
    NAME = "proxy"
    SUMMARY = "a dead proxy fails fast and is named; a live proxy carries the calls; no_proxy bypasses"
    FIXES = ("precheck",)

    def build(self, context: Context) -> list[Case]:
        s = context.settings
        bound = s.precheck_timeout + s.slack
        dead = context.generators(self.case_id("a"))

        def dead_proxy(obs: Observation, step: Step) -> list[Problem]:
            problems = expect.raises_connection_error(obs, step, "a dead proxy")
            problems += expect.names_in_error(obs, step, [(obs.env.get("https_proxy", ""), "the proxy")])
            if obs.result(step).outcome == "raised":
                problems += expect.within(obs, step, bound, "precheck", "a dead proxy")
            if obs.attempts.get(step.label):
                problems.append(("precheck", f"{step.name}: the endpoint saw a request although the proxy is dead"))
            return problems

        def live(case_id: str, steps: list[Step]) -> Case:
            answered = each(steps, lambda obs, step: expect.answers(obs, step, BASICS, "a live forward proxy"))

            def evaluate(obs: Observation) -> list[Problem]:
                problems = answered(obs)
                if not problems and "127.0.0.1" not in obs.proxy_log:
                    problems.append((BASICS, "the proxy log shows no request: the calls did not go through the proxy"))
                return problems

            return Case(case_id, self.NAME, "live forward proxy (tinyproxy)", "all calls succeed through it", steps, evaluate, limit=s.passing_limit,
                        server="proxied", needs=("tinyproxy",),
                        env={"OPENAI_API_BASE": "$proxied_base", "SSL_CERT_FILE": "$proxied_ca", **{name: "$proxy" for name in PROXY_VARIABLES}})

        bypassing = context.callers(self.case_id("c"))
        no_proxy = "127.0.0.1,localhost"
        return [
            needs_generator(Case(self.case_id("a"), self.NAME, "proxy at a closed port", "raises fast; names the proxy", dead, each(dead, dead_proxy),
                                 limit=bound + 5, env={**{name: "$dead_proxy" for name in PROXY_VARIABLES}, **s.short_precheck})),
            live(self.case_id("b"), context.callers(self.case_id("b"))),
            Case(self.case_id("c"), self.NAME, "dead proxy, no_proxy=127.0.0.1", "calls bypass the proxy and succeed", bypassing,
                 each(bypassing, lambda obs, step: expect.answers(obs, step, BASICS, "no_proxy covering the endpoint")), limit=s.passing_limit,
                 env={**{name: "$dead_proxy" for name in PROXY_VARIABLES}, "no_proxy": no_proxy, "NO_PROXY": no_proxy}),
            *context.judge_case(self.case_id("j"), lambda steps: live(self.case_id("j"), steps)),
        ]
