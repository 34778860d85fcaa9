"""MockLLM seen through real clients (litellm, the openai SDK, httpx) on 127.0.0.1.

Besides checking the mock, these tests pin down the litellm behaviour llmfix relies on
(attempt counts, what each failure looks like to the caller, timings).
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import ssl
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import litellm
import openai
import pytest
from support import exception_chain

from llmfix.mockllm import MockLLM

MESSAGES = [{"role": "user", "content": "ping"}]


def acomplete(server: MockLLM, key: str, *, num_retries: int = 0, timeout: float = 5.0, **kwargs: Any) -> Any:
    """``litellm.acompletion`` in a fresh event loop, closing litellm's clients before it ends."""

    async def main() -> Any:
        try:
            return await litellm.acompletion(
                model=f"openai/{key}",
                api_base=server.base_url,
                api_key="sk-test",
                num_retries=num_retries,
                timeout=timeout,
                messages=MESSAGES,
                **kwargs,
            )
        finally:
            await litellm.close_litellm_async_clients()

    return asyncio.run(main())


def timed(fn: Any, *args: Any, **kwargs: Any) -> tuple[Any, float]:
    """Call ``fn``; return (result or raised exception, elapsed seconds)."""
    start = time.monotonic()
    try:
        result = fn(*args, **kwargs)
    except Exception as exc:  # noqa: BLE001 - the tests inspect it
        result = exc
    return result, time.monotonic() - start


def post_chat(server: MockLLM, model: str = "m", **extra: Any) -> httpx.Response:
    """A raw chat request with httpx (no retries, no SDK)."""
    body = {"model": model, "messages": MESSAGES, **extra}
    return httpx.post(f"{server.base_url}/chat/completions", json=body, timeout=5)


# ----------------------------------------------------------------- wire format


def test_ok_has_openai_shape_and_headers(mock_llm: MockLLM) -> None:
    response = post_chat(mock_llm, "gpt-4.1-mini")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert int(response.headers["content-length"]) == len(response.content)
    assert response.headers["x-request-id"].startswith("req_")
    body = response.json()
    assert body["object"] == "chat.completion"
    assert body["id"] and isinstance(body["created"], int)
    assert body["model"] == "gpt-4.1-mini"
    assert body["choices"][0]["index"] == 0
    assert body["choices"][0]["message"] == {"role": "assistant", "content": "pong", "refusal": None}
    assert body["choices"][0]["finish_reason"] == "stop"
    assert set(body["usage"]) == {"prompt_tokens", "completion_tokens", "total_tokens"}


def test_errors_have_openai_shape(mock_llm: MockLLM) -> None:
    mock_llm.retry_after = 1
    mock_llm.plan("m", ["500", "429", "401", "404"])
    expected = [(500, "server_error"), (429, "rate_limit_exceeded"), (401, "invalid_api_key"), (404, "model_not_found")]
    for status, code in expected:
        response = post_chat(mock_llm)
        assert response.status_code == status
        error = response.json()["error"]
        assert set(error) == {"message", "type", "param", "code"}
        assert error["code"] == code and error["param"] is None and error["message"]
        assert response.headers["content-type"] == "application/json"
        assert response.headers["x-request-id"]
        if status == 429:
            assert response.headers["retry-after"] == "1"


def test_unknown_path_and_stream_are_rejected_with_json(mock_llm: MockLLM) -> None:
    response = httpx.get(f"{mock_llm.base_url}/nope", timeout=5)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "unknown_url"
    response = post_chat(mock_llm, stream=True)
    assert response.status_code == 400
    assert response.json()["error"]["type"] == "invalid_request_error"


