"""Short, staged network probes with the standard library: DNS, TCP, HTTP CONNECT, TLS, GET.

Each stage has its own timeout and reports what failed in words a user can act on. The
probes follow LiteLLM's path: with a proxy, an https endpoint is reached through a CONNECT
tunnel (the endpoint name is resolved by the proxy) and an http endpoint by a forward
(absolute-URI) request to the proxy; without one, directly.
"""

from __future__ import annotations

import base64
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

    name: str  # proxy-dns, proxy-tcp, connect, dns, tcp, tls, http
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


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def resolve(host: str, port: int, timeout: float = DNS_TIMEOUT) -> Stage:
    """getaddrinfo with a deadline (it has none of its own), in a daemon thread."""
    start = time.monotonic()
    if _is_ip(host):
        return Stage("dns", True, 0.0, data={"addresses": [host]})
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
        exc = box["error"]
        return Stage("dns", False, took, "dns", f"{host} does not resolve ({_strerror(exc)})")
    addresses = list(dict.fromkeys(info[4][0] for info in box["infos"]))
    return Stage("dns", True, took, data={"addresses": addresses})


def _strerror(exc: BaseException) -> str:
    text = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return str(text)


def _oserror_kind(exc: BaseException) -> str:
    if isinstance(exc, socket.timeout) or isinstance(exc, TimeoutError):
        return "timeout"
    if isinstance(exc, ConnectionRefusedError):
        return "refused"
    if isinstance(exc, (ConnectionResetError, ConnectionAbortedError, BrokenPipeError)):
        return "reset"
    if isinstance(exc, OSError) and exc.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH):
        return "unreachable"
    return "error"


def tcp_connect(addresses: list[str], port: int, timeout: float = TCP_TIMEOUT) -> tuple[Stage, socket.socket | None]:
    start = time.monotonic()
    last: BaseException | None = None
    deadline = start + timeout
    for address in addresses:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        try:
            sock = socket.create_connection((address, port), timeout=remaining)
            return Stage("tcp", True, time.monotonic() - start, data={"address": address}), sock
        except OSError as exc:
            last = exc
    took = time.monotonic() - start
    kind = _oserror_kind(last) if last is not None else "timeout"
    where = f"{addresses[0] if addresses else '?'}:{port}"
    words = {
        "refused": f"connection to {where} refused (nothing listens there)",
        "timeout": f"no answer from {where} within {timeout:g} s (blackholed or filtered)",
        "unreachable": f"{where} is unreachable ({_strerror(last) if last else ''})",
    }
    message = words.get(kind, f"cannot connect to {where}: {_strerror(last) if last else kind}")
    return Stage("tcp", False, took, kind, message, data={"target": where}), None


def _read_head(sock: socket.socket, timeout: float) -> bytes:
    sock.settimeout(timeout)
    buf = b""
    deadline = time.monotonic() + timeout
    while b"\r\n\r\n" not in buf:
        if time.monotonic() > deadline:
            raise socket.timeout("timed out")
        chunk = sock.recv(4096)
        if not chunk:
            break
        buf += chunk
        if len(buf) > 65536:
            break
    return buf


def _proxy_auth(proxy: str) -> str | None:
    parts = urlsplit(proxy)
    if parts.username is None:
        return None
    token = f"{unquote(parts.username)}:{unquote(parts.password or '')}".encode()
    return "Basic " + base64.b64encode(token).decode()


