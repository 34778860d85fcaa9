"""Check 4: RUBRIC_GENERATION_MODEL / RUBRIC_JUDGE_MODEL, how LiteLLM routes them (read from the
JSON files litellm ships, without importing it), and whether the endpoint serves them."""

from __future__ import annotations

import functools
import importlib.util
import json
from pathlib import Path
from typing import Any, NamedTuple

from llmfix.doctor.env import DEFAULT_RUBRIC_MODEL, EnvView
from llmfix.doctor.findings import FAIL, LAYER, OK, WARN, Finding

CHECK = "models"


@functools.cache
def _litellm_json(name: str) -> Any:
    """A JSON file litellm ships, read without importing litellm; None when there is none."""
    try:
        folder = Path(next(iter(importlib.util.find_spec("litellm").submodule_search_locations)))  # type: ignore[union-attr]
        return json.loads((folder / name).read_text())
    except (ImportError, ValueError, AttributeError, TypeError, StopIteration, OSError):
        return None


class Route(NamedTuple):
    route: str  # "openai", "openrouter", another provider, or "unknown"
    sent: str  # the model id sent on the wire
    note: str = ""


def route(name: str) -> Route:
    """How LiteLLM routes a model name, without importing litellm."""
    name = name.strip()
    if "/" in name:
        prefix, rest = name.split("/", 1)
        if prefix in ("openai", "openrouter"):
            return Route(prefix, rest)
        providers = (_litellm_json("provider_endpoints_support_backup.json") or {}).get("providers")
        if providers is None:
            return Route("unknown", name, "litellm is not installed, routing unknown")
        if prefix in providers:
            return Route(prefix, rest, f"LiteLLM sends this to its {prefix!r} provider, not to the OpenAI base URL")
        return Route("unknown", name, f"{prefix!r} is not a LiteLLM provider: the call fails with 'LLM Provider NOT provided'")
    models = _litellm_json("model_prices_and_context_window_backup.json")
    if models is None:
        return Route("openai", name, "litellm's model map not found; assumed OpenAI-compatible")
    provider = (models.get(name) or {}).get("litellm_provider")
    if provider in ("openai", "text-completion-openai"):
        return Route("openai", name)
    if provider:
        return Route(str(provider), name, f"LiteLLM knows {name!r} as a {provider!r} model and sends it there, not to the OpenAI base URL")
    return Route("unknown", name, f"LiteLLM cannot place the bare name {name!r}: the call fails with 'LLM Provider NOT provided'")


def check(view: EnvView) -> list[Finding]:
    """One finding per model; the first carries the variables (and any note on a model's route) as its detail."""
    variables = ("RUBRIC_GENERATION_MODEL", "RUBRIC_JUDGE_MODEL")
    notes = [f"{var}={view.env[var]}" if view.env.get(var) else f"{var} unset -> {DEFAULT_RUBRIC_MODEL}" for var in variables]
    if view.model_override:
        notes.append(f"--model {view.model_override} (checked and probed instead of the generation model)")
    found, judge = [], view.env.get("RUBRIC_JUDGE_MODEL")
    if judge and not view.env.get("RUBRIC_GENERATION_MODEL") and judge != DEFAULT_RUBRIC_MODEL:
        summary = f"only RUBRIC_JUDGE_MODEL is set ({judge}): rubric generation silently uses {DEFAULT_RUBRIC_MODEL}"
        found.append((WARN, summary, f"export RUBRIC_GENERATION_MODEL={judge}", "generation-model-default", []))
    http = view.trace.stage("http") if view.trace is not None else None
    listed = list(http.data.get("models") or []) if http is not None and not http.cause else []
    names = [("--model", view.model_override)] if view.model_override else [("generation", view.generation_model)]
    names += [("judge", view.judge_model)] if view.judge_model not in [n for _, n in names] else []
    found += [_model_verdict(view, role, name, listed, notes) for role, name in names]
    return [
        Finding(CHECK, status, summary, fix, cause, view.source, LAYER["model"], notes + more if i == 0 else more)
        for i, (status, summary, fix, cause, more) in enumerate(found)
    ]


def _model_verdict(view: EnvView, role: str, name: str, listed: list[str], notes: list[str]) -> tuple[str, str, str, str, list[str]]:
    """(status, summary, fix, cause, detail): how LiteLLM routes one model, and whether the endpoint serves it."""
    ep, r = view.endpoint, route(name)
    label, sends = f"--model {name!r}" if role == "--model" else f"{role} model {name!r}", f"LiteLLM sends {r.sent!r}"
    if r.route == "unknown":
        return FAIL, f"{label}: {r.note}", f"spell it openai/{name} to send {name!r} to the OpenAI-compatible base URL", "provider-unknown", []
    if r.route not in ("openai", "openrouter"):
        return WARN, f"{label}: {r.note}", f"spell it openai/{r.sent} if {ep.base_url.strip()} serves it", "provider-elsewhere", []
    if r.route == "openrouter" and ep.route != "openrouter" and role != "--model" and name != view.probe_model:
        notes.append(f"{label} uses LiteLLM's openrouter/ route (OPENROUTER_API_KEY), not {ep.base_url.strip()}")
    tail = r.sent.split("/")[-1]
    if listed and r.sent not in listed:
        hints = [m for m in listed if m == tail or m.endswith("/" + tail)][:3]
        fix = f"use an id the endpoint lists, e.g. openai/{hints[0]}" if hints else "use an id from GET /models"
        if hints and role != "--model":
            fix = f"export RUBRIC_{role.upper()}_MODEL=openai/{hints[0]}" + (f"  (or openrouter/{hints[0]})" if ep.is_openrouter else "")
        summary = f"{label}: {sends}, which the endpoint does not list ({len(listed)} models)"
        return FAIL, summary, fix, "model-unknown", [f"close matches: {', '.join(hints)}"] if hints else []
    if not listed and ep.is_openrouter and "/" not in r.sent:
        vendor = "openai" if tail.startswith(("gpt", "o1", "o3", "o4")) else "VENDOR"
        fix = f"OpenRouter ids look like {vendor}/{tail}: spell it openai/{vendor}/{tail} (sent via OPENAI_API_BASE) "
        fix += f"or openrouter/{vendor}/{tail} (LiteLLM's OpenRouter route, needs OPENROUTER_API_KEY)"
        return WARN, f"{label}: {sends}, a bare name OpenRouter does not know", fix, "model-spelling", []
    why = "; the endpoint lists it" if listed else "" if view.trace is None else " (the endpoint does not list models)"
    if not listed and view.trace is not None and view.trace.failed:
        why = " (not checked against the endpoint: it did not answer)"
    return OK, f"{label}: {sends}{why}", "", "", []
