"""Check 1: which proxy variables are set, which applies to the endpoint, and does it work."""

from __future__ import annotations

from typing import Callable
from urllib.parse import urlsplit

from llmfix.doctor import proxyenv
from llmfix.doctor.env import EnvView
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
            lines.append(f"{lower} and {'/'.join(n for n in spellings if n != lower)} differ: {lower} wins (lower case is read last)")
    return lines


def _rules_differ(view: EnvView) -> list[Finding]:
    """The async and sync helpers follow different no_proxy rules: say so when they disagree here."""
    choice, other, host = view.choice, view.other_choice, view.endpoint.host
    if (other.proxy or None) == (choice.proxy or None):
        return []
    return [Finding(CHECK, WARN, f"the async and sync helpers route {host} differently: {choice.rule} rules give {choice.describe()}, "
                                 f"{other.rule} rules give {other.describe()}",
                    "write no_proxy entries both rule sets read the same way: plain host names without a leading dot "
                    f"(e.g. {host}), no '*' inside a list",
                    [f"run_litellm_async (rubric generation) follows the {choice.rule} rules; run_litellm (judging) follows httpx's"],
                    "proxy-rules-differ", view.source, LAYER_PROXY + 0.2)]


def check(view: EnvView) -> list[Finding]:
    if view.base_problem is not None:
        return []
    host, choice, detail = view.endpoint.host, view.choice, _variables(view)

    def finding(status: str, summary: str, fix: str = "", cause: str = "") -> Finding:
        return Finding(CHECK, status, summary, fix, list(detail), cause, view.source, LAYER_PROXY)

    findings = _rules_differ(view)
    if not choice.proxy and not detail:
        return findings + [finding(OK, f"no proxy variables set: LiteLLM connects to {host} directly")]
    if not choice.proxy:
        return findings + [finding(OK, f"{choice.describe()} for {host}: LiteLLM connects directly")]
    applies = f"{choice.variable}={redact_url(choice.proxy)} applies to {view.endpoint.base_url.strip()}"
    scheme = urlsplit(choice.proxy).scheme.lower()
    if scheme not in ("http", "https"):
        return findings + [finding(FAIL, f"{applies}, but LiteLLM cannot use a {scheme}:// proxy",
                                   f"export {choice.variable}=http://PROXYHOST:PORT  (an HTTP proxy)", "proxy-scheme")]
    if view.trace is None:
        return findings + [finding(OK, f"{applies} (not contacted: --offline)")]
    return findings + [_trace_finding(view, applies, finding)]


def _trace_finding(view: EnvView, applies: str, finding: Callable[..., Finding]) -> Finding:
    """What the trace through the proxy says about it."""
    trace, choice, host = view.trace, view.choice, view.endpoint.host
    assert trace is not None and choice.proxy is not None
    stage, phost, bypass = trace.failed, urlsplit(choice.proxy).hostname or "?", f"export no_proxy={host}  (or append {host} to your existing no_proxy)"
    if stage is not None and stage.name == "proxy-dns":
        return finding(FAIL, f"{applies}, but the proxy host name {stage.message}", f"fix the host in {choice.variable}, or bypass it: {bypass}",
                       "proxy-timeout" if stage.kind == "timeout" else "proxy-dns")
    if stage is not None and stage.name in ("proxy-tcp", "proxy-tls"):
        cause = {"refused": "proxy-refused", "timeout": "proxy-timeout"}.get(stage.kind, "proxy-error")
        what = {"proxy-refused": f"the proxy is down or its port is wrong (connection to {stage.data.get('target', phost)} refused)",
                "proxy-timeout": f"the proxy does not answer ({stage.message})"}.get(cause, stage.message)
        return finding(FAIL, f"{applies}, but {what}",
                       f"start the proxy or correct {choice.variable}; if {host} is reachable without it: unset {choice.variable}, or {bypass}", cause)
    if stage is not None and stage.name == "connect" and stage.kind == "proxy-auth":
        return finding(FAIL, f"{applies}, but {stage.message}",
                       f"put credentials in the proxy URL: export {choice.variable}=http://USER:PASSWORD@{phost}:PORT", "proxy-auth")
    if stage is not None and stage.name == "connect" and stage.kind in ("forbidden", "rejected", "protocol"):
        return finding(FAIL, f"{applies}, but {stage.message}", f"ask for {host}:443 to be allowed through the proxy, or {bypass}", "proxy-rejected")
    if stage is not None and stage.name == "connect" and stage.kind == "timeout":
        return finding(FAIL, f"{applies}, but the proxy {stage.message}", f"check the proxy, or {bypass}", "proxy-timeout")
    if trace.upstream_failed:
        return finding(OK, f"{applies}; the proxy answers, but it could not reach {host} (see endpoint)")
    how = "CONNECT to" if urlsplit(view.endpoint.base_url.strip()).scheme == "https" else "a forward request to"
    reached = trace.stage("connect") or trace.stage("http")
    return finding(OK, f"{applies}; it accepts connections and {how} {host} goes through{f' in {reached.seconds * 1000:.0f} ms' if reached else ''}")
