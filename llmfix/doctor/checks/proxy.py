"""Check 1: which proxy variables are set, which applies to the endpoint, and does it work."""

from __future__ import annotations

from urllib.parse import urlsplit

from llmfix.doctor import causes, proxyenv
from llmfix.doctor.env import EnvView
from llmfix.doctor.findings import FAIL, LAYER, OK, WARN, Finding
from llmfix.doctor.netprobe import Trace

CHECK = "proxy"


def _variables(view: EnvView) -> list[str]:
    """The proxy variables that are set, and which spelling wins."""
    variables = proxyenv.proxy_variables(view.env)
    lines = [f"{n}={v}" for n, v in variables]
    for lower in sorted({n.lower() for n, _ in variables}):
        spellings = [n for n, _ in variables if n.lower() == lower]
        if lower in spellings and len({view.env[n] for n in spellings}) > 1:
            lines.append(f"{lower} and {'/'.join(n for n in spellings if n != lower)} differ: {lower} wins (lower case is read last)")
    return lines


def check(view: EnvView) -> list[Finding]:
    if view.base_problem is not None:
        return []
    host, choice, other, detail = view.endpoint.host, view.choice, view.other_choice, _variables(view)
    findings = []
    if (other.proxy or None) != (choice.proxy or None):  # the async and sync helpers follow different no_proxy rules
        findings.append(Finding(CHECK, WARN, f"the async and sync helpers route {host} differently: {choice.rule} rules give "
                                             f"{choice.describe()}, {other.rule} rules give {other.describe()}",
                                "write no_proxy entries both rule sets read the same way: plain host names without a leading dot "
                                f"(e.g. {host}), no '*' inside a list",
                                [(f"run_litellm_async (rubric generation) follows the {choice.rule} rules; "
                                  "run_litellm (judging) follows httpx's")],
                                "proxy-rules-differ", view.source, LAYER["proxy"] + 0.2))
    if not choice.proxy:
        summary = f"{choice.describe()} for {host}: LiteLLM connects directly"
        summary = summary if detail else f"no proxy variables set: LiteLLM connects to {host} directly"
        return [*findings, Finding(CHECK, OK, summary, "", detail, "", view.source, LAYER["proxy"])]
    applies = f"{choice.variable}={choice.proxy} applies to {view.endpoint.base_url.strip()}"
    scheme = urlsplit(choice.proxy).scheme.lower()
    if scheme not in ("http", "https"):
        verdict = (FAIL, f"{applies}, but LiteLLM cannot use a {scheme}:// proxy",
                   f"export {choice.variable}=http://PROXYHOST:PORT  (an HTTP proxy)", "proxy-scheme")
    elif view.trace is None:
        verdict = OK, f"{applies} (not contacted: --offline)", "", ""
    else:
        verdict = _verdict(view.trace, view, applies)
    return [*findings, Finding(CHECK, verdict[0], verdict[1], verdict[2], detail, verdict[3], view.source, LAYER["proxy"])]


def _verdict(trace: Trace, view: EnvView, applies: str) -> tuple[str, str, str, str]:
    """(status, summary, fix, cause) of what the trace through the proxy says about it."""
    stage, host = trace.failed, view.endpoint.host
    if stage is not None and trace.proxy_failed:
        if stage.name == "proxy-dns":
            cause, what = "proxy-timeout" if stage.kind == "timeout" else "proxy-dns", f"the proxy host name {stage.message}"
        elif stage.name == "connect":
            cause = {"proxy-auth": "proxy-auth", "timeout": "proxy-timeout"}.get(stage.kind, "proxy-rejected")
            what = f"the proxy {stage.message}" if stage.kind == "timeout" else stage.message
        else:
            cause = {"refused": "proxy-refused", "timeout": "proxy-timeout"}.get(stage.kind, "proxy-error")
            what = {"proxy-refused": f"the proxy is down or its port is wrong (connection to {stage.data.get('target', 'the proxy')} refused)",
                    "proxy-timeout": f"the proxy does not answer ({stage.message})"}.get(cause, stage.message)
        return FAIL, f"{applies}, but {what}", causes.fix(cause, view), cause
    if trace.upstream_failed:
        return OK, f"{applies}; the proxy answers, but it could not reach {host} (see endpoint)", "", ""
    how = "CONNECT to" if urlsplit(view.endpoint.base_url.strip()).scheme == "https" else "a forward request to"
    reached = trace.stage("connect") or trace.stage("http")
    took = f" in {reached.seconds * 1000:.0f} ms" if reached else ""
    return OK, f"{applies}; it accepts connections and {how} {host} goes through{took}", "", ""
