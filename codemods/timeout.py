"""timeout: every LiteLLM call helper, sync and async, reads LITELLM_DEFAULT_TIMEOUT.

Why: the sync helper usually has no timeout at all (a hung endpoint holds the
call forever), and a literal timeout can't be tuned per launch. LiteLLM's
timeout is per attempt and an idle timeout, so the product of retries and
timeout bounds one call.

Before::

    chat_kwargs["num_retries"] = chat_kwargs.get("num_retries", 5)
    response = litellm.completion(messages=msgs, model=model_name, **chat_kwargs)

After::

    chat_kwargs["num_retries"] = chat_kwargs.get("num_retries", 5)
    chat_kwargs["timeout"] = chat_kwargs.get("timeout", float(os.environ.get("LITELLM_DEFAULT_TIMEOUT", "600")))
    response = litellm.completion(messages=msgs, model=model_name, **chat_kwargs)

The default is the file's existing timeout literal (``"120"`` in some
versions), else 600 s, or ``--timeout``.
"""

from __future__ import annotations

import libcst as cst
from llmfix.codemods._base import Edits
from llmfix.codemods._defaults import KeyDefaultTransform, Unpatchable
from llmfix.codemods.analysis.defaults import (
    DefaultLine,
    DefaultsGroup,
    defaults_groups,
)
from llmfix.codemods.analysis.nodes import (
    env_default_literal,
    format_number,
    number_literal,
)

DEFAULT_TIMEOUT = 600.0


class TimeoutTransform(KeyDefaultTransform):
    NAME = "timeout"
    SUMMARY = "timeout default from LITELLM_DEFAULT_TIMEOUT, sync and async"
    DESCRIPTION = __doc__.split("\n\n")[0]
    KEY = "timeout"
    ENV_VAR = "LITELLM_DEFAULT_TIMEOUT"

    def __init__(self, timeout: float | None = None) -> None:
        self.timeout = None if timeout is None else float(timeout)
        self._file_default = DEFAULT_TIMEOUT

    def plan(self, tree: cst.Module, edits: Edits):
        self._file_default = self._existing_literal(tree) or DEFAULT_TIMEOUT
        return super().plan(tree, edits)

    def _existing_literal(self, tree: cst.Module) -> float | None:
        """The first timeout literal the file already uses (plain or inside the env read)."""
        for group in defaults_groups(tree):
            line = group.line_for(self.KEY)
            if line is None:
                continue
            value = env_default_literal(line.default, self.ENV_VAR)
            if value is None and isinstance(line.default, (cst.Integer, cst.Float)):
                value = number_literal(line.default)
            if value is not None:
                return value
        return None

    def default_source(self, group: DefaultsGroup, line: DefaultLine | None, tree: cst.Module) -> str:
        if line is not None and not isinstance(line.default, (cst.Integer, cst.Float)):
            code = tree.code_for_node(line.default)
            raise Unpatchable(f"timeout default is `{code}`; expected a number or an env read of {self.ENV_VAR}")
        seconds = self.timeout
        if seconds is None:
            seconds = number_literal(line.default) if line is not None else self._file_default
        return f'float(os.environ.get("{self.ENV_VAR}", "{format_number(seconds)}"))'


def __getattr__(name: str):
    """Build the libcst command class on first access (it imports libcst.codemod)."""
    if name == "TimeoutCommand":
        from llmfix.codemods._command import command_for

        return command_for(TimeoutTransform, {"timeout": {"type": float, "help": "baked-in timeout default (s)"}})
    raise AttributeError(name)
