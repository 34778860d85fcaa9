"""11 precheck-recheck: a failed check is cached, then re-checked after LITELLM_PRECHECK_RECHECK seconds.

The endpoint answers 404 (definitive) once, then recovers: the first check raises, a second
one at once raises from the cache without a request, one after the recheck interval passes.
"""

from __future__ import annotations

from llmfix.verify import expect
from llmfix.verify.cases import WAIT
from llmfix.verify.scenarios import (
    Case,
    Context,
    Endpoint,
    Observation,
    Problem,
    Scenario,
    Step,
)


class PrecheckRecheck(Scenario):
    NUMBER = 11
    NAME = "precheck-recheck"
    SUMMARY = "a failed check raises, is cached, and is re-checked after LITELLM_PRECHECK_RECHECK: a recovered endpoint recovers the run"
    FIXES = ("precheck",)

    def build(self, context: Context) -> list[Case]:
        s = context.settings
        case_id = self.case_id()
        first = context.ensure(case_id)
        cached = context.ensure(case_id, "ensure-cached")
        wait = Step("wait", WAIT, seconds=s.recheck + 0.5)
        after = context.ensure(case_id, "ensure-after-recheck")
        recheck = f"LITELLM_PRECHECK_RECHECK={s.recheck:g}"

        def evaluate(obs: Observation) -> list[Problem]:
            problems = expect.raises_connection_error(obs, first, "a 404 (a definitive failure)")
            problems += expect.raises_connection_error(obs, cached, f"a check right after a failed one ({recheck}: the failure is cached)")
            result = obs.result(after)
            if result.outcome == "raised":
                problems.append(("precheck", f"{result.name} still raised {s.recheck + 0.5:g}s after a failure although the endpoint recovered"
                                             f" ({recheck}): a failure must be re-checked, not cached for good"))
            else:
                problems += expect.answers(obs, after, "precheck", "a recovered endpoint")
            seen = obs.attempts.get(first.label)
            if not problems and seen != 2:
                problems.append(("precheck", f"three checks sent {seen} request(s) (expected 2: the failure, then one re-check after {s.recheck:g}s)"))
            return problems

        return [
            Case(case_id, self.NAME, "404 once, then ok; checked 3 times", "raises, raises (cached), passes after the recheck", [first, cached, wait, after],
                 evaluate, limit=s.recheck + s.precheck_timeout_passing * 2 + s.slack + 5, env={"LITELLM_PRECHECK_RECHECK": f"{s.recheck:g}"},
                 endpoint=Endpoint(("404",)), concurrent=False),
        ]