def http_connect(sock: socket.socket, host: str, port: int, proxy: str, timeout: float = CONNECT_TIMEOUT) -> Stage:
    """Open a CONNECT tunnel to host:port through an already connected proxy socket."""
    start = time.monotonic()
    target = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    lines = [f"CONNECT {target} HTTP/1.1", f"Host: {target}", "User-Agent: llmfix-doctor"]
    auth = _proxy_auth(proxy)
    if auth:
        lines.append(f"Proxy-Authorization: {auth}")
    try:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        head = _read_head(sock, timeout)
    except OSError as exc:
        kind = _oserror_kind(exc)
        msg = f"no CONNECT answer within {timeout:g} s" if kind == "timeout" else f"proxy dropped the CONNECT ({_strerror(exc)})"
        return Stage("connect", False, time.monotonic() - start, kind, msg)
    took = time.monotonic() - start
    first = head.split(b"\r\n", 1)[0].decode("latin-1", "replace")
    parts = first.split(" ", 2)
    if len(parts) < 2 or not parts[1].isdigit():
        return Stage("connect", False, took, "protocol", f"proxy answered CONNECT with {first!r}, not HTTP")
    status = int(parts[1])
    reason = parts[2] if len(parts) > 2 else ""
    if 200 <= status < 300:
        return Stage("connect", True, took, status=status)
    kind = {407: "proxy-auth", 403: "forbidden"}.get(status, "upstream" if status >= 500 else "rejected")
    return Stage("connect", False, took, kind, f"proxy answered CONNECT {target} with {status} {reason}".strip(), status)


def tls_context(verify: bool, cafile: str | None) -> ssl.SSLContext:
    """The context LiteLLM builds: SSL_VERIFY / SSL_CERT_FILE / certifi."""
    if not verify:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        return ctx
    if cafile is None:
        try:
            import certifi

            cafile = certifi.where()
        except ImportError:  # pragma: no cover - certifi comes with httpx/litellm
            return ssl.create_default_context()
    return ssl.create_default_context(cafile=cafile)


def tls_wrap(sock: socket.socket, host: str, ctx: ssl.SSLContext, timeout: float = TLS_TIMEOUT) -> tuple[Stage, ssl.SSLSocket | None]:
    start = time.monotonic()
    sock.settimeout(timeout)
    try:
        wrapped = ctx.wrap_socket(sock, server_hostname=host)
    except ssl.SSLCertVerificationError as exc:
        reason = exc.verify_message or exc.reason or str(exc)
        return Stage("tls", False, time.monotonic() - start, "tls-verify", f"certificate of {host} not trusted: {reason}"), None
    except ssl.SSLError as exc:
        return Stage("tls", False, time.monotonic() - start, "tls", f"TLS handshake with {host} failed: {exc.reason or exc}"), None
    except OSError as exc:
        kind = _oserror_kind(exc)
        what = f"no TLS handshake from {host} within {timeout:g} s" if kind == "timeout" else f"TLS handshake with {host} failed: {_strerror(exc)}"
        return Stage("tls", False, time.monotonic() - start, kind, what), None
    return Stage("tls", True, time.monotonic() - start, data={"version": wrapped.version()}), wrapped


