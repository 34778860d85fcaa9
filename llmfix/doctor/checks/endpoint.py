"""Check 2: the base URL LiteLLM will use, and DNS / TCP / TLS / GET {base}/models to it. With no base
URL variable set, LiteLLM's default endpoint is named as the default: no fix blames an unset variable."""

from __future__ import annotations

from urllib.parse import urlsplit

from llmfix.doctor import causes
from llmfix.doctor.env import EnvView
from llmfix.doctor.findings import FAIL, LAYER, OK, WARN, Finding

CHECK = "endpoint"


def describe(view: EnvView) -> str:
    """``https://api.openai.com/v1 (LiteLLM's default; OPENAI_API_BASE is unset)`` or ``URL (from VAR)``."""
    ep = view.endpoint
    origin = f"LiteLLM's default; {ep.base_variable} is unset" if view.is_default else f"from {ep.base_source}"
    return f"{ep.base_url.strip()} ({origin})"


def _config_findings(view: EnvView) -> list[Finding]:
    """What the settings alone say: shadowed variables, a base path LiteLLM or the provider does not expect, an ignored CA file."""
    ep, var, findings = view.endpoint, view.endpoint.base_variable, []
    if ep.shadowed:
        findings.append(
            Finding(
                CHECK,
                WARN,
                f"both OPENAI_BASE_URL and OPENAI_API_BASE are set and differ; LiteLLM uses OPENAI_BASE_URL={ep.base_url.strip()}",
                "unset OPENAI_BASE_URL, or set both to the same URL",
                [],
                "base-url-shadowed",
                view.source,
                LAYER["config"],
            )
        )
    url = urlsplit(ep.base_url.strip())
    path, wanted = url.path.rstrip("/"), {"openrouter": "https://openrouter.ai/api/v1", "api.openai.com": "https://api.openai.com/v1"}
    if path.endswith("/chat/completions"):
        fixed = url._replace(path=path.removesuffix("/chat/completions").rstrip("/")).geturl()
        warning = f"{var} ends in /chat/completions; LiteLLM appends that itself", f"export {var}={fixed}"
    else:
        base = wanted["openrouter"] if ep.is_openrouter else wanted.get(ep.host)
        warning = (
            (f"{'OpenRouter' if ep.is_openrouter else 'OpenAI'}'s base is {base}, not {ep.base_url.strip()}", f"export {var}={base}")
            if base and path != urlsplit(base).path
            else None
        )
    if warning:
        findings.append(Finding(CHECK, WARN, *warning, [], "base-url-path", view.source, LAYER["config"] + 0.1))
    return findings + [
        Finding(CHECK, WARN, why, "export SSL_CERT_FILE=/path/to/ca-bundle.pem (an existing file)", [], "tls-config", view.source, LAYER["tls"] - 0.1)
        for name, why in view.tls.ignored
        if name == "SSL_CERT_FILE"
    ]


def check(view: EnvView) -> list[Finding]:
    ep, tls = view.endpoint, view.tls
    where = describe(view) + (f", LiteLLM's openrouter/ route for {view.probe_model}" if ep.route == "openrouter" else "")
    detail = [f"{ep.shadowed[0]}={ep.shadowed[1]} is ignored: {ep.base_source} wins"] if ep.shadowed else []
    detail += [why for _name, why in tls.ignored]
    if tls.source != "certifi":
        detail.append(f"TLS: {'verification off (SSL_VERIFY=False)' if not tls.verify else f'CA bundle from {tls.source}={tls.cafile}'}")
    if view.base_problem is not None:
        return [
            Finding(
                CHECK,
                FAIL,
                f"base URL {ep.base_url!r} (from {ep.base_source}) {view.base_problem}",
                f"export {ep.base_variable}=https://HOST/v1  (no quotes inside the value)",
                detail,
                "base-url",
                view.source,
                LAYER["config"],
            )
        ]
    if view.trace is None:
        return _config_findings(view) + [Finding(CHECK, OK, f"base URL {where}; not contacted (--offline)", "", detail, "", view.source)]
    status, summary, fix, cause, layer, caused_by = _verdict(view, where)
    return _config_findings(view) + [Finding(CHECK, status, summary, fix, detail, cause, view.source, layer, caused_by)]


def _verdict(view: EnvView, where: str) -> tuple[str, str, str, str, float, str]:
    """(status, summary, fix, cause, layer, caused_by) of what the trace to {base}/models says."""
    trace, ep = view.trace, view.endpoint
    assert trace is not None
    stage = trace.failed
    if stage is None:
        http, tls = trace.stage("http"), trace.stage("tls")
        n = len(http.data.get("models") or []) if http else 0
        return (
            OK,
            f"{where}: GET /models -> {http.status if http else '?'}"
            + (f", TLS ok ({tls.data.get('version')})" if tls else "")
            + (f", {n} models listed" if n else ""),
            "",
            "",
            LAYER["http"],
            "",
        )
    if trace.proxy_failed:
        summary = f"{where} cannot be reached: the proxy in front of it fails (see proxy)"
        return FAIL, summary, "fix the proxy first", "proxy", LAYER["http"], "proxy"
    said, cause = f" ({stage.data['error']})" if stage.data.get("error") else "", stage.cause
    if cause == "auth":
        return OK, f"{where}: reachable; GET /models -> {stage.status}{said} (see key)", "", "", LAYER["http"], ""
    if cause == "proxy-upstream":
        summary = (
            f"the proxy cannot reach {ep.host}:{ep.port} ({stage.message}); the endpoint is down, its name does not resolve "
            "from the proxy, or the proxy blocks it"
        )
    else:
        summary = f"{stage.message}{said}" + {"server-error": ": the server fails", "base-url-path": ": not an OpenAI base URL"}.get(cause, "")
    status = WARN if cause in ("base-url-path", "rate-limited", "http-status") else FAIL
    return status, f"{where}: {summary}", causes.fix(cause, view), cause, causes.CAUSES[cause].layer, ""
