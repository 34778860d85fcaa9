"""What an exception chain says: its root cause, and whether retrying can help.

The chains are built the way litellm 1.110.2 with the openai SDK and its aiohttp
transport builds them (measured against MockLLM, tinyproxy and a TLS endpoint on
127.0.0.1); tests/runtime/test_precheck.py drives the real ones.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import socket
import ssl

import httpx
import openai
import pytest

from llmfix.codemods.runtime.errors import (
    _litellm_cause,
    _litellm_exception_chain,
    _litellm_retry_wait,
)

REQUEST = httpx.Request("POST", "http://127.0.0.1:9/v1/chat/completions")


def chained(*errors: BaseException) -> BaseException:
    """``errors[0]`` raised from ``errors[1]``, raised from ``errors[2]`` ..."""
    for outer, inner in zip(errors, errors[1:]):
        outer.__cause__ = inner
    return errors[0]


def litellm_error(name: str, status: int | None = None, response: httpx.Response | None = None):
    """The exception litellm maps an SDK error to (APIError when it has no class of its own)."""
    import litellm

    message = f"litellm.{name}: Connection error." if status is None else f"litellm.{name}: Error code: {status}"
    if not hasattr(litellm, name):
        return litellm.APIError(status_code=status, message=message, llm_provider="openai", model="m")
    cls = getattr(litellm, name)
    if "response" in inspect.signature(cls).parameters and response is not None:
        return cls(message=message, llm_provider="openai", model="m", response=response)
    return cls(message=message, llm_provider="openai", model="m")


def http_error(name: str, status: int, headers: dict[str, str] | None = None) -> BaseException:
    """litellm error <- openai status error (``from None``: httpx's error stays hidden)."""
    response = httpx.Response(status, headers=headers or {}, request=REQUEST)
    sdk = getattr(openai, name)(f"Error code: {status} - boom", response=response, body=None)
    sdk.__context__ = httpx.HTTPStatusError("hidden", request=REQUEST, response=response)
    sdk.__suppress_context__ = True
    return chained(litellm_error(name, status, response), sdk)


def transport(root: BaseException, middle: BaseException | None = None) -> BaseException:
    """InternalServerError 'Connection error.' <- APIConnectionError <- [middle] <- root."""
    links = [litellm_error("InternalServerError"), openai.APIConnectionError(request=REQUEST)]
    return chained(*links, *([middle] if middle is not None else []), root)


class ClientHttpProxyError(Exception):
    """aiohttp's answer-from-the-proxy error: ``status`` and ``headers``, the URL in the text."""

    def __init__(self, status: int, url: str) -> None:
        super().__init__(f"{status}, message='Proxy said no', url='{url}'")
        self.status = status
        self.headers = {}


class ConnectionTimeoutError(TimeoutError):
    """aiohttp's (an asyncio.TimeoutError, so an OSError)."""


class ServerDisconnectedError(Exception):
    """aiohttp's (not an OSError)."""


@pytest.fixture(autouse=True)
def _litellm(litellm_module):
    return litellm_module


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        # transport: only the chain tells these apart
        (lambda: transport(ConnectionRefusedError(111, "Connect call failed ('127.0.0.1', 9)")), None),
        (lambda: transport(socket.gaierror(-2, "Name or service not known")), None),
        (lambda: transport(ssl.SSLCertVerificationError(1, "certificate verify failed")), None),
        (lambda: transport(ssl.SSLError(1, "wrong version number")), None),
        (lambda: transport(ConnectionResetError(104, "Connection reset by peer")), 0.0),
        (lambda: transport(BrokenPipeError(32, "Broken pipe")), 0.0),
        (lambda: transport(TimeoutError()), 0.0),
        (lambda: transport(asyncio.TimeoutError()), 0.0),
        (lambda: transport(Exception("Server disconnected")), 0.0),  # aiohttp: not an OSError
        (lambda: chained(litellm_error("Timeout"), Exception("Timeout on reading data from socket")), 0.0),
        # a dead proxy is refused; a live proxy answers the tunnel with a status
        (lambda: transport(ConnectionRefusedError(111, "refused"), ClientHttpProxyError(502, "http://p:1")), None),
        (lambda: transport(ClientHttpProxyError(407, "http://alice:pw@p:1")), None),
        (lambda: transport(ClientHttpProxyError(403, "http://p:1")), None),
        (lambda: transport(ClientHttpProxyError(500, "http://p:1")), 0.0),
        (lambda: transport(ClientHttpProxyError(503, "http://p:1")), 0.0),
        # the endpoint's HTTP status
        (lambda: http_error("RateLimitError", 429), 0.0),
        (lambda: http_error("RateLimitError", 429, {"retry-after": "2"}), 2.0),
        (lambda: http_error("RateLimitError", 429, {"retry-after-ms": "1500", "retry-after": "9"}), 1.5),
        (lambda: http_error("RateLimitError", 429, {"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}), 0.0),
        (lambda: http_error("InternalServerError", 500), 0.0),
        (lambda: http_error("InternalServerError", 503, {"Retry-After": "3"}), 3.0),
        (lambda: http_error("ConflictError", 409), 0.0),
        (lambda: http_error("AuthenticationError", 401), None),
        (lambda: http_error("PermissionDeniedError", 403), None),
        (lambda: http_error("NotFoundError", 404), None),
        (lambda: http_error("BadRequestError", 400), None),
        # no status anywhere: the chain alone decides (asyncio.wait_for, the sync tenacity error)
        (lambda: asyncio.TimeoutError(), 0.0),
        (lambda: chained(Exception("tenacity import failed"), ConnectionResetError(104, "reset")), 0.0),
        # unrecognised: don't retry
        (lambda: ValueError("LLM Provider NOT provided"), None),
        (lambda: chained(Exception("tenacity import failed"), ConnectionRefusedError(111, "refused")), None),
    ],
)
def test_retry_wait(make, expected):
    assert _litellm_retry_wait(make()) == expected


def test_chain_follows_cause_then_context_and_stops():
    inner = ConnectionRefusedError(111, "refused")
    middle = RuntimeError("middle")
    middle.__context__ = inner
    outer = chained(Exception("outer"), middle)
    assert _litellm_exception_chain(outer) == [outer, middle, inner]
    loop = Exception("loop")
    loop.__context__ = loop
    assert _litellm_exception_chain(loop) == [loop]
    hidden = Exception("raised from None")
    hidden.__context__, hidden.__suppress_context__ = inner, True
    assert _litellm_exception_chain(hidden) == [hidden, inner]  # httpcore hides OS errors so
    answer = http_error("AuthenticationError", 401)  # openai hides httpx's HTTPStatusError
    assert [type(e).__name__ for e in _litellm_exception_chain(answer)] == ["AuthenticationError"] * 2


def test_cause_is_the_innermost_that_says_something_redacted():
    proxy = ClientHttpProxyError(500, "http://alice:Pr0xyPassw0rd@127.0.0.1:3128")
    assert _litellm_cause(transport(proxy)) == (
        "ClientHttpProxyError: 500, message='Proxy said no', url='http://alice:***@127.0.0.1:3128'"
    )
    timeout = transport(asyncio.CancelledError(), ConnectionTimeoutError("Connection timeout to host http://h/v1"))
    timeout.__cause__.__cause__.__cause__ = TimeoutError()
    assert _litellm_cause(timeout) == "ConnectionTimeoutError: Connection timeout to host http://h/v1"
    assert _litellm_cause(transport(ServerDisconnectedError("Server disconnected"))) == (
        "ServerDisconnectedError: Server disconnected"
    )
    # sync fallbacks that all failed: the real error is in the message, a RuntimeError meanwhile
    meanwhile = RuntimeError("no running event loop")
    wrapper = Exception("litellm.InternalServerError: Error code: 500. All fallback attempts failed.")
    wrapper.__context__ = meanwhile
    outer = litellm_error("APIConnectionError")
    outer.__context__ = wrapper
    assert _litellm_cause(outer).startswith("APIConnectionError: litellm.APIConnectionError")
    assert _litellm_cause(RuntimeError("overloaded")) == "RuntimeError: overloaded"
    with pytest.raises(ValueError) as parsing:
        json.loads("not json")
    assert _litellm_cause(parsing.value) == "JSONDecodeError: Expecting value: line 1 column 1 (char 0)"
    assert _litellm_cause(http_error("AuthenticationError", 401)) == "AuthenticationError: Error code: 401 - boom"
    assert _litellm_cause(ValueError("line one\nline two")) == "ValueError: line one"
    assert _litellm_cause(TimeoutError()) == "TimeoutError"
    assert len(_litellm_cause(ValueError("x" * 1000))) == len("ValueError: ") + 200
