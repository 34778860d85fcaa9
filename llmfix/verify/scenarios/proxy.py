"""9 proxy: a dead proxy fails fast and is named; a live proxy carries the calls; no_proxy bypasses."""

from __future__ import annotations

from llmfix.verify import expect
from llmfix.verify.analysis import HELPER
from llmfix.verify.scenarios import (
    BASICS,
    Case,
    Context,
    Observation,
    Problem,
    Scenario,
)

PROXY_VARIABLES = ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY")


class Proxy(Scenario):
    NUMBER = 9
    NAME = "proxy"
    SUMMARY = "a dead proxy fails fast and is named; a live proxy carries the calls; no_proxy bypasses"
    FIXES = ("precheck",)

    def build(self, context: Context) -> list[Case]:
        s = context.settings
        bound = s.precheck_timeout + s.slack
        cases = []

        dead = context.ensure(self.case_id("a"))

        def dead_proxy(obs: Observation) -> list[Problem]:
            problems = expect.raises_connection_error(obs, dead, "a dead proxy")
            problems += expect.names_in_error(obs, dead, [(obs.env.get("https_proxy", ""), "the proxy")])
            if obs.result(dead).outcome == "raised":
                problems += expect.within(obs, dead, bound, "precheck", "a dead proxy")
            if obs.attempts.get(dead.label):
                problems.append(("precheck", "the endpoint saw a request although the proxy is dead"))
            return problems

        cases.append(Case(self.case_id("a"), self.NAME, "proxy at a closed port", "raises fast; names the proxy", [dead], dead_proxy,
                          limit=bound + 5, env={**{name: "$dead_proxy" for name in PROXY_VARIABLES}, **s.short_precheck}))

        ensure = context.ensure(self.case_id("b"))
        calls = context.callers(self.case_id("b"))

        def live_proxy(obs: Observation) -> list[Problem]:
            problems = expect.answers(obs, ensure, "precheck", "a live forward proxy")
            for step in calls:
                problems += expect.answers(obs, step, BASICS, "a live forward proxy")
            if not problems and "127.0.0.1" not in obs.proxy_log:
                problems.append((BASICS, "the proxy log shows no request: the calls did not go through the proxy"))
            return problems

        cases.append(Case(self.case_id("b"), self.NAME, "live forward proxy (tinyproxy)", "all calls succeed through it", [ensure, *calls],
                          live_proxy, limit=25, server="proxied", needs=("tinyproxy",),
                          env={"OPENAI_API_BASE": "$proxied_base", "SSL_CERT_FILE": "$proxied_ca", **{name: "$proxy" for name in PROXY_VARIABLES}}))

        bypass_ensure = context.ensure(self.case_id("c"))
        helpers = context.callers(self.case_id("c"), (HELPER,))

        def bypass(obs: Observation) -> list[Problem]:
            problems = expect.answers(obs, bypass_ensure, "precheck", "no_proxy covering the endpoint")
            for step in helpers:
                problems += expect.answers(obs, step, BASICS, "no_proxy covering the endpoint")
            return problems

        no_proxy = "127.0.0.1,localhost"
        cases.append(Case(self.case_id("c"), self.NAME, "dead proxy, no_proxy=127.0.0.1", "calls bypass the proxy and succeed",
                          [bypass_ensure, *helpers], bypass, limit=20,
                          env={**{name: "$dead_proxy" for name in PROXY_VARIABLES}, "no_proxy": no_proxy, "NO_PROXY": no_proxy}))
        return cases
