"""tinyproxy runner, and how httpx and litellm go through a proxy to the TLS mock.

Measured with litellm 1.110.2 (aiohttp installed, so async calls use litellm's aiohttp
transport; sync calls use httpx):
- ``https_proxy``/``no_proxy`` and ``SSL_CERT_FILE`` are read from the environment when
  litellm builds its SDK client, not per call. Clients are cached in
  ``litellm.in_memory_llm_clients_cache`` (key: api_key hash, api_base, timeout,
  max_retries and, for async, the running event loop), so changing the env inside one
  event loop does nothing until ``in_memory_llm_clients_cache.flush_cache()`` (or a new
  loop / a different timeout or num_retries). tests/conftest.py flushes it after each test.
- A dead proxy fails in milliseconds as ``litellm.InternalServerError`` ("Connection error.");
  async chain: openai.APIConnectionError -> httpx.ProxyError -> aiohttp
  ClientProxyConnectionError -> ConnectionRefusedError; sync chain: openai.APIConnectionError
  -> httpx.ConnectError -> httpcore.ConnectError -> ConnectionRefusedError.
"""

from __future__ import annotations

import asyncio
import re
import socket
import ssl
import time
from pathlib import Path
from typing import Any

import httpx
import litellm
import pytest
from support import exception_chain

from llmfix import proxy as proxy_module
from llmfix.mockllm import MockLLM
from llmfix.proxy import ProxyUnavailable, Tinyproxy, closed_port, tinyproxy_path

MESSAGES = [{"role": "user", "content": "ping"}]


async def _acompletion(server: MockLLM, key: str, **kwargs: Any) -> Any:
    """One ``litellm.acompletion`` against ``server`` (no retries unless given)."""
    options: dict[str, Any] = {"num_retries": 0, "timeout": 5, **kwargs}
    return await litellm.acompletion(
        model=f"openai/{key}", api_base=server.base_url, api_key="sk-test", messages=MESSAGES, **options
    )


def acomplete(server: MockLLM, key: str, **kwargs: Any) -> Any:
    """``_acompletion`` in a fresh event loop; returns the response or the raised exception."""

    async def main() -> Any:
        try:
            return await _acompletion(server, key, **kwargs)
        except Exception as exc:  # noqa: BLE001 - the tests inspect it
            return exc
        finally:
            await litellm.close_litellm_async_clients()

    return asyncio.run(main())


def connects_logged(proxy: Tinyproxy, port: int) -> int:
    """How many CONNECT requests to 127.0.0.1:port tinyproxy has logged."""
    return len(re.findall(rf"CONNECT 127\.0\.0\.1:{port} HTTP/1\.1", proxy.log_text()))


# ----------------------------------------------------------------- the runner


def test_tinyproxy_starts_and_stops() -> None:
    with Tinyproxy() as proxy:
        assert proxy.url == f"http://127.0.0.1:{proxy.port}"
        socket.create_connection(("127.0.0.1", proxy.port), timeout=1).close()
        assert "Accepting connections" in proxy.log_text()

    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", proxy.port), timeout=1)
    # the log survives stop() (tinyproxy may be killed before it logs its own shutdown)
    assert "Accepting connections" in proxy.log_text()


