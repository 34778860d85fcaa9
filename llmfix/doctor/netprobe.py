"""Short, staged network probes with the standard library: DNS, TCP, HTTP CONNECT, TLS, GET.

Each stage has its own timeout and says what failed in words a user can act on. The probes follow
LiteLLM's path: through a proxy, an https endpoint is reached by a CONNECT tunnel (the proxy
resolves its name) and an http endpoint by a forward (absolute-URI) request; else directly."""

from __future__ import annotations

import base64
import contextlib
import errno
import http.client
import ipaddress
import json
import socket
import ssl
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit

DNS_TIMEOUT = 2.0
TCP_TIMEOUT = 2.5
CONNECT_TIMEOUT = 3.0
TLS_TIMEOUT = 3.0
HTTP_TIMEOUT = 4.0
MAX_BODY = 4 * 1024 * 1024


@dataclass
class Stage:
    """One step of a trace. ``kind`` names the failure: refused, timeout, dns, reset, tls-verify, ..."""

    name: str  # proxy-dns, proxy-tcp, proxy-tls, connect, dns, tcp, tls, http
    ok: bool
    seconds: float
    kind: str = ""
    message: str = ""
    status: int | None = None
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class Trace:
    url: str
    proxy: str | None
    stages: list[Stage] = field(default_factory=list)
    verify: bool = True  # LiteLLM's TLS settings, for an https:// proxy too
    cafile: str | None = None

    @property
    def failed(self) -> Stage | None:
        return next((s for s in self.stages if not s.ok), None)

    def stage(self, name: str) -> Stage | None:
        return next((s for s in self.stages if s.name == name), None)

    @property
    def proxy_failed(self) -> bool:
        """The proxy itself failed (reaching it, or the tunnel), not the endpoint behind it."""
        stage = self.failed
        return stage is not None and (stage.name.startswith("proxy-") or stage.name == "connect" and stage.kind != "upstream")

    @property
    def upstream_failed(self) -> bool:
        """The proxy answered but could not reach the endpoint (CONNECT 5xx, or a non-JSON 5xx page)."""
        stage = self.failed
        if stage is None or self.proxy is None:
            return False
        if stage.name == "connect":
            return stage.kind == "upstream"
        return stage.name == "http" and (stage.status or 0) >= 500 and not stage.data.get("json") and self.stage("connect") is None


def _strerror(exc: BaseException) -> str:
    return str(getattr(exc, "strerror", None) or str(exc) or type(exc).__name__)


def _kind(exc: BaseException) -> str:
    """What an error says about a connection: timeout, refused, reset, unreachable, or error."""
    for kind, types in (("timeout", TimeoutError), ("refused", ConnectionRefusedError),
                        ("reset", (ConnectionResetError, ConnectionAbortedError, BrokenPipeError))):
        if isinstance(exc, types):
            return kind
    return "unreachable" if isinstance(exc, OSError) and exc.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH) else "error"


def resolve(host: str, port: int, timeout: float, name: str = "dns") -> Stage:
    """getaddrinfo with a deadline (it has none of its own), in a daemon thread."""
    with contextlib.suppress(ValueError):
        return Stage(name, True, 0.0, data={"addresses": [str(ipaddress.ip_address(host))]})
    start, box = time.monotonic(), {}

    def work() -> None:
        try:
            box["infos"] = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except OSError as exc:
            box["error"] = exc

    thread = threading.Thread(target=work, name="doctor-dns", daemon=True)
    thread.start()
    thread.join(timeout)
    took = time.monotonic() - start
    if thread.is_alive():
        return Stage(name, False, took, "timeout", f"resolving {host} took longer than {timeout:g} s")
    if "error" in box:
        return Stage(name, False, took, "dns", f"{host} does not resolve ({_strerror(box['error'])})")
    return Stage(name, True, took, data={"addresses": list(dict.fromkeys(info[4][0] for info in box["infos"]))})


def tcp_connect(addresses: list[str], port: int, timeout: float, name: str = "tcp") -> tuple[Stage, socket.socket | None]:
    start, last = time.monotonic(), None
    for address in addresses:
        remaining = start + timeout - time.monotonic()
        if remaining <= 0:
            break
        try:
            return Stage(name, True, time.monotonic() - start), socket.create_connection((address, port), timeout=remaining)
        except OSError as exc:
            last = exc
    kind, where = _kind(last) if last is not None else "timeout", f"{addresses[0] if addresses else '?'}:{port}"
    message = {"refused": f"connection to {where} refused (nothing listens there)",
               "timeout": f"no answer from {where} within {timeout:g} s (blackholed or filtered)",
               "unreachable": f"{where} is unreachable ({_strerror(last) if last else ''})"}.get(
        kind, f"cannot connect to {where}: {_strerror(last) if last else kind}")
    return Stage(name, False, time.monotonic() - start, kind, message, data={"target": where}), None


