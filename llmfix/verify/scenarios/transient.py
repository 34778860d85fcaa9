"""2 transient: the first N connections are reset; every call is retried and succeeds (a judge's too)."""

from __future__ import annotations

from llmfix.verify import expect
from llmfix.verify.scenarios import Case, Context, Endpoint, Scenario, Step, each


class Transient(Scenario):
    NUMBER = 2
    NAME = "transient"
    SUMMARY = "the first LITELLM_NUM_RETRIES attempts are reset: retried, succeeds"
    FIXES = ("retries", "judge")

    def build(self, context: Context) -> list[Case]:
        k = context.settings.retries

        def case(case_id: str, steps: list[Step]) -> Case:
            evaluate = each(steps, lambda obs, step: expect.answers(obs, step, "retries", f"{k} dropped connection(s)"),
                            lambda obs, step: expect.exact_attempts(obs, step, k + 1, "retries"))
            return Case(case_id, self.NAME, f"{k} connection resets, then ok", f"succeeds; {k + 1} attempts each", steps, evaluate,
                        limit=context.settings.passing_limit, env={"LITELLM_PRECHECK": "off"}, endpoint=Endpoint(("drop",) * k))

        return self.with_judge(context, case)
