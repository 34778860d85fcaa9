"""Check 2: the base URL LiteLLM will use, and DNS / TCP / TLS / GET {base}/models to it."""

from __future__ import annotations

from urllib.parse import urlsplit

from llmfix.doctor.checks.proxy import upstream_failure
from llmfix.doctor.context import EnvView
from llmfix.doctor.findings import (
    FAIL,
    LAYER_CONFIG,
    LAYER_DNS,
    LAYER_HTTP,
    LAYER_TCP,
    LAYER_TLS,
    OK,
    WARN,
    Finding,
)
from llmfix.doctor.redact import redact_url

CHECK = "endpoint"


def _var(view: EnvView) -> str:
    ep = view.endpoint
    if ep.base_source != "default":
        return ep.base_source
    return "OPENROUTER_API_BASE" if ep.route == "openrouter" else "OPENAI_API_BASE"


def _path_warnings(view: EnvView) -> list[tuple[str, str]]:
    ep = view.endpoint
    path = urlsplit(ep.base_url.strip()).path.rstrip("/")
    out = []
    var = _var(view)
    if path.endswith("/chat/completions"):
        parts = urlsplit(ep.base_url.strip())
        fixed = parts._replace(path=path[: -len("/chat/completions")].rstrip("/")).geturl()
        out.append((f"{var} ends in /chat/completions; LiteLLM appends that itself", f"export {var}={redact_url(fixed)}"))
    elif ep.is_openrouter and path != "/api/v1":
        out.append((f"OpenRouter's OpenAI-compatible base is https://openrouter.ai/api/v1, not {ep.base_url.strip()}",
                    f"export {var}=https://openrouter.ai/api/v1"))
    elif ep.is_openai and path != "/v1":
        out.append((f"OpenAI's base is https://api.openai.com/v1, not {ep.base_url.strip()}",
                    f"export {var}=https://api.openai.com/v1"))
    return out


