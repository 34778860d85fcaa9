"""Settings for a command: the flags, over the checkout's ``[tool.llmfix]`` (nearest pyproject.toml), over the defaults.
Keys are the long flag names and ``python``, the interpreter ``verify`` runs the checkout's code with.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from llmfix.codemods.settings import Settings, SettingsError
from llmfix.codemods.style.config import ConfigError, repo_style
from llmfix.errors import BadInput


@dataclass(frozen=True)
class CommandSettings:
    """The flags of one command; :func:`settings_for` gives the Settings for a checkout."""

    flags: Mapping[str, Any] = field(default_factory=dict)


def settings_for(options: Settings | CommandSettings, folder: Path) -> Settings:
    """The Settings for files in ``folder``: ``options`` itself, or its flags over that checkout's config."""
    if not isinstance(options, CommandSettings):
        return options
    try:
        repo = repo_style(folder.resolve())
        return Settings.build(config=repo.llmfix, flags=options.flags, config_name=repo.llmfix_source or "[tool.llmfix]")
    except (SettingsError, ConfigError) as error:
        raise BadInput(str(error)) from None


def configured_python(folder: Path) -> str | None:
    """``[tool.llmfix] python`` for a checkout in ``folder`` (relative to its pyproject.toml), else None."""
    try:
        repo = repo_style(folder.resolve())
    except ConfigError as error:
        raise BadInput(str(error)) from None
    value = repo.llmfix.get("python")
    if value is None:
        return None
    where = (repo.llmfix_source or "[tool.llmfix]").removesuffix(" [tool.llmfix]")
    if not isinstance(value, str) or not value.strip():
        raise BadInput(f"{where} [tool.llmfix]: python must be the path of a Python interpreter")
    return str(Path(where).parent / value) if "/" in value and not Path(value).is_absolute() else value
