"""retries: every LiteLLM call helper's retry default comes from LITELLM_NUM_RETRIES.

Why: LiteLLM hands ``num_retries`` to the OpenAI SDK, which spaces attempts
0.5 s, 1 s, 2 s ... apart (capped at 8 s). Five retries ride out about 15 s of
outage; ten ride out about a minute. The env var lets a launcher (or a test suite)
choose without another edit, and a caller's explicit ``num_retries`` still wins.

A larger existing literal is kept as the new default (never lowered); a helper with
no ``num_retries`` line gets one after its other defaults, or before the call when it
has none. ``--retries N`` (or ``retries = N`` in ``[tool.llmfix]``) bakes in N, and
raises the value in a file patched with a smaller one.
"""

from __future__ import annotations

import libcst as cst

from llmfix.codemods import litellm_facts, support
from llmfix.codemods._defaults import KeyDefaultTransform, Site
from llmfix.codemods.building import call, integer, string
from llmfix.codemods.context import FileContext
from llmfix.codemods.transform import Change, Example, Option


def parse_retries(text: str) -> int:
    try:
        value = int(text.strip(), 10)
    except ValueError:
        raise ValueError(f"{text!r} is not a whole number of retries") from None
    if not 0 <= value <= 100:
        raise ValueError(f"{value} is outside 0..100")
    return value


class RetriesTransform(KeyDefaultTransform):
    NAME = "retries"
    SUMMARY = f"num_retries default from {litellm_facts.NUM_RETRIES} ({litellm_facts.DEFAULT_RETRIES} unless larger already)"
    ORDER = 10
    KEY = "num_retries"
    ENV_VAR = litellm_facts.NUM_RETRIES
    OPTION = "retries"
    SUPPORT = "from_env"
    EXPECTED = "an integer literal"
    OPTIONS = (
        Option(
            "retries",
            f"Baked-in retry default; never lowers a larger literal [default: {litellm_facts.DEFAULT_RETRIES}].",
            parse_retries,
            default=litellm_facts.DEFAULT_RETRIES,
            metavar="N",
        ),
    )
    EXAMPLES = (
        Example.change(
            "a literal default becomes env-driven",
            """
             import litellm
            +
            +from open_instruct.rubrics import litellm_utils


             def run_litellm(model_name, **chat_kwargs):
            -    chat_kwargs["num_retries"] = chat_kwargs.get("num_retries", 5)
            +    chat_kwargs["num_retries"] = chat_kwargs.get("num_retries", litellm_utils.from_env("LITELLM_NUM_RETRIES", 10))
                 return litellm.completion(model=model_name, **chat_kwargs)
            """,
        ),
        Example.change(
            "a larger literal is kept; --retries sets the baked-in value",
            """
             import litellm
            +
            +from open_instruct.rubrics import litellm_utils


             async def run(model, **kw):
            -    kw["num_retries"] = kw.get("num_retries", 20)
            +    kw["num_retries"] = kw.get("num_retries", litellm_utils.from_env("LITELLM_NUM_RETRIES", 20))
                 return await litellm.acompletion(model=model, **kw)
            """,
            options={"retries": "12"},
        ),
        Example(
            "already env-driven: left alone",
            """
            import os

            import litellm


            def run_litellm(model_name, **chat_kwargs):
                chat_kwargs["num_retries"] = chat_kwargs.get("num_retries", int(os.environ.get("LITELLM_NUM_RETRIES", "12")))
                return litellm.completion(model=model_name, **chat_kwargs)
            """,
        ),
    )

    def wanted(self, file: FileContext, site: Site) -> int:
        return int(self.option("retries"))

    def outdated(self, baked: object, wanted: object) -> bool:
        """Raised, never lowered: a first apply bakes max(--retries, the file's literal)."""
        return int(wanted) > int(baked)  # type: ignore[call-overload]

    def baked(self, file: FileContext, expression_: cst.BaseExpression) -> int | None:
        if self.ours(expression_) and len(expression_.args) == 2 and isinstance(expression_.args[1].value, cst.Integer):  # type: ignore[attr-defined]
            return int(expression_.args[1].value.evaluated_value)  # type: ignore[attr-defined]
        return None

    def literal_value(self, expression_: cst.BaseExpression) -> int | None:
        return int(expression_.evaluated_value) if isinstance(expression_, cst.Integer) else None

    def new_default(self, file: FileContext, site: Site) -> cst.BaseExpression:
        retries = max(self.wanted(file, site), self.literal(file, site) or 0)  # type: ignore[call-overload]
        return call(f"{support.NAME}.from_env", string(self.ENV_VAR, file.style.quote), integer(retries))

    def change(self, file: FileContext, site: Site, new: cst.BaseExpression) -> Change | None:
        after = self.baked(file, new) or 0
        before = self.before(file, site)
        if before == after:
            return None
        sdk = litellm_facts.SDK_DEFAULT_RETRIES
        was = f"{before}" if before is not None else f"none set: the OpenAI SDK's own {sdk}"
        was += f" (rides out {litellm_facts.describe_outage(before if before is not None else sdk)})"  # type: ignore[arg-type]
        old = str(before if before is not None else sdk)
        return Change(
            f"{site.group.where}: {after} retries by default, riding out {litellm_facts.describe_outage(after)} of a failing "
            f"endpoint; before: {was}; {self.ENV_VAR}={old} restores it",
            ((self.ENV_VAR, old),),
            self.KEY,
            before,
        )
