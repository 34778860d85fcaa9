"""Check 7: the live probe's verdict, with the root cause named."""

from __future__ import annotations

from llmfix.doctor.classify import classify
from llmfix.doctor.findings import (
    FAIL,
    LAYER_DNS,
    LAYER_HTTP,
    LAYER_KEY,
    LAYER_MODEL,
    LAYER_PROBE,
    LAYER_PROXY,
    LAYER_TCP,
    LAYER_TLS,
    OK,
    WARN,
    Finding,
)
from llmfix.doctor.probe import ProbeResult

CHECK = "live-probe"

_LAYERS = {
    "proxy": LAYER_PROXY,
    "dns": LAYER_DNS,
    "connect-refused": LAYER_TCP,
    "connect-timeout": LAYER_TCP,
    "proxy-upstream": LAYER_TCP,
    "tls-verify": LAYER_TLS,
    "tls-error": LAYER_TLS,
    "key": LAYER_KEY,
    "models": LAYER_MODEL,
}

_FIXES = {
    "proxy-refused": "start the proxy or fix/unset the proxy variable (see proxy)",
    "proxy-dns": "fix the proxy host in the proxy variable (see proxy)",
    "proxy-timeout": "check the proxy, or bypass it with no_proxy (see proxy)",
    "proxy-rejected": "have the endpoint allowed through the proxy, or bypass it with no_proxy",
    "proxy-auth": "put credentials in the proxy URL: http://USER:PASSWORD@HOST:PORT",
    "proxy-upstream": "the endpoint is down or unreachable from the proxy: check the base URL",
    "proxy-error": "check the proxy (see proxy)",
    "dns": "fix the host name in the base URL, or your DNS",
    "connect-refused": "start the server or fix the port in the base URL",
    "connect-timeout": "the endpoint is blackholed: a proxy may be needed, or fix the base URL",
    "connection-reset": "check the base URL's scheme and port",
    "tls-verify": "export SSL_CERT_FILE=/path/to/ca-bundle.pem (the CA that signed the endpoint's certificate)",
    "tls-error": "check the base URL's scheme (http vs https) and port",
    "timeout": "the endpoint hangs; keep LITELLM_DEFAULT_TIMEOUT short (e.g. 60) and configure a fallback with its own api_base",
    "server-error": "the endpoint is failing: retry later, or add a fallback with its own api_base to LITELLM_FALLBACK_MODELS",
    "auth": "set a valid key (see key)",
    "key-missing": "export OPENAI_API_KEY=... (see key)",
    "model-unknown": "use a model id the endpoint serves (see models)",
    "provider-unknown": "prefix the model with openai/ (see models)",
    "bad-request": "see the error text; check the model name and base URL",
    "rate-limited": "wait, or raise the rate limit; retries obey Retry-After",
    "unknown": "see the exception chain in the detail",
}
# Causes whose fix above names "the base URL": when that URL is LiteLLM's default (no variable
# set), there is no host name or port of the user's to fix.
_BASE_URL_CAUSES = {"proxy-upstream", "dns", "connect-refused", "connect-timeout", "connection-reset", "tls-error"}


def _fix(cause: str, default_base: str) -> str:
    if default_base and cause in _BASE_URL_CAUSES:
        return f"see endpoint: the base URL is {default_base}"
    return _FIXES.get(cause, "")


def finding(result: ProbeResult, timeout: float, failed_checks: dict[str, str], default_base: str = "",
            source: str = "environment") -> Finding:
    """``failed_checks`` maps check name -> cause of that check's FAIL in the probed environment
    (``source``: this shell's, or a launcher's); ``default_base`` describes LiteLLM's default
    endpoint when no base URL variable is set."""
    if not result.ran:
        fix = "pip install litellm" if "cannot be imported" in result.error else "run again; or skip the probe with --offline"
        return Finding(CHECK, WARN, f"live probe not run: {result.error}", fix,
                       [], "probe-unavailable", source, LAYER_PROBE)
    if result.ok:
        return Finding(CHECK, OK, f"one-token completion with {result.model} answered in {result.seconds:.2f} s "
                                  f"(litellm import {result.import_seconds:.1f} s)", "", [], "", source, LAYER_PROBE)
    diag = classify(result.chain)
    layer = _LAYERS.get(diag.cause, _LAYERS.get(diag.owner, LAYER_HTTP if diag.owner == "endpoint" else LAYER_PROBE)) + 0.5
    detail = [f"{i * '  '}{item['type']}: {str(item['message']).splitlines()[0][:160] if item['message'] else ''}"
              for i, item in enumerate(result.chain)]
    top = result.chain[0]["message"].splitlines()[0][:120] if result.chain and result.chain[0]["message"] else "?"
    caused_by = diag.owner if diag.owner in failed_checks else ""
    summary = (f"acompletion({result.model}, max_tokens=1, num_retries=0, timeout={timeout:g}) failed after {result.seconds:.1f} s: "
               f"{diag.words} [LiteLLM said: {top}]")
    return Finding(CHECK, FAIL, summary, _fix(diag.cause, default_base), detail, diag.cause, source, layer, caused_by)
