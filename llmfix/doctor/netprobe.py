"""Short, staged network probes along LiteLLM's path to ``{base}/models``: DNS, TCP, CONNECT (an https endpoint
behind a proxy; an http one gets a forward request), TLS, GET. A failed stage names its cause (``causes.CAUSES``)."""

from __future__ import annotations

import base64
import contextlib
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
    name: str  # proxy-dns, proxy-tcp, proxy-tls, connect, dns, tcp, tls, http
    seconds: float
    cause: str = ""  # "" when the stage passed
    message: str = ""
    status: int | None = None
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class Trace:
    url: str
    verify: bool = True  # LiteLLM's TLS settings, for an https:// proxy too
    cafile: str | None = None
    stages: list[Stage] = field(default_factory=list)

    @property
    def failed(self) -> Stage | None:
        return next((s for s in self.stages if s.cause), None)

    def stage(self, name: str) -> Stage | None:
        return next((s for s in self.stages if s.name == name), None)

    @property
    def proxy_failed(self) -> bool:
        """The proxy itself failed (reaching it, or the tunnel), not the endpoint behind it."""
        cause = self.failed.cause if self.failed else ""
        return cause.startswith("proxy-") and cause != "proxy-upstream"


def host_port(url: str) -> tuple[str, str, int]:
    """(scheme, host, port) of ``url``, the port defaulting by scheme (ValueError on a bad port)."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    return scheme, (parts.hostname or "").lower(), parts.port or (443 if scheme == "https" else 80)


_KINDS = ((TimeoutError, "timeout"), (ConnectionRefusedError, "refused"), ((ConnectionResetError, ConnectionAbortedError, BrokenPipeError), "reset"))


def _kind(exc: BaseException) -> str:
    """What an error says about a connection: timeout, refused, reset, or error."""
    return next((kind for types, kind in _KINDS if isinstance(exc, types)), "error")


def _strerror(exc: BaseException) -> str:
    return str(getattr(exc, "strerror", None) or str(exc) or type(exc).__name__)


def resolve(host: str, port: int, prefix: str) -> Stage:
    """getaddrinfo with a deadline (it has none of its own), in a daemon thread."""
    with contextlib.suppress(ValueError):
        return Stage(prefix + "dns", 0.0, data={"addresses": [str(ipaddress.ip_address(host))]})
    start, box = time.monotonic(), {}

    def work() -> None:
        try:
            box["infos"] = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except OSError as exc:
            box["error"] = exc

    thread = threading.Thread(target=work, name="doctor-dns", daemon=True)
    thread.start()
    thread.join(DNS_TIMEOUT)
    took = time.monotonic() - start
    name = f"the proxy host name {host}" if prefix else host
    if thread.is_alive():
        return Stage(prefix + "dns", took, f"{prefix}timeout" if prefix else "dns-timeout", f"resolving {name} took longer than {DNS_TIMEOUT:g} s")
    if "error" in box:
        return Stage(prefix + "dns", took, f"{prefix}dns", f"{name} does not resolve ({_strerror(box['error'])})")
    return Stage(prefix + "dns", took, data={"addresses": list(dict.fromkeys(info[4][0] for info in box["infos"]))})


def tcp_connect(addresses: list[str], port: int, prefix: str) -> tuple[Stage, socket.socket | None]:
    start, last = time.monotonic(), None
    for address in addresses:
        remaining = start + TCP_TIMEOUT - time.monotonic()
        if remaining <= 0:
            break
        try:
            return Stage(prefix + "tcp", time.monotonic() - start), socket.create_connection((address, port), timeout=remaining)
        except OSError as exc:
            last = exc
    kind, where = _kind(last) if last is not None else "timeout", f"{addresses[0] if addresses else '?'}:{port}"
    cause = (prefix or "connect-") + (kind if kind in ("refused", "timeout") else "error")
    message = {
        "connect-refused": f"connection to {where} refused (nothing listens there)",
        "connect-timeout": f"no answer from {where} within {TCP_TIMEOUT:g} s (blackholed or filtered)",
        "proxy-refused": f"the proxy is down or its port is wrong (connection to {where} refused)",
        "proxy-timeout": f"the proxy does not answer (no answer from {where} within {TCP_TIMEOUT:g} s)",
    }
    return Stage(prefix + "tcp", time.monotonic() - start, cause, message.get(cause, f"cannot connect to {where}: {_strerror(last)}")), None


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


def http_connect(sock: socket.socket, host: str, port: int, proxy: str) -> Stage:
    """Open a CONNECT tunnel to host:port through an already connected proxy socket."""
    start, target = time.monotonic(), f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    try:
        response = _ask(sock, [f"CONNECT {target} HTTP/1.1", f"Host: {target}", "User-Agent: llmfix-doctor", *_proxy_auth(proxy)], "CONNECT", CONNECT_TIMEOUT)
    except http.client.HTTPException as exc:
        return Stage("connect", time.monotonic() - start, "proxy-rejected", f"proxy answered CONNECT with {exc!s:.80}, not HTTP")
    except OSError as exc:
        if _kind(exc) == "timeout":
            return Stage("connect", time.monotonic() - start, "proxy-timeout", f"the proxy gave no CONNECT answer within {CONNECT_TIMEOUT:g} s")
        return Stage("connect", time.monotonic() - start, "proxy-rejected", f"proxy dropped the CONNECT ({_strerror(exc)})")
    took, status = time.monotonic() - start, response.status
    if 200 <= status < 300:
        return Stage("connect", took, status=status)
    cause = {407: "proxy-auth"}.get(status, "proxy-upstream" if status >= 500 else "proxy-rejected")
    return Stage("connect", took, cause, f"proxy answered CONNECT {target} with {status} {response.reason}".strip(), status)


def tls_wrap(sock: socket.socket, host: str, trace: Trace, name: str) -> ssl.SSLSocket | None:
    """The TLS handshake with ``host`` as stage ``name`` of ``trace``; the wrapped socket, or None (``sock`` closed)."""
    start, failed = time.monotonic(), "proxy-error" if name == "proxy-tls" else "tls-error"
    if trace.verify:  # the context LiteLLM builds: SSL_VERIFY / SSL_CERT_FILE / certifi
        import certifi  # LiteLLM's default CA bundle (comes with httpx): only for an https endpoint or proxy

        ctx = ssl.create_default_context(cafile=trace.cafile or certifi.where())
    else:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
    sock.settimeout(TLS_TIMEOUT)
    try:
        wrapped = ctx.wrap_socket(sock, server_hostname=host)
    except ssl.SSLCertVerificationError as exc:
        cause, what = failed if name == "proxy-tls" else "tls-verify", f"certificate of {host} not trusted: {exc.verify_message or exc.reason or exc}"
    except (ssl.SSLError, OSError) as exc:
        cause, what = failed, f"TLS handshake with {host} failed: {getattr(exc, 'reason', None) or _strerror(exc)}"
        if _kind(exc) == "timeout":
            cause, what = "proxy-timeout" if name == "proxy-tls" else failed, f"no TLS handshake from {host} within {TLS_TIMEOUT:g} s"
    else:
        trace.stages.append(Stage(name, time.monotonic() - start, data={"version": wrapped.version()}))
        return wrapped
    trace.stages.append(Stage(name, time.monotonic() - start, cause, what))
    sock.close()
    return None


def _body_data(body: bytes) -> dict[str, Any]:
    """What a /models answer holds: whether it is JSON, the model ids, an error message."""
    parsed: Any = None
    with contextlib.suppress(ValueError):
        parsed = json.loads(body) if body else None
    data: dict[str, Any] = {"json": isinstance(parsed, (dict, list))}
    if isinstance(parsed, dict) and isinstance(parsed.get("data"), list):
        data["models"] = [m.get("id") for m in parsed["data"] if isinstance(m, dict) and isinstance(m.get("id"), str)]
    error = parsed.get("error") if isinstance(parsed, dict) else None
    if isinstance(error, (dict, str)):
        data["error"] = error.get("message", "") if isinstance(error, dict) else error
    return data


def http_get(sock: socket.socket, url: str, host_header: str, key: str | None, proxy: str | None = None) -> Stage:
    """GET ``url`` over ``sock`` (a forward request to ``proxy`` when given): the status, and the model ids of a models list."""
    start, parts = time.monotonic(), urlsplit(url)
    target = url if proxy else (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    lines = [f"GET {target} HTTP/1.1", f"Host: {host_header}", "Accept: application/json", "User-Agent: llmfix-doctor", "Connection: close"]
    lines += ([f"Authorization: Bearer {key.strip()}"] if key else []) + (_proxy_auth(proxy) if proxy else [])
    try:
        response = _ask(sock, lines, "GET", HTTP_TIMEOUT)
        body = response.read(MAX_BODY)
    except (OSError, http.client.HTTPException) as exc:  # RemoteDisconnected is a ConnectionResetError
        kind, path = _kind(exc), parts.path
        told = {"timeout": f"GET {path} got no answer within {HTTP_TIMEOUT:g} s (the server accepts but does not respond)"}
        told["reset"] = f"GET {path}: the server closed the connection without answering"
        cause = "timeout" if kind == "timeout" else "connection-reset"
        return Stage("http", time.monotonic() - start, cause, told.get(kind, f"GET {path} failed: {_strerror(exc)}"))
    status, data = response.status, _body_data(body)
    cause = {401: "auth", 403: "auth", 404: "base-url-path", 429: "rate-limited"}.get(status, "http-status") if not 200 <= status < 300 else ""
    if status >= 500:  # a non-JSON 5xx from a forwarding proxy: the proxy's own page
        cause = "proxy-upstream" if proxy is not None and not data.get("json") else "server-error"
    return Stage("http", time.monotonic() - start, cause, f"GET {parts.path} -> {response.status} {response.reason}", response.status, data)


def trace_endpoint(base_url: str, proxy: str | None, key: str | None, verify: bool = True, cafile: str | None = None) -> Trace:
    """Walk the path LiteLLM takes to ``{base_url}/models``, stopping at the first failing stage."""
    scheme, host, port = host_port(base_url.strip())
    trace = Trace(base_url.strip().rstrip("/") + "/models", verify, cafile)
    host_header = (f"[{host}]" if ":" in host else host) + ("" if port == (443 if scheme == "https" else 80) else f":{port}")
    prefix, (first_scheme, first_host, first_port) = ("proxy-", host_port(proxy)) if proxy else ("", (scheme, host, port))
    stage, sock = resolve(first_host, first_port, prefix), None
    if not stage.cause:
        trace.stages.append(stage)
        stage, sock = tcp_connect(stage.data["addresses"], first_port, prefix)
    trace.stages.append(stage)
    try:
        if sock is not None and proxy and first_scheme == "https":  # an https:// proxy: TLS to the proxy first
            sock = tls_wrap(sock, first_host, trace, "proxy-tls")
        if sock is not None and proxy and scheme == "https":
            trace.stages.append(http_connect(sock, host, port, proxy))
        if sock is not None and scheme == "https" and trace.failed is None:
            sock = tls_wrap(sock, host, trace, "tls")
        if sock is not None and trace.failed is None:  # a forward request to the proxy for an http:// endpoint
            trace.stages.append(http_get(sock, trace.url, host_header, key, proxy if scheme != "https" else None))
        return trace
    finally:
        with contextlib.suppress(OSError):
            if sock is not None:
                sock.close()
