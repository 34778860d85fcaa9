"""A fault-injecting, OpenAI-compatible endpoint on 127.0.0.1 (``POST /v1/chat/completions``, ``GET /v1/models``)
in a daemon thread. A chat request's key (its ``x-mock-key`` header, else its ``model``) takes the next behaviour
``plan()``-ned for it, else ``default``; ``scope("a")`` (at ``/scope/a/v1``) has plans, contents, counts, ``default``,
``content`` and ``each`` (the plan every new key there starts with) of its own. Behaviours:

``ok``         200 with the content of ``set_content()`` (default "pong")
``drop``       read the request, then reset the connection (SO_LINGER 0, no response)
``500``, ``401``, ``404``   ``server_error``, ``invalid_api_key``, ``model_not_found``
``429``        ``rate_limit_exceeded`` with ``retry-after``/``retry-after-ms`` from ``server.retry_after``
``empty``      200, content ``""``;  ``null``: content ``null``;  ``nochoices``: ``choices: []``
``hang``       never answer (until the client leaves or the server stops)
``slow:N``     answer ``ok`` after N seconds
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import ssl
import struct
import threading
import time
import uuid
from collections import Counter, deque
from collections.abc import Callable, Iterable
from typing import Any

from aiohttp import web

__all__ = ["BEHAVIOURS", "MockLLM", "MockScope", "parse_behaviour"]

BEHAVIOURS = ("ok", "drop", "500", "429", "401", "404", "empty", "null", "nochoices", "hang")

DEFAULT_CONTENT = "pong"
_HOST = "127.0.0.1"
_MAX_HEADER_BYTES = 64 * 1024
_MAX_BODY_BYTES = 16 * 1024 * 1024
_STOP_TIMEOUT = 2.0
_SCOPE_PREFIX = "/scope/"


def parse_behaviour(behaviour: str) -> tuple[str, float]:
    """``(name, delay)`` of a behaviour: ``"slow:1.5"`` gives ``("slow", 1.5)``, the others delay 0; ValueError if unknown."""
    if behaviour in BEHAVIOURS:
        return behaviour, 0.0
    name, sep, arg = behaviour.partition(":")
    with contextlib.suppress(ValueError):
        if name == "slow" and sep and float(arg) >= 0:
            return "slow", float(arg)
    raise ValueError(f"unknown mock behaviour {behaviour!r}; expected one of {BEHAVIOURS} or 'slow:N'")


def _json(status: int, body: Any, **headers: str) -> web.Response:
    """A JSON response with the real API's headers (aiohttp adds date and content-length)."""
    head = {"content-type": "application/json", "server": "llmfix-mockllm", "x-request-id": f"req_{uuid.uuid4().hex}"}
    return web.Response(status=status, body=json.dumps(body).encode(), headers={**head, **headers})


def _error(status: int, message: str, code: str | None, type_: str = "invalid_request_error", **headers: str) -> web.Response:
    """An OpenAI-shaped error."""
    return _json(status, {"error": {"message": message, "type": type_, "param": None, "code": code}}, **headers)


def _completion(body: Any, behaviour: str, content: str | None) -> web.Response:
    """The 200 answer of ``ok``, ``slow:N``, ``empty``, ``null`` and ``nochoices``, with rough token counts."""
    body = body if isinstance(body, dict) else {}
    content = {"empty": "", "null": None}.get(behaviour, content)
    message = {"role": "assistant", "content": content, "refusal": None}
    choices = [] if behaviour == "nochoices" else [{"index": 0, "message": message, "logprobs": None, "finish_reason": "stop"}]
    messages = body.get("messages")
    texts = [m.get("content") if isinstance(m, dict) else None for m in messages] if isinstance(messages, list) else []
    prompt = sum(len(text.split()) + 4 if isinstance(text, str) else 4 for text in texts)
    completion = len(content.split()) if content and choices else 0
    usage = {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}
    return _json(200, {"id": f"chatcmpl-{uuid.uuid4().hex[:24]}", "object": "chat.completion", "created": int(time.time()),
                       "model": str(body.get("model", "mock")), "choices": choices, "usage": usage, "system_fingerprint": None})


