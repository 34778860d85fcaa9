"""Name the root cause of a failed LiteLLM call from its exception chain (pure).

LiteLLM reports every transport failure as ``InternalServerError ... Connection error.``;
the ``__cause__``/``__context__`` chain underneath (openai.APIConnectionError ->
httpx.ProxyError/ConnectError -> aiohttp ... -> ConnectionRefusedError/gaierror/...) is
what tells a dead proxy from a refused port, DNS, TLS and the rest. A chain is a list of
``{"type": "module.Class", "message": str, "status_code": int|None, "errno": int|None}``,
outermost first.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

# cause -> (which check owns it, human name)
CAUSES: dict[str, tuple[str, str]] = {
    "proxy-refused": ("proxy", "the proxy refused the connection (nothing listens at the proxy address)"),
    "proxy-dns": ("proxy", "the proxy's host name does not resolve"),
    "proxy-timeout": ("proxy", "the proxy did not answer in time"),
    "proxy-rejected": ("proxy", "the proxy rejected the tunnel to the endpoint"),
    "proxy-auth": ("proxy", "the proxy wants credentials (407)"),
    "proxy-upstream": ("endpoint", "the proxy works but could not reach the endpoint (it answered the tunnel with 5xx)"),
    "proxy-error": ("proxy", "the connection through the proxy failed"),
    "dns": ("endpoint", "the endpoint's host name does not resolve (DNS)"),
    "connect-refused": ("endpoint", "the endpoint refused the connection (nothing listens on that port)"),
    "connect-timeout": ("endpoint", "connecting to the endpoint timed out (blackholed or filtered)"),
    "connection-reset": ("endpoint", "the endpoint dropped the connection"),
    "tls-verify": ("endpoint", "the endpoint's TLS certificate is not trusted (certificate verify failed)"),
    "tls-error": ("endpoint", "the TLS handshake with the endpoint failed"),
    "timeout": ("endpoint", "the endpoint accepted the request but did not answer in time (timeout)"),
    "server-error": ("endpoint", "the endpoint answered with a server error (5xx)"),
    "auth": ("key", "the endpoint rejected the API key (401: invalid or expired)"),
    "key-missing": ("key", "no API key is set"),
    "model-unknown": ("models", "the endpoint does not know the model (404 / unknown model)"),
    "provider-unknown": ("models", "LiteLLM cannot tell which provider the model name belongs to"),
    "bad-request": ("models", "the endpoint rejected the request (400)"),
    "rate-limited": ("endpoint", "the endpoint is rate limiting (429)"),
    "unknown": ("live-probe", "an error the doctor does not recognise"),
}


@dataclass(frozen=True)
class Diagnosis:
    cause: str
    owner: str  # the check the cause belongs to
    words: str
    evidence: str  # the chain element that gave it away, "Type: message"
    status: int | None = None


def _has(chain: list[dict[str, Any]], *needles: str) -> dict[str, Any] | None:
    for item in chain:
        t = item.get("type", "")
        if any(n in t for n in needles):
            return item
    return None


def _msg(chain: Iterable[dict[str, Any]], *needles: str) -> dict[str, Any] | None:
    for item in chain:
        text = str(item.get("message", ""))
        if any(n.lower() in text.lower() for n in needles):
            return item
    return None


def _root(chain: list[dict[str, Any]]) -> dict[str, Any]:
    return chain[-1] if chain else {}


def _evidence(item: dict[str, Any] | None) -> str:
    if not item:
        return ""
    text = str(item.get("message", "")).splitlines()[0] if item.get("message") else ""
    return f"{item.get('type', '?')}: {text[:160]}".rstrip(": ")


def _status(chain: list[dict[str, Any]]) -> int | None:
    for item in chain:
        code = item.get("status_code")
        if isinstance(code, int) and 100 <= code < 600:
            return code
    return None


def _diagnosis(chain: list[dict[str, Any]], cause: str, item: dict[str, Any] | None, status: int | None = None) -> Diagnosis:
    owner, words = CAUSES[cause]
    return Diagnosis(cause, owner, words, _evidence(item or _root(chain)), status)


def _proxy_cause(chain: list[dict[str, Any]], proxy_item: dict[str, Any]) -> Diagnosis:
    """What went wrong with the proxy, the chain having a proxy error in it."""
    root = _root(chain)
    root_type = root.get("type", "")
    if "gaierror" in root_type or _has(chain, "DNSError"):
        return _diagnosis(chain, "proxy-dns", proxy_item)
    if "ConnectionRefused" in root_type or root.get("errno") == 111:
        return _diagnosis(chain, "proxy-refused", proxy_item)
    if _has(chain, "Timeout"):
        return _diagnosis(chain, "proxy-timeout", proxy_item)
    item = _has(chain, "ClientHttpProxyError") or proxy_item
    status = item.get("status_code") if isinstance(item.get("status_code"), int) else _status_in_text(item)
    if status == 407:
        return _diagnosis(chain, "proxy-auth", item, status)
    if status is not None and status >= 500:
        return _diagnosis(chain, "proxy-upstream", item, status)
    if status is not None:
        return _diagnosis(chain, "proxy-rejected", item, status)
    return _diagnosis(chain, "proxy-error", proxy_item)


def _http_cause(chain: list[dict[str, Any]]) -> Diagnosis:
    """The endpoint answered: what its status (or LiteLLM's exception type) says."""
    status = _status(chain)
    top = chain[0] if chain else None
    if status in (401, 403) or _has(chain, "AuthenticationError", "PermissionDeniedError"):
        return _diagnosis(chain, "auth", _has(chain, "AuthenticationError", "PermissionDeniedError") or top, status)
    if status == 404 or _has(chain, "NotFoundError"):
        return _diagnosis(chain, "model-unknown", _has(chain, "NotFoundError") or top, status)
    if status == 400 or _has(chain, "BadRequestError"):
        item = _msg(chain, "model") if _msg(chain, "not a valid model", "model_not_found", "does not exist", "invalid model") else None
        return _diagnosis(chain, "model-unknown" if item else "bad-request", item or top, status)
    if status == 429 or _has(chain, "RateLimitError"):
        return _diagnosis(chain, "rate-limited", top, status)
    if status is not None and status >= 500:
        return _diagnosis(chain, "server-error", top, status)
    return _diagnosis(chain, "unknown", top, status)


def classify(chain: list[dict[str, Any]]) -> Diagnosis:
    def make(cause: str, item: dict[str, Any] | None) -> Diagnosis:
        return _diagnosis(chain, cause, item)

    proxy_item = _has(chain, "ProxyConnectionError", "httpx.ProxyError", "ClientHttpProxyError", "ProxyError")
    if proxy_item:
        return _proxy_cause(chain, proxy_item)
    cert = _has(chain, "SSLCertVerificationError", "ClientConnectorCertificateError") or _msg(chain, "CERTIFICATE_VERIFY_FAILED")
    if cert:
        return make("tls-verify", cert)
    tls = _has(chain, "ssl.SSLError", "ClientSSLError", "ClientConnectorSSLError")
    if tls:
        return make("tls-error", tls)
    dns = _has(chain, "gaierror", "ClientConnectorDNSError")
    if dns:
        return make("dns", dns)
    refused = _has(chain, "ConnectionRefusedError")
    if refused or any(item.get("errno") == 111 for item in chain):
        return make("connect-refused", refused)
    connect_timeout = _has(chain, "ConnectTimeout", "ConnectionTimeoutError")
    if connect_timeout:
        return make("connect-timeout", connect_timeout)
    timeout = _has(chain, "Timeout")
    if timeout:
        return make("timeout", timeout)
    reset = _has(chain, "ConnectionResetError", "ServerDisconnectedError", "RemoteProtocolError", "ClientOSError")
    if reset:
        return make("connection-reset", reset)
    missing = _msg(chain, "Missing credentials", "api_key client option must be set", "OPENAI_API_KEY environment variable")
    if missing:
        return make("key-missing", missing)
    if _msg(chain, "LLM Provider NOT provided"):
        return make("provider-unknown", _msg(chain, "LLM Provider NOT provided"))
    connection = _has(chain, "APIConnectionError")
    if connection:
        return make("connection-reset", connection)
    return _http_cause(chain)


def _status_in_text(item: dict[str, Any]) -> int | None:
    import re

    m = re.search(r"(?:^|[ ,:=(])(40[0-9]|50[0-9])(?:$|[ ,:;)])", str(item.get("message", "")))
    return int(m.group(1)) if m else None
