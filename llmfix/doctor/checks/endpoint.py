"""Check 2: the base URL LiteLLM will use, and DNS / TCP / TLS / GET {base}/models to it. With no base
URL variable set, LiteLLM's default endpoint is named as the default: no fix blames an unset variable."""

from __future__ import annotations

from urllib.parse import urlsplit

from llmfix.doctor import causes
from llmfix.doctor.env import EnvView
from llmfix.doctor.findings import FAIL, LAYER, OK, WARN, Finding

CHECK = "endpoint"
_BASES = {"openrouter": "https://openrouter.ai/api/v1", "api.openai.com": "https://api.openai.com/v1"}


def _config_findings(view: EnvView) -> list[Finding]:
    """What the settings alone say: shadowed variables, a base path LiteLLM or the provider does not expect, an ignored CA file."""
    ep, var, found = view.endpoint, view.endpoint.base_variable, []
    if ep.shadowed:
        summary = f"both OPENAI_BASE_URL and OPENAI_API_BASE are set and differ; LiteLLM uses OPENAI_BASE_URL={ep.base_url.strip()}"
        found.append((summary, "unset OPENAI_BASE_URL, or set both to the same URL", "base-url-shadowed", LAYER["config"]))
    url = urlsplit(ep.base_url.strip())
    path, base = url.path.rstrip("/"), _BASES["openrouter"] if ep.is_openrouter else _BASES.get(ep.host)
    if path.endswith("/chat/completions"):
        fixed = url._replace(path=path.removesuffix("/chat/completions").rstrip("/")).geturl()
        found.append((f"{var} ends in /chat/completions; LiteLLM appends that itself", f"export {var}={fixed}", "base-url-path", LAYER["config"] + 0.1))
    elif base and path != urlsplit(base).path:
        summary = f"{'OpenRouter' if ep.is_openrouter else 'OpenAI'}'s base is {base}, not {ep.base_url.strip()}"
        found.append((summary, f"export {var}={base}", "base-url-path", LAYER["config"] + 0.1))
    fix = "export SSL_CERT_FILE=/path/to/ca-bundle.pem (an existing file)"
    found += [(why, fix, "tls-config", LAYER["tls"] - 0.1) for name, why in view.tls.ignored if name == "SSL_CERT_FILE"]
    return [Finding(CHECK, WARN, summary, fix, cause, view.source, layer) for summary, fix, cause, layer in found]


def check(view: EnvView) -> list[Finding]:
    ep, tls = view.endpoint, view.tls
    origin = f"LiteLLM's default; {ep.base_variable} is unset" if view.is_default else f"from {ep.base_source}"
    where = f"{ep.base_url.strip()} ({origin})" + (f", LiteLLM's openrouter/ route for {view.probe_model}" if ep.route == "openrouter" else "")
    detail = [f"{ep.shadowed[0]}={ep.shadowed[1]} is ignored: {ep.base_source} wins"] if ep.shadowed else []
    detail += [why for _name, why in tls.ignored]
    if tls.source != "certifi":
        detail.append(f"TLS: {'verification off (SSL_VERIFY=False)' if not tls.verify else f'CA bundle from {tls.source}={tls.cafile}'}")
    if view.base_problem is not None:
        summary, fix = f"base URL {ep.base_url!r} (from {ep.base_source}) {view.base_problem}", f"export {ep.base_variable}=https://HOST/v1"
        return [Finding(CHECK, FAIL, summary, fix + "  (no quotes inside the value)", "base-url", view.source, LAYER["config"], detail)]
    if view.trace is None:
        return [*_config_findings(view), Finding(CHECK, OK, f"base URL {where}; not contacted (--offline)", source=view.source, detail=detail)]
    status, summary, cause, caused_by = _verdict(view, where)
    layer = causes.CAUSES[cause].layer if cause in causes.CAUSES else LAYER["http"]
    fix = "fix the proxy first" if caused_by else causes.fix(cause, view) if cause else ""
    return [*_config_findings(view), Finding(CHECK, status, summary, fix, cause, view.source, layer, detail, caused_by)]


def _verdict(view: EnvView, where: str) -> tuple[str, str, str, str]:
    """(status, summary, cause, caused_by) of what the trace to {base}/models says."""
    trace, ep = view.trace, view.endpoint
    assert trace is not None
    stage = trace.failed
    if stage is None:
        http, tls = trace.stage("http"), trace.stage("tls")
        n = len(http.data.get("models") or []) if http else 0
        listed = (f", TLS ok ({tls.data.get('version')})" if tls else "") + (f", {n} models listed" if n else "")
        return OK, f"{where}: GET /models -> {http.status if http else '?'}{listed}", "", ""
    if trace.proxy_failed:
        return FAIL, f"{where} cannot be reached: the proxy in front of it fails (see proxy)", "proxy", "proxy"
    said, cause = f" ({stage.data['error']})" if stage.data.get("error") else "", stage.cause
    if cause == "auth":
        return OK, f"{where}: reachable; GET /models -> {stage.status}{said} (see key)", "", ""
    if cause == "proxy-upstream":
        summary = f"the proxy cannot reach {ep.host}:{ep.port} ({stage.message}); the endpoint is down, its name does not resolve from the proxy, "
        summary += "or the proxy blocks it"
    else:
        summary = f"{stage.message}{said}" + {"server-error": ": the server fails", "base-url-path": ": not an OpenAI base URL"}.get(cause, "")
    return WARN if cause in ("base-url-path", "rate-limited", "http-status") else FAIL, f"{where}: {summary}", cause, ""
