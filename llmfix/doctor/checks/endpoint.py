"""Check 2: the base URL LiteLLM will use, and DNS / TCP / TLS / GET {base}/models to it.

When no base URL variable is set, LiteLLM uses its default endpoint: the findings name it as
the default and never tell the user to fix a variable that is unset."""

from __future__ import annotations

from typing import Callable
from urllib.parse import urlsplit

from llmfix.doctor.env import EnvView
from llmfix.doctor.findings import FAIL, LAYER_CONFIG, LAYER_DNS, LAYER_HTTP, LAYER_TCP, LAYER_TLS, OK, WARN, Finding
from llmfix.doctor.netprobe import Stage
from llmfix.doctor.redact import redact_url

CHECK = "endpoint"
PROXY_HINT = "export https_proxy=http://PROXY:PORT"
Make = Callable[..., Finding]


def is_default(view: EnvView) -> bool:
    return view.endpoint.base_source == "default"


def describe(view: EnvView) -> str:
    """``https://api.openai.com/v1 (LiteLLM's default; OPENAI_API_BASE is unset)`` or ``URL (from VAR)``."""
    base = view.endpoint.base_url.strip()
    return f"{base} (LiteLLM's default; {view.endpoint.base_variable} is unset)" if is_default(view) else f"{base} (from {view.endpoint.base_source})"


def _blame(view: EnvView, when_set: str, when_default: str) -> str:
    """A fix that names the base URL variable only when it is set; else says the default is in use."""
    if not is_default(view):
        return when_set
    return f"{when_default}; if your endpoint is not {view.endpoint.base_url.strip()}: export {view.endpoint.base_variable}=https://HOST/v1"


def _path_warning(view: EnvView) -> tuple[str, str] | None:
    """(summary, fix) when the base URL's path is not what LiteLLM or the provider expects."""
    ep, var = view.endpoint, view.endpoint.base_variable
    path = urlsplit(ep.base_url.strip()).path.rstrip("/")
    if path.endswith("/chat/completions"):
        fixed = urlsplit(ep.base_url.strip())._replace(path=path[: -len("/chat/completions")].rstrip("/")).geturl()
        return f"{var} ends in /chat/completions; LiteLLM appends that itself", f"export {var}={redact_url(fixed)}"
    if ep.is_openrouter and path != "/api/v1":
        return (f"OpenRouter's OpenAI-compatible base is https://openrouter.ai/api/v1, not {ep.base_url.strip()}",
                f"export {var}=https://openrouter.ai/api/v1")
    if ep.is_openai and path != "/v1":
        return f"OpenAI's base is https://api.openai.com/v1, not {ep.base_url.strip()}", f"export {var}=https://api.openai.com/v1"
    return None


def _config_findings(view: EnvView) -> list[Finding]:
    """What the settings alone say: shadowed variables, a path LiteLLM extends, an ignored CA file."""
    ep, findings = view.endpoint, []
    if ep.shadowed:
        findings.append(Finding(CHECK, WARN, f"both OPENAI_BASE_URL and OPENAI_API_BASE are set and differ; LiteLLM uses "
                                             f"OPENAI_BASE_URL={ep.base_url.strip()}",
                                "unset OPENAI_BASE_URL, or set both to the same URL", [], "base-url-shadowed", view.source, LAYER_CONFIG))
    path_warning = _path_warning(view)
    if path_warning:
        findings.append(Finding(CHECK, WARN, *path_warning, [], "base-url-path", view.source, LAYER_CONFIG + 0.1))
    return findings + [Finding(CHECK, WARN, why, "export SSL_CERT_FILE=/path/to/ca-bundle.pem (an existing file)", [], "tls-config",
                               view.source, LAYER_TLS - 0.1) for name, why in view.tls.ignored if name == "SSL_CERT_FILE"]


def check(view: EnvView) -> list[Finding]:
    ep, tls = view.endpoint, view.tls
    where = describe(view) + (f", LiteLLM's openrouter/ route for {view.probe_model}" if ep.route == "openrouter" else "")
    detail = [f"{ep.shadowed[0]}={redact_url(ep.shadowed[1])} is ignored: {ep.base_source} wins"] if ep.shadowed else []
    detail += [why for _name, why in tls.ignored]
    if tls.source != "certifi":
        detail.append(f"TLS: {'verification off (SSL_VERIFY=False)' if not tls.verify else f'CA bundle from {tls.source}={tls.cafile}'}")

    def finding(status: str, summary: str, fix: str = "", cause: str = "", layer: float = LAYER_HTTP, caused_by: str = "") -> Finding:
        return Finding(CHECK, status, summary, fix, list(detail), cause, view.source, layer, caused_by)

    if view.base_problem is not None:
        return [finding(FAIL, f"base URL {ep.base_url!r} (from {ep.base_source}) {view.base_problem}",
                        f"export {ep.base_variable}=https://HOST/v1  (no quotes inside the value)", "base-url", LAYER_CONFIG)]
    if view.trace is None:
        return _config_findings(view) + [finding(OK, f"base URL {where}; not contacted (--offline)")]
    return _config_findings(view) + [_trace_finding(view, where, finding)]


