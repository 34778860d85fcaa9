"""What the env checks share: one environment's settings and its (cached) network trace."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping
from urllib.parse import urlsplit

from llmfix.doctor import env as envmod
from llmfix.doctor import proxyenv
from llmfix.doctor.netprobe import Trace, trace_endpoint


class TraceCache:
    """One network trace per (base URL, proxy, key, TLS settings), shared across sources."""

    def __init__(self) -> None:
        self._traces: dict[tuple, Trace] = {}

    def get(self, base_url: str, proxy: str | None, key: str | None, tls: envmod.TLSSettings) -> Trace:
        k = (base_url.strip(), proxy, key, tls.verify, tls.cafile)
        if k not in self._traces:
            self._traces[k] = trace_endpoint(base_url, proxy, key, tls.verify, tls.cafile)
        return self._traces[k]


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
        return "needs an http:// or https:// scheme" if not parts.scheme else f"has scheme {parts.scheme!r}; LiteLLM needs http or https"
    if not parts.hostname:
        return "has no host"
    return None


@dataclass
class EnvView:
    """One environment (the process's, or a launcher's overlay) as the helpers will see it."""

    env: dict[str, str]
    source: str
    offline: bool
    model_override: str | None
    cache: TraceCache
    endpoint: envmod.Endpoint = field(init=False)
    models: envmod.Models = field(init=False)
    probe_model: str = field(init=False)
    choice: proxyenv.ProxyChoice = field(init=False)
    other_choice: proxyenv.ProxyChoice = field(init=False)
    tls: envmod.TLSSettings = field(init=False)
    base_problem: str | None = field(init=False)
    _trace: Trace | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        self.models = envmod.rubric_models(self.env)
        self.probe_model = self.model_override or self.models.generation
        self.endpoint = envmod.endpoint_for_model(self.env, self.probe_model)
        self.base_problem = url_problem(self.endpoint.base_url)
        rule = proxyenv.async_rule(self.env)
        url = self.endpoint.base_url.strip()
        self.choice = proxyenv.select(url, self.env, rule)
        self.other_choice = proxyenv.select(url, self.env, "httpx" if rule == "aiohttp" else "aiohttp")
        self.tls = envmod.tls_settings(self.env)

    @classmethod
    def build(cls, env: Mapping[str, str], source: str, offline: bool, model: str | None, cache: TraceCache) -> EnvView:
        return cls(dict(env), source, offline, model, cache)

    @property
    def trace(self) -> Trace | None:
        """The network trace to ``{base}/models``; None offline or when the URL is unusable."""
        if self.offline or self.base_problem is not None:
            return None
        if self._trace is None:
            self._trace = self.cache.get(self.endpoint.base_url, self.choice.proxy, self.endpoint.key, self.tls)
        return self._trace
