"""Check 1: which proxy variables are set, which applies to the endpoint, and does it work."""

from __future__ import annotations

from urllib.parse import urlsplit

from llmfix.doctor import proxyenv
from llmfix.doctor.context import EnvView
from llmfix.doctor.findings import FAIL, LAYER_PROXY, OK, WARN, Finding
from llmfix.doctor.redact import redact_url

CHECK = "proxy"


def _variables(view: EnvView) -> list[str]:
    """The proxy variables that are set (passwords redacted), and which spelling wins."""
    variables = proxyenv.proxy_variables(view.env)
    lines = [f"{n}={v if n.lower() == 'no_proxy' else redact_url(v)}" for n, v in variables]
    for lower in sorted({n.lower() for n, _ in variables}):
        spellings = [n for n, _ in variables if n.lower() == lower]
        if lower in spellings and len({view.env[n] for n in spellings}) > 1:
            losers = "/".join(n for n in spellings if n != lower)
            lines.append(f"{lower} and {losers} differ: {lower} wins (lower case is read last)")
    return lines


def _fix_bypass(host: str) -> str:
    return f"export no_proxy={host}  (or append {host} to your existing no_proxy)"


def check(view: EnvView) -> list[Finding]:
    base = view.endpoint.base_url.strip()
    host = view.endpoint.host
    choice = view.choice
    detail = _variables(view)
    findings: list[Finding] = []

    def finding(status: str, summary: str, fix: str = "", cause: str = "", extra: list[str] | None = None) -> Finding:
        return Finding(CHECK, status, summary, fix, detail + (extra or []), cause, view.source, LAYER_PROXY)

    if view.base_problem is not None:
        return []
    other = view.other_choice
    if (other.proxy or None) != (choice.proxy or None):
        findings.append(
            Finding(
                CHECK,
                WARN,
                f"the async and sync helpers route {host} differently: {choice.rule} rules give {choice.describe()}, "
                f"{other.rule} rules give {other.describe()}",
                "write no_proxy entries both rule sets read the same way: plain host names without a leading dot "
                f"(e.g. {host}), no '*' inside a list",
                [f"run_litellm_async (rubric generation) follows the {choice.rule} rules; run_litellm (judging) follows httpx's"],
                "proxy-rules-differ",
                view.source,
                LAYER_PROXY + 0.2,
            )
        )
    if not choice.proxy:
        if not detail:
            findings.append(finding(OK, f"no proxy variables set: LiteLLM connects to {host} directly"))
        else:
            findings.append(finding(OK, f"{choice.describe()} for {host}: LiteLLM connects directly"))
        return findings

    proxy = choice.proxy
    shown = redact_url(proxy)
    pscheme = urlsplit(proxy).scheme.lower()
    applies = f"{choice.variable}={shown} applies to {base}"
    if pscheme not in ("http", "https"):
        findings.append(finding(FAIL, f"{applies}, but LiteLLM cannot use a {pscheme}:// proxy",
                                f"export {choice.variable}=http://PROXYHOST:PORT  (an HTTP proxy)", "proxy-scheme"))
        return findings
    trace = view.trace
    if trace is None:
        findings.append(finding(OK, f"{applies} (not contacted: --offline)"))
        return findings
    stage = trace.failed
    phost = urlsplit(proxy).hostname or "?"
    bypass = _fix_bypass(host)
    if stage is not None and stage.name == "proxy-dns":
        cause = "proxy-timeout" if stage.kind == "timeout" else "proxy-dns"
        findings.append(finding(FAIL, f"{applies}, but the proxy host name {stage.message}",
                                f"fix the host in {choice.variable}, or bypass it: {bypass}", cause))
    elif stage is not None and stage.name in ("proxy-tcp", "proxy-tls"):
        cause = {"refused": "proxy-refused", "timeout": "proxy-timeout"}.get(stage.kind, "proxy-error")
        what = {"proxy-refused": f"the proxy is down or its port is wrong (connection to {stage.data.get('target', phost)} refused)",
                "proxy-timeout": f"the proxy does not answer ({stage.message})"}.get(cause, stage.message)
        findings.append(finding(FAIL, f"{applies}, but {what}",
                                f"start the proxy or correct {choice.variable}; if {host} is reachable without it: unset {choice.variable}, or {bypass}",
                                cause))
    elif stage is not None and stage.name == "connect" and stage.kind in ("proxy-auth", "forbidden", "rejected", "protocol"):
        cause = "proxy-auth" if stage.kind == "proxy-auth" else "proxy-rejected"
        fix = (f"put credentials in the proxy URL: export {choice.variable}=http://USER:PASSWORD@{phost}:PORT"
               if cause == "proxy-auth" else f"ask for {host}:443 to be allowed through the proxy, or {bypass}")
        findings.append(finding(FAIL, f"{applies}, but {stage.message}", fix, cause))
    elif stage is not None and stage.name == "connect" and stage.kind == "timeout":
        findings.append(finding(FAIL, f"{applies}, but the proxy {stage.message}", f"check the proxy, or {bypass}", "proxy-timeout"))
    elif upstream_failure(trace):
        findings.append(finding(OK, f"{applies}; the proxy answers, but it could not reach {host} (see endpoint)"))
    else:
        how = "CONNECT to" if urlsplit(base).scheme == "https" else "a forward request to"
        reached = trace.stage("connect") or trace.stage("http")
        took = f" in {reached.seconds * 1000:.0f} ms" if reached else ""
        findings.append(finding(OK, f"{applies}; it accepts connections and {how} {host} goes through{took}"))
    return findings


def upstream_failure(trace) -> bool:
    """The proxy answered but could not reach the endpoint (CONNECT 5xx, or a non-JSON 5xx page)."""
    stage = trace.failed
    if stage is None or trace.proxy is None:
        return False
    if stage.name == "connect" and stage.kind == "upstream":
        return True
    return (
        stage.name == "http"
        and stage.status is not None
        and stage.status >= 500
        and not stage.data.get("json", False)
        and trace.stage("connect") is None
    )
