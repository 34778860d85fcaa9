"""Read the settings LiteLLM and the open-instruct helpers will use from an env mapping (pure)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Mapping
from urllib.parse import urlsplit

from llmfix.codemods import litellm_facts
from llmfix.doctor.proxyenv import env_true

DEFAULT_BASE = "https://api.openai.com/v1"
OPENROUTER_DEFAULT_BASE = "https://openrouter.ai/api/v1"
DEFAULT_RUBRIC_MODEL = "gpt-4.1"

# The helpers' defaults (TARGETS.md) and llmfix's patched defaults (llmfix.codemods.litellm_facts).
UNPATCHED_RETRIES = 5
UNPATCHED_TIMEOUT = 600.0
PATCHED_RETRIES = litellm_facts.DEFAULT_RETRIES
PATCHED_TIMEOUT = litellm_facts.DEFAULT_TIMEOUT
PATCHED_FALLBACKS: tuple[str, ...] = ()  # the patch keeps each helper's own list; none is added
PATCHED_PRECHECK_TIMEOUT = litellm_facts.DEFAULT_PRECHECK_TIMEOUT


@dataclass(frozen=True)
class Endpoint:
    """The base URL and key LiteLLM uses for one route, and where each came from."""

    route: str  # "openai" (OPENAI_* variables) or "openrouter" (openrouter/ model prefix)
    base_url: str
    base_source: str  # the variable, or "default"
    key: str | None
    key_source: str | None
    shadowed: tuple[str, str] | None = None  # (variable, value) that lost to base_source

    @property
    def host(self) -> str:
        try:
            return (urlsplit(self.base_url.strip()).hostname or "").lower()
        except ValueError:
            return ""

    @property
    def is_openrouter(self) -> bool:
        return self.host == "openrouter.ai" or self.host.endswith(".openrouter.ai")

    @property
    def is_openai(self) -> bool:
        return self.host == "api.openai.com"


def openai_endpoint(env: Mapping[str, str]) -> Endpoint:
    """OPENAI_BASE_URL wins over OPENAI_API_BASE; default https://api.openai.com/v1 (LiteLLM's order)."""
    base, source, shadowed = DEFAULT_BASE, "default", None
    if env.get("OPENAI_BASE_URL"):
        base, source = env["OPENAI_BASE_URL"], "OPENAI_BASE_URL"
        if env.get("OPENAI_API_BASE") and env["OPENAI_API_BASE"] != base:
            shadowed = ("OPENAI_API_BASE", env["OPENAI_API_BASE"])
    elif env.get("OPENAI_API_BASE"):
        base, source = env["OPENAI_API_BASE"], "OPENAI_API_BASE"
    key = env.get("OPENAI_API_KEY") or None
    return Endpoint("openai", base, source, key, "OPENAI_API_KEY" if key is not None else None, shadowed)


def openrouter_endpoint(env: Mapping[str, str]) -> Endpoint:
    """LiteLLM's openrouter/ route: OPENROUTER_API_BASE, OPENROUTER_API_KEY or OR_API_KEY."""
    base, source = OPENROUTER_DEFAULT_BASE, "default"
    if env.get("OPENROUTER_API_BASE"):
        base, source = env["OPENROUTER_API_BASE"], "OPENROUTER_API_BASE"
    for var in ("OPENROUTER_API_KEY", "OR_API_KEY"):
        if env.get(var):
            return Endpoint("openrouter", base, source, env[var], var)
    return Endpoint("openrouter", base, source, None, None)


def endpoint_for_model(env: Mapping[str, str], model: str) -> Endpoint:
    return openrouter_endpoint(env) if model.startswith("openrouter/") else openai_endpoint(env)


@dataclass(frozen=True)
class Models:
    generation: str
    generation_set: bool
    judge: str
    judge_set: bool


def rubric_models(env: Mapping[str, str]) -> Models:
    gen = env.get("RUBRIC_GENERATION_MODEL") or ""
    judge = env.get("RUBRIC_JUDGE_MODEL") or ""
    return Models(gen or DEFAULT_RUBRIC_MODEL, bool(gen), judge or DEFAULT_RUBRIC_MODEL, bool(judge))


@dataclass(frozen=True)
class Fallback:
    model: str
    api_base: str | None = None

    @property
    def own_endpoint(self) -> bool:
        return bool(self.api_base)


@dataclass(frozen=True)
class RetrySettings:
    """The retry/timeout/fallback settings the helpers will run with, and any parse problems."""

    retries: int | None  # from LITELLM_NUM_RETRIES, None when unset
    timeout: float | None  # from LITELLM_DEFAULT_TIMEOUT
    fallbacks: tuple[Fallback, ...] | None  # from LITELLM_FALLBACK_MODELS; None when unset
    precheck_timeout: float | None
    precheck: str | None  # LITELLM_PRECHECK: "0", "warn", ...
    problems: tuple[tuple[str, str], ...] = field(default_factory=tuple)  # (variable, message)


