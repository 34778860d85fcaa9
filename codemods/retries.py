"""retries: every LiteLLM call helper's retry default comes from LITELLM_NUM_RETRIES.

Why: LiteLLM hands ``num_retries`` to the OpenAI SDK, which spaces attempts
0.5 s, 1 s, 2 s ... apart (capped at 8 s). Five retries ride out about 14 s of
outage; ten ride out about a minute. The env var lets a launcher raise it
without another edit, and a caller's explicit ``num_retries`` still wins.

Before::

    chat_kwargs["num_retries"] = chat_kwargs.get("num_retries", 5)

After::

    chat_kwargs["num_retries"] = chat_kwargs.get("num_retries", int(os.environ.get("LITELLM_NUM_RETRIES", "10")))

A larger existing literal is kept as the new default (never lowered); a helper
with no ``num_retries`` line gets one inserted after its other defaults, or
before the call when it has none.
"""

from __future__ import annotations

import libcst as cst
from llmfix.codemods._defaults import KeyDefaultTransform, Unpatchable
from llmfix.codemods.analysis.defaults import DefaultLine, DefaultsGroup
from llmfix.codemods.analysis.nodes import number_literal

DEFAULT_RETRIES = 10


class RetriesTransform(KeyDefaultTransform):
    NAME = "retries"
    SUMMARY = "num_retries default from LITELLM_NUM_RETRIES (10 unless larger already)"
    DESCRIPTION = __doc__.split("\n\n")[0]
    KEY = "num_retries"
    ENV_VAR = "LITELLM_NUM_RETRIES"

    def __init__(self, retries: int = DEFAULT_RETRIES) -> None:
        self.retries = int(retries)

    def default_source(self, group: DefaultsGroup, line: DefaultLine | None, tree: cst.Module) -> str:
        retries = self.retries
        if line is not None:
            existing = number_literal(line.default) if isinstance(line.default, cst.Integer) else None
            if existing is None:
                code = tree.code_for_node(line.default)
                raise Unpatchable(f"num_retries default is `{code}`; expected an integer literal")
            retries = max(retries, int(existing))
        return f'int(os.environ.get("{self.ENV_VAR}", "{retries}"))'


def __getattr__(name: str):
    """Build the libcst command class on first access (it imports libcst.codemod)."""
    if name == "RetriesCommand":
        from llmfix.codemods._command import command_for

        return command_for(RetriesTransform, {"retries": {"type": int, "help": "baked-in retry default (10)"}})
    raise AttributeError(name)
