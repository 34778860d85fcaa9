"""Check 3: the API key is there, fits the endpoint, and the endpoint accepts it."""

from __future__ import annotations

from llmfix.doctor import causes
from llmfix.doctor.env import EnvView
from llmfix.doctor.findings import FAIL, LAYER, OK, WARN, Finding
from llmfix.doctor.redact import redact_key

CHECK = "key"
OPENROUTER_PREFIX = "sk-or-v1-"


def _verdicts(view: EnvView) -> list[tuple[str, str, str, str]]:
    """(status, summary, fix, cause) of each thing the key's value and GET /models say."""
    ep, var, key = view.endpoint, view.endpoint.key_variable, view.endpoint.key
    if not key:
        summary = f"{var} is not set: LiteLLM fails with 'Missing credentials' before sending anything"
        return [(FAIL, summary, f"export {var}=...  ({'an OpenRouter key (sk-or-v1-...)' if ep.is_openrouter else 'your API key'})", "key-missing")]
    shown, clean, found = f"{var}={redact_key(key)}", key.strip().strip("\"'"), []
    if key != key.strip() or any(c in key for c in "\"'\n\r\t "):
        summary = f"{shown} contains spaces, quotes or a line break: the Authorization header will not match"
        found.append((FAIL, summary, f"export {var}=sk-...  (the bare key, quoted once)", "key-shape"))
    if ep.is_openrouter and not clean.startswith(OPENROUTER_PREFIX):
        summary = f"{shown} does not look like an OpenRouter key (they start {OPENROUTER_PREFIX}) but the base URL is OpenRouter"
        found.append((FAIL if clean.startswith("sk-") else WARN, summary, f"export {var}={OPENROUTER_PREFIX}...  (from openrouter.ai/keys)", "key-shape"))
    elif ep.host == "api.openai.com" and clean.startswith("sk-or-"):
        summary = f"{shown} is an OpenRouter key but the base URL is api.openai.com"
        found.append((FAIL, summary, "export OPENAI_API_BASE=https://openrouter.ai/api/v1", "key-shape"))
    http = view.trace.stage("http") if view.trace is not None else None
    if http is not None and http.status in (401, 403):
        said = f": {http.data['error']}" if http.data.get("error") else ""
        summary = f"{shown} is rejected: GET /models -> {http.status}{said} (invalid, expired or revoked key)"
        return [*found, (FAIL, summary, causes.fix("auth", view), "auth")]
    if found:
        return found
    if view.trace is None:
        summary = f"{shown} is set (not verified: --offline)" if view.offline else f"{shown} is set"
    elif http is not None and not http.cause:
        summary = f"{shown} is accepted by GET /models"
        summary = f"{shown} is set; OpenRouter's /models does not check keys, the live probe does" if ep.is_openrouter else summary
    else:
        summary = f"{shown} is set (not verified: /models did not answer)"
    return [(OK, summary, "", "")]


def check(view: EnvView) -> list[Finding]:
    if view.base_problem is not None:
        return []
    return [Finding(CHECK, status, summary, fix, cause, view.source, LAYER["key"]) for status, summary, fix, cause in _verdicts(view)]
