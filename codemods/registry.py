"""The transforms llmfix knows: each public module of this package, plus ``LLMFIX_PLUGINS=package.module,...``,
in ``ORDER`` (a transform's ``AFTER`` names must come earlier)."""

from __future__ import annotations

import importlib
import os
import pkgutil
import sys
from typing import TYPE_CHECKING

from llmfix.errors import RegistryError

if TYPE_CHECKING:
    from llmfix.codemods.transform import Option, Transform

PLUGINS_VARIABLE = "LLMFIX_PLUGINS"

_REGISTERED: dict[str, type[Transform]] = {}
_loaded = False


def register(transform: type[Transform]) -> None:
    """Add ``transform`` (called by :class:`Transform` itself when a subclass is defined)."""
    existing = _REGISTERED.get(transform.NAME)
    if existing is not None and existing.__qualname__ != transform.__qualname__:
        raise RegistryError(f"two transforms are named {transform.NAME!r}: {existing.__module__} and {transform.__module__}")
    _REGISTERED[transform.NAME] = transform
    module = sys.modules.get(transform.__module__)
    if module is not None and "__getattr__" not in vars(module):
        module.__getattr__ = _command_getattr(transform.__module__)  # type: ignore[attr-defined]


def _command_getattr(module_name: str):
    """A module ``__getattr__`` that builds ``<Name>Command`` (the libcst codemod) on first access."""

    def __getattr__(name: str) -> type:
        for transform in transforms():
            if transform.__module__ == module_name and name == transform.__name__.replace("Transform", "Command"):
                from llmfix.codemods._command import command_for  # imports libcst.codemod: only here

                return command_for(transform)
        raise AttributeError(f"module {module_name!r} has no attribute {name!r}")

    return __getattr__


def unregister(name: str) -> None:
    """Forget a plugin (tests use it to keep the registry as they found it)."""
    _REGISTERED.pop(name, None)


def _load() -> None:
    global _loaded
    if _loaded:
        return
    _loaded = True
    package = importlib.import_module("llmfix.codemods")
    for module in pkgutil.iter_modules(package.__path__):
        if not module.name.startswith("_") and not module.ispkg:
            importlib.import_module(f"llmfix.codemods.{module.name}")
    for name in filter(None, (part.strip() for part in os.environ.get(PLUGINS_VARIABLE, "").split(","))):
        try:
            importlib.import_module(name)
        except ImportError as error:
            raise RegistryError(f"{PLUGINS_VARIABLE}: cannot import {name!r} ({error}); name a module on sys.path") from None


def transforms() -> list[type[Transform]]:
    """Every registered transform, in the order llmfix runs and reports them."""
    _load()
    ordered = sorted(_REGISTERED.values(), key=lambda t: (t.ORDER, t.NAME))
    position = {t.NAME: i for i, t in enumerate(ordered)}
    for transform in ordered:
        for earlier in transform.AFTER:
            if earlier in position and position[earlier] > position[transform.NAME]:
                raise RegistryError(f"{transform.NAME} must run after {earlier}: give it a larger ORDER")
    return ordered


def names() -> tuple[str, ...]:
    return tuple(t.NAME for t in transforms())


def get(name: str) -> type[Transform]:
    _load()
    return _REGISTERED[name]


def options() -> list[tuple[type[Transform], Option]]:
    """Every transform's options, in transform order (an option name is global)."""
    found: dict[str, tuple[type[Transform], Option]] = {}
    for transform in transforms():
        for option in transform.OPTIONS:
            if option.name in found:
                raise RegistryError(f"option {option.name!r} is declared by {found[option.name][0].NAME} and {transform.NAME}")
            found[option.name] = (transform, option)
    return list(found.values())
