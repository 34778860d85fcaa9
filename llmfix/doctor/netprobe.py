"""Short, staged network probes with the standard library: DNS, TCP, HTTP CONNECT, TLS, GET.

Each stage has its own timeout and reports what failed in words a user can act on. The
probes follow LiteLLM's path: with a proxy, an https endpoint is reached through a CONNECT
tunnel (the endpoint name is resolved by the proxy) and an http endpoint by a forward
(absolute-URI) request to the proxy; without one, directly.
"""

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

    @property
    def failed(self) -> Stage | None:
        return next((s for s in self.stages if not s.ok), None)

    def stage(self, name: str) -> Stage | None:
        return next((s for s in self.stages if s.name == name), None)

    @property
    def upstream_failed(self) -> bool:
        """The proxy answered but could not reach the endpoint (CONNECT 5xx, or a non-JSON 5xx page)."""
        stage = self.failed
        if stage is None or self.proxy is None:
            return False
        if stage.name == "connect":
            return stage.kind == "upstream"
        return (stage.name == "http" and stage.status is not None and stage.status >= 500 and not stage.data.get("json", False)
                and self.stage("connect") is None)


def _strerror(exc: BaseException) -> str:
    return str(getattr(exc, "strerror", None) or str(exc) or type(exc).__name__)


def _kind(exc: BaseException) -> str:
    """What an error says about a connection: timeout, refused, reset, unreachable, or error."""
    if isinstance(exc, TimeoutError):
        return "timeout"
    if isinstance(exc, ConnectionRefusedError):
        return "refused"
    if isinstance(exc, (ConnectionResetError, ConnectionAbortedError, BrokenPipeError)):
        return "reset"
    return "unreachable" if isinstance(exc, OSError) and exc.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH) else "error"


def resolve(host: str, port: int, timeout: float) -> Stage:
    """getaddrinfo with a deadline (it has none of its own), in a daemon thread."""
    start = time.monotonic()
    try:
        ipaddress.ip_address(host)
        return Stage("dns", True, 0.0, data={"addresses": [host]})
    except ValueError:
        pass
    box: dict[str, Any] = {}

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
        return Stage("dns", False, took, "timeout", f"resolving {host} took longer than {timeout:g} s")
    if "error" in box:
        return Stage("dns", False, took, "dns", f"{host} does not resolve ({_strerror(box['error'])})")
    return Stage("dns", True, took, data={"addresses": list(dict.fromkeys(info[4][0] for info in box["infos"]))})


def tcp_connect(addresses: list[str], port: int, timeout: float) -> tuple[Stage, socket.socket | None]:
    start = time.monotonic()
    last: BaseException | None = None
    for address in addresses:
        remaining = start + timeout - time.monotonic()
        if remaining <= 0:
            break
        try:
            sock = socket.create_connection((address, port), timeout=remaining)
            return Stage("tcp", True, time.monotonic() - start), sock
        except OSError as exc:
            last = exc
    kind, where = _kind(last) if last is not None else "timeout", f"{addresses[0] if addresses else '?'}:{port}"
    message = {"refused": f"connection to {where} refused (nothing listens there)",
               "timeout": f"no answer from {where} within {timeout:g} s (blackholed or filtered)",
               "unreachable": f"{where} is unreachable ({_strerror(last) if last else ''})"}.get(
        kind, f"cannot connect to {where}: {_strerror(last) if last else kind}")
    return Stage("tcp", False, time.monotonic() - start, kind, message, data={"target": where}), None


def _send(sock: socket.socket, lines: list[str], errors: str = "strict") -> None:
    sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", errors))


def _read_head(sock: socket.socket, timeout: float) -> bytes:
    sock.settimeout(timeout)
    buf, deadline = b"", time.monotonic() + timeout
    while b"\r\n\r\n" not in buf and len(buf) <= 65536:
        if time.monotonic() > deadline:
            raise socket.timeout("timed out")
        chunk = sock.recv(4096)
        if not chunk:
            break
        buf += chunk
    return buf


def _proxy_auth(proxy: str) -> str | None:
    parts = urlsplit(proxy)
    if parts.username is None:
        return None
    return "Basic " + base64.b64encode(f"{unquote(parts.username)}:{unquote(parts.password or '')}".encode()).decode()


def http_connect(sock: socket.socket, host: str, port: int, proxy: str, timeout: float) -> Stage:
    """Open a CONNECT tunnel to host:port through an already connected proxy socket."""
    start = time.monotonic()
    target = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    auth = _proxy_auth(proxy)
    try:
        _send(sock, [f"CONNECT {target} HTTP/1.1", f"Host: {target}", "User-Agent: llmfix-doctor"]
              + ([f"Proxy-Authorization: {auth}"] if auth else []))
        head = _read_head(sock, timeout)
    except OSError as exc:
        kind = _kind(exc)
        message = f"no CONNECT answer within {timeout:g} s" if kind == "timeout" else f"proxy dropped the CONNECT ({_strerror(exc)})"
        return Stage("connect", False, time.monotonic() - start, kind, message)
    took = time.monotonic() - start
    first = head.split(b"\r\n", 1)[0].decode("latin-1", "replace")
    parts = first.split(" ", 2)
    if len(parts) < 2 or not parts[1].isdigit():
        return Stage("connect", False, took, "protocol", f"proxy answered CONNECT with {first!r}, not HTTP")
    status = int(parts[1])
    if 200 <= status < 300:
        return Stage("connect", True, took, status=status)
    kind = {407: "proxy-auth", 403: "forbidden"}.get(status, "upstream" if status >= 500 else "rejected")
    message = f"proxy answered CONNECT {target} with {status} {parts[2] if len(parts) > 2 else ''}".strip()
    return Stage("connect", False, took, kind, message, status)


