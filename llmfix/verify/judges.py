"""Build the instance an LLM judge's method needs, by parameter name (in the verify child).

Its config (the annotated class, else the module's class with the model field) gets verify's
model and LITELLM_DEFAULT_TIMEOUT's value; a parameter used as a key of a module-level mapping
gets its first key; defaults stay; anything else: :class:`Uncallable`. Standard library only.
"""

from __future__ import annotations

import ast
import dataclasses
import inspect
import os
import sys
import textwrap
from typing import Any


class Uncallable(Exception):
    """The code verify imported cannot be called the way verify read it."""


def check_arguments(function: Any, name: str, args: list[Any], kwargs: dict[str, Any]) -> None:
    try:
        signature = inspect.signature(function)
    except (TypeError, ValueError):
        return
    try:
        signature.bind(*args, **kwargs)
    except TypeError as error:
        raise Uncallable(f"cannot call {name}{signature}: {error}") from None


def _annotation(function: Any, annotation: Any) -> Any:
    """A parameter's annotation as an object: a string one looked up in the function's module."""
    if isinstance(annotation, str):
        return getattr(sys.modules.get(function.__module__), annotation.split("[")[0].split(".")[-1].strip(), None)
    return None if annotation is inspect.Parameter.empty else annotation


def _mapping_keys(function: Any, parameter: str) -> Any:
    """The keys of the module-level mapping ``function`` indexes with ``parameter`` (``JUDGE_PROMPT_MAP[judge_type]``)."""
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(function)))
    except (OSError, TypeError, SyntaxError):
        return None
    for node in ast.walk(tree):
        if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) and isinstance(node.slice, ast.Name) and node.slice.id == parameter:
            mapping = function.__globals__.get(node.value.id)
            if isinstance(mapping, dict) and mapping:
                return next(iter(mapping))
    return None


def _fill(target: Any, name: str, roles: dict[str, Any], owner: str) -> Any:
    """Call ``target`` (a class) with a value for every parameter a role fits; the others keep their defaults."""
    init = target.__init__ if isinstance(target, type) else target
    try:
        parameters = list(inspect.signature(target).parameters.values())
    except (TypeError, ValueError) as error:
        raise Uncallable(f"cannot build {owner}: {error}") from None
    fields = {f.name: f for f in dataclasses.fields(target)} if dataclasses.is_dataclass(target) else {}
    kwargs: dict[str, Any] = {}
    for parameter in parameters:
        if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            continue
        required = parameter.default is parameter.empty
        value = roles.get(parameter.name, ...)
        if value is ... and callable(roles.get("*")):
            value = roles["*"](parameter, init, required)
        if value is not ...:
            kwargs[parameter.name] = value
        elif required:
            kind = "field" if parameter.name in fields else "parameter"
            raise Uncallable(f"cannot build {owner}: no value for its required {kind} {parameter.name!r}")
    try:
        return target(**kwargs)
    except Exception as error:  # noqa: BLE001 - the code under test could not be set up
        raise Uncallable(f"cannot build {owner}({', '.join(kwargs)}): {type(error).__name__}: {error}") from None


def _config_value(model_field: str, model: str):
    """The roles of a judge config's fields: its model field gets verify's model, a timeout LITELLM_DEFAULT_TIMEOUT."""

    def value(parameter: inspect.Parameter, init: Any, required: bool) -> Any:
        name = parameter.name.lower()
        if name == model_field:
            return model
        if "timeout" in name:
            return float(os.environ.get("LITELLM_DEFAULT_TIMEOUT") or 600)  # as a launcher passing both would
        if not required:
            return ...
        if "temperature" in name:
            return 0.0
        if "seed" in name:
            return 0
        if "max" in name and ("token" in name or "length" in name):
            return 32768 if "context" in name else 512
        return ...

    return value


def instance(module: Any, qualname: str, model_path: list[str], model: str) -> Any:
    """An instance of the class holding a judge method, built by parameter name, its config carrying ``model``."""
    cls = module
    for part in qualname.split(".")[:-1]:
        cls = getattr(cls, part, None)
    owner = qualname.rsplit(".", 1)[0]
    if not isinstance(cls, type):
        raise Uncallable(f"{owner} is not a class of {module.__name__}")
    if len(model_path) == 1:  # self.model: an __init__ parameter of that name carries it
        return _fill(cls, owner, {model_path[0]: model}, owner)
    holder, field_name = model_path[0], model_path[-1]

    def role(parameter: inspect.Parameter, init: Any, required: bool) -> Any:
        if parameter.name == holder or "config" in parameter.name:
            config = _annotation(init, parameter.annotation) or _config_class(module, field_name)
            if not isinstance(config, type):
                raise Uncallable(f"cannot build {owner}: no config class for {parameter.name!r} (none in {module.__name__} has {field_name!r})")
            return _fill(config, config.__name__, {"*": _config_value(field_name, model)}, config.__name__)
        if not required:
            return ...
        key = _mapping_keys(init, parameter.name)
        return ... if key is None else key

    return _fill(cls, owner, {"*": role}, owner)


def _config_class(module: Any, field_name: str) -> Any:
    """The class of ``module`` with a field ``field_name`` (the judge config), when no annotation names it."""
    for value in vars(module).values():
        if isinstance(value, type) and value.__module__ == module.__name__:
            if field_name in getattr(value, "__annotations__", {}) or field_name in getattr(value, "__dataclass_fields__", {}):
                return value
    return None