def _number(env: Mapping[str, str], name: str, problems: list[tuple[str, str]], integer: bool) -> float | None:
    raw = env.get(name)
    if raw is None:
        return None
    try:
        value = int(raw.strip()) if integer else float(raw.strip())
    except ValueError:
        problems.append((name, f"{name}={raw!r} is not {'an integer' if integer else 'a number'}: the helper raises ValueError"))
        return None
    if value < 0:
        problems.append((name, f"{name}={raw!r} is negative"))
        return None
    return value


def parse_fallbacks(raw: str) -> tuple[tuple[Fallback, ...], str | None]:
    """LITELLM_FALLBACK_MODELS: a JSON list (strings or {model, api_base, ...}) or a comma list."""
    text = raw.strip()
    if not text:
        return (), None
    if text.startswith("["):
        try:
            items = json.loads(text)
        except ValueError as exc:
            return (), f"LITELLM_FALLBACK_MODELS looks like JSON but does not parse: {exc.msg}"
        out = []
        for item in items:
            if isinstance(item, str):
                out.append(Fallback(item))
            elif isinstance(item, dict) and isinstance(item.get("model"), str):
                out.append(Fallback(item["model"], item.get("api_base") or None))
            else:
                return tuple(out), f"LITELLM_FALLBACK_MODELS item {item!r} is neither a name nor an object with 'model'"
        return tuple(out), None
    return tuple(Fallback(p.strip()) for p in text.split(",") if p.strip()), None


def retry_settings(env: Mapping[str, str]) -> RetrySettings:
    problems: list[tuple[str, str]] = []
    retries = _number(env, "LITELLM_NUM_RETRIES", problems, integer=True)
    timeout = _number(env, "LITELLM_DEFAULT_TIMEOUT", problems, integer=False)
    precheck_timeout = _number(env, "LITELLM_PRECHECK_TIMEOUT", problems, integer=False)
    fallbacks = None
    if "LITELLM_FALLBACK_MODELS" in env:
        fallbacks, problem = parse_fallbacks(env["LITELLM_FALLBACK_MODELS"])
        if problem:
            problems.append(("LITELLM_FALLBACK_MODELS", problem))
    return RetrySettings(
        int(retries) if retries is not None else None,
        timeout,
        fallbacks,
        precheck_timeout,
        env.get("LITELLM_PRECHECK"),
        tuple(problems),
    )


@dataclass(frozen=True)
class TLSSettings:
    """How LiteLLM verifies TLS (``get_ssl_verify``/``get_ssl_configuration``)."""

    verify: bool
    cafile: str | None  # None: certifi's bundle
    source: str  # "SSL_VERIFY", "SSL_CERT_FILE" or "certifi"
    ignored: tuple[tuple[str, str], ...] = ()  # (variable, why) settings LiteLLM ignores


def tls_settings(env: Mapping[str, str], exists=None) -> TLSSettings:
    """Mirror LiteLLM: SSL_VERIFY (a path or a boolean) first, then SSL_CERT_FILE when the file exists."""
    import os.path

    exists = exists or os.path.exists
    ignored: list[tuple[str, str]] = []
    verify_raw = env.get("SSL_VERIFY")
    if verify_raw is not None:
        if exists(verify_raw):
            return TLSSettings(True, verify_raw, "SSL_VERIFY")
        if verify_raw.strip().lower() == "false":
            return TLSSettings(False, None, "SSL_VERIFY")
    cert_file = env.get("SSL_CERT_FILE")
    if cert_file:
        if exists(cert_file):
            return TLSSettings(True, cert_file, "SSL_CERT_FILE")
        ignored.append(("SSL_CERT_FILE", f"{cert_file} does not exist, so LiteLLM silently uses certifi's bundle"))
    for var in ("REQUESTS_CA_BUNDLE", "SSL_CERT_DIR", "CURL_CA_BUNDLE"):
        if env.get(var):
            ignored.append((var, f"{var} is set but LiteLLM does not read it (use SSL_CERT_FILE)"))
    return TLSSettings(True, None, "certifi", tuple(ignored))


def cost_map_local(env: Mapping[str, str]) -> str | None:
    """The variable that keeps ``import litellm`` off the network, or None when it will fetch."""
    if env.get("LITELLM_LOCAL_MODEL_COST_MAP", "").lower() == "true":
        return "LITELLM_LOCAL_MODEL_COST_MAP"
    if env_true(env.get("LITELLM_OFFLINE_MODE")):
        return "LITELLM_OFFLINE_MODE"
    return None
