"""Which proxy LiteLLM uses for a URL, from an env mapping. LiteLLM 1.x follows two rule sets: ``aiohttp``
(async ``acompletion``, the default) takes urllib's ``getproxies``/``proxy_bypass``; ``httpx`` (sync
``completion``; async too with DISABLE_AIOHTTP_TRANSPORT or LITELLM_HTTP2) takes httpx's mounts, where
``*`` anywhere in no_proxy disables proxies and ``.example.com`` matches subdomains only. Both read
``<scheme>_proxy`` in any case, lower-case names last (an empty one unsets)."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import NamedTuple
from urllib.parse import urlsplit
from urllib.request import proxy_bypass_environment

from httpx import URL, InvalidURL
from httpx._utils import URLPattern  # the matching httpx itself does (httpx comes with litellm)


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


def proxy_variables(env: Mapping[str, str]) -> list[tuple[str, str]]:
    """Every set proxy-related variable, in a stable order, as (name, value)."""
    order = {"http_proxy": 0, "https_proxy": 1, "all_proxy": 2, "no_proxy": 3}
    return [(n, env[n]) for n in sorted((n for n in env if n.lower().endswith("_proxy")), key=lambda n: (order.get(n.lower(), 9), n.lower(), n))]


class ProxyChoice(NamedTuple):
    """The proxy (or none) one rule set picks for one URL."""

    rule: str  # "aiohttp" or "httpx"
    proxy: str | None  # normalised proxy URL, e.g. http://127.0.0.1:3128
    variable: str | None  # the env variable the proxy came from
    bypass: str | None  # the no_proxy entry that bypassed a proxy ("*" for all)
    bypass_variable: str | None = None
    disabled_by: str | None = None  # e.g. DISABLE_AIOHTTP_TRUST_ENV=True

    def describe(self) -> str:
        if self.proxy:
            return f"{self.variable}={self.proxy}"
        if self.disabled_by:
            return f"no proxy ({self.disabled_by})"
        return f"no proxy ({self.bypass_variable} entry {self.bypass!r} matches)" if self.bypass else "no proxy"


def _normalise(value: str) -> str:
    return value if "://" in value else f"http://{value}"


def select_aiohttp(url: str, env: Mapping[str, str]) -> ProxyChoice:
    """The proxy LiteLLM's default async transport uses for ``url``."""
    if env_true(env.get("DISABLE_AIOHTTP_TRUST_ENV")):
        return ProxyChoice("aiohttp", None, None, None, disabled_by=f"DISABLE_AIOHTTP_TRUST_ENV={env.get('DISABLE_AIOHTTP_TRUST_ENV')}")
    proxies = getproxies(env)
    parts = urlsplit(url)
    scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
    no_value, no_variable = proxies.get("no", ("", None))
    entries = ["*"] if no_value == "*" else [e.strip() for e in no_value.split(",") if e.strip() and e.strip() != "*"]
    bypass = next((e for e in entries if proxy_bypass_environment(host, {"no": e})), None)  # the entry that makes urllib bypass
    if bypass is not None:
        return ProxyChoice("aiohttp", None, None, bypass, no_variable)
    chosen = proxies.get(scheme) or proxies.get("all")
    return ProxyChoice("aiohttp", _normalise(chosen[0]), chosen[1], None) if chosen else ProxyChoice("aiohttp", None, None, None)


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
            return ProxyChoice("httpx", None, None, "*", no_variable)
        if entry:
            mounts[_no_proxy_key(entry)] = (None, no_variable)
    try:
        target, patterns = URL(url), sorted((URLPattern(key), key) for key in mounts)
    except (InvalidURL, ValueError):
        return ProxyChoice("httpx", None, None, None)
    for pattern, key in patterns:
        if pattern.matches(target):
            proxy, variable = mounts[key]
            entry = key.split("://", 1)[1].lstrip("*") if key.startswith("all://") else key
            return ProxyChoice("httpx", proxy, variable, None) if proxy else ProxyChoice("httpx", None, None, entry.strip("[]") or key, variable)
    return ProxyChoice("httpx", None, None, None)


def async_rule(env: Mapping[str, str]) -> str:
    """Which rule set LiteLLM's async path follows under this env."""
    return "httpx" if env_true(env.get("DISABLE_AIOHTTP_TRANSPORT")) or env_true(env.get("LITELLM_HTTP2")) else "aiohttp"


def select(url: str, env: Mapping[str, str], rule: str | None = None) -> ProxyChoice:
    return select_httpx(url, env) if (rule or async_rule(env)) == "httpx" else select_aiohttp(url, env)