def test_keep_alive_serves_several_requests_per_connection(mock_llm: MockLLM) -> None:
    body = json.dumps({"model": "m", "messages": MESSAGES}).encode()
    head = f"POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-length: {len(body)}\r\n"
    with socket.create_connection(("127.0.0.1", mock_llm.port), timeout=5) as sock:
        sock.sendall((head + "\r\n").encode() + body)
        sock.sendall((head + "connection: close\r\n\r\n").encode() + body)
        data = b""
        while chunk := sock.recv(65536):  # the server closes after the second answer
            data += chunk
    assert data.count(b"HTTP/1.1 200 OK") == 2
    assert b"connection: keep-alive" in data and b"connection: close" in data
    assert mock_llm.attempts("m") == 2


def test_malformed_request_gets_400_and_a_close_not_a_hang(mock_llm: MockLLM) -> None:
    with socket.create_connection(("127.0.0.1", mock_llm.port), timeout=5) as sock:
        sock.sendall(b"GARBAGE\r\n\r\n")
        data = b""
        while chunk := sock.recv(65536):  # the server closes after its answer
            data += chunk
    assert data.split(b"\r\n", 1)[0].endswith(b" 400 Bad Request")
    assert mock_llm.requests == [] and mock_llm.total_attempts == 0


def test_requests_log_and_x_mock_key(mock_llm: MockLLM) -> None:
    acomplete(mock_llm, "gpt-4.1-mini", extra_headers={"X-Mock-Key": "judge"})
    assert mock_llm.attempts("judge") == 1
    assert mock_llm.attempts("gpt-4.1-mini") == 0
    (entry,) = mock_llm.requests
    assert entry["key"] == "judge"
    assert entry["method"] == "POST" and entry["path"] == "/v1/chat/completions"
    assert entry["headers"]["authorization"] == "Bearer sk-test"
    assert entry["headers"]["x-mock-key"] == "judge"
    assert entry["body"]["model"] == "gpt-4.1-mini"
    assert entry["body"]["messages"] == MESSAGES
    assert entry["behaviour"] == "ok"
    assert entry["t"] <= time.monotonic()


def test_invalid_behaviours_are_rejected(mock_llm: MockLLM) -> None:
    with pytest.raises(ValueError):
        mock_llm.plan("m", ["ok", "explode"])
    with pytest.raises(ValueError):
        mock_llm.default = "slow:x"
    mock_llm.default = "slow:0.01"
    assert mock_llm.default == "slow:0.01"


def test_reset_forgets_everything(mock_llm: MockLLM) -> None:
    mock_llm.plan("m", ["500"])
    mock_llm.set_content("m", "custom")
    mock_llm.default = "empty"
    post_chat(mock_llm)
    mock_llm.reset()
    assert mock_llm.total_attempts == 0 and mock_llm.requests == [] and mock_llm.default == "ok"
    assert post_chat(mock_llm).json()["choices"][0]["message"]["content"] == "pong"


# ----------------------------------------------------------------- content shapes through litellm


def test_litellm_ok_and_custom_content(mock_llm: MockLLM) -> None:
    mock_llm.set_content("rubric", '{"x": 1}')
    response = acomplete(mock_llm, "rubric")
    assert response.choices[0].message.content == '{"x": 1}'
    assert acomplete(mock_llm, "other").choices[0].message.content == "pong"


@pytest.mark.parametrize(("behaviour", "expected"), [("empty", ""), ("null", None)])
def test_litellm_empty_and_null_content(mock_llm: MockLLM, behaviour: str, expected: str | None) -> None:
    mock_llm.plan("m", [behaviour])
    assert acomplete(mock_llm, "m").choices[0].message.content == expected


def test_litellm_nochoices_makes_choices_0_raise_indexerror(mock_llm: MockLLM) -> None:
    mock_llm.plan("m", ["nochoices"])
    response = acomplete(mock_llm, "m")
    assert response.choices == []
    with pytest.raises(IndexError):
        response.choices[0]


# ----------------------------------------------------------------- failures and retries through litellm