def test_missing_binary_raises_install_hint(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(proxy_module, "_FALLBACK_DIRS", ())
    assert tinyproxy_path() is None
    with pytest.raises(ProxyUnavailable, match="apt-get install tinyproxy"):
        Tinyproxy().start()


def test_tinyproxy_path_finds_the_binary() -> None:
    path = tinyproxy_path()
    assert path is not None and Path(path).name == "tinyproxy"


def test_closed_port_refuses_connections() -> None:
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", closed_port()), timeout=1)


# ----------------------------------------------------------------- through the proxy


def test_httpx_connect_through_tinyproxy_reaches_tls_mock(
    tinyproxy: Tinyproxy, tls_mock_llm: MockLLM, ca_bundle: Path
) -> None:
    context = ssl.create_default_context(cafile=str(ca_bundle))
    with httpx.Client(proxy=tinyproxy.url, verify=context, timeout=5) as client:
        response = client.post(f"{tls_mock_llm.base_url}/chat/completions", json={"model": "m", "messages": MESSAGES})
    assert response.json()["choices"][0]["message"]["content"] == "pong"
    assert tls_mock_llm.attempts("m") == 1
    assert connects_logged(tinyproxy, tls_mock_llm.port) == 1


def test_litellm_uses_https_proxy_and_ssl_cert_file_from_env(
    monkeypatch: pytest.MonkeyPatch, tinyproxy: Tinyproxy, tls_mock_llm: MockLLM, ca_bundle: Path
) -> None:
    monkeypatch.setenv("https_proxy", tinyproxy.url)
    monkeypatch.setenv("SSL_CERT_FILE", str(ca_bundle))
    response = acomplete(tls_mock_llm, "m")
    assert response.choices[0].message.content == "pong"
    assert tls_mock_llm.attempts("m") == 1
    assert connects_logged(tinyproxy, tls_mock_llm.port) == 1


def test_litellm_sync_completion_uses_https_proxy(
    monkeypatch: pytest.MonkeyPatch, tinyproxy: Tinyproxy, tls_mock_llm: MockLLM, ca_bundle: Path
) -> None:
    monkeypatch.setenv("https_proxy", tinyproxy.url)
    monkeypatch.setenv("SSL_CERT_FILE", str(ca_bundle))
    response = litellm.completion(
        model="openai/m", api_base=tls_mock_llm.base_url, api_key="sk-test", num_retries=0, timeout=5, messages=MESSAGES
    )
    assert response.choices[0].message.content == "pong"
    assert connects_logged(tinyproxy, tls_mock_llm.port) == 1


def test_litellm_without_ssl_cert_file_rejects_the_test_cert(tls_mock_llm: MockLLM) -> None:
    exc = acomplete(tls_mock_llm, "m")
    assert isinstance(exc, litellm.InternalServerError)
    assert any(isinstance(e, ssl.SSLCertVerificationError) for e in exception_chain(exc))
    assert tls_mock_llm.attempts("m") == 0


def test_litellm_dead_proxy_fails_fast_with_proxy_error_in_chain(
    monkeypatch: pytest.MonkeyPatch, tls_mock_llm: MockLLM, ca_bundle: Path, dead_proxy_url: str
) -> None:
    monkeypatch.setenv("https_proxy", dead_proxy_url)
    monkeypatch.setenv("SSL_CERT_FILE", str(ca_bundle))
    start = time.monotonic()
    exc = acomplete(tls_mock_llm, "m", timeout=60)
    assert time.monotonic() - start < 30  # refused at once: it did not wait for the 60 s timeout
    assert isinstance(exc, litellm.InternalServerError)
    assert not isinstance(exc, litellm.APIConnectionError)
    assert "Connection error." in str(exc)
    chain = exception_chain(exc)
    assert any(isinstance(e, (httpx.ProxyError, httpx.ConnectError)) for e in chain)
    assert any(isinstance(e, httpx.ProxyError) for e in chain)  # async path: aiohttp transport
    assert any(isinstance(e, ConnectionRefusedError) for e in chain)
    assert tls_mock_llm.attempts("m") == 0


def test_litellm_sync_dead_proxy_is_a_connect_error(
    monkeypatch: pytest.MonkeyPatch, tls_mock_llm: MockLLM, ca_bundle: Path, dead_proxy_url: str
) -> None:
    monkeypatch.setenv("https_proxy", dead_proxy_url)
    monkeypatch.setenv("SSL_CERT_FILE", str(ca_bundle))
    with pytest.raises(litellm.InternalServerError) as info:
        litellm.completion(
            model="openai/m", api_base=tls_mock_llm.base_url, api_key="sk-test", num_retries=0, timeout=5,
            messages=MESSAGES,
        )
    chain = exception_chain(info.value)
    assert any(isinstance(e, httpx.ConnectError) for e in chain)
    assert any(isinstance(e, ConnectionRefusedError) for e in chain)


def test_no_proxy_bypasses_a_dead_proxy(
    monkeypatch: pytest.MonkeyPatch, tls_mock_llm: MockLLM, ca_bundle: Path, dead_proxy_url: str
) -> None:
    monkeypatch.setenv("https_proxy", dead_proxy_url)
    monkeypatch.setenv("no_proxy", "127.0.0.1")
    monkeypatch.setenv("SSL_CERT_FILE", str(ca_bundle))
    response = acomplete(tls_mock_llm, "m")
    assert response.choices[0].message.content == "pong"


def test_litellm_reads_proxy_env_only_when_it_builds_a_client(
    monkeypatch: pytest.MonkeyPatch, tinyproxy: Tinyproxy, tls_mock_llm: MockLLM, ca_bundle: Path, dead_proxy_url: str
) -> None:
    """The client-cache gotcha: within one loop, a later env change is ignored until a flush."""
    monkeypatch.setenv("SSL_CERT_FILE", str(ca_bundle))
    monkeypatch.setenv("https_proxy", tinyproxy.url)

    async def attempt(**kwargs: Any) -> Any:
        try:
            return await _acompletion(tls_mock_llm, "m", **kwargs)
        except litellm.InternalServerError as exc:
            return exc

    async def main() -> list[Any]:
        try:
            built = await attempt()  # builds and caches a client: goes via tinyproxy
            monkeypatch.setenv("https_proxy", dead_proxy_url)
            cached = await attempt()  # same cache key in the same loop: still tinyproxy
            other_key = await attempt(timeout=4)  # timeout is part of the key: new client, dead proxy
            await litellm.close_litellm_async_clients()
            litellm.in_memory_llm_clients_cache.flush_cache()
            flushed = await attempt()  # rebuilt after the flush: dead proxy
            return [built, cached, other_key, flushed]
        finally:
            await litellm.close_litellm_async_clients()

    built, cached, other_key, flushed = asyncio.run(main())
    assert built.choices[0].message.content == "pong"
    assert cached.choices[0].message.content == "pong"
    assert isinstance(other_key, litellm.InternalServerError)
    assert isinstance(flushed, litellm.InternalServerError)
    assert tls_mock_llm.attempts("m") == 2
    assert connects_logged(tinyproxy, tls_mock_llm.port) == 1  # one pooled tunnel served both
