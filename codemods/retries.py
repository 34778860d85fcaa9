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

import argparse

import libcst as cst
from libcst.codemod import CodemodContext

from codemods._analysis import DefaultLine, DefaultsGroup, number_literal
from codemods._defaults import KeyDefaultCodemod, Unpatchable

DEFAULT_RETRIES = 10


class RetriesCommand(KeyDefaultCodemod):
    NAME = "retries"
    SUMMARY = "num_retries default from LITELLM_NUM_RETRIES (10 unless larger already)"
    DESCRIPTION = __doc__.split("\n\n")[0]
    KEY = "num_retries"
    ENV_VAR = "LITELLM_NUM_RETRIES"

    def __init__(self, context: CodemodContext, retries: int = DEFAULT_RETRIES) -> None:
        super().__init__(context)
        self.retries = int(retries)

    @staticmethod
    def add_args(arg_parser: argparse.ArgumentParser) -> None:
        arg_parser.add_argument("--retries", type=int, default=DEFAULT_RETRIES, help="baked-in retry default")

    def default_source(self, group: DefaultsGroup, line: DefaultLine | None, tree: cst.Module) -> str:
        retries = self.retries
        if line is not None:
            existing = number_literal(line.default) if isinstance(line.default, cst.Integer) else None
            if existing is None:
                code = tree.code_for_node(line.default)
                raise Unpatchable(f"num_retries default is `{code}`; expected an integer literal")
            retries = max(retries, int(existing))
        return f'int(os.environ.get("{self.ENV_VAR}", "{retries}"))'
