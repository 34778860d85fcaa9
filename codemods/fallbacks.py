"""fallbacks: the fallbacks default comes from LITELLM_FALLBACK_MODELS.

Why: when the primary model keeps failing, LiteLLM tries each fallback with its
own retry budget. A bare model name goes to the same endpoint (useless when the
endpoint or the proxy is down); only an object with its own ``api_base`` and
``api_key`` survives a dead primary endpoint. The env var takes either form::

    LITELLM_FALLBACK_MODELS="gpt-4.1-mini,gpt-4o-mini"
    LITELLM_FALLBACK_MODELS='[{"model": "openai/gpt-4o-mini", "api_base": "https://...", "api_key": "sk-..."}]'

Unset means the baked-in default; set but empty means no fallbacks; an entry
equal to the primary model is dropped at run time.

Before::

    chat_kwargs["fallbacks"] = chat_kwargs.get("fallbacks", ["gpt-4.1-mini"])
    response = litellm.completion(messages=msgs, model=model_name, **chat_kwargs)

After::

    chat_kwargs["fallbacks"] = chat_kwargs.get("fallbacks", _fallback_models_from_env(["gpt-4.1-mini"], model_name))
    response = litellm.completion(messages=msgs, model=model_name, **chat_kwargs)

plus the one ``_fallback_models_from_env`` helper, inserted once after the
imports. Baked-in default: the site's non-empty list, else the file's first
non-empty list, else ``["openai/gpt-4o-mini"]``, or ``--fallback``.
"""

from __future__ import annotations

from collections.abc import Sequence

import libcst as cst
from llmfix.codemods._base import Edits, import_position, parse_statements
from llmfix.codemods._defaults import KeyDefaultTransform, Unpatchable
from llmfix.codemods.analysis.defaults import (
    DefaultLine,
    DefaultsGroup,
    defaults_groups,
)
from llmfix.codemods.analysis.nodes import module_functions
from llmfix.codemods.analysis.tree import find_all

DEFAULT_FALLBACKS = ("openai/gpt-4o-mini",)
HELPER_NAME = "_fallback_models_from_env"

HELPER_SOURCE = '''

def _fallback_models_from_env(default, model_name=None):
    """LiteLLM fallbacks from LITELLM_FALLBACK_MODELS (added by llmfix).

    The variable holds a comma-separated list of model names, or a JSON list of
    names and objects with their own "model", "api_base" and "api_key" (or one
    such object). Unset means ``default``; set but empty means no fallbacks. An
    entry equal to the primary ``model_name`` is dropped.
    """
    raw = os.environ.get("LITELLM_FALLBACK_MODELS")
    if raw is None:
        models = list(default)
    elif raw.strip()[:1] in ("[", "{"):
        try:
            models = json.loads(raw)
        except ValueError as error:
            raise ValueError(f"LITELLM_FALLBACK_MODELS is not valid JSON: {error}") from None
        if isinstance(models, dict):
            models = [models]
    else:
        models = [name.strip() for name in raw.split(",") if name.strip()]
    return [
        entry
        for entry in models
        if (entry.get("model") if isinstance(entry, dict) else entry) != model_name
    ]
'''


def _list_literal(node: cst.BaseExpression) -> list[str] | None:
    """The strings of a list/tuple literal of plain strings, else None."""
    if not isinstance(node, (cst.List, cst.Tuple)):
        return None
    values = []
    for element in node.elements:
        if not isinstance(element.value, cst.SimpleString):
            return None
        values.append(element.value.evaluated_value)
    return values  # type: ignore[return-value]


class FallbacksTransform(KeyDefaultTransform):
    NAME = "fallbacks"
    SUMMARY = "fallbacks default from LITELLM_FALLBACK_MODELS (names or endpoint objects)"
    DESCRIPTION = __doc__.split("\n\n")[0]
    KEY = "fallbacks"
    ENV_VAR = "LITELLM_FALLBACK_MODELS"

    def __init__(self, fallbacks: Sequence[str] | None = None) -> None:
        self.fallbacks = list(fallbacks) if fallbacks else None
        self._file_default: list[str] = list(DEFAULT_FALLBACKS)

    def plan(self, tree: cst.Module, edits: Edits):
        self._file_default = self._existing_list(tree) or list(DEFAULT_FALLBACKS)
        return super().plan(tree, edits)

    def _existing_list(self, tree: cst.Module) -> list[str] | None:
        for group in defaults_groups(tree):
            line = group.line_for(self.KEY)
            models = _list_literal(line.default) if line is not None else None
            if models:
                return models
        return None

    def default_source(self, group: DefaultsGroup, line: DefaultLine | None, tree: cst.Module) -> str:
        models = self.fallbacks
        if line is not None:
            existing = _list_literal(line.default)
            if existing is None:
                code = tree.code_for_node(line.default)
                raise Unpatchable(f"fallbacks default is `{code}`; expected a list of model names")
            models = models or existing or None
        models = models or self._file_default
        listed = ", ".join(f'"{name}"' for name in models)
        model = group.model
        primary = f", {tree.code_for_node(model)}" if isinstance(model, cst.Name) else ""
        return f"{HELPER_NAME}([{listed}]{primary})"

    def prepare(self, tree: cst.Module, groups: list[DefaultsGroup], edits: Edits) -> None:
        if HELPER_NAME in module_functions(tree):
            return
        helper = parse_statements(HELPER_SOURCE.lstrip("\n"), tree)
        helper[0] = helper[0].with_changes(leading_lines=[cst.EmptyLine(), cst.EmptyLine()])
        position = import_position(tree)
        if position == 0:
            edits.insert_before(tree.body[0], helper)
        else:
            edits.insert_after(tree.body[position - 1], helper)
        edits.need_import("json")
        edits.need_import("os")


def helper_default_models(tree: cst.Module) -> cst.BaseExpression | None:
    """The first baked-in default handed to the fallbacks helper, if any."""
    for call in find_all(tree, cst.Call, lambda c: isinstance(c.func, cst.Name) and c.func.value == HELPER_NAME):
        if call.args:
            return call.args[0].value
    return None


def __getattr__(name: str):
    """Build the libcst command class on first access (it imports libcst.codemod)."""
    if name == "FallbacksCommand":
        from llmfix.codemods._command import command_for

        return command_for(
            FallbacksTransform, {"fallbacks": {"action": "append", "help": "baked-in fallback model (repeatable)"}}
        )
    raise AttributeError(name)
