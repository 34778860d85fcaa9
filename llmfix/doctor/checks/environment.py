"""Checks 1-4 on one environment: the proxy that applies to the base URL, the base URL (DNS / TCP / TLS / GET
{base}/models), the API key, and the models (routed as LiteLLM would, from the JSON files it ships, without importing
it). With no base URL variable set, LiteLLM's default endpoint is named as the default: no fix blames an unset variable."""

from __future__ import annotations

import functools
import importlib.util
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import urlsplit

from llmfix.doctor import causes
from llmfix.doctor.env import DEFAULT_RUBRIC_MODEL, ROUTES, EnvView
from llmfix.doctor.findings import FAIL, LAYER, OK, WARN, Finding
from llmfix.doctor.redact import redact_key

OPENROUTER_PREFIX = "sk-or-v1-"


def check(view: EnvView, say: Callable[[str], None]) -> list[Finding]:
    """The proxy, endpoint, key and models findings of ``view`` (the proxy and key need a usable base URL), telling
    ``say`` which endpoint is contacted (it can take seconds)."""
    if not view.offline:
        say(f"checking {view.endpoint.base_url.strip()}" + ("" if view.source == "environment" else f" (as {view.source} sets it up)"))
    if view.base_problem is not None:
        return _endpoint(view) + _models(view)
    key = [Finding("key", status, summary, fix, cause, view.source, LAYER["key"]) for status, summary, fix, cause in _key_verdicts(view)]
    return _proxy(view) + _endpoint(view) + key + _models(view)


def _proxy(view: EnvView) -> list[Finding]:
    """Which proxy variables are set (in a stable order, and which spelling wins), which applies to the endpoint, and does it work."""
    order = {"http_proxy": 0, "https_proxy": 1, "all_proxy": 2, "no_proxy": 3}
    names = sorted((n for n in view.env if n.lower().endswith("_proxy")), key=lambda n: (order.get(n.lower(), 9), n.lower(), n))
    detail = [f"{n}={view.env[n]}" for n in names]
    for lower in sorted({n.lower() for n in names}):
        spellings = [n for n in names if n.lower() == lower]
        if lower in spellings and len({view.env[n] for n in spellings}) > 1:
            detail.append(f"{lower} and {'/'.join(n for n in spellings if n != lower)} differ: {lower} wins (lower case is read last)")
    host, choice, other, findings = view.endpoint.host, view.choice, view.other_choice, []
    if (other.proxy or None) != (choice.proxy or None):  # the async and sync helpers follow different no_proxy rules
        summary = f"the async and sync helpers route {host} differently: {choice.rule} rules give {choice.describe()}, "
        summary += f"{other.rule} rules give {other.describe()}"
        fix = f"write no_proxy entries both rule sets read the same way: plain host names without a leading dot (e.g. {host}), no '*' inside a list"
        why = [f"run_litellm_async (rubric generation) follows the {choice.rule} rules; run_litellm (judging) follows httpx's"]
        findings.append(Finding("proxy", WARN, summary, fix, "proxy-rules-differ", view.source, LAYER["proxy"] + 0.2, why))
    if not choice.proxy:
        summary = f"{choice.describe()} for {host}: LiteLLM connects directly" if detail else f"no proxy variables set: LiteLLM connects to {host} directly"
        return [*findings, Finding("proxy", OK, summary, "", "", view.source, LAYER["proxy"], detail)]
    applies, trace = f"{choice.variable}={choice.proxy} applies to {view.endpoint.base_url.strip()}", view.trace
    scheme, failed = urlsplit(choice.proxy).scheme.lower(), trace.failed if trace is not None else None
    if scheme not in ("http", "https"):
        status, summary, cause = FAIL, f"{applies}, but LiteLLM cannot use a {scheme}:// proxy", "proxy-scheme"
    elif trace is None:
        status, summary, cause = OK, f"{applies} (not contacted: --offline)", ""
    elif failed is not None and trace.proxy_failed:
        status, summary, cause = FAIL, f"{applies}, but {failed.message}", failed.cause
    elif failed is not None and failed.cause == "proxy-upstream":
        status, summary, cause = OK, f"{applies}; the proxy answers, but it could not reach {host} (see endpoint)", ""
    else:
        how = "CONNECT to" if urlsplit(view.endpoint.base_url.strip()).scheme == "https" else "a forward request to"
        reached = trace.stage("connect") or trace.stage("http")
        took = f" in {reached.seconds * 1000:.0f} ms" if reached else ""
        status, summary, cause = OK, f"{applies}; it accepts connections and {how} {host} goes through{took}", ""
    return [*findings, Finding("proxy", status, summary, causes.fix(cause, view) if cause else "", cause, view.source, LAYER["proxy"], detail)]