def http_get(sock: socket.socket, url: str, host_header: str, key: str | None, timeout: float = HTTP_TIMEOUT,
             absolute: bool = False, proxy_auth: str | None = None) -> Stage:
    """GET ``url`` over ``sock`` and report the status, and the model ids when it is a models list."""
    start = time.monotonic()
    parts = urlsplit(url)
    target = url if absolute else (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    lines = [f"GET {target} HTTP/1.1", f"Host: {host_header}", "Accept: application/json",
             "User-Agent: llmfix-doctor", "Connection: close"]
    if key:
        lines.append(f"Authorization: Bearer {key.strip()}")
    if proxy_auth:
        lines.append(f"Proxy-Authorization: {proxy_auth}")
    sock.settimeout(timeout)
    try:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", "replace"))
        response = http.client.HTTPResponse(sock, method="GET")
        response.begin()
        body = response.read(MAX_BODY)
    except (OSError, http.client.HTTPException) as exc:
        kind = _oserror_kind(exc) if isinstance(exc, OSError) else "protocol"
        took = time.monotonic() - start
        if kind == "timeout":
            return Stage("http", False, took, "timeout", f"GET {parts.path} got no answer within {timeout:g} s (the server accepts connections but does not respond)")
        if isinstance(exc, http.client.RemoteDisconnected) or kind == "reset":
            return Stage("http", False, took, "reset", f"GET {parts.path}: the server closed the connection without answering")
        return Stage("http", False, took, kind, f"GET {parts.path} failed: {_strerror(exc)}")
    took = time.monotonic() - start
    data: dict[str, Any] = {"server": response.getheader("server", "") or ""}
    parsed: Any = None
    try:
        parsed = json.loads(body) if body else None
    except ValueError:
        parsed = None
    if isinstance(parsed, dict):
        if isinstance(parsed.get("data"), list):
            data["models"] = [m.get("id") for m in parsed["data"] if isinstance(m, dict) and isinstance(m.get("id"), str)]
        if isinstance(parsed.get("error"), (dict, str)):
            err = parsed["error"]
            data["error"] = err.get("message", "") if isinstance(err, dict) else err
            data["error_code"] = err.get("code") if isinstance(err, dict) else None
    data["json"] = isinstance(parsed, (dict, list))
    if not data["json"]:
        data["snippet"] = body[:200].decode("utf-8", "replace")
    ok = 200 <= response.status < 300
    return Stage("http", ok, took, "" if ok else "http-status", f"GET {parts.path} -> {response.status} {response.reason}", response.status, data)


def _close(sock: socket.socket | None) -> None:
    if sock is not None:
        try:
            sock.close()
        except OSError:
            pass


def _through_proxy(trace: Trace, proxy: str, verify: bool, cafile: str | None) -> socket.socket | None:
    """Reach the proxy (DNS, TCP, TLS for an https:// proxy), adding each stage to ``trace``;
    the connected socket, or None when a stage failed (nothing left open)."""
    pparts = urlsplit(proxy)
    phost = pparts.hostname or ""
    pscheme = pparts.scheme.lower()
    pport = pparts.port or (443 if pscheme == "https" else 80)
    stage = resolve(phost, pport, DNS_TIMEOUT)
    stage.name = "proxy-dns"
    trace.stages.append(stage)
    if not stage.ok:
        return None
    stage, sock = tcp_connect(stage.data["addresses"], pport, TCP_TIMEOUT)
    stage.name = "proxy-tcp"
    trace.stages.append(stage)
    if sock is None or pscheme != "https":
        return sock
    stage, wrapped = tls_wrap(sock, phost, tls_context(verify, cafile), TLS_TIMEOUT)
    stage.name = "proxy-tls"
    trace.stages.append(stage)
    if wrapped is None:
        _close(sock)
    return wrapped


def _direct(trace: Trace, host: str, port: int) -> socket.socket | None:
    stage = resolve(host, port, DNS_TIMEOUT)
    trace.stages.append(stage)
    if not stage.ok:
        return None
    stage, sock = tcp_connect(stage.data["addresses"], port, TCP_TIMEOUT)
    trace.stages.append(stage)
    return sock


def trace_endpoint(base_url: str, proxy: str | None, key: str | None, verify: bool = True,
                   cafile: str | None = None, models_path: str = "/models") -> Trace:
    """Walk the path LiteLLM takes to ``{base_url}/models``, stopping at the first failing stage."""
    parts = urlsplit(base_url.strip())
    scheme = parts.scheme.lower()
    host = parts.hostname or ""
    port = parts.port or (443 if scheme == "https" else 80)
    url = base_url.strip().rstrip("/") + models_path
    trace = Trace(url, proxy)
    ctx = tls_context(verify, cafile) if scheme == "https" else None
    sock = _through_proxy(trace, proxy, verify, cafile) if proxy else _direct(trace, host, port)
    try:
        if sock is None:
            return trace
        if proxy and scheme != "https":  # a forward request for an http:// endpoint
            trace.stages.append(http_get(sock, url, _host_header(host, port, scheme), key, HTTP_TIMEOUT,
                                         absolute=True, proxy_auth=_proxy_auth(proxy)))
            return trace
        if proxy:
            stage = http_connect(sock, host, port, proxy, CONNECT_TIMEOUT)
            trace.stages.append(stage)
            if not stage.ok:
                return trace
        if ctx is not None:
            stage, wrapped = tls_wrap(sock, host, ctx, TLS_TIMEOUT)
            trace.stages.append(stage)
            if wrapped is None:
                return trace
            sock = wrapped
        trace.stages.append(http_get(sock, url, _host_header(host, port, scheme), key, HTTP_TIMEOUT))
        return trace
    finally:
        _close(sock)


def _host_header(host: str, port: int, scheme: str) -> str:
    h = f"[{host}]" if ":" in host else host
    return h if port == (443 if scheme == "https" else 80) else f"{h}:{port}"
