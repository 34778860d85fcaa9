"""Check 3: the API key is there, fits the endpoint, and the endpoint accepts it."""

from __future__ import annotations

from llmfix.doctor.env import EnvView
from llmfix.doctor.findings import FAIL, LAYER, OK, WARN, Finding
from llmfix.doctor.redact import redact_key

CHECK = "key"
OPENROUTER_PREFIX = "sk-or-v1-"


def check(view: EnvView) -> list[Finding]:
    if view.base_problem is not None:
        return []
    ep, var, key = view.endpoint, view.endpoint.key_variable, view.endpoint.key

    def finding(status: str, summary: str, fix: str = "", cause: str = "") -> Finding:
        return Finding(CHECK, status, summary, fix, [], cause, view.source, LAYER["key"])

    if not key:
        wanted = "an OpenRouter key (sk-or-v1-...)" if ep.is_openrouter else "your API key"
        return [
            finding(FAIL, f"{var} is not set: LiteLLM fails with 'Missing credentials' before sending anything", f"export {var}=...  ({wanted})", "key-missing")
        ]
    shown, clean, findings = f"{var}={redact_key(key)}", key.strip().strip("\"'"), []
    if key != key.strip() or any(c in key for c in "\"'\n\r\t "):
        findings.append(
            finding(
                FAIL,
                f"{shown} contains spaces, quotes or a line break: the Authorization header will not match",
                f"export {var}=sk-...  (the bare key, quoted once)",
                "key-shape",
            )
        )
    if ep.is_openrouter and not clean.startswith(OPENROUTER_PREFIX):
        findings.append(
            finding(
                FAIL if clean.startswith("sk-") else WARN,
                f"{shown} does not look like an OpenRouter key (they start {OPENROUTER_PREFIX}) but the base URL is OpenRouter",
                f"export {var}={OPENROUTER_PREFIX}...  (from openrouter.ai/keys)",
                "key-shape",
            )
        )
    elif ep.host == "api.openai.com" and clean.startswith("sk-or-"):
        findings.append(
            finding(
                FAIL, f"{shown} is an OpenRouter key but the base URL is api.openai.com", "export OPENAI_API_BASE=https://openrouter.ai/api/v1", "key-shape"
            )
        )
    http = view.trace.stage("http") if view.trace is not None else None
    if http is not None and http.status in (401, 403):
        said = f": {http.data['error']}" if http.data.get("error") else ""
        return findings + [
            finding(
                FAIL,
                f"{shown} is rejected: GET /models -> {http.status}{said} (invalid, expired or revoked key)",
                f"export {var}=<a valid key>  (check it at the provider's key page)",
                "auth",
            )
        ]
    if findings:
        return findings
    if view.trace is None:
        return [finding(OK, f"{shown} is set (not verified: --offline)" if view.offline else f"{shown} is set")]
    if http is not None and not http.cause:
        return [
            finding(
                OK,
                f"{shown} is set; OpenRouter's /models does not check keys, the live probe does" if ep.is_openrouter else f"{shown} is accepted by GET /models",
            )
        ]
    return [finding(OK, f"{shown} is set (not verified: /models did not answer)")]
