"""A fault-injecting, OpenAI-compatible HTTP/1.1 endpoint on 127.0.0.1.

``MockLLM`` speaks just enough of the OpenAI REST API for the openai SDK and LiteLLM:
``POST /v1/chat/completions`` and ``GET /v1/models``. Each chat request is mapped to a
*key* (the ``x-mock-key`` header, else the JSON body's ``model``) and answered with the
next *behaviour* planned for that key::

    with MockLLM() as server:
        server.plan("model-a", ["drop", "drop", "ok"])
        litellm.completion(model="openai/model-a", api_base=server.base_url, ...)
        assert server.attempts("model-a") == 3

Behaviours:

``ok``          200 with a chat completion whose content is ``set_content()`` (default "pong")
``drop``        read the request, then reset the connection (SO_LINGER 0, no response)
``500``         500 ``server_error``
``429``         429 ``rate_limit_exceeded`` with ``Retry-After: server.retry_after``
``401``         401 ``invalid_api_key``
``404``         404 ``model_not_found``
``empty``       200, content ``""``
``null``        200, content ``null``
``nochoices``   200, ``choices: []``
``hang``        read the request and never answer (until the client leaves or the server stops)
``slow:N``      answer ``ok`` after N seconds (float)

*Scopes* keep independent clients apart on one server. ``server.scope("a")`` is reached at
``http://127.0.0.1:PORT/scope/a/v1`` and has its own plans, contents, attempt counts and
default, plus ``each``: a plan every new key in the scope starts with. So a caller that
cannot choose its model name (a literal ``"gpt-4.1"``) still gets counts of its own::

    a, b = server.scope("a"), server.scope("b")
    a.each, a.default = ["drop"], "ok"          # every key in a: reset once, then answer
    litellm.completion(model="gpt-4.1", api_base=a.base_url, ...)
    assert a.attempts("gpt-4.1") == 2 and b.total_attempts == 0

The server's own methods (``plan``, ``attempts``, ...) act on the unscoped ``/v1`` routes.

The server runs in a daemon thread with its own asyncio event loop, so synchronous code,
other event loops and tests can all use it. Only the standard library is used.
"""

from __future__ import annotations

import asyncio
import json
import socket
import ssl
import struct
import threading
import time
import uuid
from collections import Counter, deque
from dataclasses import dataclass, field
from email.utils import formatdate
from typing import Any, Iterable

__all__ = ["BEHAVIOURS", "MockLLM", "MockScope", "parse_behaviour"]

#: Behaviour names without an argument (``slow:N`` is the only parametrised one).
BEHAVIOURS = ("ok", "drop", "500", "429", "401", "404", "empty", "null", "nochoices", "hang")

DEFAULT_CONTENT = "pong"
_HOST = "127.0.0.1"
_MAX_HEADER_BYTES = 64 * 1024
_MAX_BODY_BYTES = 16 * 1024 * 1024
_BACKLOG = 1024
_STOP_TIMEOUT = 2.0
_SCOPE_PREFIX = "/scope/"

_REASONS = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    404: "Not Found",
    405: "Method Not Allowed",
    413: "Payload Too Large",
    429: "Too Many Requests",
    431: "Request Header Fields Too Large",
    500: "Internal Server Error",
}


def parse_behaviour(behaviour: str) -> tuple[str, float]:
    """Validate a behaviour string; return ``(name, delay_seconds)``.

    ``"slow:1.5"`` gives ``("slow", 1.5)``; every other behaviour has delay 0.
    Raises ``ValueError`` for anything unknown.
    """
    if behaviour in BEHAVIOURS:
        return behaviour, 0.0
    name, sep, arg = behaviour.partition(":")
    if name == "slow" and sep:
        try:
            delay = float(arg)
        except ValueError:
            pass
        else:
            if delay >= 0:
                return "slow", delay
    raise ValueError(f"unknown mock behaviour {behaviour!r}; expected one of {BEHAVIOURS} or 'slow:N'")


