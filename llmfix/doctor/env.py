"""The settings LiteLLM and the helpers will use, read from an env mapping, and :class:`EnvView`: one environment as
the checks see it, with its (cached) network trace. Proxies follow two rule sets: ``aiohttp`` (async, the default) takes
urllib's ``getproxies``/``proxy_bypass``; ``httpx`` (sync; async too with DISABLE_AIOHTTP_TRANSPORT or LITELLM_HTTP2) its
mounts, where ``*`` anywhere in no_proxy disables proxies and ``.example.com`` matches subdomains only. Both read
``<scheme>_proxy`` in any case, lower-case names last (an empty one unsets)."""

from __future__ import annotations

import contextlib
import ipaddress
import os
from collections.abc import Mapping
from typing import NamedTuple
from urllib.parse import urlsplit
from urllib.request import proxy_bypass_environment

from httpx import URL, InvalidURL
from httpx._utils import URLPattern  # the matching httpx itself does (httpx comes with litellm)

from llmfix.doctor.netprobe import Trace, host_port, trace_endpoint

DEFAULT_RUBRIC_MODEL = "gpt-4.1"
# LiteLLM's routes: (base URL variables, the first set wins; its default base URL; key variables, likewise).
ROUTES = {
    "openai": (("OPENAI_BASE_URL", "OPENAI_API_BASE"), "https://api.openai.com/v1", ("OPENAI_API_KEY",)),
    "openrouter": (("OPENROUTER_API_BASE",), "https://openrouter.ai/api/v1", ("OPENROUTER_API_KEY", "OR_API_KEY")),
}


class Endpoint(NamedTuple):
    """The base URL and key LiteLLM uses for one route, and where each came from."""

    route: str  # "openai" (OPENAI_* variables) or "openrouter" (openrouter/ model prefix)
    base_url: str
    base_source: str  # the variable, or "default"
    key: str | None
    key_source: str | None
    shadowed: tuple[str, str] | None  # (variable, value) that lost to base_source
    host: str
    port: int
    base_variable: str  # the variable the base URL comes from, or the one to set
    key_variable: str  # likewise for the key

    @property
    def is_openrouter(self) -> bool:
        return self.host == "openrouter.ai" or self.host.endswith(".openrouter.ai")


def endpoint_for_model(env: Mapping[str, str], model: str) -> Endpoint:
    """LiteLLM's openrouter/ route for an ``openrouter/`` model, else the OpenAI-compatible one."""
    route = "openrouter" if model.startswith("openrouter/") else "openai"
    base_variables, default, key_variables = ROUTES[route]
    given = [name for name in base_variables if env.get(name)]
    base, source = (env[given[0]], given[0]) if given else (default, "default")
    shadowed = next(((name, env[name]) for name in given[1:] if env[name] != base), None)
    key_source = next((name for name in key_variables if env.get(name)), None)
    host, port = "", 0
    with contextlib.suppress(ValueError):  # a bad port: url_problem says so
        host, port = host_port(base.strip())[1:]
    key, base_variable = env[key_source] if key_source else None, source if given else base_variables[-1]
    return Endpoint(route, base, source, key, key_source, shadowed, host, port, base_variable, key_source or key_variables[0])


class TLSSettings(NamedTuple):
    """How LiteLLM verifies TLS (``get_ssl_verify``/``get_ssl_configuration``)."""

    verify: bool
    cafile: str | None  # None: certifi's bundle
    source: str  # "SSL_VERIFY", "SSL_CERT_FILE" or "certifi"
    ignored: tuple[tuple[str, str], ...] = ()  # (variable, why) settings LiteLLM ignores


