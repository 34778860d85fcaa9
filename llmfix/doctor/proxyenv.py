"""Which proxy LiteLLM uses for a URL, computed from an env mapping (pure).

Two rule sets exist inside LiteLLM 1.x and both are mirrored here:

* ``aiohttp`` (the async ``acompletion`` path, LiteLLM's default transport): LiteLLM's
  ``LiteLLMAiohttpTransport._proxy_from_env`` calls ``urllib.request.getproxies()`` and
  ``urllib.request.proxy_bypass(host)``, then takes ``proxies[scheme] or proxies["all"]``.
  no_proxy entries are DNS suffixes with any leading dot ignored; ``*`` only counts when it
  is the whole value.
* ``httpx`` (the sync ``completion`` path, and async with DISABLE_AIOHTTP_TRANSPORT=True or
  LITELLM_HTTP2): ``httpx._utils.get_environment_proxies`` plus ``URLPattern`` matching:
  ``*`` anywhere in the list disables proxies, ``.example.com`` matches subdomains only,
  ``example.com`` matches itself and subdomains, IPs and ``localhost`` match exactly.

Both read the variables through ``urllib.request.getproxies_environment``: any-case
``<scheme>_proxy`` names, then lower-case names win (and an empty lower-case value unsets).
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import Mapping
from urllib.parse import urlsplit

def env_true(value: str | None) -> bool:
    """LiteLLM's ``str_to_bool(value) is True``: only "true", any case, surrounding blanks ignored."""
    return value is not None and value.strip().lower() == "true"


def getproxies(env: Mapping[str, str]) -> dict[str, tuple[str, str]]:
    """``urllib.request.getproxies_environment`` on a mapping: scheme -> (value, variable)."""
    proxies: dict[str, tuple[str, str]] = {}
    for name, value in env.items():
        lowered = name.lower()
        if value and lowered[-6:] == "_proxy":
            proxies[lowered[:-6]] = (value, name)
    if "REQUEST_METHOD" in env:  # CVE-2016-1000110: ignore HTTP_PROXY under CGI
        proxies.pop("http", None)
    for name, value in env.items():
        if name[-6:] == "_proxy":
            lowered = name.lower()
            if value:
                proxies[lowered[:-6]] = (value, name)
            else:
                proxies.pop(lowered[:-6], None)
    return proxies


@dataclass(frozen=True)
class ProxyChoice:
    """The proxy (or none) one rule set picks for one URL."""

    rule: str  # "aiohttp" or "httpx"
    proxy: str | None  # normalised proxy URL, e.g. http://127.0.0.1:3128
    variable: str | None  # the env variable the proxy came from
    bypass: str | None  # the no_proxy entry that bypassed a proxy ("*" for all)
    bypass_variable: str | None = None
    disabled_by: str | None = None  # e.g. DISABLE_AIOHTTP_TRUST_ENV=True

    def describe(self) -> str:
        from llmfix.doctor.redact import redact_url

        if self.proxy:
            return f"{self.variable}={redact_url(self.proxy)}"
        if self.disabled_by:
            return f"no proxy ({self.disabled_by})"
        if self.bypass:
            return f"no proxy ({self.bypass_variable} entry {self.bypass!r} matches)"
        return "no proxy"


def _normalise(value: str) -> str:
    return value if "://" in value else f"http://{value}"