def test_persistent_500_with_2_retries_makes_3_attempts(mock_llm: MockLLM) -> None:
    mock_llm.default = "500"
    exc, elapsed = timed(acomplete, mock_llm, "m", num_retries=2)
    assert isinstance(exc, litellm.InternalServerError)
    assert mock_llm.attempts("m") == 3
    assert "LiteLLM Retried: 2 times" in str(exc)
    assert 0.8 < elapsed  # SDK backoff ~0.5 s then ~1 s, minus up to 25% jitter (a floor: load only adds time)


def test_401_is_not_retried(mock_llm: MockLLM) -> None:
    mock_llm.default = "401"
    exc, _ = timed(acomplete, mock_llm, "m", num_retries=2)
    assert isinstance(exc, litellm.AuthenticationError)
    assert mock_llm.attempts("m") == 1


def test_404_model_not_found_is_not_retried(mock_llm: MockLLM) -> None:
    mock_llm.default = "404"
    exc, _ = timed(acomplete, mock_llm, "m", num_retries=1)
    assert isinstance(exc, litellm.NotFoundError)
    assert mock_llm.attempts("m") == 1


def test_drop_is_a_connection_error_not_litellm_apiconnectionerror(mock_llm: MockLLM) -> None:
    mock_llm.default = "drop"
    exc, elapsed = timed(acomplete, mock_llm, "m", num_retries=0)
    assert isinstance(exc, litellm.InternalServerError)
    assert not isinstance(exc, litellm.APIConnectionError)
    assert "Connection error." in str(exc)
    chain = exception_chain(exc)
    assert any(isinstance(e, openai.APIConnectionError) for e in chain)
    assert any(isinstance(e, ConnectionResetError) for e in chain)  # SO_LINGER 0: a reset
    assert mock_llm.attempts("m") == 1


def test_drop_twice_then_ok_with_2_retries_succeeds_on_attempt_3(mock_llm: MockLLM) -> None:
    mock_llm.plan("m", ["drop", "drop", "ok"])
    response = acomplete(mock_llm, "m", num_retries=2)
    assert response.choices[0].message.content == "pong"
    assert mock_llm.attempts("m") == 3
    assert [r["behaviour"] for r in mock_llm.requests] == ["drop", "drop", "ok"]


def test_429_retry_after_is_obeyed(mock_llm: MockLLM) -> None:
    mock_llm.retry_after = 1
    mock_llm.plan("m", ["429", "ok"])
    response = acomplete(mock_llm, "m", num_retries=1)
    assert response.choices[0].message.content == "pong"
    assert mock_llm.attempts("m") == 2
    first, second = (r["t"] for r in mock_llm.requests)
    assert second - first >= 0.95  # the SDK's own first backoff would be <= 0.5 s


def test_hang_times_out_after_about_timeout(mock_llm: MockLLM) -> None:
    mock_llm.default = "hang"
    exc, elapsed = timed(acomplete, mock_llm, "m", num_retries=0, timeout=0.5)
    assert isinstance(exc, litellm.Timeout)
    assert mock_llm.attempts("m") == 1
    assert 0.45 < elapsed  # waited for the timeout, then gave up (it returned, so it did not hang)


def test_hang_timeout_is_per_attempt(mock_llm: MockLLM) -> None:
    mock_llm.default = "hang"
    exc, elapsed = timed(acomplete, mock_llm, "m", num_retries=1, timeout=0.4)
    assert isinstance(exc, litellm.Timeout)
    assert mock_llm.attempts("m") == 2
    assert 0.8 + 0.37 < elapsed  # two timeouts plus one backoff of 0.375..0.5 s


def test_slow_answers_late_and_timeout_is_a_read_timeout(mock_llm: MockLLM) -> None:
    mock_llm.plan("m", ["slow:0.3", "slow:1"])
    response, elapsed = timed(acomplete, mock_llm, "m", timeout=2)
    assert response.choices[0].message.content == "pong"
    assert 0.3 <= elapsed  # the answer came late and the call still succeeded
    exc, elapsed = timed(acomplete, mock_llm, "m", timeout=0.3)
    assert isinstance(exc, litellm.Timeout)  # slow:1 would have answered after 1 s


