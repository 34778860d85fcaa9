"""root_cause: the innermost error of a chain that says why, as ``Type: message``, redacted.

The chains come from real litellm calls (sync: httpx; async: litellm's aiohttp transport) against
MockLLM, a stopped tinyproxy, a closed port and a TLS endpoint whose CA the client does not know,
all on 127.0.0.1. A DNS failure cannot happen offline: that chain is built the way litellm builds it.
"""

from __future__ import annotations

import asyncio
import json
import socket

import httpx
import openai
import pytest
from runtime_support import PASSWORD, TEST_KEY, run

from llmfix.codemods.runtime.litellm_utils import root_cause
from llmfix.proxy import closed_port

MESSAGES = [{"role": "user", "content": "Reply with OK."}]


@pytest.fixture(autouse=True)
def _litellm(litellm_module):
    return litellm_module


def failure(api_base: str, is_async: bool, **kwargs) -> BaseException:
    """The exception of one real litellm call to ``api_base``."""
    import litellm

    arguments = dict(
        model="openai/m", messages=MESSAGES, api_base=api_base, api_key=TEST_KEY, num_retries=0, timeout=2
    )
    arguments.update(kwargs)
    with pytest.raises(Exception) as raised:
        if is_async:
            run(litellm.acompletion(**arguments))
        else:
            litellm.completion(**arguments)
    return raised.value


def chain_types(error: BaseException) -> list[str]:
    names = []
    while error is not None and len(names) < 20:
        names.append(type(error).__name__)
        error = error.__cause__ or error.__context__
    return names


both = pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])


@both
def test_refused_port(is_async):
    port = closed_port()
    error = failure(f"http://127.0.0.1:{port}/v1", is_async)
    assert "Connection error" in str(error)  # all litellm says
    cause = root_cause(error)
    assert cause.startswith("ConnectionRefusedError: [Errno 111]"), cause
    if is_async:
        assert f"('127.0.0.1', {port})" in cause


@both
def test_dead_proxy(llm_env, tinyproxy, mock_llm, is_async):
    proxy = f"http://alice:{PASSWORD}@127.0.0.1:{tinyproxy.port}"
    tinyproxy.stop()  # the proxy was there and is gone
    llm_env.setenv("HTTP_PROXY", proxy)
    error = failure(mock_llm.base_url, is_async)
    if is_async:  # only the chain tells a dead proxy from a refused endpoint
        assert "ProxyError" in chain_types(error), chain_types(error)
    cause = root_cause(error)
    assert cause.startswith("ConnectionRefusedError: [Errno 111]"), cause
    assert PASSWORD not in cause
    if is_async:
        assert f"('127.0.0.1', {tinyproxy.port})" in cause  # the proxy's port, not the endpoint's
    assert mock_llm.total_attempts == 0


@both
def test_live_proxy_is_transparent(llm_env, tinyproxy, mock_llm, is_async):
    """The control for the dead proxy: through a live tinyproxy the same call is answered."""
    import litellm

    llm_env.setenv("HTTP_PROXY", tinyproxy.url)
    arguments = dict(model="openai/m", messages=MESSAGES, api_base=mock_llm.base_url, api_key=TEST_KEY, num_retries=0)
    response = run(litellm.acompletion(**arguments)) if is_async else litellm.completion(**arguments)
    assert response.choices[0].message.content == "pong"
    assert "127.0.0.1" in tinyproxy.log_text()


@both
def test_reset(mock_llm, is_async):
    mock_llm.default = "drop"
    cause = root_cause(failure(mock_llm.base_url, is_async))
    assert cause == "ConnectionResetError: [Errno 104] Connection reset by peer"


@both
def test_unknown_certificate_authority(tls_mock_llm, is_async):
    cause = root_cause(failure(tls_mock_llm.base_url, is_async))
    assert cause.startswith("SSLCertVerificationError: [SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed")
    assert tls_mock_llm.total_attempts == 0


@both
def test_read_timeout(mock_llm, is_async):
    mock_llm.default = "hang"
    cause = root_cause(failure(mock_llm.base_url, is_async, timeout=0.3))
    assert cause in ("TimeoutError: timed out", "SocketTimeoutError: Timeout on reading data from socket"), cause


@both
@pytest.mark.parametrize(
    ("behaviour", "expected"),
    [
        ("500", "InternalServerError: Error code: 500 - The server had an error while processing your request."),
        ("401", "AuthenticationError: Error code: 401 - Incorrect API key provided."),
        ("404", "NotFoundError: Error code: 404 - The model `m` does not exist or you do not have access to it."),
    ],
)
def test_http_status(mock_llm, is_async, behaviour, expected):
    mock_llm.default = behaviour
    assert root_cause(failure(mock_llm.base_url, is_async)) == expected


