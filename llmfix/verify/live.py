"""``verify --live``: a few harmless calls against the caller's real endpoint.

Uses the caller's environment as it is (endpoint, key, proxies, RUBRIC_GENERATION_MODEL,
LITELLM_* settings): one connection check, one tiny completion, one rubric generation on
a built-in two-response example. Reports latencies. The key is never printed beyond a
short prefix.
"""

from __future__ import annotations

import os
import re

from llmfix.verify.scenarios import Case, Observation, Problem, Scenario, Step

LIVE_LIMIT = 120.0
PROXY_VARIABLES = ("https_proxy", "HTTPS_PROXY", "http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY", "no_proxy", "NO_PROXY")
KEY_VARIABLES = ("OPENAI_API_KEY", "OPENROUTER_API_KEY", "AZURE_API_KEY", "ANTHROPIC_API_KEY")


def redact_key(key: str | None) -> str:
    if not key:
        return "(not set)"
    if len(key) <= 12:
        return "***"
    return f"{key[:8]}…({len(key)} chars, redacted)"


def redact_url(url: str) -> str:
    return re.sub(r"//[^@/]*@", "//***@", url)


def live_env() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def header(env: dict[str, str]) -> list[str]:
    endpoint = env.get("OPENAI_BASE_URL") or env.get("OPENAI_API_BASE") or "https://api.openai.com/v1 (LiteLLM default)"
    proxies = [f"{n}={redact_url(env[n])}" for n in PROXY_VARIABLES if env.get(n)]
    return [
        f"  endpoint: {redact_url(endpoint)}",
        f"  OPENAI_API_KEY: {redact_key(env.get('OPENAI_API_KEY'))}",
        f"  proxy variables: {', '.join(proxies) or 'none set'}",
        f"  model: {model_name(env)} (RUBRIC_GENERATION_MODEL{'' if env.get('RUBRIC_GENERATION_MODEL') else ' unset: the generator default'})",
    ]


def scrub(text: str, env: dict[str, str]) -> str:
    """Replace every secret value of ``env`` in ``text`` by its redacted form."""
    for name in KEY_VARIABLES:
        value = env.get(name)
        if value and len(value) >= 6:
            text = text.replace(value, redact_key(value))
    return text


def model_name(env: dict[str, str]) -> str:
    return env.get("RUBRIC_GENERATION_MODEL") or "gpt-4.1"


def _no_raise(label: str) -> object:
    def evaluate(obs: Observation) -> list[Problem]:
        step = obs.step(label)
        if step.outcome == "unfinished":
            return [("live", f"{step.name}: no answer within {obs.case.limit:g}s")]
        if step.outcome == "missing":
            return [("live", f"{step.name}: not defined (is the checkout patched?)")]
        if step.outcome == "raised":
            return [("live", f"{step.name} raised {step.error['type']}: {step.error['message'].splitlines()[0][:200]}")]
        if label in ("completion", "rubric") and not step.value:
            return [("live", f"{step.name} returned {step.describe()}: the call failed or the answer was empty")]
        return []

    return evaluate


def scenarios(env: dict[str, str]) -> list[Scenario]:
    model = model_name(env)
    return [
        Scenario(1, "precheck", "connection check", [
            Case("L1", "precheck", "ensure_litellm_connection", "passes", [Step("ensure", "precheck", model)], _no_raise("precheck"), LIVE_LIMIT),
        ]),
        Scenario(2, "completion", "one tiny completion", [
            Case("L2", "completion", "async helper, max_tokens 5", "non-empty text",
                 [Step("async", "completion", model, {"max_tokens": 5})], _no_raise("completion"), LIVE_LIMIT),
        ]),
        Scenario(3, "rubric", "one rubric generation", [
            Case("L3", "rubric", "generator, two-response example", "a rubric dict", [Step("generator", "rubric", model)], _no_raise("rubric"), LIVE_LIMIT),
        ]),
    ]