def check(view: EnvView) -> list[Finding]:
    ep = view.endpoint
    var = _var(view)
    base = ep.base_url.strip()
    where = f"{base} (from {ep.base_source})" if ep.base_source != "default" else f"{base} (LiteLLM's default: {var} is not set)"
    if ep.route == "openrouter":
        where += f", LiteLLM's openrouter/ route for {view.probe_model}"
    detail = []
    if ep.shadowed:
        detail.append(f"{ep.shadowed[0]}={redact_url(ep.shadowed[1])} is ignored: {ep.base_source} wins")
    for name, why in view.tls.ignored:
        detail.append(why)
    if view.tls.source != "certifi":
        detail.append(f"TLS: {'verification off (SSL_VERIFY=False)' if not view.tls.verify else f'CA bundle from {view.tls.source}={view.tls.cafile}'}")

    def finding(status: str, summary: str, fix: str = "", cause: str = "", layer: float = LAYER_HTTP, caused_by: str = "") -> Finding:
        return Finding(CHECK, status, summary, fix, list(detail), cause, view.source, layer, caused_by)

    findings: list[Finding] = []
    if view.base_problem is not None:
        return [finding(FAIL, f"base URL {ep.base_url!r} (from {ep.base_source}) {view.base_problem}",
                        f"export {var}=https://HOST/v1  (no quotes inside the value)", "base-url", LAYER_CONFIG)]
    if ep.shadowed:
        findings.append(Finding(CHECK, WARN, f"both OPENAI_BASE_URL and OPENAI_API_BASE are set and differ; LiteLLM uses OPENAI_BASE_URL={base}",
                                "unset OPENAI_BASE_URL, or set both to the same URL", [], "base-url-shadowed", view.source, LAYER_CONFIG))
    for summary, fix in _path_warnings(view):
        findings.append(Finding(CHECK, WARN, summary, fix, [], "base-url-path", view.source, LAYER_CONFIG + 0.1))
    for name, why in view.tls.ignored:
        if name == "SSL_CERT_FILE":
            findings.append(Finding(CHECK, WARN, why, "export SSL_CERT_FILE=/path/to/ca-bundle.pem (an existing file)",
                                    [], "tls-config", view.source, LAYER_TLS - 0.1))

    trace = view.trace
    if trace is None:
        findings.append(finding(OK, f"base URL {where}; not contacted (--offline)"))
        return findings
    stage = trace.failed
    host = ep.host
    port = urlsplit(base).port or (443 if base.startswith("https") else 80)
    if stage is not None and stage.name.startswith("proxy-") or (stage is not None and stage.name == "connect" and stage.kind != "upstream"):
        findings.append(finding(FAIL, f"{where} cannot be reached: the proxy in front of it fails (see proxy)",
                                "fix the proxy first", "proxy", LAYER_HTTP, caused_by="proxy"))
        return findings
    if stage is not None and upstream_failure(trace):
        msg = stage.message
        findings.append(finding(FAIL, f"{where}: the proxy cannot reach {host}:{port} ({msg}); the endpoint is down, "
                                      f"its name does not resolve from the proxy, or the proxy blocks it",
                                f"check {var} (host and port); from a machine without the proxy: curl {redact_url(base)}/models",
                                "proxy-upstream", LAYER_TCP))
        return findings
    if stage is None:
        http = trace.stage("http")
        n = len(http.data.get("models") or []) if http else 0
        listed = f", {n} models listed" if n else ""
        tls = trace.stage("tls")
        tls_text = f", TLS ok ({tls.data.get('version')})" if tls else ""
        findings.append(finding(OK, f"{where}: GET /models -> {http.status if http else '?'}{tls_text}{listed}"))
        return findings
    if stage.name == "dns":
        cause = "dns" if stage.kind == "dns" else "dns-timeout"
        findings.append(finding(FAIL, f"{where}: {stage.message}",
                                f"fix the host name in {var}, or your DNS (a proxy may be needed: export https_proxy=http://PROXY:PORT)",
                                cause, LAYER_DNS))
    elif stage.name == "tcp":
        cause = {"refused": "connect-refused", "timeout": "connect-timeout"}.get(stage.kind, "connect-error")
        hint = {"connect-refused": f"nothing listens at {host}:{port}: start the server or fix the port in {var}",
                "connect-timeout": f"{host}:{port} does not answer: a firewall may need a proxy (export https_proxy=http://PROXY:PORT), or fix {var}"}
        findings.append(finding(FAIL, f"{where}: {stage.message}", hint.get(cause, f"check {var}"), cause, LAYER_TCP))
    elif stage.name == "tls":
        if stage.kind == "tls-verify":
            findings.append(finding(FAIL, f"{where}: {stage.message}",
                                    "export SSL_CERT_FILE=/path/to/ca-bundle.pem  (the CA that signed it; e.g. your corporate proxy's CA)",
                                    "tls-verify", LAYER_TLS))
        else:
            findings.append(finding(FAIL, f"{where}: {stage.message}",
                                    f"check that {var} uses the right scheme (http vs https) and port", "tls-error", LAYER_TLS))
    else:  # http stage
        status = stage.status
        error = stage.data.get("error") or ""
        said = f" ({error})" if error else ""
        if stage.kind == "timeout":
            findings.append(finding(FAIL, f"{where}: {stage.message}",
                                    "the endpoint hangs: check the server; meanwhile keep LITELLM_DEFAULT_TIMEOUT short (e.g. export LITELLM_DEFAULT_TIMEOUT=60)",
                                    "timeout", LAYER_HTTP))
        elif stage.kind in ("reset", "protocol", "error"):
            findings.append(finding(FAIL, f"{where}: {stage.message}", f"check that {var} points at an OpenAI-compatible server (scheme and port)",
                                    "connection-reset", LAYER_HTTP))
        elif status in (401, 403):
            findings.append(finding(OK, f"{where}: reachable; GET /models -> {status}{said} (see key)"))
        elif status == 404:
            findings.append(finding(WARN, f"{where}: GET /models -> 404: the server answers but not as an OpenAI base URL",
                                    f"check the path of {var} (OpenAI-compatible bases usually end in /v1)", "base-url-path", LAYER_HTTP))
        elif status == 429:
            findings.append(finding(WARN, f"{where}: GET /models -> 429 rate limited{said}", "wait, or raise your rate limit", "rate-limited", LAYER_HTTP))
        elif status is not None and status >= 500:
            findings.append(finding(FAIL, f"{where}: GET /models -> {status}{said}: the server fails",
                                    "the endpoint is failing: retry later, or configure a fallback with its own api_base in LITELLM_FALLBACK_MODELS",
                                    "server-error", LAYER_HTTP))
        else:
            findings.append(finding(WARN, f"{where}: {stage.message}{said}", f"check {var}", "http-status", LAYER_HTTP))
    return findings
