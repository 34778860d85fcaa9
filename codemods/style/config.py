"""The target repo's own style settings, nearest first up to the ``.git`` folder: ``[tool.ruff]``, ``[tool.black]``, a
Makefile's ``black -l N``, then ``[isort]``/``[flake8]`` in setup.cfg, tox.ini or .flake8; and ``[tool.llmfix]``."""

from __future__ import annotations

import configparser
import os
import re
import sys
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

DEFAULT_LINE_LENGTH = 88
_MAKEFILE_BLACK = re.compile(r"\bblack\b[^\n]*?(?:--line-length[ =]|-l ?)(\d+)")


class ConfigError(ValueError):
    """A settings file llmfix has to read is not valid."""


@dataclass(frozen=True)
class RepoStyle:
    """What the target repo's settings say; None where they say nothing."""

    line_length: int | None = None  # None: no settings say
    quote_style: str | None = None  # "double" | "single" (ruff/black format), None: follow the file
    known_first_party: tuple[str, ...] = ()
    case_sensitive: bool = False
    order_by_type: bool = True
    split_on_trailing_comma: bool = True  # isort keeps an import exploded when it has a trailing comma
    llmfix: dict[str, Any] = field(default_factory=dict)
    llmfix_source: str | None = None


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: cannot read: {error}") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: not valid TOML: {error}") from None


def _ruff_table(folder: Path, tool: dict[str, Any]) -> dict[str, Any] | None:
    """``[tool.ruff]`` of ruff.toml or .ruff.toml in ``folder``, else of its pyproject.toml's ``tool`` table."""
    for name in ("ruff.toml", ".ruff.toml"):
        if (folder / name).is_file():
            return _read_toml(folder / name)
    table = tool.get("ruff")
    return table if isinstance(table, dict) else None


def _from_ruff(table: dict[str, Any], settings: dict[str, Any]) -> None:
    if "line-length" in table:
        settings.setdefault("line_length", int(table["line-length"]))
    fmt = table.get("format", {}) if isinstance(table.get("format"), dict) else {}
    if "quote-style" in fmt:
        settings.setdefault("quote_style", fmt["quote-style"] if fmt["quote-style"] in ("double", "single") else None)
    lint = table.get("lint", {}) if isinstance(table.get("lint"), dict) else {}
    isort = lint.get("isort", table.get("isort", {}))
    if isinstance(isort, dict):
        if "known-first-party" in isort:
            settings.setdefault("known_first_party", tuple(str(v) for v in isort["known-first-party"]))
        for key in ("case-sensitive", "order-by-type", "split-on-trailing-comma"):
            if key in isort:
                settings.setdefault(key.replace("-", "_"), bool(isort[key]))


def _from_black(table: dict[str, Any], settings: dict[str, Any]) -> None:
    if "line-length" in table:
        settings.setdefault("line_length", int(table["line-length"]))
    settings.setdefault("quote_style", "single" if table.get("skip-string-normalization") else "double")


def _from_makefile(folder: Path, settings: dict[str, Any]) -> None:
    try:
        found = _MAKEFILE_BLACK.search((folder / "Makefile").read_text(encoding="utf-8", errors="replace"))
    except OSError:  # none (or not a readable file)
        return
    if found:
        settings.setdefault("line_length", int(found.group(1)))
        settings.setdefault("quote_style", "double")


def _from_ini(folder: Path, settings: dict[str, Any]) -> None:
    """``[isort]`` and ``[flake8]`` of setup.cfg, tox.ini, .flake8 and .isort.cfg in ``folder`` (unreadable ones say nothing)."""
    found = [str(folder / n) for n in ("setup.cfg", "tox.ini", ".flake8", ".isort.cfg") if (folder / n).is_file()]
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read(found, encoding="utf-8")
    except (configparser.Error, UnicodeDecodeError):
        return
    if parser.has_section("isort"):
        section = parser["isort"]
        if "known_first_party" in section:
            settings.setdefault("known_first_party", tuple(n.strip() for n in re.split(r"[,\n]", section["known_first_party"]) if n.strip()))
        if section.get("profile", "").strip() == "black":
            settings.setdefault("quote_style", "double")
        if "line_length" in section and section["line_length"].strip().isdigit():
            settings.setdefault("line_length", int(section["line_length"]))
    if parser.has_section("flake8"):
        value = parser["flake8"].get("max-line-length", parser["flake8"].get("max_line_length", ""))
        if value.strip().isdigit():
            settings.setdefault("line_length", int(value))


CONFIG_FILES = ("pyproject.toml", "ruff.toml", ".ruff.toml", "setup.cfg", "tox.ini", ".flake8", ".isort.cfg", "Makefile")


def _signature(folder: Path) -> tuple:
    """What the settings depend on (each settings file's size and mtime), so an edited file is read again."""
    parts = []
    for current in (str(folder), *map(str, folder.parents)):  # os.path and os.stat: pathlib costs more than the stat
        for name in CONFIG_FILES:
            path = os.path.join(current, name)
            try:
                info = os.stat(path)
            except OSError:
                continue
            parts.append((path, info.st_mtime_ns, info.st_size))
        if os.path.exists(os.path.join(current, ".git")):
            break
    return tuple(parts)


def repo_style(folder: Path) -> RepoStyle:
    """The style settings that apply to files in ``folder``."""
    return _repo_style(folder, _signature(folder))


@lru_cache(maxsize=64)
def _repo_style(folder: Path, signature: tuple) -> RepoStyle:
    settings: dict[str, Any] = {}
    llmfix: tuple[dict[str, Any], str] | None = None
    for current in (folder, *folder.parents):
        pyproject = current / "pyproject.toml"
        tool = _read_toml(pyproject).get("tool", {}) if pyproject.is_file() else {}  # read once, for ruff, black and llmfix
        ruff = _ruff_table(current, tool if isinstance(tool, dict) else {})
        if ruff is not None:
            _from_ruff(ruff, settings)
        if pyproject.is_file():
            if isinstance(tool.get("black"), dict):
                _from_black(tool["black"], settings)
            if llmfix is None and isinstance(tool.get("llmfix"), dict):
                llmfix = (tool["llmfix"], f"{pyproject} [tool.llmfix]")
        _from_makefile(current, settings)
        _from_ini(current, settings)
        if (current / ".git").exists():
            break
    return RepoStyle(llmfix=dict(llmfix[0]) if llmfix else {}, llmfix_source=llmfix[1] if llmfix else None, **settings)