def test_plan_exhaustion_falls_back_to_default(mock_llm: MockLLM) -> None:
    mock_llm.plan("m", ["500"])
    response = acomplete(mock_llm, "m", num_retries=1)
    assert response.choices[0].message.content == "pong"
    assert mock_llm.attempts("m") == 2
    mock_llm.default = "empty"
    assert acomplete(mock_llm, "m").choices[0].message.content == ""
    assert acomplete(mock_llm, "unplanned").choices[0].message.content == ""
    assert mock_llm.total_attempts == 4


def test_sync_completion_with_retries_hides_error_behind_tenacity(mock_llm: MockLLM) -> None:
    """Without tenacity installed, litellm's own retry layer fails and masks the real error."""
    mock_llm.default = "500"
    with pytest.raises(Exception, match="tenacity") as info:
        litellm.completion(
            model="openai/m", api_base=mock_llm.base_url, api_key="sk-test", num_retries=1, timeout=5, messages=MESSAGES
        )
    assert any(isinstance(e, litellm.InternalServerError) for e in exception_chain(info.value))
    assert mock_llm.attempts("m") == 2  # the SDK's retries ran; litellm's did not


# ----------------------------------------------------------------- outages


def test_refuse_then_accept(mock_llm: MockLLM) -> None:
    port = mock_llm.port
    assert acomplete(mock_llm, "m").choices[0].message.content == "pong"
    mock_llm.refuse()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=1)
    exc, elapsed = timed(acomplete, mock_llm, "m", num_retries=0)
    assert isinstance(exc, litellm.InternalServerError)
    assert any(isinstance(e, ConnectionRefusedError) for e in exception_chain(exc))
    mock_llm.accept()
    assert mock_llm.port == port
    assert acomplete(mock_llm, "m").choices[0].message.content == "pong"
    assert mock_llm.attempts("m") == 2


def test_refuse_resets_kept_alive_connections(mock_llm: MockLLM) -> None:
    with httpx.Client(timeout=2) as client:
        url = f"{mock_llm.base_url}/chat/completions"
        assert client.post(url, json={"model": "m"}).status_code == 200
        mock_llm.refuse()
        with pytest.raises(httpx.TransportError):
            client.post(url, json={"model": "m"})
        mock_llm.accept()
        assert client.post(url, json={"model": "m"}).status_code == 200


def test_outage_ending_during_retries_is_survived(mock_llm: MockLLM) -> None:
    mock_llm.refuse()
    timer = threading.Timer(0.2, mock_llm.accept)  # the first backoff is 0.375..0.5 s
    timer.start()
    try:
        response = acomplete(mock_llm, "m", num_retries=2)
    finally:
        timer.join()
    assert response.choices[0].message.content == "pong"
    assert mock_llm.attempts("m") == 1


# ----------------------------------------------------------------- auth and models


def test_require_key_gives_401_on_models_and_chat(mock_llm: MockLLM) -> None:
    mock_llm.require_key = "sk-good"
    with openai.OpenAI(base_url=mock_llm.base_url, api_key="sk-test", max_retries=0, timeout=5) as bad:
        with pytest.raises(openai.AuthenticationError):
            bad.models.list()
    exc, _ = timed(acomplete, mock_llm, "m", num_retries=1)
    assert isinstance(exc, litellm.AuthenticationError)
    assert mock_llm.attempts("m") == 1
    assert mock_llm.requests[-1]["behaviour"] == "rejected:401"
    with openai.OpenAI(base_url=mock_llm.base_url, api_key="sk-good", max_retries=0, timeout=5) as good:
        assert good.chat.completions.create(model="m", messages=MESSAGES).choices[0].message.content == "pong"
        assert good.models.list().data == []


