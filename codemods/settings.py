"""The option values and transform selection every transform reads: declared defaults, then ``[tool.llmfix]``,
then flags, each validated by its option's ``parse``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from llmfix.codemods import registry

if TYPE_CHECKING:
    from llmfix.codemods.transform import Transform

SELECTION_KEYS = ("only", "skip")
COMMAND_KEYS = ("python",)  # [tool.llmfix] keys for commands, not transforms: verify's interpreter


class SettingsError(ValueError):
    """An unknown transform or option, or a value its option refuses."""


@dataclass(frozen=True)
class Settings:
    only: tuple[str, ...] = ()
    skip: tuple[str, ...] = ()
    values: Mapping[str, Any] = field(default_factory=dict)
    sources: Mapping[str, str] = field(default_factory=dict)  # option -> "default" | "config" | "flag"

    @classmethod
    def build(cls, config: Mapping[str, Any] | None = None, flags: Mapping[str, Any] | None = None, config_name: str = "[tool.llmfix]") -> Settings:
        """Defaults, then ``config`` (a ``[tool.llmfix]`` table), then ``flags`` (only those given)."""
        declared = {option.name: option for _, option in registry.options()}
        values = {name: option.default for name, option in declared.items()}
        sources = dict.fromkeys(declared, "default")
        selection: dict[str, tuple[str, ...]] = {"only": (), "skip": ()}
        for source, given in (("config", config or {}), ("flag", flags or {})):
            for key, value in given.items():
                name = key.replace("-", "_")
                where = config_name if source == "config" else f"--{key.replace('_', '-')}"
                if name in SELECTION_KEYS:
                    selection[name] = _transform_names(value, where)
                elif name in declared:
                    try:
                        values[name] = declared[name].coerce(value)
                    except ValueError as error:
                        raise SettingsError(f"{where}: {error}") from None
                    sources[name] = source
                elif source == "config" and name in COMMAND_KEYS:
                    if not isinstance(value, str) or not value.strip():
                        raise SettingsError(f"{config_name}: {key} must be the path of a Python interpreter")
                elif source == "config":
                    known = ", ".join([*SELECTION_KEYS, *COMMAND_KEYS, *declared])
                    raise SettingsError(f"{config_name}: unknown key {key!r}; known: {known}")
        return cls(selection["only"], selection["skip"], values, sources)

    def instantiate(self) -> list[Transform]:
        """The selected transforms, in order, each with these settings."""
        return [t(self) for t in registry.transforms() if (not self.only or t.NAME in self.only) and t.NAME not in self.skip]


def _transform_names(value: Any, where: str) -> tuple[str, ...]:
    items: Sequence[Any] = value if isinstance(value, (list, tuple)) else [value]
    known = registry.names()
    names: list[str] = []
    for item in items:
        if not isinstance(item, str):
            raise SettingsError(f"{where}: expected transform names, got {item!r}")
        for name in (part.strip() for part in item.split(",")):
            if not name:
                raise SettingsError(f"{where}: an empty transform name; choose from {', '.join(known)}")
            if name not in known:
                raise SettingsError(f"{where}: unknown transform {name!r}; choose from {', '.join(known)}")
            names.append(name)
    return tuple(names)
