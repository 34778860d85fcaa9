"""11 precheck-recheck: a failed check is cached, then re-checked after LITELLM_PRECHECK_RECHECK seconds.

The endpoint answers 404 once, then recovers: the first call raises, a second at once raises
from the cache, a third after the interval checks again and gets its rubric.
"""

from __future__ import annotations

from dataclasses import replace

from llmfix.verify import expect
from llmfix.verify.scenarios import Case, Context, Endpoint, Observation, Problem, Scenario
from llmfix.verify.scenarios.precheck import needs_generator


class PrecheckRecheck(Scenario):
    NUMBER = 11
    NAME = "precheck-recheck"
    SUMMARY = "a failed check raises, is cached, and is re-checked after LITELLM_PRECHECK_RECHECK: a recovered endpoint recovers the run"
    FIXES = ("precheck",)

    def build(self, context: Context) -> list[Case]:
        s = context.settings
        case_id = self.case_id()
        first = context.generators(case_id)
        cached = context.generators(case_id, "-cached")
        after = [replace(step, pause=s.recheck + 0.5) for step in context.generators(case_id, "-after-recheck")]
        recheck = f"LITELLM_PRECHECK_RECHECK={s.recheck:g}"

        def evaluate(obs: Observation) -> list[Problem]:
            problems: list[Problem] = []
            for one, two, three in zip(first, cached, after):
                problems += expect.raises_connection_error(obs, one, "a 404 (a definitive failure)")
                problems += expect.raises_connection_error(obs, two, f"a call right after a failed check ({recheck}: the failure is cached)")
                result = obs.result(three)
                if result.outcome == "raised":
                    problems.append(("precheck", f"{result.name} still raised {s.recheck + 0.5:g}s after a failed check although the endpoint recovered"
                                                 f" ({recheck}): a failure must be re-checked, not cached for good"))
                else:
                    problems += expect.answers(obs, three, "precheck", "a recovered endpoint")
                if not problems:
                    problems += expect.checks(obs, one, 2, f"the failure, then one re-check after {s.recheck:g}s")
            return problems

        return [
            needs_generator(Case(case_id, self.NAME, "404 once, then ok; called 3 times", "raises, raises (cached), rubric after the recheck",
                                 [*first, *cached, *after], evaluate, limit=s.recheck + s.precheck_timeout_passing * 2 + s.slack + 5,
                                 env={"LITELLM_PRECHECK_RECHECK": f"{s.recheck:g}"}, endpoint=Endpoint(("404",)), concurrent=False)),
        ]