def test_models_list_and_unknown_model(mock_llm: MockLLM) -> None:
    mock_llm.models = ["gpt-4.1-mini", "gpt-4.1"]
    with openai.OpenAI(base_url=mock_llm.base_url, api_key="sk-test", max_retries=0, timeout=5) as client:
        assert [m.id for m in client.models.list()] == ["gpt-4.1-mini", "gpt-4.1"]
    assert httpx.get(mock_llm.base_url.removesuffix("/v1") + "/models", timeout=5).status_code == 200
    mock_llm.plan("gpt-5", ["500"])
    exc, _ = timed(acomplete, mock_llm, "gpt-5", num_retries=1)
    assert isinstance(exc, litellm.NotFoundError)
    assert "model_not_found" in post_chat(mock_llm, "gpt-5").text
    assert acomplete(mock_llm, "gpt-4.1-mini").choices[0].message.content == "pong"
    assert mock_llm.total_attempts == 3  # /models requests are not chat attempts


def test_models_endpoint_follows_a_failing_default(mock_llm: MockLLM) -> None:
    mock_llm.default = "500"
    assert httpx.get(f"{mock_llm.base_url}/models", timeout=5).status_code == 500
    mock_llm.default = "hang"
    with pytest.raises(httpx.ReadTimeout):
        httpx.get(f"{mock_llm.base_url}/models", timeout=0.2)


def test_openai_sdk_retries_drop_and_500(mock_llm: MockLLM) -> None:
    mock_llm.plan("m", ["drop", "500", "ok"])
    with openai.OpenAI(base_url=mock_llm.base_url, api_key="sk-test", max_retries=2, timeout=5) as client:
        assert client.chat.completions.create(model="m", messages=MESSAGES).choices[0].message.content == "pong"
    assert mock_llm.attempts("m") == 3


# ----------------------------------------------------------------- TLS, concurrency, shutdown


def test_tls_mock_serves_https(tls_mock_llm: MockLLM, ca_bundle: Path) -> None:
    assert tls_mock_llm.base_url.startswith("https://127.0.0.1:")
    context = ssl.create_default_context(cafile=str(ca_bundle))
    response = httpx.post(f"{tls_mock_llm.base_url}/chat/completions", json={"model": "m"}, verify=context, timeout=5)
    assert response.json()["choices"][0]["message"]["content"] == "pong"
    with pytest.raises(httpx.ConnectError):  # not trusted without the bundle
        httpx.get(f"{tls_mock_llm.base_url}/models", timeout=5)


def _raw_chat(key: str, keep_alive: bool = False) -> bytes:
    """A minimal HTTP/1.1 chat request."""
    body = json.dumps({"model": key}).encode()
    connection = "" if keep_alive else "connection: close\r\n"
    return b"POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\n%scontent-length: %d\r\n\r\n%s" % (
        connection.encode(),
        len(body),
        body,
    )


def test_hundreds_of_concurrent_connections(mock_llm: MockLLM) -> None:
    # Raw asyncio clients: httpx's own pool needs ~7 s for 300 parallel connections.
    mock_llm.default = "slow:0.3"
    count = 300

    async def one(i: int) -> bytes:
        reader, writer = await asyncio.open_connection("127.0.0.1", mock_llm.port)
        writer.write(_raw_chat(f"k{i % 7}"))
        answer = await reader.read()
        writer.close()
        return answer.split(b"\r\n", 1)[0]

    async def main() -> list[bytes]:
        return await asyncio.gather(*(one(i) for i in range(count)))

    status_lines, elapsed = timed(asyncio.run, main())
    assert status_lines == [b"HTTP/1.1 200 OK"] * count
    assert mock_llm.total_attempts == count
    assert elapsed < 45.0  # one by one would take 90 s: the requests really ran side by side


def _peer_closed(sock: socket.socket) -> bool:
    """True when the other end has closed (FIN or reset)."""
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True