def _config_findings(view: EnvView) -> list[Finding]:
    """What the settings alone say: shadowed variables, a base path LiteLLM or the provider does not expect, an ignored CA file."""
    ep, var, found = view.endpoint, view.endpoint.base_variable, []
    if ep.shadowed:
        summary = f"both OPENAI_BASE_URL and OPENAI_API_BASE are set and differ; LiteLLM uses OPENAI_BASE_URL={ep.base_url.strip()}"
        found.append((summary, "unset OPENAI_BASE_URL, or set both to the same URL", "base-url-shadowed", LAYER["config"]))
    url = urlsplit(ep.base_url.strip())
    base = ROUTES["openrouter"][1] if ep.is_openrouter else ROUTES["openai"][1] if ep.host == "api.openai.com" else None  # the default bases
    path = url.path.rstrip("/")
    if path.endswith("/chat/completions"):
        fixed = url._replace(path=path.removesuffix("/chat/completions").rstrip("/")).geturl()
        found.append((f"{var} ends in /chat/completions; LiteLLM appends that itself", f"export {var}={fixed}", "base-url-path", LAYER["config"] + 0.1))
    elif base and path != urlsplit(base).path:
        summary = f"{'OpenRouter' if ep.is_openrouter else 'OpenAI'}'s base is {base}, not {ep.base_url.strip()}"
        found.append((summary, f"export {var}={base}", "base-url-path", LAYER["config"] + 0.1))
    fix = "export SSL_CERT_FILE=/path/to/ca-bundle.pem (an existing file)"
    found += [(why, fix, "tls-config", LAYER["tls"] - 0.1) for name, why in view.tls.ignored if name == "SSL_CERT_FILE"]
    return [Finding("endpoint", WARN, summary, fix, cause, view.source, layer) for summary, fix, cause, layer in found]


def _endpoint(view: EnvView) -> list[Finding]:
    """The base URL LiteLLM will use, and what the trace to {base}/models says."""
    ep, tls = view.endpoint, view.tls
    origin = f"LiteLLM's default; {ep.base_variable} is unset" if view.is_default else f"from {ep.base_source}"
    where = f"{ep.base_url.strip()} ({origin})" + (f", LiteLLM's openrouter/ route for {view.probe_model}" if ep.route == "openrouter" else "")
    detail = [f"{ep.shadowed[0]}={ep.shadowed[1]} is ignored: {ep.base_source} wins"] if ep.shadowed else []
    detail += [why for _name, why in tls.ignored]
    if tls.source != "certifi":
        detail.append(f"TLS: {'verification off (SSL_VERIFY=False)' if not tls.verify else f'CA bundle from {tls.source}={tls.cafile}'}")
    if view.base_problem is not None:
        summary, fix = f"base URL {ep.base_url!r} (from {ep.base_source}) {view.base_problem}", f"export {ep.base_variable}=https://HOST/v1"
        return [Finding("endpoint", FAIL, summary, fix + "  (no quotes inside the value)", "base-url", view.source, LAYER["config"], detail)]
    if view.trace is None:
        return [*_config_findings(view), Finding("endpoint", OK, f"base URL {where}; not contacted (--offline)", source=view.source, detail=detail)]
    status, summary, cause, caused_by = _verdict(view, where)
    layer = causes.CAUSES[cause].layer if cause in causes.CAUSES else LAYER["http"]
    fix = "fix the proxy first" if caused_by else causes.fix(cause, view) if cause else ""
    return [*_config_findings(view), Finding("endpoint", status, summary, fix, cause, view.source, layer, detail, caused_by)]


