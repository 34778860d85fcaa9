"""Check 7: the live probe's verdict, the root cause named from its exception chain.

LiteLLM reports every transport failure as ``InternalServerError ... Connection error.``; the chain
underneath (openai.APIConnectionError -> httpx.ProxyError/ConnectError -> aiohttp ... ->
ConnectionRefusedError/gaierror/...) tells a dead proxy from a refused port, DNS, TLS and the rest."""

from __future__ import annotations

import re
from typing import Any

from llmfix.doctor import causes
from llmfix.doctor.env import EnvView
from llmfix.doctor.findings import FAIL, LAYER, OK, WARN, Finding
from llmfix.doctor.probe import ProbeResult

CHECK = "live-probe"
Chain = list[dict[str, Any]]

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


def classify(chain: Chain) -> str:
    """The root cause of a failed LiteLLM call, from its exception chain (pure)."""
    proxy_item = _typed(chain, "ProxyConnectionError", "ProxyError")
    refused = any(item.get("errno") == 111 for item in chain)
    if proxy_item:
        cause = _proxy_cause(chain, proxy_item)
    else:
        cause = next((c for c, types, texts in _TRANSPORT if (types and _typed(chain, *types)) or (texts and _says(chain, *texts))
                      or (c == "connect-refused" and refused)), None) or _http_cause(chain)
    return cause


def finding(result: ProbeResult, timeout: float, failed_checks: set[str], view: EnvView) -> Finding:
    """The probe's verdict in the environment it ran with (``view``); ``failed_checks``: the checks that FAIL there."""
    if result.error:
        fix = "pip install litellm" if "cannot be imported" in result.error else "run again; or skip the probe with --offline"
        return Finding(CHECK, WARN, f"live probe not run: {result.error}", fix, [], "probe-unavailable", view.source, LAYER["probe"])
    if result.ok:
        return Finding(CHECK, OK, f"one-token completion with {result.model} answered in {result.seconds:.2f} s "
                                  f"(litellm import {result.import_seconds:.1f} s)", "", [], "", view.source, LAYER["probe"])
    cause = classify(result.chain)
    known = causes.CAUSES[cause]
    detail = [f"{i * '  '}{item['type']}: {str(item['message']).splitlines()[0][:160] if item['message'] else ''}"
              for i, item in enumerate(result.chain)]
    top = result.chain[0]["message"].splitlines()[0][:120] if result.chain and result.chain[0]["message"] else "?"
    summary = (f"acompletion({result.model}, max_tokens=1, num_retries=0, timeout={timeout:g}) failed after {result.seconds:.1f} s: "
               f"{known.words} [LiteLLM said: {top}]")
    return Finding(CHECK, FAIL, summary, causes.fix(cause, view), detail, cause, view.source, known.layer + 0.5,
                   known.owner if known.owner in failed_checks else "")