def _open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def test_stop_is_quick_with_hung_clients_and_leaves_nothing_behind() -> None:
    fds = _open_fds()
    server = MockLLM()
    server.start()
    server.default = "hang"
    request = _raw_chat("h", keep_alive=True)
    clients = [socket.create_connection(("127.0.0.1", server.port), timeout=5) for _ in range(200)]
    for client in clients:
        client.sendall(request)
    deadline = time.monotonic() + 5
    while server.attempts("h") < len(clients) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert server.attempts("h") == len(clients)
    start = time.monotonic()
    server.stop()
    assert time.monotonic() - start < 10  # stop does not wait for the hung handlers (they would wait forever)
    assert all(_peer_closed(client) for client in clients)
    for client in clients:
        client.close()
    assert not [t for t in threading.enumerate() if t.name.startswith("mockllm-")]
    assert _open_fds() == fds
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", server.port), timeout=1)


# ----------------------------------------------------------------- scopes


def test_scopes_keep_plans_and_counts_apart_for_the_same_model(mock_llm: MockLLM) -> None:
    """Two clients that both send the literal model "gpt-4.1" are counted apart by their base URL."""
    first, second = mock_llm.scope("first"), mock_llm.scope("second")
    first.each, first.content = ["drop"], "from first"
    second.default = "500"
    assert first.base_url == f"{mock_llm.origin}/scope/first/v1"

    answer = litellm.completion(model="gpt-4.1", api_base=first.base_url, api_key="sk-test", messages=MESSAGES, num_retries=2)
    failure, _ = timed(litellm.completion, model="gpt-4.1", api_base=second.base_url, api_key="sk-test", messages=MESSAGES, num_retries=0)

    assert answer.choices[0].message.content == "from first"
    assert first.attempts("gpt-4.1") == 2  # the reset from `each`, then `default` ok
    assert isinstance(failure, litellm.InternalServerError) and second.attempts("gpt-4.1") == 1
    assert first.keys == second.keys == ["gpt-4.1"]
    assert mock_llm.total_attempts == 0 and mock_llm.attempts("gpt-4.1") == 0  # the unscoped routes saw nothing
    assert [r["scope"] for r in mock_llm.requests] == ["first", "first", "second"]
    assert len(first.requests) == 2 and all(r["path"] == "/scope/first/v1/chat/completions" for r in first.requests)


def test_scope_each_is_per_key_and_a_key_plan_wins(mock_llm: MockLLM) -> None:
    scope = mock_llm.scope("s")
    scope.each = ["429", "500"]
    scope.plan("planned", ["ok"])
    statuses = {model: [post_scoped(scope, model).status_code for _ in range(3)] for model in ("a", "b", "planned")}
    assert statuses == {"a": [429, 500, 200], "b": [429, 500, 200], "planned": [200, 200, 200]}
    assert scope.total_attempts == 9 and scope.attempts("a") == 3


def test_scope_models_route_follows_the_scope_default(mock_llm: MockLLM) -> None:
    scope = mock_llm.scope("down")
    scope.default = "500"
    assert httpx.get(f"{scope.base_url}/models", timeout=5).status_code == 500
    assert httpx.get(f"{mock_llm.base_url}/models", timeout=5).status_code == 200


def test_scope_names_are_checked_and_reset_forgets_scopes(mock_llm: MockLLM) -> None:
    for bad in ("", "a/b"):
        with pytest.raises(ValueError):
            mock_llm.scope(bad)
    scope = mock_llm.scope("s")
    post_scoped(scope, "m")
    mock_llm.reset()
    assert scope.total_attempts == 0 and mock_llm.requests == []


def post_scoped(scope: Any, model: str) -> httpx.Response:
    return httpx.post(f"{scope.base_url}/chat/completions", json={"model": model, "messages": MESSAGES}, timeout=5)