def test_the_tenacity_wrapper_does_not_hide_the_cause():
    """Sync completion with retries and no tenacity: a plain Exception hides the real error in __context__."""
    error = failure(f"http://127.0.0.1:{closed_port()}/v1", False, num_retries=1)
    assert "tenacity" in str(error)
    assert root_cause(error).startswith("ConnectionRefusedError: [Errno 111]")


@both
def test_all_fallbacks_failed_tells_the_last_error(mock_llm, is_async):
    mock_llm.plan("f", ["500"])
    backup = {"model": "openai/f", "api_base": mock_llm.base_url, "api_key": "sk-fallback-0123456789"}
    error = failure(f"http://127.0.0.1:{closed_port()}/v1", is_async, fallbacks=[backup])
    cause = root_cause(error)
    assert "The server had an error" in cause and "sk-fallback" not in cause, cause
    assert len(cause) <= len("APIConnectionError: ") + 300


def test_dns_failure_built_as_litellm_builds_it():
    """litellm InternalServerError <- OpenAIError <- APIConnectionError <- httpx.ConnectError <- gaierror."""
    import litellm

    request = httpx.Request("POST", "https://api.invalid/v1/chat/completions")
    gai = socket.gaierror(socket.EAI_NONAME, "Name or service not known")
    links = [
        litellm.InternalServerError("litellm.InternalServerError: OpenAIException - Connection error.", "openai", "m"),
        Exception("Connection error."),
        openai.APIConnectionError(request=request),
        httpx.ConnectError("[Errno -2] Name or service not known", request=request),
        gai,
    ]
    for outer, inner in zip(links, links[1:]):
        outer.__context__ = inner
        if isinstance(outer, (openai.APIConnectionError, httpx.ConnectError)):
            outer.__cause__, outer.__suppress_context__ = inner, True
    assert root_cause(links[0]) == "gaierror: [Errno -2] Name or service not known"


# --------------------------------------------------------------------------- the rules, on built chains


def linked(*errors: BaseException, hide: bool = False) -> BaseException:
    """``errors[0]`` raised while handling ``errors[1]`` ... (``hide``: each ``from None``)."""
    for outer, inner in zip(errors, errors[1:]):
        outer.__context__, outer.__suppress_context__ = inner, hide
    return errors[0]


def test_the_message_is_redacted():
    proxy_error = OSError(f"Tunnel connection failed: 407 at http://alice:{PASSWORD}@proxy.corp:3128")
    assert root_cause(linked(RuntimeError("wrapped"), proxy_error)) == (
        "OSError: Tunnel connection failed: 407 at http://alice:***@proxy.corp:3128"
    )
    cause = root_cause(ValueError(f"bad response from https://h.example/v1?api_key={TEST_KEY}"))
    assert cause == "ValueError: bad response from https://h.example/v1?api_key=***"
    fields = root_cause(ValueError(json.dumps({"api_key": TEST_KEY})))
    assert TEST_KEY not in fields


def test_sockets_first_then_typed_errors_then_plain_wrappers():
    refused = ConnectionRefusedError(111, "Connection refused")
    assert root_cause(linked(Exception("tenacity import failed"), ValueError("v"), refused)).startswith(
        "ConnectionRefusedError"
    )
    assert root_cause(linked(Exception("outer"), KeyError("k"), RuntimeError("inner"))) == "KeyError: 'k'"
    assert root_cause(linked(Exception("outer"), RuntimeError("no running event loop"))) == (
        "RuntimeError: no running event loop"
    )


def test_hidden_context_is_skipped_unless_it_is_a_socket_error():
    assert root_cause(linked(ValueError("shown"), KeyError("hidden"), hide=True)) == "ValueError: shown"
    assert root_cause(linked(ValueError("shown"), ConnectionResetError(104, "reset"), hide=True)) == (
        "ConnectionResetError: [Errno 104] reset"
    )


def test_empty_messages_long_messages_and_cycles():
    assert root_cause(TimeoutError()) == "TimeoutError"
    assert root_cause(linked(TimeoutError(), asyncio.CancelledError())) == "TimeoutError"
    assert root_cause(linked(ValueError("said"), TimeoutError())) == "ValueError: said"
    assert root_cause(ValueError("line one\nline two")) == "ValueError: line one"
    assert root_cause(ValueError("  \n padded \n")) == "ValueError: padded"
    assert root_cause(ValueError("x" * 1000)) == "ValueError: " + "x" * 300
    loop = ValueError("loop")
    loop.__context__ = linked(KeyError("k"), loop)
    assert root_cause(loop) == "KeyError: 'k'"  # the cycle ends at the first error seen twice