def _finish(response: web.Response, keep_alive: bool) -> web.Response:
    """Keep the connection alive or close it, and say so in a ``connection`` header."""
    if not keep_alive:
        response.force_close()
    response.headers["connection"] = "keep-alive" if keep_alive else "close"
    return response


def _reset(transport: Any) -> None:
    """Abortive close: SO_LINGER 0 so the peer sees a TCP reset, not a FIN."""
    if transport is not None:
        with contextlib.suppress(OSError, AttributeError):
            transport.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        transport.abort()


def _scope_of(path: str) -> str | None:
    """``/scope/NAME/...`` -> NAME; None for the unscoped routes."""
    return (path[len(_SCOPE_PREFIX):].split("/", 1)[0] or None) if path.startswith(_SCOPE_PREFIX) else None


class MockScope:
    """Plans, contents and counts of one scope, at ``base_url`` (a :class:`MockLLM` is its own unscoped one); ``default``:
    the behaviour once a key's plan is used up, ``each``: the plan a new key starts with, ``content``: ``ok``'s answer."""

    def __init__(self, server: MockLLM, name: str | None) -> None:
        self.server, self.name = server, name
        self._clear()

    def _clear(self) -> None:
        self.default, self.each, self.content = "ok", [], DEFAULT_CONTENT
        self._plans: dict[str, deque[str]] = {}
        self._contents: dict[str, str | None] = {}
        self._attempts: Counter[str] = Counter()

    def __setattr__(self, name: str, value: Any) -> None:  # checks default and each (copied) as they are set
        if name == "default":
            parse_behaviour(value)
        super().__setattr__(name, [b for b in value if parse_behaviour(b)] if name == "each" else value)

    def plan(self, key: str, behaviours: Iterable[str]) -> None:
        """Set the behaviours of the next attempts with ``key`` (replaces any old plan)."""
        self._plans[key] = deque(b for b in behaviours if parse_behaviour(b))

    def set_content(self, key: str, content: str | None) -> None:
        self._contents[key] = content

    def attempts(self, key: str) -> int:
        return self._attempts[key]

    @property
    def total_attempts(self) -> int:
        return sum(self._attempts.values())

    @property
    def keys(self) -> list[str]:
        """The keys (models) seen, in the order first seen."""
        return list(self._attempts)

    @property
    def base_url(self) -> str:
        return f"{self.server.origin}{_SCOPE_PREFIX}{self.name}/v1"

    @property
    def requests(self) -> list[dict[str, Any]]:
        return [r for r in self.server.requests if r["scope"] == self.name]

    def _next(self, key: str) -> tuple[str, str | None]:
        """Use up the behaviour of one attempt with ``key``; with its ``ok`` content. Call with the server lock held."""
        if key not in self._attempts and key not in self._plans and self.each:
            self._plans[key] = deque(self.each)
        self._attempts[key] += 1
        plan = self._plans.get(key)
        return plan.popleft() if plan else self.default, self._contents.get(key, self.content)