def tls_settings(env: Mapping[str, str]) -> TLSSettings:
    """LiteLLM's order: SSL_VERIFY (a path or a boolean) first, then SSL_CERT_FILE when the file exists."""
    verify, cert_file = env.get("SSL_VERIFY"), env.get("SSL_CERT_FILE")
    if verify is not None and os.path.exists(verify):
        return TLSSettings(True, verify, "SSL_VERIFY")
    if verify is not None and verify.strip().lower() == "false":
        return TLSSettings(False, None, "SSL_VERIFY")
    if cert_file and os.path.exists(cert_file):
        return TLSSettings(True, cert_file, "SSL_CERT_FILE")
    ignored = [("SSL_CERT_FILE", f"{cert_file} does not exist, so LiteLLM silently uses certifi's bundle")] if cert_file else []
    unread = [var for var in ("REQUESTS_CA_BUNDLE", "SSL_CERT_DIR", "CURL_CA_BUNDLE") if env.get(var)]
    ignored += [(var, f"{var} is set but LiteLLM does not read it (use SSL_CERT_FILE)") for var in unread]
    return TLSSettings(True, None, "certifi", tuple(ignored))


def url_problem(url: str) -> str | None:
    """Why a base URL cannot work, or None."""
    if url != url.strip():
        return "has leading/trailing whitespace"
    if url[:1] in "\"'" or url[-1:] in "\"'":
        return "contains quote characters (quoted twice in the launcher?)"
    if any(c.isspace() for c in url):
        return "contains whitespace"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError as exc:
        return f"does not parse ({exc})"
    if parts.scheme not in ("http", "https"):
        return f"has scheme {parts.scheme!r}; LiteLLM needs http or https" if parts.scheme else "needs an http:// or https:// scheme"
    return None if parts.hostname else "has no host"


def env_true(value: str | None) -> bool:
    """LiteLLM's ``str_to_bool(value) is True``: only "true", any case, surrounding blanks ignored."""
    return value is not None and value.strip().lower() == "true"


def getproxies(env: Mapping[str, str]) -> dict[str, tuple[str, str]]:
    """``urllib.request.getproxies_environment`` (which reads os.environ only) on a mapping: scheme -> (value, variable)."""
    proxies = {name.lower()[:-6]: (value, name) for name, value in env.items() if value and name.lower().endswith("_proxy")}
    if "REQUEST_METHOD" in env:  # CVE-2016-1000110: ignore HTTP_PROXY under CGI
        proxies.pop("http", None)
    for name, value in env.items():
        if name.endswith("_proxy") and value:
            proxies[name.lower()[:-6]] = (value, name)
        elif name.endswith("_proxy"):
            proxies.pop(name.lower()[:-6], None)
    return proxies


class ProxyChoice(NamedTuple):
    """The proxy (or none) one rule set picks for one URL."""

    rule: str  # "aiohttp" or "httpx"
    proxy: str | None = None  # normalised proxy URL, e.g. http://127.0.0.1:3128
    variable: str | None = None  # the env variable the proxy came from
    why_none: str = ""  # e.g. "no_proxy entry '127.0.0.1' matches", "DISABLE_AIOHTTP_TRUST_ENV=True"

    def describe(self) -> str:
        return f"{self.variable}={self.proxy}" if self.proxy else f"no proxy ({self.why_none})" if self.why_none else "no proxy"


def _bypassed(rule: str, variable: str | None, entry: str) -> ProxyChoice:
    return ProxyChoice(rule, why_none=f"{variable} entry {entry!r} matches")


def _normalise(value: str) -> str:
    return value if "://" in value else f"http://{value}"


def select_aiohttp(url: str, env: Mapping[str, str]) -> ProxyChoice:
    """The proxy LiteLLM's default async transport uses for ``url``."""
    if env_true(env.get("DISABLE_AIOHTTP_TRUST_ENV")):
        return ProxyChoice("aiohttp", why_none=f"DISABLE_AIOHTTP_TRUST_ENV={env.get('DISABLE_AIOHTTP_TRUST_ENV')}")
    proxies = getproxies(env)
    parts = urlsplit(url)
    scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
    no_value, no_variable = proxies.get("no", ("", None))
    entries = ["*"] if no_value == "*" else [e.strip() for e in no_value.split(",") if e.strip() and e.strip() != "*"]
    bypass = next((e for e in entries if proxy_bypass_environment(host, {"no": e})), None)  # the entry that makes urllib bypass
    if bypass is not None:
        return _bypassed("aiohttp", no_variable, bypass)
    chosen = proxies.get(scheme) or proxies.get("all")
    return ProxyChoice("aiohttp", _normalise(chosen[0]), chosen[1]) if chosen else ProxyChoice("aiohttp")


