"""Check 7: the live probe's verdict, the root cause named from its exception chain.

LiteLLM reports every transport failure as ``InternalServerError ... Connection error.``; the chain
underneath (openai.APIConnectionError -> httpx.ProxyError/ConnectError -> aiohttp ... ->
ConnectionRefusedError/gaierror/...) tells a dead proxy from a refused port, DNS, TLS and the rest."""

from __future__ import annotations

import re
from typing import Any, NamedTuple

from llmfix.doctor.findings import FAIL, LAYER, OK, WARN, Finding
from llmfix.doctor.probe import ProbeResult

CHECK = "live-probe"
Chain = list[dict[str, Any]]

# cause -> (the check it belongs to, causal layer, what it means, the fix); a fix naming "the base URL"
# is replaced by a pointer to the endpoint finding when that URL is LiteLLM's default.
CAUSES: dict[str, tuple[str, float, str, str]] = {
    "proxy-refused": ("proxy", LAYER["proxy"], "the proxy refused the connection (nothing listens at the proxy address)",
                      "start the proxy or fix/unset the proxy variable (see proxy)"),
    "proxy-dns": ("proxy", LAYER["proxy"], "the proxy's host name does not resolve", "fix the proxy host in the proxy variable (see proxy)"),
    "proxy-timeout": ("proxy", LAYER["proxy"], "the proxy did not answer in time", "check the proxy, or bypass it with no_proxy (see proxy)"),
    "proxy-rejected": ("proxy", LAYER["proxy"], "the proxy rejected the tunnel to the endpoint",
                       "have the endpoint allowed through the proxy, or bypass it with no_proxy"),
    "proxy-auth": ("proxy", LAYER["proxy"], "the proxy wants credentials (407)", "put credentials in the proxy URL: http://USER:PASSWORD@HOST:PORT"),
    "proxy-upstream": ("endpoint", LAYER["tcp"], "the proxy works but could not reach the endpoint (it answered the tunnel with 5xx)",
                       "the endpoint is down or unreachable from the proxy: check the base URL"),
    "proxy-error": ("proxy", LAYER["proxy"], "the connection through the proxy failed", "check the proxy (see proxy)"),
    "dns": ("endpoint", LAYER["dns"], "the endpoint's host name does not resolve (DNS)", "fix the host name in the base URL, or your DNS"),
    "connect-refused": ("endpoint", LAYER["tcp"], "the endpoint refused the connection (nothing listens on that port)",
                        "start the server or fix the port in the base URL"),
    "connect-timeout": ("endpoint", LAYER["tcp"], "connecting to the endpoint timed out (blackholed or filtered)",
                        "the endpoint is blackholed: a proxy may be needed, or fix the base URL"),
    "connection-reset": ("endpoint", LAYER["http"], "the endpoint dropped the connection", "check the base URL's scheme and port"),
    "tls-verify": ("endpoint", LAYER["tls"], "the endpoint's TLS certificate is not trusted (certificate verify failed)",
                   "export SSL_CERT_FILE=/path/to/ca-bundle.pem (the CA that signed the endpoint's certificate)"),
    "tls-error": ("endpoint", LAYER["tls"], "the TLS handshake with the endpoint failed", "check the base URL's scheme (http vs https) and port"),
    "timeout": ("endpoint", LAYER["http"], "the endpoint accepted the request but did not answer in time (timeout)",
                "the endpoint hangs; keep LITELLM_DEFAULT_TIMEOUT short (e.g. 60) and configure a fallback with its own api_base"),
    "server-error": ("endpoint", LAYER["http"], "the endpoint answered with a server error (5xx)",
                     "the endpoint is failing: retry later, or add a fallback with its own api_base to LITELLM_FALLBACK_MODELS"),
    "auth": ("key", LAYER["key"], "the endpoint rejected the API key (401: invalid or expired)", "set a valid key (see key)"),
    "key-missing": ("key", LAYER["key"], "no API key is set", "export OPENAI_API_KEY=... (see key)"),
    "model-unknown": ("models", LAYER["model"], "the endpoint does not know the model (404 / unknown model)",
                      "use a model id the endpoint serves (see models)"),
    "provider-unknown": ("models", LAYER["model"], "LiteLLM cannot tell which provider the model name belongs to",
                         "prefix the model with openai/ (see models)"),
    "bad-request": ("models", LAYER["model"], "the endpoint rejected the request (400)", "see the error text; check the model name and base URL"),
    "rate-limited": ("endpoint", LAYER["http"], "the endpoint is rate limiting (429)", "wait, or raise the rate limit; retries obey Retry-After"),
    "unknown": ("live-probe", LAYER["probe"], "an error the doctor does not recognise", "see the exception chain in the detail"),
}