def _verdict(view: EnvView, where: str) -> tuple[str, str, str, str]:
    """(status, summary, cause, caused_by) of what the trace to {base}/models says."""
    trace, ep = view.trace, view.endpoint
    assert trace is not None
    stage = trace.failed
    if stage is None:
        http, tls = trace.stage("http"), trace.stage("tls")
        n = len(http.data.get("models") or []) if http else 0
        listed = (f", TLS ok ({tls.data.get('version')})" if tls else "") + (f", {n} models listed" if n else "")
        return OK, f"{where}: GET /models -> {http.status if http else '?'}{listed}", "", ""
    if trace.proxy_failed:
        return FAIL, f"{where} cannot be reached: the proxy in front of it fails (see proxy)", "proxy", "proxy"
    said, cause = f" ({stage.data['error']})" if stage.data.get("error") else "", stage.cause
    if cause == "auth":
        return OK, f"{where}: reachable; GET /models -> {stage.status}{said} (see key)", "", ""
    if cause == "proxy-upstream":
        summary = f"the proxy cannot reach {ep.host}:{ep.port} ({stage.message}); the endpoint is down, its name does not resolve from the proxy, "
        summary += "or the proxy blocks it"
    else:
        summary = f"{stage.message}{said}" + {"server-error": ": the server fails", "base-url-path": ": not an OpenAI base URL"}.get(cause, "")
    return WARN if cause in ("base-url-path", "rate-limited", "http-status") else FAIL, f"{where}: {summary}", cause, ""


def _key_verdicts(view: EnvView) -> list[tuple[str, str, str, str]]:
    """(status, summary, fix, cause) of each thing the key's value and GET /models say."""
    ep, var, key = view.endpoint, view.endpoint.key_variable, view.endpoint.key
    if not key:
        summary = f"{var} is not set: LiteLLM fails with 'Missing credentials' before sending anything"
        return [(FAIL, summary, f"export {var}=...  ({'an OpenRouter key (sk-or-v1-...)' if ep.is_openrouter else 'your API key'})", "key-missing")]
    shown, clean, found = f"{var}={redact_key(key)}", key.strip().strip("\"'"), []
    if key != key.strip() or any(c in key for c in "\"'\n\r\t "):
        summary = f"{shown} contains spaces, quotes or a line break: the Authorization header will not match"
        found.append((FAIL, summary, f"export {var}=sk-...  (the bare key, quoted once)", "key-shape"))
    if ep.is_openrouter and not clean.startswith(OPENROUTER_PREFIX):
        summary = f"{shown} does not look like an OpenRouter key (they start {OPENROUTER_PREFIX}) but the base URL is OpenRouter"
        found.append((FAIL if clean.startswith("sk-") else WARN, summary, f"export {var}={OPENROUTER_PREFIX}...  (from openrouter.ai/keys)", "key-shape"))
    elif ep.host == "api.openai.com" and clean.startswith("sk-or-"):
        summary = f"{shown} is an OpenRouter key but the base URL is api.openai.com"
        found.append((FAIL, summary, "export OPENAI_API_BASE=https://openrouter.ai/api/v1", "key-shape"))
    http = view.trace.stage("http") if view.trace is not None else None
    if http is not None and http.status in (401, 403):
        said = f": {http.data['error']}" if http.data.get("error") else ""
        summary = f"{shown} is rejected: GET /models -> {http.status}{said} (invalid, expired or revoked key)"
        return [*found, (FAIL, summary, causes.fix("auth", view), "auth")]
    if found:
        return found
    if view.trace is None:
        summary = f"{shown} is set (not verified: --offline)" if view.offline else f"{shown} is set"
    elif http is not None and not http.cause:
        summary = f"{shown} is accepted by GET /models"
        summary = f"{shown} is set; OpenRouter's /models does not check keys, the live probe does" if ep.is_openrouter else summary
    else:
        summary = f"{shown} is set (not verified: /models did not answer)"
    return [(OK, summary, "", "")]


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


def _models(view: EnvView) -> list[Finding]:
    """Check 4, one finding per model; the first carries the variables (and any note on a model's route) as its detail."""
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
        Finding("models", status, summary, fix, cause, view.source, LAYER["model"], notes + more if i == 0 else more)
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