def _no_proxy_key(entry: str) -> str:
    """The mount key httpx's ``get_environment_proxies`` makes of one no_proxy entry."""
    try:
        version = ipaddress.ip_address(entry.split("/")[0]).version
    except ValueError:
        version = 0
    if "://" in entry:
        return entry
    if version == 6:
        return f"all://[{entry}]"
    return f"all://{entry}" if version == 4 or entry.lower() == "localhost" else f"all://*{entry}"


def select_httpx(url: str, env: Mapping[str, str]) -> ProxyChoice:
    """The proxy an httpx client with ``trust_env=True`` uses for ``url`` (LiteLLM's sync path), matched by httpx itself."""
    proxies = getproxies(env)
    mounts = {f"{s}://": (_normalise(proxies[s][0]), proxies[s][1]) for s in ("http", "https", "all") if s in proxies}
    no_value, no_variable = proxies.get("no", ("", ""))
    for entry in (h.strip() for h in no_value.split(",")):
        if entry == "*":
            return _bypassed("httpx", no_variable, "*")
        if entry:
            mounts[_no_proxy_key(entry)] = (None, no_variable)
    try:
        target, patterns = URL(url), sorted((URLPattern(key), key) for key in mounts)
    except (InvalidURL, ValueError):
        return ProxyChoice("httpx")
    for pattern, key in patterns:
        if pattern.matches(target):
            proxy, variable = mounts[key]
            entry = key.split("://", 1)[1].lstrip("*") if key.startswith("all://") else key
            return ProxyChoice("httpx", proxy, variable) if proxy else _bypassed("httpx", variable, entry.strip("[]") or key)
    return ProxyChoice("httpx")


def async_rule(env: Mapping[str, str]) -> str:
    """Which rule set LiteLLM's async path follows under this env."""
    return "httpx" if env_true(env.get("DISABLE_AIOHTTP_TRANSPORT")) or env_true(env.get("LITELLM_HTTP2")) else "aiohttp"


def select(url: str, env: Mapping[str, str], rule: str | None = None) -> ProxyChoice:
    return select_httpx(url, env) if (rule or async_rule(env)) == "httpx" else select_aiohttp(url, env)


class EnvView:
    """One environment (the process's, or a launcher's overlay) as the helpers will see it; ``traces``
    holds one network trace per (base URL, proxy, key, TLS settings), shared by the views of a run."""

    def __init__(self, env: dict[str, str], source: str, offline: bool, model_override: str | None, traces: dict[tuple, Trace]) -> None:
        self.env, self.source, self.offline, self.model_override, self.traces = env, source, offline, model_override, traces
        self.generation_model = env.get("RUBRIC_GENERATION_MODEL") or DEFAULT_RUBRIC_MODEL  # or the helpers' default
        self.judge_model = env.get("RUBRIC_JUDGE_MODEL") or DEFAULT_RUBRIC_MODEL
        self.probe_model = model_override or self.generation_model
        self.endpoint = endpoint_for_model(env, self.probe_model)
        self.base_problem = url_problem(self.endpoint.base_url)
        rule, url = async_rule(env), self.endpoint.base_url.strip()
        self.choice = select(url, env, rule)  # the proxy of the async path (rubric generation)
        self.other_choice = select(url, env, "httpx" if rule == "aiohttp" else "aiohttp")
        self.tls = tls_settings(env)

    @property
    def is_default(self) -> bool:
        """No base URL variable is set: LiteLLM's default endpoint is in use."""
        return self.endpoint.base_source == "default"

    @property
    def trace(self) -> Trace | None:
        """The network trace to ``{base}/models``; None offline or when the URL is unusable."""
        if self.offline or self.base_problem is not None:
            return None
        ep, tls = self.endpoint, self.tls
        key = (ep.base_url.strip(), self.choice.proxy, ep.key, tls.verify, tls.cafile)
        if key not in self.traces:
            self.traces[key] = trace_endpoint(ep.base_url, self.choice.proxy, ep.key, tls.verify, tls.cafile)
        return self.traces[key]