# --------------------------------------------------------------------------- HTTP bits


@dataclass
class _Request:
    """One parsed HTTP/1.1 request."""

    method: str
    path: str
    version: str
    headers: dict[str, str]
    raw_body: bytes

    @property
    def keep_alive(self) -> bool:
        """Whether the client wants the connection kept open after the response."""
        conn = self.headers.get("connection", "").lower()
        if self.version == "HTTP/1.0":
            return "keep-alive" in conn
        return "close" not in conn

    def json_body(self) -> Any:
        """The body parsed as JSON, or None when empty or not JSON."""
        if not self.raw_body:
            return None
        try:
            return json.loads(self.raw_body)
        except (ValueError, UnicodeDecodeError):
            return None


@dataclass
class _Response:
    """An HTTP response to serialise."""

    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)

    def encode(self, keep_alive: bool) -> bytes:
        """Serialise as HTTP/1.1 bytes with JSON body and the usual headers."""
        payload = json.dumps(self.body).encode()
        head = {
            "date": formatdate(usegmt=True),
            "server": "llmfix-mockllm",
            "content-type": "application/json",
            "content-length": str(len(payload)),
            "x-request-id": f"req_{uuid.uuid4().hex}",
            "connection": "keep-alive" if keep_alive else "close",
            **self.headers,
        }
        lines = [f"HTTP/1.1 {self.status} {_REASONS.get(self.status, 'Unknown')}"]
        lines += [f"{name}: {value}" for name, value in head.items()]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + payload


class _BadRequest(Exception):
    """The bytes on the wire are not a request we can parse."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


async def _read_request(reader: asyncio.StreamReader) -> _Request | None:
    """Read one request; None on a clean EOF between requests."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as exc:
        if exc.partial.strip():
            raise _BadRequest(400, "incomplete request head") from exc
        return None
    except asyncio.LimitOverrunError as exc:
        raise _BadRequest(431, "request head too large") from exc
    method, path, version, headers = _parse_head(head)
    body = await _read_body(reader, headers)
    return _Request(method, path, version, headers, body)


def _parse_head(head: bytes) -> tuple[str, str, str, dict[str, str]]:
    """Split a request head into method, path (no query), version and lower-cased headers."""
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
        raise _BadRequest(400, f"bad request line {lines[0]!r}")
    method, target, version = parts
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if not line:
            continue
        name, sep, value = line.partition(":")
        if not sep:
            raise _BadRequest(400, f"bad header line {line!r}")
        name = name.strip().lower()
        value = value.strip()
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    return method.upper(), target.split("?", 1)[0], version, headers


async def _read_body(reader: asyncio.StreamReader, headers: dict[str, str]) -> bytes:
    """Read a content-length or chunked body."""
    if "chunked" in headers.get("transfer-encoding", "").lower():
        return await _read_chunked(reader)
    try:
        length = int(headers.get("content-length", "0"))
    except ValueError as exc:
        raise _BadRequest(400, "bad content-length") from exc
    if length < 0 or length > _MAX_BODY_BYTES:
        raise _BadRequest(413, "request body too large")
    return await reader.readexactly(length) if length else b""


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    """Decode a chunked transfer-encoded body (trailers are discarded)."""
    chunks: list[bytes] = []
    total = 0
    while True:
        size_line = await reader.readuntil(b"\r\n")
        try:
            size = int(size_line.split(b";", 1)[0].strip(), 16)
        except ValueError as exc:
            raise _BadRequest(400, "bad chunk size") from exc
        if size == 0:
            while (await reader.readuntil(b"\r\n")) != b"\r\n":
                pass
            return b"".join(chunks)
        total += size
        if total > _MAX_BODY_BYTES:
            raise _BadRequest(413, "request body too large")
        chunks.append(await reader.readexactly(size))
        await reader.readexactly(2)