def _split(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    try:
        port = parts.port
    except ValueError:
        port = None
    return parts.scheme.lower(), host, port


def urllib_bypass_entry(host: str, no_proxy: str) -> str | None:
    """The no_proxy entry that makes ``proxy_bypass_environment(host)`` true, else None."""
    if no_proxy == "*":
        return "*"
    host = host.lower()
    for entry in no_proxy.split(","):
        name = entry.strip()
        if not name:
            continue
        bare = name.lstrip(".").lower()
        if host == bare or host.endswith("." + bare):
            return name
    return None


def select_aiohttp(url: str, env: Mapping[str, str]) -> ProxyChoice:
    """The proxy LiteLLM's default async transport uses for ``url``."""
    for var in ("DISABLE_AIOHTTP_TRUST_ENV",):
        if env_true(env.get(var)):
            return ProxyChoice("aiohttp", None, None, None, disabled_by=f"{var}={env.get(var)}")
    proxies = getproxies(env)
    scheme, host, _ = _split(url)
    if "no" in proxies:
        entry = urllib_bypass_entry(host, proxies["no"][0])
        if entry is not None:
            return ProxyChoice("aiohttp", None, None, entry, proxies["no"][1])
    chosen = proxies.get(scheme) or proxies.get("all")
    if not chosen:
        return ProxyChoice("aiohttp", None, None, None)
    return ProxyChoice("aiohttp", _normalise(chosen[0]), chosen[1], None)


@dataclass(frozen=True)
class _Pattern:
    key: str
    scheme: str
    host: str
    port: int | None
    regex: re.Pattern[str] | None
    proxy: str | None
    variable: str

    @property
    def priority(self) -> tuple[int, int, int]:
        return (0 if self.port is not None else 1, -len(self.host), -len(self.scheme))

    def matches(self, scheme: str, host: str, port: int | None) -> bool:
        if self.scheme and self.scheme != scheme:
            return False
        if self.host and self.regex is not None and not self.regex.match(host):
            return False
        if self.port is not None and self.port != port:
            return False
        return True


_DEFAULT_PORTS = {"http": 80, "https": 443}


def _pattern(key: str, proxy: str | None, variable: str) -> _Pattern:
    scheme, _, rest = key.partition("://")
    hostport = rest.split("/", 1)[0]
    port: int | None = None
    if hostport.startswith("["):
        host, _, tail = hostport[1:].partition("]")
        if tail.startswith(":") and tail[1:].isdigit():
            port = int(tail[1:])
    else:
        host, sep, port_text = hostport.rpartition(":")
        if not sep or not port_text.isdigit():
            host = hostport
        else:
            port = int(port_text)
    host = host.lower()
    scheme = "" if scheme == "all" else scheme.lower()
    if port is not None and port == _DEFAULT_PORTS.get(scheme):
        port = None
    if host == "*":
        host = ""
    regex: re.Pattern[str] | None
    if not host:
        regex = None
    elif host.startswith("*."):
        regex = re.compile(f"^.+\\.{re.escape(host[2:])}$")
    elif host.startswith("*"):
        regex = re.compile(f"^(.+\\.)?{re.escape(host[1:])}$")
    else:
        regex = re.compile(f"^{re.escape(host)}$")
    return _Pattern(key, scheme, host, port, regex, proxy, variable)


def _is_ipv4(text: str) -> bool:
    try:
        ipaddress.IPv4Address(text.split("/")[0])
    except ValueError:
        return False
    return True


def _is_ipv6(text: str) -> bool:
    try:
        ipaddress.IPv6Address(text.split("/")[0])
    except ValueError:
        return False
    return True


def select_httpx(url: str, env: Mapping[str, str]) -> ProxyChoice:
    """The proxy an httpx client with ``trust_env=True`` uses for ``url`` (LiteLLM's sync path)."""
    proxies = getproxies(env)
    mounts: dict[str, tuple[str | None, str]] = {}
    for scheme in ("http", "https", "all"):
        if scheme in proxies:
            mounts[f"{scheme}://"] = (_normalise(proxies[scheme][0]), proxies[scheme][1])
    no_value, no_var = proxies.get("no", ("", ""))
    for entry in (h.strip() for h in no_value.split(",")):
        if entry == "*":
            return ProxyChoice("httpx", None, None, "*", no_var)
        if not entry:
            continue
        if "://" in entry:
            mounts[entry] = (None, no_var)
        elif _is_ipv4(entry):
            mounts[f"all://{entry}"] = (None, no_var)
        elif _is_ipv6(entry):
            mounts[f"all://[{entry}]"] = (None, no_var)
        elif entry.lower() == "localhost":
            mounts[f"all://{entry}"] = (None, no_var)
        else:
            mounts[f"all://*{entry}"] = (None, no_var)
    patterns = sorted((_pattern(k, p, v) for k, (p, v) in mounts.items()), key=lambda p: p.priority)
    scheme, host, port = _split(url)
    if port is not None and port == _DEFAULT_PORTS.get(scheme):
        port = None
    for pattern in patterns:
        if pattern.matches(scheme, host, port):
            if pattern.proxy is None:
                entry = pattern.key.split("://", 1)[1].lstrip("*") if pattern.key.startswith("all://") else pattern.key
                return ProxyChoice("httpx", None, None, entry.strip("[]") or pattern.key, pattern.variable)
            return ProxyChoice("httpx", pattern.proxy, pattern.variable, None)
    return ProxyChoice("httpx", None, None, None)


def async_rule(env: Mapping[str, str]) -> str:
    """Which rule set LiteLLM's async path follows under this env."""
    if env_true(env.get("DISABLE_AIOHTTP_TRANSPORT")):
        return "httpx"
    if env_true(env.get("LITELLM_HTTP2")):
        return "httpx"
    return "aiohttp"


def select(url: str, env: Mapping[str, str], rule: str | None = None) -> ProxyChoice:
    rule = rule or async_rule(env)
    return select_httpx(url, env) if rule == "httpx" else select_aiohttp(url, env)


def proxy_variables(env: Mapping[str, str]) -> list[tuple[str, str]]:
    """Every set proxy-related variable, in a stable order, as (name, value)."""
    names = [n for n in env if n.lower().endswith("_proxy")]
    order = {"http_proxy": 0, "https_proxy": 1, "all_proxy": 2, "no_proxy": 3}
    names.sort(key=lambda n: (order.get(n.lower(), 9), n.lower(), n))
    return [(n, env[n]) for n in names]