def _proxy_auth(proxy: str) -> list[str]:
    """The Proxy-Authorization header line for the credentials in ``proxy``, if any."""
    parts = urlsplit(proxy)
    if parts.username is None:
        return []
    return ["Proxy-Authorization: Basic " + base64.b64encode(f"{unquote(parts.username)}:{unquote(parts.password or '')}".encode()).decode()]


def _ask(sock: socket.socket, lines: list[str], method: str, timeout: float) -> http.client.HTTPResponse:
    """Send one request head and read the response's head, as http.client does for its own tunnels."""
    sock.settimeout(timeout)
    sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", "replace"))
    response = http.client.HTTPResponse(sock, method=method)
    response.begin()
    return response


def http_connect(sock: socket.socket, host: str, port: int, proxy: str, timeout: float) -> Stage:
    """Open a CONNECT tunnel to host:port through an already connected proxy socket."""
    start, target = time.monotonic(), f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    try:
        response = _ask(sock, [f"CONNECT {target} HTTP/1.1", f"Host: {target}", "User-Agent: llmfix-doctor", *_proxy_auth(proxy)],
                        "CONNECT", timeout)
    except http.client.HTTPException as exc:
        return Stage("connect", False, time.monotonic() - start, "protocol", f"proxy answered CONNECT with {exc!s:.80}, not HTTP")
    except OSError as exc:
        kind = _kind(exc)
        message = f"no CONNECT answer within {timeout:g} s" if kind == "timeout" else f"proxy dropped the CONNECT ({_strerror(exc)})"
        return Stage("connect", False, time.monotonic() - start, kind, message)
    took, status = time.monotonic() - start, response.status
    if 200 <= status < 300:
        return Stage("connect", True, took, status=status)
    kind = {407: "proxy-auth", 403: "forbidden"}.get(status, "upstream" if status >= 500 else "rejected")
    return Stage("connect", False, took, kind, f"proxy answered CONNECT {target} with {status} {response.reason}".strip(), status)


def tls_context(verify: bool, cafile: str | None) -> ssl.SSLContext:
    """The context LiteLLM builds: SSL_VERIFY / SSL_CERT_FILE / certifi."""
    if not verify:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
        return ctx
    if cafile is None:
        import certifi  # LiteLLM's default CA bundle (comes with httpx): only for an https endpoint or proxy

        cafile = certifi.where()
    return ssl.create_default_context(cafile=cafile)


def tls_wrap(sock: socket.socket, host: str, ctx: ssl.SSLContext, timeout: float, name: str = "tls") -> tuple[Stage, ssl.SSLSocket | None]:
    start = time.monotonic()
    sock.settimeout(timeout)
    try:
        wrapped = ctx.wrap_socket(sock, server_hostname=host)
    except ssl.SSLCertVerificationError as exc:
        reason = exc.verify_message or exc.reason or str(exc)
        return Stage(name, False, time.monotonic() - start, "tls-verify", f"certificate of {host} not trusted: {reason}"), None
    except ssl.SSLError as exc:
        return Stage(name, False, time.monotonic() - start, "tls", f"TLS handshake with {host} failed: {exc.reason or exc}"), None
    except OSError as exc:
        kind = _kind(exc)
        what = f"TLS handshake with {host} failed: {_strerror(exc)}"
        what = f"no TLS handshake from {host} within {timeout:g} s" if kind == "timeout" else what
        return Stage(name, False, time.monotonic() - start, kind, what), None
    return Stage(name, True, time.monotonic() - start, data={"version": wrapped.version()}), wrapped


def _body_data(body: bytes) -> dict[str, Any]:
    """What a /models answer holds: whether it is JSON, the model ids, an error message."""
    try:
        parsed: Any = json.loads(body) if body else None
    except ValueError:
        parsed = None
    data: dict[str, Any] = {"json": isinstance(parsed, (dict, list))}
    if isinstance(parsed, dict) and isinstance(parsed.get("data"), list):
        data["models"] = [m.get("id") for m in parsed["data"] if isinstance(m, dict) and isinstance(m.get("id"), str)]
    error = parsed.get("error") if isinstance(parsed, dict) else None
    if isinstance(error, (dict, str)):
        data["error"] = error.get("message", "") if isinstance(error, dict) else error
    return data