def _error(status: int, message: str, type_: str, code: str | None, **headers: str) -> _Response:
    """An OpenAI-shaped error response."""
    body = {"error": {"message": message, "type": type_, "param": None, "code": code}}
    return _Response(status, body, dict(headers))


def _usage(messages: Any, content: str | None) -> dict[str, int]:
    """Rough whitespace token counts, enough to look like real usage."""
    prompt = 0
    if isinstance(messages, list):
        for message in messages:
            text = message.get("content") if isinstance(message, dict) else None
            prompt += len(text.split()) + 4 if isinstance(text, str) else 4
    completion = len(content.split()) if content else 0
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


def _completion(model: str, content: str | None, messages: Any, with_choice: bool = True) -> _Response:
    """A 200 chat completion in the OpenAI shape."""
    choices = []
    if with_choice:
        message = {"role": "assistant", "content": content, "refusal": None}
        choices.append({"index": 0, "message": message, "logprobs": None, "finish_reason": "stop"})
    body = {
        "id": f"chatcmpl-{uuid.uuid4().hex[:24]}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": choices,
        "usage": _usage(messages, content if with_choice else None),
        "system_fingerprint": None,
    }
    return _Response(200, body)


# --------------------------------------------------------------------------- the server


class MockLLM:
    """A fault-injecting OpenAI-compatible endpoint in a background thread.

    Use as a context manager (or call ``start()``/``stop()``). All public methods are
    thread-safe and may be called from any thread or event loop.

    Check order for a chat request: bearer key (``require_key``, 401), JSON body
    with a model (400), ``stream: true`` (400), model list (``models``, 404), then
    the planned behaviour. A request rejected by a check is counted in
    ``attempts()`` and ``requests`` but does not use up a planned behaviour.

    ``refuse()`` also resets open connections, so pooled keep-alive connections
    cannot bypass an outage. A ``hang`` connection is held until the client closes
    it or the server stops.

    ``GET /v1/models`` does not use plans or count as an attempt, but follows
    ``default`` for the transport-level behaviours (drop, hang, slow:N) and for
    500/429/401, so a blackholed or failing server looks the same on both routes.
    """

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        self.tls = tls
        self.port = 0
        self.require_key: str | None = None
        self.models: list[str] | None = None
        self.retry_after: float = 1
        self._lock = threading.Lock()
        self._root = _ScopeState()
        self._scopes: dict[str, _ScopeState] = {}
        self._requests: list[dict[str, Any]] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: asyncio.base_events.Server | None = None
        self._stopping: asyncio.Event | None = None
        self._handlers: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()

    # ----------------------------------------------------------------- lifecycle

    def __enter__(self) -> MockLLM:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def origin(self) -> str:
        """Scheme, host and port, e.g. ``http://127.0.0.1:PORT``."""
        scheme = "https" if self.tls is not None else "http"
        return f"{scheme}://{_HOST}:{self.port}"

    @property
    def base_url(self) -> str:
        """The OpenAI base URL, e.g. ``http://127.0.0.1:PORT/v1``."""
        return f"{self.origin}/v1"

    def scope(self, name: str) -> MockScope:
        """The scope ``name`` (created on first use): its own plans and counts at its own base URL."""
        if not name or "/" in name:
            raise ValueError(f"bad scope name {name!r}: non-empty, no '/'")
        with self._lock:
            self._scopes.setdefault(name, _ScopeState())
        return MockScope(self, name)

    def start(self) -> None:
        """Start the event-loop thread and listen on a free loopback port."""
        if self._thread is not None:
            raise RuntimeError("MockLLM already started")
        ready = threading.Event()
        failure: list[BaseException] = []
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._run, args=(ready, failure), name=f"mockllm-{id(self):x}", daemon=True
        )
        self._thread.start()
        ready.wait()
        if failure:
            self._thread.join()
            self._thread = None
            raise failure[0]

    def stop(self) -> None:
        """Stop serving: abort every connection (hung ones too) and join the thread."""
        thread, loop, stopping = self._thread, self._loop, self._stopping
        if thread is None or loop is None:
            return
        if stopping is not None and not loop.is_closed():
            try:
                loop.call_soon_threadsafe(stopping.set)
            except RuntimeError:  # loop already closed
                pass
        thread.join(_STOP_TIMEOUT)
        self._thread = None

    def _run(self, ready: threading.Event, failure: list[BaseException]) -> None:
        """Thread body: run the server until ``stop()``, then close the loop."""
        loop = self._loop
        assert loop is not None
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(self._serve(ready))
        except BaseException as exc:  # noqa: BLE001 - reported to start()
            failure.append(exc)
            ready.set()
        finally:
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    async def _serve(self, ready: threading.Event) -> None:
        """Listen, signal readiness, wait for the stop request, clean up."""
        self._stopping = asyncio.Event()
        await self._listen()
        ready.set()
        await self._stopping.wait()
        self._close_listener()
        await self._abort_connections()

    async def _listen(self) -> None:
        """Open the listening socket (on ``self.port``; 0 picks a free port)."""
        self._server = await asyncio.start_server(
            self._handle_connection,
            _HOST,
            self.port,
            ssl=self.tls,
            backlog=_BACKLOG,
            reuse_address=True,
            ssl_handshake_timeout=10 if self.tls is not None else None,
        )
        self.port = self._server.sockets[0].getsockname()[1]

    def _close_listener(self) -> None:
        """Close the listening socket; new connections are refused from now on."""
        if self._server is not None:
            self._server.close()
            self._server = None

    async def _abort_connections(self) -> None:
        """Reset every open connection and wait for their handlers to finish."""
        for writer in list(self._writers):
            writer.transport.abort()
        handlers = list(self._handlers)
        for task in handlers:
            task.cancel()
        if handlers:
            await asyncio.wait(handlers, timeout=_STOP_TIMEOUT / 4)
        for _ in range(3):  # let connection_lost callbacks close the sockets
            await asyncio.sleep(0)

    def _call(self, coro_fn: Any) -> None:
        """Run a coroutine function on the server loop and wait for it."""
        if self._loop is None or self._thread is None:
            raise RuntimeError("MockLLM is not running")
        asyncio.run_coroutine_threadsafe(coro_fn(), self._loop).result(_STOP_TIMEOUT)

    def refuse(self) -> None:
        """Simulate an outage: close the listener and reset open connections.

        Clients get "connection refused" until ``accept()``. Kept-alive pooled
        connections are reset too, so they cannot bypass the outage.
        """

        async def _refuse() -> None:
            self._close_listener()
            await self._abort_connections()

        self._call(_refuse)

    def accept(self) -> None:
        """End an outage: listen again on the same port."""

        async def _accept() -> None:
            if self._server is None:
                await self._listen()

        self._call(_accept)

    # ----------------------------------------------------------------- configuration

    @property
    def default(self) -> str:
        """Behaviour once a key's plan is used up, and for unplanned keys."""
        return self._root.default

    @default.setter
    def default(self, behaviour: str) -> None:
        parse_behaviour(behaviour)
        self._root.default = behaviour

    def plan(self, key: str, behaviours: Iterable[str]) -> None:
        """Set the behaviours for the next attempts with ``key`` (replaces any old plan)."""
        self._plan(self._root, key, behaviours)

    def set_content(self, key: str, content: str | None) -> None:
        """Set the assistant content of ``ok`` answers for ``key``."""
        with self._lock:
            self._root.contents[key] = content

    def attempts(self, key: str) -> int:
        """Number of chat requests seen with ``key``."""
        with self._lock:
            return self._root.attempts[key]

    @property
    def total_attempts(self) -> int:
        """Number of chat requests seen, all keys together (unscoped routes only)."""
        with self._lock:
            return sum(self._root.attempts.values())

    @property
    def requests(self) -> list[dict[str, Any]]:
        """A snapshot of every request seen (chat, models and others, all scopes), oldest first."""
        with self._lock:
            return list(self._requests)

    def reset(self) -> None:
        """Forget plans, contents, counters, requests and scopes; default back to ``ok``."""
        with self._lock:
            self._root = _ScopeState()
            self._scopes.clear()
            self._requests.clear()

    def _plan(self, state: _ScopeState, key: str, behaviours: Iterable[str]) -> None:
        steps = list(behaviours)
        for step in steps:
            parse_behaviour(step)
        with self._lock:
            state.plans[key] = deque(steps)

    def _state(self, scope: str | None) -> _ScopeState:
        """The state of ``scope`` (None: the unscoped routes); call with the lock held."""
        if scope is None:
            return self._root
        return self._scopes.setdefault(scope, _ScopeState())

    # ----------------------------------------------------------------- request handling

    async def _handle_connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Serve requests on one connection until it closes (HTTP/1.1 keep-alive)."""
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        self._writers.add(writer)
        try:
            await self._serve_connection(reader, writer)
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, asyncio.CancelledError):
            pass  # client went away or sent garbage, or the server is stopping
        finally:
            self._handlers.discard(task)
            self._writers.discard(writer)
            writer.close()

    async def _serve_connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """The keep-alive loop: read, decide, act, answer."""
        while True:
            try:
                request = await _read_request(reader)
            except _BadRequest as exc:
                await _send(writer, _error(exc.status, str(exc), "invalid_request_error", None), False)
                return
            if request is None:
                return
            decision = self._decide(request)
            if not await _act(decision.behaviour, reader, writer):
                return
            response = decision.response or self._ok_response(decision)
            await _send(writer, response, request.keep_alive)
            if not request.keep_alive:
                return

    def _decide(self, request: _Request) -> _Decision:
        """Route a request, record it, and pick its behaviour and fixed response."""
        body = request.json_body()
        if request.path.endswith("/chat/completions"):
            decision = self._decide_chat(request, body)
        elif request.path in ("/v1/models", "/models") or (
            request.path.startswith(_SCOPE_PREFIX) and request.path.endswith("/v1/models")
        ):
            decision = self._decide_models(request)
        else:
            message = f"Unknown request URL: {request.method} {request.path}"
            response = _error(404, message, "invalid_request_error", "unknown_url")
            decision = _Decision(request.headers.get("x-mock-key"), body, "unknown_path", response)
        self._record(request, decision)
        return decision

    def _decide_chat(self, request: _Request, body: Any) -> _Decision:
        """Behaviour for a chat completion request (counts an attempt, consumes the plan)."""
        model = body.get("model") if isinstance(body, dict) else None
        key = request.headers.get("x-mock-key") or (model if isinstance(model, str) else "")
        scope = _scope_of(request.path)
        rejection = self._reject_chat(request, body, model)
        with self._lock:
            state = self._state(scope)
            first = key not in state.attempts
            state.attempts[key] += 1
            if rejection is not None:
                return _Decision(key, body, f"rejected:{rejection.status}", rejection, scope=scope)
            if first and key not in state.plans and state.each:
                state.plans[key] = deque(state.each)
            plan = state.plans.get(key)
            behaviour = plan.popleft() if plan else state.default
            content = state.contents.get(key, state.content)
        return _Decision(key, body, behaviour, self._error_for(behaviour, model), content, scope)

    def _reject_chat(self, request: _Request, body: Any, model: Any) -> _Response | None:
        """Method, auth, shape, stream and model checks done before any planned behaviour."""
        if request.method != "POST":
            return _error(405, "Method not allowed; use POST.", "invalid_request_error", None)
        if not self._authorised(request):
            return _unauthorised()
        if not isinstance(body, dict) or not isinstance(model, str):
            return _error(400, "Request body must be JSON with a 'model'.", "invalid_request_error", None)
        if body.get("stream"):
            return _error(400, "The mock does not support stream=true.", "invalid_request_error", "stream_unsupported")
        if self.models is not None and model not in self.models:
            return _model_not_found(model)
        return None

    def _decide_models(self, request: _Request) -> _Decision:
        """Behaviour for GET /models: the list, or ``default`` when that is a failure."""
        key = request.headers.get("x-mock-key")
        scope = _scope_of(request.path)
        if not self._authorised(request):
            return _Decision(key, None, "rejected:401", _unauthorised(), scope=scope)
        with self._lock:
            behaviour = self._state(scope).default
        name, _ = parse_behaviour(behaviour)
        error = self._error_for(behaviour, None) if name in ("500", "429", "401") else None
        if error is None and name not in ("drop", "hang", "slow"):
            behaviour = "ok"
        models = self.models or []
        listing = [{"id": m, "object": "model", "created": 0, "owned_by": "llmfix-mock"} for m in models]
        return _Decision(key, None, behaviour, error or _Response(200, {"object": "list", "data": listing}), scope=scope)

    def _record(self, request: _Request, decision: _Decision) -> None:
        """Append a request to ``requests``."""
        entry = {
            "key": decision.key,
            "scope": decision.scope,
            "method": request.method,
            "path": request.path,
            "headers": dict(request.headers),
            "body": decision.body,
            "behaviour": decision.behaviour,
            "t": time.monotonic(),
        }
        with self._lock:
            self._requests.append(entry)

    def _authorised(self, request: _Request) -> bool:
        """True when no key is required or the bearer token matches it."""
        if self.require_key is None:
            return True
        return request.headers.get("authorization", "") == f"Bearer {self.require_key}"

    def _error_for(self, behaviour: str, model: Any) -> _Response | None:
        """The response of an error behaviour; None for the 200 ones."""
        if behaviour == "500":
            return _error(500, "The server had an error while processing your request.", "server_error", "server_error")
        if behaviour == "429":
            return _error(429, "Rate limit reached.", "requests", "rate_limit_exceeded", **self._retry_after_headers())
        if behaviour == "401":
            return _unauthorised()
        if behaviour == "404":
            return _model_not_found(model)
        return None

    def _retry_after_headers(self) -> dict[str, str]:
        """``retry-after`` (seconds) and ``retry-after-ms``, as the real API sends them."""
        seconds = float(self.retry_after)
        text = str(int(seconds)) if seconds.is_integer() else repr(seconds)
        return {"retry-after": text, "retry-after-ms": str(int(seconds * 1000))}

    @staticmethod
    def _ok_response(decision: _Decision) -> _Response:
        """The 200 answer for ``ok``, ``slow:N``, ``empty``, ``null`` and ``nochoices``."""
        body = decision.body if isinstance(decision.body, dict) else {}
        content = {"empty": "", "null": None}.get(decision.behaviour, decision.content)
        with_choice = decision.behaviour != "nochoices"
        return _completion(str(body.get("model", "mock")), content, body.get("messages"), with_choice)


@dataclass
class _Decision:
    """What to do with one request."""

    key: str | None
    body: Any
    behaviour: str
    response: _Response | None  # None: build the 200 completion after acting
    content: str | None = DEFAULT_CONTENT
    scope: str | None = None


@dataclass
class _ScopeState:
    """Plans, contents and counts of one scope (or of the unscoped routes)."""

    default: str = "ok"
    each: list[str] = field(default_factory=list)  # the plan each new key starts with
    content: str | None = DEFAULT_CONTENT  # for keys without their own content
    plans: dict[str, deque[str]] = field(default_factory=dict)
    contents: dict[str, str | None] = field(default_factory=dict)
    attempts: Counter[str] = field(default_factory=Counter)


class MockScope:
    """One scope of a :class:`MockLLM`: its own plans, contents and counts, at ``base_url``.

    ``each`` is the plan every key starts with the first time the scope sees it (unless
    the key has a plan of its own), ``default`` the behaviour after a plan, and
    ``content`` the answer of ``ok`` for keys without ``set_content``.
    """

    def __init__(self, server: MockLLM, name: str) -> None:
        self.server = server
        self.name = name

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT/scope/NAME/v1``."""
        return f"{self.server.origin}{_SCOPE_PREFIX}{self.name}/v1"

    def _get(self) -> _ScopeState:
        return self.server._state(self.name)

    @property
    def default(self) -> str:
        with self.server._lock:
            return self._get().default

    @default.setter
    def default(self, behaviour: str) -> None:
        parse_behaviour(behaviour)
        with self.server._lock:
            self._get().default = behaviour

    @property
    def each(self) -> list[str]:
        with self.server._lock:
            return list(self._get().each)

    @each.setter
    def each(self, behaviours: Iterable[str]) -> None:
        steps = list(behaviours)
        for step in steps:
            parse_behaviour(step)
        with self.server._lock:
            self._get().each = steps

    @property
    def content(self) -> str | None:
        with self.server._lock:
            return self._get().content

    @content.setter
    def content(self, content: str | None) -> None:
        with self.server._lock:
            self._get().content = content

    def plan(self, key: str, behaviours: Iterable[str]) -> None:
        """Set the behaviours for the next attempts with ``key`` in this scope."""
        with self.server._lock:
            state = self._get()
        self.server._plan(state, key, behaviours)

    def set_content(self, key: str, content: str | None) -> None:
        with self.server._lock:
            self._get().contents[key] = content

    def attempts(self, key: str) -> int:
        """Chat requests this scope saw with ``key``."""
        with self.server._lock:
            return self._get().attempts[key]

    @property
    def total_attempts(self) -> int:
        with self.server._lock:
            return sum(self._get().attempts.values())

    @property
    def keys(self) -> list[str]:
        """The keys (models) this scope saw, in the order it first saw them."""
        with self.server._lock:
            return list(self._get().attempts)

    @property
    def requests(self) -> list[dict[str, Any]]:
        """The requests of this scope, oldest first."""
        return [r for r in self.server.requests if r["scope"] == self.name]


