"""How LiteLLM routes a model name, without importing litellm.

LiteLLM takes the first path segment as the provider when it is one it knows; ``openai/``
is stripped and the rest sent to the OpenAI-compatible base URL; ``openrouter/`` goes to
LiteLLM's OpenRouter route; a bare name is looked up in LiteLLM's model map, and a name
it cannot place fails with "LLM Provider NOT provided". The provider list and model map
are read from the JSON files litellm ships (no import, ~60 ms, only when needed).
"""

from __future__ import annotations

import functools
import importlib.util
import json
from dataclasses import dataclass
from pathlib import Path

OPENAI_ROUTE = "openai"
OPENROUTER_ROUTE = "openrouter"


@functools.lru_cache(maxsize=1)
def _litellm_dir() -> Path | None:
    try:
        spec = importlib.util.find_spec("litellm")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0])


@functools.lru_cache(maxsize=1)
def known_providers() -> frozenset[str] | None:
    base = _litellm_dir()
    if base is None:
        return None
    try:
        data = json.loads((base / "provider_endpoints_support_backup.json").read_text())
        return frozenset(data["providers"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


@functools.lru_cache(maxsize=1)
def _model_map() -> dict | None:
    base = _litellm_dir()
    if base is None:
        return None
    try:
        return json.loads((base / "model_prices_and_context_window_backup.json").read_text())
    except (OSError, ValueError):
        return None


@dataclass(frozen=True)
class Route:
    name: str  # the name as configured
    route: str  # "openai", "openrouter", another provider, or "unknown"
    sent: str  # the model id sent on the wire
    note: str = ""


def route(name: str) -> Route:
    name = name.strip()
    if "/" in name:
        prefix, rest = name.split("/", 1)
        if prefix == "openai":
            return Route(name, OPENAI_ROUTE, rest)
        if prefix == "openrouter":
            return Route(name, OPENROUTER_ROUTE, rest)
        providers = known_providers()
        if providers is not None and prefix in providers:
            return Route(name, prefix, rest, f"LiteLLM sends this to its {prefix!r} provider, not to the OpenAI base URL")
        if providers is not None:
            return Route(name, "unknown", name, f"{prefix!r} is not a LiteLLM provider: the call fails with 'LLM Provider NOT provided'")
        return Route(name, "unknown", name, "litellm is not installed, routing unknown")
    models = _model_map()
    if models is None:
        return Route(name, OPENAI_ROUTE, name, "litellm's model map not found; assumed OpenAI-compatible")
    provider = (models.get(name) or {}).get("litellm_provider")
    if provider in ("openai", "text-completion-openai"):
        return Route(name, OPENAI_ROUTE, name)
    if provider:
        return Route(name, str(provider), name, f"LiteLLM knows {name!r} as a {provider!r} model and sends it there, not to the OpenAI base URL")
    return Route(name, "unknown", name, f"LiteLLM cannot place the bare name {name!r}: the call fails with 'LLM Provider NOT provided'")
