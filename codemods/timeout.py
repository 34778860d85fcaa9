"""timeout: every LiteLLM call helper, sync and async, reads LITELLM_DEFAULT_TIMEOUT.

Why: the sync helper usually has no timeout at all (a hung endpoint holds the call
forever), and a literal timeout can't be tuned per launch. LiteLLM's timeout is per
attempt and an idle timeout, so retries times timeout bounds one call.

A helper that already reads the variable (``float(os.environ.get("LITELLM_DEFAULT_TIMEOUT", "600"))``)
is left alone: the support module checks the value wherever it is read. A helper's own timeout literal (``"120"`` in some versions) stays its default; a helper
without one gets 600 s, or ``--timeout SECONDS`` (``timeout = ...`` in ``[tool.llmfix]``).
(Not another helper's literal: a patch must not depend on code that an upstream merge can
change elsewhere in the file.)
"""

from __future__ import annotations

import math

import libcst as cst

from llmfix.codemods import litellm_facts, support
from llmfix.codemods._defaults import KeyDefaultTransform, Site
from llmfix.codemods.analysis.nodes import number_literal
from llmfix.codemods.building import call, format_number, number, string
from llmfix.codemods.context import FileContext
from llmfix.codemods.transform import Change, Example, Option

MIN_TIMEOUT = 0.001
MAX_TIMEOUT = 7 * 24 * 3600.0


def parse_timeout(text: str) -> float:
    try:
        value = float(text.strip())
    except ValueError:
        raise ValueError(f"{text!r} is not a number of seconds") from None
    if not math.isfinite(value) or not MIN_TIMEOUT <= value <= MAX_TIMEOUT:
        raise ValueError(f"{text.strip()} is not a timeout between {MIN_TIMEOUT:g} and {MAX_TIMEOUT:g} seconds")
    return value


class TimeoutTransform(KeyDefaultTransform):
    NAME = "timeout"
    SUMMARY = f"timeout default from {litellm_facts.DEFAULT_TIMEOUT_VARIABLE}, sync and async"
    ORDER = 30
    KEY = "timeout"
    ENV_VAR = litellm_facts.DEFAULT_TIMEOUT_VARIABLE
    OPTION = "timeout"
    SUPPORT = "from_env"
    EXPECTED = f"a number or a read of {litellm_facts.DEFAULT_TIMEOUT_VARIABLE}"
    OPTIONS = (
        Option(
            "timeout",
            f"Baked-in timeout in seconds [default: the file's own, else {format_number(litellm_facts.DEFAULT_TIMEOUT)}].",
            parse_timeout,
            metavar="SECONDS",
        ),
    )
    EXAMPLES = (
        Example.change(
            "a helper without a timeout gets one after its defaults",
            """
             import litellm
            +
            +from open_instruct.rubrics import litellm_utils


             def run_litellm(model_name, **chat_kwargs):
                 chat_kwargs["num_retries"] = chat_kwargs.get("num_retries", 5)
            +    chat_kwargs["timeout"] = chat_kwargs.get("timeout", litellm_utils.from_env("LITELLM_DEFAULT_TIMEOUT", 600))
                 return litellm.completion(model=model_name, **chat_kwargs)
            """,
        ),
        Example(
            "already env-driven: left alone",
            """
            import os

            import litellm


            async def run(model, **kw):
                kw["timeout"] = kw.get("timeout", float(os.environ.get("LITELLM_DEFAULT_TIMEOUT", "120")))
                return await litellm.acompletion(model=model, **kw)
            """,
        ),
    )

    def wanted(self, file: FileContext, site: Site) -> float:
        chosen = self.option("timeout")
        if chosen is not None:
            return float(chosen)
        literal = self.literal(file, site)
        return literal if literal is not None else litellm_facts.DEFAULT_TIMEOUT  # type: ignore[return-value]

    def baked(self, file: FileContext, expression_: cst.BaseExpression) -> float | None:
        if self.ours(expression_) and len(expression_.args) == 2:  # type: ignore[attr-defined]
            return number_literal(expression_.args[1].value)  # type: ignore[attr-defined]
        return None

    def literal_value(self, expression_: cst.BaseExpression) -> float | None:
        return number_literal(expression_) if isinstance(expression_, (cst.Integer, cst.Float)) else None

    def new_default(self, file: FileContext, site: Site) -> cst.BaseExpression:
        seconds = self.wanted(file, site)
        return call(f"{support.NAME}.from_env", string(self.ENV_VAR, file.style.quote), number(seconds))

    def change(self, file: FileContext, site: Site, new: cst.BaseExpression) -> Change | None:
        after = self.baked(file, new)
        before = self.before(file, site)
        if before == after:
            return None
        if before is None:
            return Change(
                f"{site.group.where}: each attempt now times out after {format_number(after or 0)} s (before: LiteLLM's own "
                f"request timeout, {format_number(litellm_facts.LITELLM_REQUEST_TIMEOUT)} s unless REQUEST_TIMEOUT is set); "
                f"{self.ENV_VAR} sets it"
            )  # no restoring value: other helpers may read the same variable with defaults of their own
        return Change(
            f"{site.group.where}: per-attempt timeout {format_number(after or 0)} s instead of {format_number(before)} s; "
            f"{self.ENV_VAR}={format_number(before)} restores it",
            ((self.ENV_VAR, format_number(before)),),
            self.KEY,
            before,
        )