def tls_context(verify: bool, cafile: str | None) -> ssl.SSLContext:
    """The context LiteLLM builds: SSL_VERIFY / SSL_CERT_FILE / certifi."""
    if not verify:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        return ctx
    if cafile is None:
        try:
            import certifi  # LiteLLM's default CA bundle: only for an https endpoint or proxy

            cafile = certifi.where()
        except ImportError:  # pragma: no cover - certifi comes with httpx/litellm
            return ssl.create_default_context()
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
        what = f"no TLS handshake from {host} within {timeout:g} s" if kind == "timeout" else f"TLS handshake with {host} failed: {_strerror(exc)}"
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
    if isinstance(parsed, dict) and isinstance(parsed.get("error"), (dict, str)):
        data["error"] = parsed["error"].get("message", "") if isinstance(parsed["error"], dict) else parsed["error"]
    return data


def http_get(sock: socket.socket, url: str, host_header: str, key: str | None, timeout: float,
             absolute: bool = False, proxy_auth: str | None = None) -> Stage:
    """GET ``url`` over ``sock`` and report the status, and the model ids when it is a models list."""
    start = time.monotonic()
    parts = urlsplit(url)
    target = url if absolute else (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    lines = [f"GET {target} HTTP/1.1", f"Host: {host_header}", "Accept: application/json", "User-Agent: llmfix-doctor", "Connection: close"]
    lines += ([f"Authorization: Bearer {key.strip()}"] if key else []) + ([f"Proxy-Authorization: {proxy_auth}"] if proxy_auth else [])
    sock.settimeout(timeout)
    try:
        _send(sock, lines, "replace")
        response = http.client.HTTPResponse(sock, method="GET")
        response.begin()
        body = response.read(MAX_BODY)
    except (OSError, http.client.HTTPException) as exc:
        kind, took = _kind(exc) if isinstance(exc, OSError) else "protocol", time.monotonic() - start
        if kind == "timeout":
            return Stage("http", False, took, "timeout", f"GET {parts.path} got no answer within {timeout:g} s (the server accepts connections but does not respond)")
        if isinstance(exc, http.client.RemoteDisconnected) or kind == "reset":
            return Stage("http", False, took, "reset", f"GET {parts.path}: the server closed the connection without answering")
        return Stage("http", False, took, kind, f"GET {parts.path} failed: {_strerror(exc)}")
    took, ok = time.monotonic() - start, 200 <= response.status < 300
    return Stage("http", ok, took, "" if ok else "http-status", f"GET {parts.path} -> {response.status} {response.reason}", response.status,
                 _body_data(body))


def _connect(trace: Trace, host: str, port: int, prefix: str = "") -> socket.socket | None:
    """DNS and TCP to host:port, each a stage of ``trace`` (named with ``prefix``): the socket, or None."""
    stage = resolve(host, port, DNS_TIMEOUT)
    stage.name = prefix + stage.name
    trace.stages.append(stage)
    if not stage.ok:
        return None
    stage, sock = tcp_connect(stage.data["addresses"], port, TCP_TIMEOUT)
    stage.name = prefix + stage.name
    trace.stages.append(stage)
    return sock


def _close(sock: socket.socket | None) -> None:
    with contextlib.suppress(OSError):
        if sock is not None:
            sock.close()


def _default_port(scheme: str) -> int:
    return 443 if scheme == "https" else 80


def _through_proxy(trace: Trace, proxy: str, verify: bool, cafile: str | None) -> socket.socket | None:
    """Reach the proxy (DNS, TCP, TLS for an https:// proxy): the connected socket, or None (nothing left open)."""
    parts = urlsplit(proxy)
    host, scheme = parts.hostname or "", parts.scheme.lower()
    sock = _connect(trace, host, parts.port or _default_port(scheme), "proxy-")
    if sock is None or scheme != "https":
        return sock
    stage, wrapped = tls_wrap(sock, host, tls_context(verify, cafile), TLS_TIMEOUT, "proxy-tls")
    trace.stages.append(stage)
    if wrapped is None:
        _close(sock)
    return wrapped


def trace_endpoint(base_url: str, proxy: str | None, key: str | None, verify: bool = True,
                   cafile: str | None = None, models_path: str = "/models") -> Trace:
    """Walk the path LiteLLM takes to ``{base_url}/models``, stopping at the first failing stage."""
    parts = urlsplit(base_url.strip())
    scheme, host = parts.scheme.lower(), parts.hostname or ""
    port = parts.port or _default_port(scheme)
    url = base_url.strip().rstrip("/") + models_path
    trace = Trace(url, proxy)
    ctx = tls_context(verify, cafile) if scheme == "https" else None
    host_header = (f"[{host}]" if ":" in host else host) + ("" if port == _default_port(scheme) else f":{port}")
    sock = _through_proxy(trace, proxy, verify, cafile) if proxy else _connect(trace, host, port)
    try:
        if sock is None:
            return trace
        if proxy and scheme != "https":  # a forward request for an http:// endpoint
            trace.stages.append(http_get(sock, url, host_header, key, HTTP_TIMEOUT, absolute=True, proxy_auth=_proxy_auth(proxy)))
            return trace
        if proxy:
            trace.stages.append(http_connect(sock, host, port, proxy, CONNECT_TIMEOUT))
            if not trace.stages[-1].ok:
                return trace
        if ctx is not None:
            stage, wrapped = tls_wrap(sock, host, ctx, TLS_TIMEOUT)
            trace.stages.append(stage)
            if wrapped is None:
                return trace
            sock = wrapped
        trace.stages.append(http_get(sock, url, host_header, key, HTTP_TIMEOUT))
        return trace
    finally:
        _close(sock)
