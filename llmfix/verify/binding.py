"""Bind verify's inputs to a function's parameters by name, never by position; a required parameter no role fits
makes the function uncallable (verify says so, never guesses). Pure data: no libcst, no litellm."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

MODEL = "$llmfix-verify-model"  # replaced by each step's model name
PROMPT = "Say OK."
SYSTEM_PROMPT = "You are a helpful assistant."
QUESTION = "Which sources best explain why the sky is blue?"
RESPONSES = ["Rayleigh scattering: shorter wavelengths scatter more off air molecules (see any optics textbook).", "The sky reflects the ocean."]
PREDICTION = RESPONSES[0]  # what an LLM judge scores
LABEL = "Rayleigh scattering"

POSITIONAL_ONLY, POSITIONAL, KEYWORD_ONLY, VAR_POSITIONAL, VAR_KEYWORD = "positional-only", "positional", "keyword-only", "*", "**"


@dataclass(frozen=True)
class Parameter:
    name: str
    kind: str  # one of the kinds above
    default: str | None = None  # the default's source text; None when the parameter is required

    @property
    def required(self) -> bool:
        return self.default is None and self.kind not in (VAR_POSITIONAL, VAR_KEYWORD)

    def render(self, limit: int = 24) -> str:
        if self.kind in (VAR_POSITIONAL, VAR_KEYWORD):
            return f"{self.kind}{self.name}"
        return self.name if self.default is None else f"{self.name}={self.default if len(self.default) <= limit else '…'}"


@dataclass(frozen=True)
class Role:
    """What verify passes for a parameter with one of ``names``; ``always``: even when it has a default."""

    names: tuple[str, ...]
    value: Any
    always: bool


MODEL_NAMES = ("model_name", "model")
PROMPT_ROLE = Role(("user_prompt", "prompt", "user_message"), PROMPT, True)
MESSAGES_ROLE = Role(("messages",), [{"role": "user", "content": PROMPT}], False)
ROLES = (Role(MODEL_NAMES, MODEL, True), PROMPT_ROLE, MESSAGES_ROLE, Role(("system_prompt", "system_message"), SYSTEM_PROMPT, False),
         Role(("question", "query"), QUESTION, True), Role(("response_list", "responses"), RESPONSES, True), Role(("prediction",), PREDICTION, True),
         Role(("label",), LABEL, True), Role(("tokenized_prediction",), [], False), Role(("existing_rubrics",), [], False), Role(("json_mode",), False, False))


@dataclass
class Binding:
    """Positional arguments (for positional-only parameters) and keyword arguments, with ``MODEL`` unfilled."""

    args: list[Any] = field(default_factory=list)
    kwargs: dict[str, Any] = field(default_factory=dict)

    def materialise(self, model: str | None) -> tuple[list[Any], dict[str, Any]]:
        """The arguments for one call: ``MODEL`` replaced by ``model``."""
        return [model if v == MODEL else v for v in self.args], {k: model if v == MODEL else v for k, v in self.kwargs.items()}


class Uncallable(ValueError):
    """A required parameter verify has no value for."""


def signature(name: str, parameters: tuple[Parameter, ...]) -> str:
    """``run_chatopenai(model_name, system_prompt, user_prompt, json_mode=False, **chat_kwargs)``."""
    parts: list[str] = []
    kinds = [p.kind for p in parameters]
    for index, parameter in enumerate(parameters):
        if parameter.kind == KEYWORD_ONLY and VAR_POSITIONAL not in kinds and (index == 0 or kinds[index - 1] != KEYWORD_ONLY):
            parts.append("*")
        parts.append(parameter.render())
        if parameter.kind == POSITIONAL_ONLY and (index + 1 == len(kinds) or kinds[index + 1] != POSITIONAL_ONLY):
            parts.append("/")
    return f"{name}({', '.join(parts)})"


def _role(parameter: Parameter, model_parameter: str | None, has_prompt: bool) -> Role | None:
    if parameter.name == model_parameter:
        return ROLES[0]
    role = next((role for role in ROLES if parameter.name in role.names), None)
    if role is MESSAGES_ROLE and not has_prompt:
        return Role(role.names, role.value, True)  # the only way to send a prompt
    if role is ROLES[0] and model_parameter is not None:
        return Role(role.names, role.value, False)  # another parameter carries the model
    return role


def bind(parameters: tuple[Parameter, ...], model_parameter: str | None = None) -> Binding:
    """The arguments verify passes; raise :class:`Uncallable` naming the parameter it cannot fill.
    ``model_parameter``: the parameter analysis found reaching the LiteLLM call as its model (any name)."""
    has_prompt = any(p.name in PROMPT_ROLE.names for p in parameters)
    binding = Binding()
    skipped_positional: str | None = None  # a positional-only parameter left to its default
    for parameter in (p for p in parameters if p.kind not in (VAR_POSITIONAL, VAR_KEYWORD)):
        role = _role(parameter, model_parameter, has_prompt)
        if role is None or not (role.always or parameter.required):
            if parameter.required:
                raise Uncallable(f"no value for required parameter {parameter.name!r}")
            skipped_positional = parameter.name if parameter.kind == POSITIONAL_ONLY else skipped_positional
        elif parameter.kind != POSITIONAL_ONLY:
            binding.kwargs[parameter.name] = role.value
        elif skipped_positional is not None:
            raise Uncallable(f"{parameter.name!r} is positional-only and follows {skipped_positional!r}, which verify leaves to its default")
        else:
            binding.args.append(role.value)
    return binding
