"""max_tokens: an example plugin transform; the max_tokens default comes from LITELLM_MAX_TOKENS.

Why: it shows what adding a transform takes: this one module. Its declaration gives
``llmfix list`` its line, ``llmfix explain`` its text, the CLI its ``--max-tokens``
flag and ``[tool.llmfix]`` its ``max_tokens`` key, and the tests its examples. Load
it with ``LLMFIX_PLUGINS=llmfix_max_tokens`` (the module on ``sys.path``).

Before::

    chat_kwargs["max_tokens"] = chat_kwargs.get("max_tokens", 800)

After::

    chat_kwargs["max_tokens"] = chat_kwargs.get("max_tokens", int(os.environ.get("LITELLM_MAX_TOKENS", "800")))
"""

from __future__ import annotations

import libcst as cst

from llmfix.codemods._defaults import KeyDefaultTransform, Site, Unpatchable
from llmfix.codemods.analysis.nodes import env_default_literal
from llmfix.codemods.analysis.scopes import binds_name, module_bindings
from llmfix.codemods.building import expression, string
from llmfix.codemods.context import FileContext
from llmfix.codemods.transform import ALREADY_PRESENT, ANCHOR_MISSING, APPLIED, Example, Option


def parse_tokens(text: str) -> int:
    if not text.strip().isdigit() or not 1 <= int(text) <= 1_000_000:
        raise ValueError(f"{text!r} is not a token count between 1 and 1000000")
    return int(text)


class MaxTokensTransform(KeyDefaultTransform):
    NAME = "max_tokens"
    SUMMARY = "max_tokens default from LITELLM_MAX_TOKENS (example plugin)"
    ORDER = 90
    KEY = "max_tokens"
    ENV_VAR = "LITELLM_MAX_TOKENS"
    OPTION = "max_tokens"
    OPTIONS = (Option("max_tokens", "Baked-in max_tokens default [default: the site's own].", parse_tokens, metavar="N"),)
    EXAMPLES = (
        Example(
            "a literal default becomes env-driven",
            """
            import os

            import litellm


            def run_litellm(model_name, **chat_kwargs):
                chat_kwargs["max_tokens"] = chat_kwargs.get("max_tokens", 800)
                return litellm.completion(model=model_name, **chat_kwargs)
            """,
            """
            import os

            import litellm


            def run_litellm(model_name, **chat_kwargs):
                chat_kwargs["max_tokens"] = chat_kwargs.get("max_tokens", int(os.environ.get("LITELLM_MAX_TOKENS", "800")))
                return litellm.completion(model=model_name, **chat_kwargs)
            """,
            APPLIED,
        ),
        Example(
            "already env-driven: left alone",
            """
            import os

            import litellm


            def run_litellm(model_name, **chat_kwargs):
                chat_kwargs["max_tokens"] = chat_kwargs.get("max_tokens", int(os.environ.get("LITELLM_MAX_TOKENS", "800")))
                return litellm.completion(model=model_name, **chat_kwargs)
            """,
            None,
            ALREADY_PRESENT,
        ),
        Example(
            "no `import os` in the file: refused (llmfix adds no import but its support module's)",
            """
            import litellm


            def run_litellm(model_name, **chat_kwargs):
                chat_kwargs["max_tokens"] = chat_kwargs.get("max_tokens", 800)
                return litellm.completion(model=model_name, **chat_kwargs)
            """,
            None,
            ANCHOR_MISSING,
        ),
    )

    def baked(self, file: FileContext, expression_: cst.BaseExpression) -> int | None:
        value = env_default_literal(expression_, self.ENV_VAR)
        return None if value is None else int(value)

    def wanted(self, file: FileContext, site: Site) -> int:
        chosen = self.option("max_tokens")
        if chosen is not None:
            return int(chosen)
        if isinstance(site.default, cst.Integer):
            return int(site.default.evaluated_value)
        if site.default is not None and self.baked(file, site.default) is not None:
            return self.baked(file, site.default)  # type: ignore[return-value]
        raise Unpatchable("no max_tokens literal to keep; give --max-tokens")

    def new_default(self, file: FileContext, site: Site) -> cst.BaseExpression:
        if module_bindings(file.module).get("os") != "import os" or binds_name(site.group.function, "os"):
            raise Unpatchable("the new default reads `os.environ`, and `os` is not the os module there (add `import os`)")
        return expression(
            "int(os.environ.get(__var__, __value__))",
            file,
            var=string(self.ENV_VAR, file.style.quote),
            value=string(str(self.wanted(file, site)), file.style.quote),
        )