# Without a proxy error: (cause, exception type names, message texts); the first that matches names the cause.
_TRANSPORT = (
    ("tls-verify", ("SSLCertVerificationError", "ClientConnectorCertificateError"), ("CERTIFICATE_VERIFY_FAILED",)),
    ("tls-error", ("ssl.SSLError", "ClientSSLError", "ClientConnectorSSLError"), ()),
    ("dns", ("gaierror", "ClientConnectorDNSError"), ()),
    ("connect-refused", ("ConnectionRefusedError",), ()),  # or errno 111 anywhere
    ("connect-timeout", ("ConnectTimeout", "ConnectionTimeoutError"), ()),
    ("timeout", ("Timeout",), ()),
    ("connection-reset", ("ConnectionResetError", "ServerDisconnectedError", "RemoteProtocolError", "ClientOSError"), ()),
    ("key-missing", (), ("Missing credentials", "api_key client option must be set", "OPENAI_API_KEY environment variable")),
    ("provider-unknown", (), ("LLM Provider NOT provided",)),
    ("connection-reset", ("APIConnectionError",), ()),
)
_STATUS_IN_TEXT = re.compile(r"(?:^|[ ,:=(])(40[0-9]|50[0-9])(?:$|[ ,:;)])")


class Diagnosis(NamedTuple):
    cause: str
    owner: str  # the check the cause belongs to
    layer: float
    words: str
    fix: str


def _typed(chain: Chain, *names: str) -> dict[str, Any] | None:
    """The outermost error whose type contains one of ``names``."""
    return next((item for item in chain if any(n in item.get("type", "") for n in names)), None)


def _says(chain: Chain, *texts: str) -> bool:
    return any(t.lower() in str(item.get("message", "")).lower() for item in chain for t in texts)


def _proxy_cause(chain: Chain, proxy_item: dict[str, Any]) -> str:
    """What went wrong with the proxy, the chain having a proxy error in it."""
    root = chain[-1]
    if "gaierror" in root.get("type", "") or _typed(chain, "DNSError"):
        return "proxy-dns"
    if "ConnectionRefused" in root.get("type", "") or root.get("errno") == 111:
        return "proxy-refused"
    if _typed(chain, "Timeout"):
        return "proxy-timeout"
    item = _typed(chain, "ClientHttpProxyError") or proxy_item
    status = item.get("status_code")
    if not isinstance(status, int):
        found = _STATUS_IN_TEXT.search(str(item.get("message", "")))
        status = int(found.group(1)) if found else None
    if status is None:
        return "proxy-error"
    return "proxy-auth" if status == 407 else "proxy-upstream" if status >= 500 else "proxy-rejected"


def _http_cause(chain: Chain) -> str:
    """The endpoint answered: what its status (or LiteLLM's exception type) says."""
    status = next((s for s in (item.get("status_code") for item in chain) if isinstance(s, int) and 100 <= s < 600), None)
    if status in (401, 403) or _typed(chain, "AuthenticationError", "PermissionDeniedError"):
        return "auth"
    if status == 404 or _typed(chain, "NotFoundError"):
        return "model-unknown"
    if status == 400 or _typed(chain, "BadRequestError"):
        unknown = _says(chain, "not a valid model", "model_not_found", "does not exist", "invalid model") and _says(chain, "model")
        return "model-unknown" if unknown else "bad-request"
    if status == 429 or _typed(chain, "RateLimitError"):
        return "rate-limited"
    return "server-error" if status is not None and status >= 500 else "unknown"


def classify(chain: Chain) -> Diagnosis:
    """The root cause of a failed LiteLLM call, from its exception chain (pure)."""
    proxy_item = _typed(chain, "ProxyConnectionError", "ProxyError")
    refused = any(item.get("errno") == 111 for item in chain)
    if proxy_item:
        cause = _proxy_cause(chain, proxy_item)
    else:
        cause = next((c for c, types, texts in _TRANSPORT if (types and _typed(chain, *types)) or (texts and _says(chain, *texts))
                      or (c == "connect-refused" and refused)), None) or _http_cause(chain)
    return Diagnosis(cause, *CAUSES[cause])


def finding(result: ProbeResult, timeout: float, failed_checks: set[str], default_base: str = "", source: str = "environment") -> Finding:
    """``failed_checks``: the checks that FAIL in the probed environment (``source``: this shell's, or a
    launcher's); ``default_base`` describes LiteLLM's default endpoint when no base URL variable is set."""
    if result.error:
        fix = "pip install litellm" if "cannot be imported" in result.error else "run again; or skip the probe with --offline"
        return Finding(CHECK, WARN, f"live probe not run: {result.error}", fix, [], "probe-unavailable", source, LAYER["probe"])
    if result.ok:
        return Finding(CHECK, OK, f"one-token completion with {result.model} answered in {result.seconds:.2f} s "
                                  f"(litellm import {result.import_seconds:.1f} s)", "", [], "", source, LAYER["probe"])
    diag = classify(result.chain)
    fix = f"see endpoint: the base URL is {default_base}" if default_base and "the base URL" in diag.fix else diag.fix
    detail = [f"{i * '  '}{item['type']}: {str(item['message']).splitlines()[0][:160] if item['message'] else ''}"
              for i, item in enumerate(result.chain)]
    top = result.chain[0]["message"].splitlines()[0][:120] if result.chain and result.chain[0]["message"] else "?"
    summary = (f"acompletion({result.model}, max_tokens=1, num_retries=0, timeout={timeout:g}) failed after {result.seconds:.1f} s: "
               f"{diag.words} [LiteLLM said: {top}]")
    return Finding(CHECK, FAIL, summary, fix, detail, diag.cause, source, diag.layer + 0.5, diag.owner if diag.owner in failed_checks else "")
