"""Check 1: which proxy variables are set, which applies to the endpoint, and does it work."""

from __future__ import annotations

from urllib.parse import urlsplit

from llmfix.doctor import causes
from llmfix.doctor.env import EnvView
from llmfix.doctor.findings import FAIL, LAYER, OK, WARN, Finding

CHECK = "proxy"


def _variables(view: EnvView) -> list[str]:
    """The proxy variables that are set, in a stable order, and which spelling wins."""
    order = {"http_proxy": 0, "https_proxy": 1, "all_proxy": 2, "no_proxy": 3}
    names = sorted((n for n in view.env if n.lower().endswith("_proxy")), key=lambda n: (order.get(n.lower(), 9), n.lower(), n))
    lines = [f"{n}={view.env[n]}" for n in names]
    for lower in sorted({n.lower() for n in names}):
        spellings = [n for n in names if n.lower() == lower]
        if lower in spellings and len({view.env[n] for n in spellings}) > 1:
            lines.append(f"{lower} and {'/'.join(n for n in spellings if n != lower)} differ: {lower} wins (lower case is read last)")
    return lines


def check(view: EnvView) -> list[Finding]:
    if view.base_problem is not None:
        return []
    host, choice, other, detail = view.endpoint.host, view.choice, view.other_choice, _variables(view)
    findings = []
    if (other.proxy or None) != (choice.proxy or None):  # the async and sync helpers follow different no_proxy rules
        summary = f"the async and sync helpers route {host} differently: {choice.rule} rules give {choice.describe()}, "
        summary += f"{other.rule} rules give {other.describe()}"
        fix = f"write no_proxy entries both rule sets read the same way: plain host names without a leading dot (e.g. {host}), no '*' inside a list"
        why = [f"run_litellm_async (rubric generation) follows the {choice.rule} rules; run_litellm (judging) follows httpx's"]
        findings.append(Finding(CHECK, WARN, summary, fix, "proxy-rules-differ", view.source, LAYER["proxy"] + 0.2, why))
    if not choice.proxy:
        summary = f"{choice.describe()} for {host}: LiteLLM connects directly" if detail else f"no proxy variables set: LiteLLM connects to {host} directly"
        return [*findings, Finding(CHECK, OK, summary, "", "", view.source, LAYER["proxy"], detail)]
    applies, trace = f"{choice.variable}={choice.proxy} applies to {view.endpoint.base_url.strip()}", view.trace
    scheme, failed = urlsplit(choice.proxy).scheme.lower(), trace.failed if trace is not None else None
    if scheme not in ("http", "https"):
        status, summary, cause = FAIL, f"{applies}, but LiteLLM cannot use a {scheme}:// proxy", "proxy-scheme"
    elif trace is None:
        status, summary, cause = OK, f"{applies} (not contacted: --offline)", ""
    elif failed is not None and trace.proxy_failed:
        status, summary, cause = FAIL, f"{applies}, but {failed.message}", failed.cause
    elif failed is not None and failed.cause == "proxy-upstream":
        status, summary, cause = OK, f"{applies}; the proxy answers, but it could not reach {host} (see endpoint)", ""
    else:
        how = "CONNECT to" if urlsplit(view.endpoint.base_url.strip()).scheme == "https" else "a forward request to"
        reached = trace.stage("connect") or trace.stage("http")
        took = f" in {reached.seconds * 1000:.0f} ms" if reached else ""
        status, summary, cause = OK, f"{applies}; it accepts connections and {how} {host} goes through{took}", ""
    return [*findings, Finding(CHECK, status, summary, causes.fix(cause, view) if cause else "", cause, view.source, LAYER["proxy"], detail)]