def _scope_of(path: str) -> str | None:
    """``/scope/NAME/...`` -> NAME; None for the unscoped routes."""
    if not path.startswith(_SCOPE_PREFIX):
        return None
    name = path[len(_SCOPE_PREFIX):].split("/", 1)[0]
    return name or None


def _unauthorised() -> _Response:
    return _error(401, "Incorrect API key provided.", "invalid_request_error", "invalid_api_key")


def _model_not_found(model: Any) -> _Response:
    message = f"The model `{model}` does not exist or you do not have access to it."
    return _error(404, message, "invalid_request_error", "model_not_found")


# --------------------------------------------------------------------------- socket helpers


async def _send(writer: asyncio.StreamWriter, response: _Response, keep_alive: bool) -> None:
    """Write a response and flush it."""
    writer.write(response.encode(keep_alive))
    await writer.drain()


async def _act(behaviour: str, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
    """Carry out the connection-level part of a behaviour; False means the connection is done."""
    if behaviour == "drop":
        _reset(writer)
        return False
    if behaviour == "hang":
        await _wait_for_eof(reader)
        return False
    if behaviour.startswith("slow:"):
        await asyncio.sleep(parse_behaviour(behaviour)[1])
    return True


def _reset(writer: asyncio.StreamWriter) -> None:
    """Abortive close: SO_LINGER 0 so the peer sees a TCP reset, not a FIN."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
    writer.transport.abort()


async def _wait_for_eof(reader: asyncio.StreamReader) -> None:
    """Hold a connection open until the client closes it (or we are cancelled)."""
    while await reader.read(65536):
        pass