def _trace_finding(view: EnvView, where: str, finding: Make) -> Finding:
    trace, ep = view.trace, view.endpoint
    assert trace is not None
    stage = trace.failed
    if stage is None:
        http, tls = trace.stage("http"), trace.stage("tls")
        n = len(http.data.get("models") or []) if http else 0
        return finding(OK, f"{where}: GET /models -> {http.status if http else '?'}"
                           + (f", TLS ok ({tls.data.get('version')})" if tls else "") + (f", {n} models listed" if n else ""))
    if stage.name.startswith("proxy-") or (stage.name == "connect" and stage.kind != "upstream"):
        return finding(FAIL, f"{where} cannot be reached: the proxy in front of it fails (see proxy)",
                       "fix the proxy first", "proxy", LAYER_HTTP, caused_by="proxy")
    if trace.upstream_failed:
        return finding(FAIL, f"{where}: the proxy cannot reach {ep.host}:{ep.port} ({stage.message}); the endpoint is down, "
                             f"its name does not resolve from the proxy, or the proxy blocks it",
                       _blame(view, f"check {ep.base_variable} (host and port); from a machine without the proxy: "
                                    f"curl {redact_url(ep.base_url.strip())}/models", "ask for it to be allowed through the proxy"),
                       "proxy-upstream", LAYER_TCP)
    if stage.name in ("dns", "tcp", "tls"):
        return _network_finding(view, where, stage, finding)
    return _http_finding(view, where, stage, finding)


def _network_finding(view: EnvView, where: str, stage: Stage, finding: Make) -> Finding:
    """A DNS, TCP or TLS failure on the way to the endpoint."""
    var, host, port = view.endpoint.base_variable, view.endpoint.host, view.endpoint.port
    if stage.name == "dns":
        fix = _blame(view, f"fix the host name in {var}, or your DNS (a proxy may be needed: {PROXY_HINT})",
                     f"{host} does not resolve from here: check your DNS, or reach it through a proxy ({PROXY_HINT})")
        cause, layer = "dns" if stage.kind == "dns" else "dns-timeout", LAYER_DNS
    elif stage.name == "tcp" and stage.kind == "refused":
        fix = _blame(view, f"nothing listens at {host}:{port}: start the server or fix the port in {var}",
                     f"{host}:{port} refuses connections from here: a firewall may need a proxy ({PROXY_HINT})")
        cause, layer = "connect-refused", LAYER_TCP
    elif stage.name == "tcp" and stage.kind == "timeout":
        fix = _blame(view, f"{host}:{port} does not answer: a firewall may need a proxy ({PROXY_HINT}), or fix {var}",
                     f"{host}:{port} does not answer: a firewall may need a proxy ({PROXY_HINT})")
        cause, layer = "connect-timeout", LAYER_TCP
    elif stage.name == "tcp":
        fix, cause, layer = _blame(view, f"check {var}", "check your network"), "connect-error", LAYER_TCP
    elif stage.kind == "tls-verify":
        fix = "export SSL_CERT_FILE=/path/to/ca-bundle.pem  (the CA that signed it; e.g. your corporate proxy's CA)"
        cause, layer = "tls-verify", LAYER_TLS
    else:
        fix = _blame(view, f"check that {var} uses the right scheme (http vs https) and port",
                     "something between here and the endpoint breaks TLS (an intercepting proxy?)")
        cause, layer = "tls-error", LAYER_TLS
    return finding(FAIL, f"{where}: {stage.message}", fix, cause, layer)


def _http_finding(view: EnvView, where: str, stage: Stage, finding: Make) -> Finding:
    """The endpoint was reached; GET {base}/models failed or answered with an error."""
    var, status = view.endpoint.base_variable, stage.status
    said = f" ({stage.data['error']})" if stage.data.get("error") else ""
    if stage.kind == "timeout":
        return finding(FAIL, f"{where}: {stage.message}",
                       "the endpoint hangs: check the server; meanwhile keep LITELLM_DEFAULT_TIMEOUT short (e.g. export LITELLM_DEFAULT_TIMEOUT=60)",
                       "timeout")
    if stage.kind in ("reset", "protocol", "error"):
        return finding(FAIL, f"{where}: {stage.message}", _blame(view, f"check that {var} points at an OpenAI-compatible server (scheme and port)",
                                                                 "something between here and the endpoint drops the connection (a proxy may be needed)"),
                       "connection-reset")
    if status in (401, 403):
        return finding(OK, f"{where}: reachable; GET /models -> {status}{said} (see key)")
    if status == 404:
        return finding(WARN, f"{where}: GET /models -> 404: the server answers but not as an OpenAI base URL",
                       _blame(view, f"check the path of {var} (OpenAI-compatible bases usually end in /v1)",
                              "something answers in the endpoint's place (an intercepting proxy?)"), "base-url-path")
    if status == 429:
        return finding(WARN, f"{where}: GET /models -> 429 rate limited{said}", "wait, or raise your rate limit", "rate-limited")
    if status is not None and status >= 500:
        return finding(FAIL, f"{where}: GET /models -> {status}{said}: the server fails",
                       "the endpoint is failing: retry later, or configure a fallback with its own api_base in LITELLM_FALLBACK_MODELS",
                       "server-error")
    return finding(WARN, f"{where}: {stage.message}{said}", _blame(view, f"check {var}", "see the status above"), "http-status")