class MockLLM(MockScope):
    """The endpoint, usable from any thread. Chat checks, in order: POST (405), ``require_key`` (401), a JSON body with a
    model (400), no ``stream`` (400), ``models`` (404), then the behaviour (a rejected request is counted, uses none up);
    ``/models`` uses no plan but follows ``default`` for drop, hang, slow:N, 500, 429, 401."""

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        super().__init__(self, None)
        self.tls, self.port = tls, 0
        self.retry_after: float = 1
        self.require_key: str | None = None
        self.models: list[str] | None = None
        self._lock = threading.Lock()
        self._scopes: dict[str, MockScope] = {}
        self._requests: list[dict[str, Any]] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._site: web.TCPSite | None = None

    def __enter__(self) -> MockLLM:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def origin(self) -> str:
        return f"{'https' if self.tls is not None else 'http'}://{_HOST}:{self.port}"

    @property
    def base_url(self) -> str:
        return f"{self.origin}/v1"

    def scope(self, name: str) -> MockScope:
        """The scope ``name`` (created on first use)."""
        if not name or "/" in name:
            raise ValueError(f"bad scope name {name!r}: non-empty, no '/'")
        return self._scope(name)

    def _scope(self, name: str | None) -> MockScope:
        with self._lock:
            return self if name is None else self._scopes.setdefault(name, MockScope(self, name))

    @property
    def requests(self) -> list[dict[str, Any]]:
        """Every request seen (any route, any scope), oldest first."""
        with self._lock:
            return list(self._requests)

    def reset(self) -> None:
        """Forget plans, contents, counts and requests, of every scope; defaults back to ``ok``."""
        with self._lock:
            for scope in (self, *self._scopes.values()):
                scope._clear()
            self._requests.clear()

    def start(self) -> None:
        """Start the event-loop thread and listen on a free loopback port."""
        if self._thread is not None:
            raise RuntimeError("MockLLM already started")
        self._loop = loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=loop.run_forever, name=f"mockllm-{id(self):x}", daemon=True)
        self._thread.start()
        try:
            self._call(self._listen)
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Reset every connection (hung ones too), stop listening, end the thread and close the loop."""
        thread, loop, runner = self._thread, self._loop, self._runner
        if thread is None or loop is None:
            return
        with contextlib.suppress(Exception):  # best effort: the loop stops below all the same
            self._call(self._close)
            if runner is not None:
                asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(2 * _STOP_TIMEOUT)
        self._runner = None
        loop.call_soon_threadsafe(loop.stop)
        thread.join(_STOP_TIMEOUT)
        if not thread.is_alive():
            loop.close()
        self._thread = None

    def refuse(self) -> None:
        """An outage until ``accept()``: close the listener and reset open (pooled) connections."""
        self._call(self._close)

    def accept(self) -> None:
        """End an outage: listen again on the same port."""
        self._call(self._listen)

    def _call(self, coro_fn: Callable[[], Any]) -> None:
        if self._loop is None or self._thread is None:
            raise RuntimeError("MockLLM is not running")
        asyncio.run_coroutine_threadsafe(coro_fn(), self._loop).result(2 * _STOP_TIMEOUT)

    async def _listen(self) -> None:
        """Listen on ``self.port`` (0 picks a free port), unless listening already."""
        if self._runner is None:
            app = web.Application(client_max_size=_MAX_BODY_BYTES)
            app.router.add_route("*", "/{path:.*}", self._handle)
            # handler_cancellation: a hang or slow:N handler is cancelled when its client leaves.
            self._runner = web.AppRunner(app, handler_cancellation=True, access_log=None, shutdown_timeout=0.5,
                                         max_line_size=_MAX_HEADER_BYTES, max_field_size=_MAX_HEADER_BYTES)
            await self._runner.setup()
        if self._site is None:
            site = web.TCPSite(self._runner, _HOST, self.port, ssl_context=self.tls, backlog=1024, reuse_address=True)
            await site.start()
            self._site, self.port = site, self._runner.addresses[0][1]

    async def _close(self) -> None:
        """Close the listener and reset every open connection."""
        if self._site is not None:
            await self._site.stop()
            self._site = None
        for connection in self._runner.server.connections if self._runner and self._runner.server else []:
            _reset(connection.transport)
        for _ in range(3):  # let connection_lost callbacks close the sockets and cancel the handlers
            await asyncio.sleep(0)

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        """Route and record a request, act out its behaviour, answer."""
        try:
            raw = await request.read()
        except web.HTTPRequestEntityTooLarge:
            return _finish(_error(413, "request body too large", None), False)
        try:
            body = json.loads(raw) if raw else None
        except ValueError:  # UnicodeDecodeError too
            body = None
        path, headers = request.path, request.headers
        key, scope, content = headers.get("x-mock-key"), _scope_of(path), DEFAULT_CONTENT
        if path.endswith("/chat/completions"):
            model = body.get("model") if isinstance(body, dict) else None
            key = key or (model if isinstance(model, str) else "")
            response = self._reject_chat(request, body, model)
            lane = self._scope(scope)
            with self._lock:
                if response is None:
                    behaviour, content = lane._next(key)
                else:
                    behaviour = f"rejected:{response.status}"
                    lane._attempts[key] += 1
            response = response or self._error_for(behaviour, model)
        elif path in ("/v1/models", "/models") or (path.startswith(_SCOPE_PREFIX) and path.endswith("/v1/models")):
            body, (behaviour, response) = None, self._models(request, scope)
        else:
            scope, behaviour = None, "unknown_path"
            response = _error(404, f"Unknown request URL: {request.method} {path}", "unknown_url")
        record = {"key": key, "scope": scope, "method": request.method, "path": path, "body": body, "behaviour": behaviour,
                  "headers": {name.lower(): ", ".join(headers.getall(name)) for name in headers}, "t": time.monotonic()}
        with self._lock:
            self._requests.append(record)
        if behaviour == "drop":
            _reset(request.transport)
            return web.Response()  # never sent: aiohttp finds the connection gone
        if behaviour == "hang":
            await asyncio.get_running_loop().create_future()  # cancelled when the client leaves or we stop
        if behaviour.startswith("slow:"):
            await asyncio.sleep(parse_behaviour(behaviour)[1])
        return _finish(response or _completion(body, behaviour, content), request.keep_alive)

    def _reject_chat(self, request: web.Request, body: Any, model: Any) -> web.Response | None:
        if request.method != "POST":
            return _error(405, "Method not allowed; use POST.", None)
        if not self._authorised(request):
            return self._error_for("401", model)
        if not isinstance(body, dict) or not isinstance(model, str):
            return _error(400, "Request body must be JSON with a 'model'.", None)
        if body.get("stream"):
            return _error(400, "The mock does not support stream=true.", "stream_unsupported")
        return self._error_for("404", model) if self.models is not None and model not in self.models else None

    def _models(self, request: web.Request, scope: str | None) -> tuple[str, web.Response]:
        """The model list, or the failure ``default`` names; behaviour ``ok`` unless transport-level."""
        if not self._authorised(request):
            return "rejected:401", _error(401, "Incorrect API key provided.", "invalid_api_key")
        behaviour = self._scope(scope).default
        name = parse_behaviour(behaviour)[0]
        error = self._error_for(behaviour, None) if name in ("500", "429", "401") else None
        listing = [{"id": m, "object": "model", "created": 0, "owned_by": "llmfix-mock"} for m in self.models or []]
        behaviour = behaviour if error or name in ("drop", "hang", "slow") else "ok"
        return behaviour, error or _json(200, {"object": "list", "data": listing})

    def _authorised(self, request: web.Request) -> bool:
        return self.require_key is None or request.headers.get("authorization", "") == f"Bearer {self.require_key}"

    def _error_for(self, behaviour: str, model: Any) -> web.Response | None:
        """The response of an error behaviour; None for the 200 ones."""
        if behaviour == "500":
            return _error(500, "The server had an error while processing your request.", "server_error", "server_error")
        if behaviour == "429":  # retry-after in seconds and retry-after-ms, as the real API sends them
            seconds = float(self.retry_after)
            after = {"retry-after": str(int(seconds)) if seconds.is_integer() else repr(seconds),
                     "retry-after-ms": str(int(seconds * 1000))}
            return _error(429, "Rate limit reached.", "rate_limit_exceeded", "requests", **after)
        if behaviour == "401":
            return _error(401, "Incorrect API key provided.", "invalid_api_key")
        if behaviour == "404":
            return _error(404, f"The model `{model}` does not exist or you do not have access to it.", "model_not_found")
        return None