def http_get(sock: socket.socket, url: str, host_header: str, key: str | None, timeout: float, proxy: str | None = None) -> Stage:
    """GET ``url`` over ``sock`` (a forward request to ``proxy`` when given): the status, and the model ids of a models list."""
    start, parts = time.monotonic(), urlsplit(url)
    target = url if proxy else (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    lines = [f"GET {target} HTTP/1.1", f"Host: {host_header}", "Accept: application/json", "User-Agent: llmfix-doctor", "Connection: close"]
    lines += ([f"Authorization: Bearer {key.strip()}"] if key else []) + (_proxy_auth(proxy) if proxy else [])
    try:
        response = _ask(sock, lines, "GET", timeout)
        body = response.read(MAX_BODY)
    except (OSError, http.client.HTTPException) as exc:
        kind, took = _kind(exc) if isinstance(exc, OSError) else "protocol", time.monotonic() - start
        if kind == "timeout":
            return Stage("http", False, took, "timeout",
                         f"GET {parts.path} got no answer within {timeout:g} s (the server accepts connections but does not respond)")
        if isinstance(exc, http.client.RemoteDisconnected) or kind == "reset":
            return Stage("http", False, took, "reset", f"GET {parts.path}: the server closed the connection without answering")
        return Stage("http", False, took, kind, f"GET {parts.path} failed: {_strerror(exc)}")
    ok = 200 <= response.status < 300
    return Stage("http", ok, time.monotonic() - start, "" if ok else "http-status", f"GET {parts.path} -> {response.status} {response.reason}",
                 response.status, _body_data(body))


def _connect(trace: Trace, url: str, prefix: str = "") -> socket.socket | None:
    """DNS, TCP (and TLS for an https:// proxy, ``prefix`` "proxy-") to the host of ``url``, each a stage of ``trace``."""
    parts = urlsplit(url)
    host, port = parts.hostname or "", parts.port or (443 if parts.scheme.lower() == "https" else 80)
    stage, sock = resolve(host, port, DNS_TIMEOUT, prefix + "dns"), None
    if stage.ok:
        trace.stages.append(stage)
        stage, sock = tcp_connect(stage.data["addresses"], port, TCP_TIMEOUT, prefix + "tcp")
    trace.stages.append(stage)
    if sock is None or not prefix or parts.scheme.lower() != "https":
        return sock
    stage, wrapped = tls_wrap(sock, host, tls_context(trace.verify, trace.cafile), TLS_TIMEOUT, "proxy-tls")
    trace.stages.append(stage)
    if wrapped is None:
        sock.close()
    return wrapped


def trace_endpoint(base_url: str, proxy: str | None, key: str | None, verify: bool = True, cafile: str | None = None) -> Trace:
    """Walk the path LiteLLM takes to ``{base_url}/models``, stopping at the first failing stage."""
    parts = urlsplit(base_url.strip())
    scheme, host = parts.scheme.lower(), parts.hostname or ""
    port = parts.port or (443 if scheme == "https" else 80)
    url = base_url.strip().rstrip("/") + "/models"
    trace = Trace(url, proxy, verify=verify, cafile=cafile)
    host_header = (f"[{host}]" if ":" in host else host) + ("" if port == (443 if scheme == "https" else 80) else f":{port}")
    sock = _connect(trace, proxy, "proxy-") if proxy else _connect(trace, base_url.strip())
    try:
        if sock is not None and proxy and scheme == "https":
            trace.stages.append(http_connect(sock, host, port, proxy, CONNECT_TIMEOUT))
        if sock is not None and scheme == "https" and trace.failed is None:
            stage, wrapped = tls_wrap(sock, host, tls_context(verify, cafile), TLS_TIMEOUT)
            trace.stages.append(stage)
            sock = wrapped or sock
        if sock is not None and trace.failed is None:  # a forward request to the proxy for an http:// endpoint
            trace.stages.append(http_get(sock, url, host_header, key, HTTP_TIMEOUT, proxy if scheme != "https" else None))
        return trace
    finally:
        with contextlib.suppress(OSError):
            if sock is not None:
                sock.close()
