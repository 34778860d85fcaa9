"""Proxy selection mirrors the libraries LiteLLM uses, checked against the real code.

Ground truth: urllib.request.getproxies/proxy_bypass (what LiteLLM's aiohttp transport
calls for async requests) and httpx's get_environment_proxies + URLPattern (the sync path),
both run on os.environ set to each case."""

from __future__ import annotations

import os
import random
import urllib.request
from collections.abc import Iterator

import httpx
import pytest
from httpx._utils import URLPattern, get_environment_proxies

from llmfix.doctor import env as proxyenv  # the proxy rules live with the other settings

URLS = [
    "https://api.openai.com/v1",
    "https://openrouter.ai/api/v1",
    "http://127.0.0.1:8000/v1",
    "http://localhost:8000/v1",
    "https://llm.corp.example:8443/v1",
    "http://corp.example/v1",
    "https://xcorp.example/v1",
]
PROXY_VALUES = ["http://p1:3128", "p2:8080", "http://user:pw@p3:3128", "https://p4:443", ""]
NO_PROXY_VALUES = [
    "*", "localhost", "127.0.0.1", ".corp.example", "corp.example", "openai.com", ".openai.com",
    "foo,*", "api.openai.com:443", "127.0.0.0/8", "http://corp.example", " openrouter.ai , localhost ",
    "", "ai", "llm.corp.example:8443",
]
NAMES = ["http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY", "no_proxy", "NO_PROXY"]


def cases(n: int = 400) -> Iterator[dict[str, str]]:
    rnd = random.Random(20251126)
    yield {}
    for _ in range(n):
        env: dict[str, str] = {}
        for name in rnd.sample(NAMES, rnd.randint(1, 5)):
            env[name] = rnd.choice(NO_PROXY_VALUES if "no" in name.lower() else PROXY_VALUES)
        yield env


@pytest.fixture
def environ(monkeypatch: pytest.MonkeyPatch):
    def apply(env: dict[str, str]) -> None:
        for name in list(os.environ):
            if name.lower().endswith("_proxy") or name == "REQUEST_METHOD":
                monkeypatch.delenv(name)
        for name, value in env.items():
            monkeypatch.setenv(name, value)

    return apply


def urllib_truth(url: str) -> str | None:
    """LiteLLMAiohttpTransport._proxy_from_env, line for line."""
    u = httpx.URL(url)
    proxies = urllib.request.getproxies()
    if urllib.request.proxy_bypass(u.host):
        return None
    proxy = proxies.get(u.scheme) or proxies.get("all")
    if proxy and "://" not in proxy:
        proxy = f"http://{proxy}"
    return proxy


def httpx_truth(url: str) -> str | None:
    mounts = {URLPattern(k): v for k, v in get_environment_proxies().items()}
    for pattern in sorted(mounts):
        if pattern.matches(httpx.URL(url)):
            return mounts[pattern]
    return None


def test_aiohttp_rules_match_urllib(environ):
    checked = 0
    for env in cases():
        environ(env)
        for url in URLS:
            assert proxyenv.select_aiohttp(url, env).proxy == urllib_truth(url), (env, url)
            checked += 1
    assert checked > 2000


def test_httpx_rules_match_httpx(environ):
    for env in cases():
        environ(env)
        for url in URLS:
            assert proxyenv.select_httpx(url, env).proxy == httpx_truth(url), (env, url)


def test_lower_case_wins_and_empty_lower_case_unsets():
    env = {"HTTPS_PROXY": "http://upper:1", "https_proxy": "http://lower:2"}
    choice = proxyenv.select_aiohttp("https://api.openai.com/v1", env)
    assert (choice.proxy, choice.variable) == ("http://lower:2", "https_proxy")
    env = {"HTTPS_PROXY": "http://upper:1", "https_proxy": ""}
    assert proxyenv.select_aiohttp("https://api.openai.com/v1", env).proxy is None


def test_scheme_picks_the_variable():
    env = {"http_proxy": "http://h:1", "https_proxy": "http://s:2", "ALL_PROXY": "http://a:3"}
    assert proxyenv.select("https://x.example/v1", env).variable == "https_proxy"
    assert proxyenv.select("http://x.example/v1", env).variable == "http_proxy"
    assert proxyenv.select("http://x.example/v1", {"ALL_PROXY": "http://a:3"}).variable == "ALL_PROXY"


def test_the_rule_sets_disagree_where_documented():
    env = {"https_proxy": "http://p:1", "no_proxy": "foo,*"}
    assert proxyenv.select_aiohttp("https://api.openai.com/v1", env).proxy == "http://p:1"
    assert proxyenv.select_httpx("https://api.openai.com/v1", env).proxy is None
    env = {"https_proxy": "http://p:1", "no_proxy": ".openai.com"}
    assert proxyenv.select_aiohttp("https://openai.com/v1", env).proxy is None  # leading dot ignored
    assert proxyenv.select_httpx("https://openai.com/v1", env).proxy == "http://p:1"  # subdomains only


def test_async_rule_switches_with_litellm_settings():
    assert proxyenv.async_rule({}) == "aiohttp"
    assert proxyenv.async_rule({"DISABLE_AIOHTTP_TRANSPORT": "True"}) == "httpx"
    assert proxyenv.async_rule({"LITELLM_HTTP2": "true"}) == "httpx"
    assert proxyenv.async_rule({"DISABLE_AIOHTTP_TRANSPORT": "1"}) == "aiohttp"  # str_to_bool: only "true"
    choice = proxyenv.select_aiohttp("https://x/v1", {"https_proxy": "http://p:1", "DISABLE_AIOHTTP_TRUST_ENV": "True"})
    assert choice.proxy is None and choice.describe() == "no proxy (DISABLE_AIOHTTP_TRUST_ENV=True)"


def test_request_method_drops_upper_case_http_proxy():
    env = {"HTTP_PROXY": "http://cgi:1", "REQUEST_METHOD": "GET"}
    assert proxyenv.select_aiohttp("http://x/v1", env).proxy is None
