"""fallbacks: the fallbacks default comes from LITELLM_FALLBACK_MODELS.

Why: when the primary model keeps failing, LiteLLM tries each fallback with its own
retry budget. A bare model name goes to the same endpoint (no help when the endpoint
or the proxy is down); only an object with its own ``api_base`` and ``api_key``
survives a dead primary endpoint. The env var takes a list of names or of such objects,
and unset means the file's own default, unchanged (docs/environment.md has its forms). No model
is ever added behind a reviewer's back: ``--fallback MODEL`` (repeatable, or ``a,b``) bakes one in.

A default written by hand inside ``if "fallbacks" not in chat_kwargs:`` gets the same
env-driven value in place.
"""

from __future__ import annotations

import re

import libcst as cst

from llmfix.codemods import litellm_facts, support
from llmfix.codemods._defaults import KeyDefaultTransform, Site
from llmfix.codemods.analysis.nodes import string_value
from llmfix.codemods.analysis.scopes import binds_name
from llmfix.codemods.building import call, string
from llmfix.codemods.context import FileContext
from llmfix.codemods.transform import Change, Example, Option

PARSER = f"{support.NAME}.fallback_models"
_MODEL_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/@+\-]*")


def parse_fallbacks(text: str) -> list[str]:
    """``a`` or ``a,b`` (split like LITELLM_FALLBACK_MODELS); each a model name."""
    names = [part.strip() for part in text.split(",")]
    if not any(names):
        raise ValueError("an empty fallback model name")
    for name in names:
        if not name:
            raise ValueError(f"an empty model name in {text!r}")
        if not _MODEL_NAME.fullmatch(name):
            raise ValueError(f"{name!r} is not a model name (letters, digits and . _ : / @ + - only)")
    return names


def list_literal(node: cst.BaseExpression | None) -> list[str] | None:
    """The strings of a list/tuple literal of plain strings, else None."""
    values = [string_value(element.value) for element in node.elements] if isinstance(node, (cst.List, cst.Tuple)) else [None]
    return None if None in values else values  # type: ignore[return-value]


class FallbacksTransform(KeyDefaultTransform):
    NAME = "fallbacks"
    SUMMARY = f"fallbacks default from {litellm_facts.FALLBACK_MODELS} (names or endpoint objects)"
    ORDER = 20
    KEY = "fallbacks"
    ENV_VAR = litellm_facts.FALLBACK_MODELS
    OPTION = "fallbacks"
    SUPPORT = "fallback_models"
    EXPECTED = "a list of model names"
    OPTIONS = (
        Option(
            "fallbacks",
            "Baked-in fallback model (repeatable, or a,b) [default: each helper's own list].",
            parse_fallbacks,
            default=(),
            metavar="MODEL",
            multiple=True,
            flag_name="fallback",
        ),
    )
    EXAMPLES = (
        Example.change(
            "the helper's own list, now overridable from the environment",
            """
             import litellm
            +
            +from open_instruct.rubrics import litellm_utils


             def run_litellm(model_name, **kwargs):
            -    kwargs["fallbacks"] = kwargs.get("fallbacks", ["gpt-4.1-mini"])
            +    kwargs["fallbacks"] = kwargs.get("fallbacks", litellm_utils.fallback_models(["gpt-4.1-mini"], model_name))
                 return litellm.completion(model=model_name, **kwargs)
            """,
        ),
        Example.change(
            "a default written by hand inside a condition is the same fix, made env-driven",
            """
             import litellm
            +
            +from open_instruct.rubrics import litellm_utils


             def run_litellm(model_name, **chat_kwargs):
                 if "fallbacks" not in chat_kwargs:
                     if model_name != "gpt-4.1-mini":
            -            chat_kwargs["fallbacks"] = ["gpt-4.1-mini"]
            +            chat_kwargs["fallbacks"] = litellm_utils.fallback_models(["gpt-4.1-mini"], model_name)
                 return litellm.completion(model=model_name, **chat_kwargs)
            """,
        ),
        Example(
            "already env-driven: left alone",
            """
            import litellm

            from open_instruct.rubrics import litellm_utils


            def run_litellm(model_name, **chat_kwargs):
                chat_kwargs["fallbacks"] = chat_kwargs.get("fallbacks", litellm_utils.fallback_models([], model_name))
                return litellm.completion(model=model_name, **chat_kwargs)
            """,
        ),
    )

    def reads_variable(self, file: FileContext, expression_: cst.BaseExpression, functions) -> bool:
        return self.baked(file, expression_) is not None or super().reads_variable(file, expression_, functions)

    def wanted(self, file: FileContext, site: Site) -> tuple[str, ...]:
        chosen = self.option("fallbacks")
        if chosen:
            return tuple(chosen)
        return tuple(self.literal(file, site) or ())  # type: ignore[call-overload]

    def baked(self, file: FileContext, expression_: cst.BaseExpression) -> tuple[str, ...] | None:
        if self.ours(expression_) and expression_.args:  # type: ignore[union-attr]
            found = list_literal(expression_.args[0].value)
            return None if found is None else tuple(found)
        return None

    def literal_value(self, expression_: cst.BaseExpression) -> list[str] | None:
        return list_literal(expression_)

    def new_default(self, file: FileContext, site: Site) -> cst.BaseExpression:
        """``fallback_models([...], model)``: the primary model's name passed when it is in scope where the defaults are set."""
        models = cst.List([cst.Element(string(name, file.style.quote)) for name in self.wanted(file, site)])
        model = site.group.model
        if isinstance(model, cst.Name) and binds_name(site.group.function, model.value):
            return call(PARSER, models, cst.Name(model.value))
        return call(PARSER, models)

    def change(self, file: FileContext, site: Site, new: cst.BaseExpression) -> Change | None:
        after = self.baked(file, new) or ()
        before: tuple[str, ...] | list[str] | None = self.before(file, site)  # type: ignore[assignment]
        shown = ", ".join(after) or "none"
        if before is None or tuple(before) == tuple(after):
            return Change(f"{site.group.where}: fallbacks can be set with {self.ENV_VAR} (default unchanged: {shown})")
        old = ",".join(before)
        return Change(
            f"{site.group.where}: default fallbacks {shown} instead of {', '.join(before) or 'none'} (answers may come from "
            f"another model); {self.ENV_VAR}={old!r} restores them",
            ((self.ENV_VAR, old),),
            self.KEY,
            list(before),
        )
