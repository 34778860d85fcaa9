"""``verify --live``: a connection check, one tiny completion and one rubric against the caller's real endpoint,
in the caller's environment as it is; a key is never printed beyond a short prefix."""

from __future__ import annotations

import os

from llmfix.doctor.redact import redact_key, redact_url
from llmfix.verify.analysis import GENERATOR, HELPER, Checkout, Target
from llmfix.verify.binding import VAR_KEYWORD
from llmfix.verify.cases import CALL, ENSURE
from llmfix.verify.scenarios import Case, Observation, Problem, Scenario, Step

LIVE_LIMIT = 120.0
PROXY_VARIABLES = ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY", "no_proxy", "NO_PROXY")
KEY_VARIABLES = ("OPENAI_API_KEY", "OPENROUTER_API_KEY", "AZURE_API_KEY", "AZURE_OPENAI_API_KEY", "ANTHROPIC_API_KEY")


def live_env() -> dict[str, str]:
    """The caller's environment, as training would see it."""
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
    """``text`` with every key of ``env`` shortened and the credentials of every URL redacted."""
    for name in KEY_VARIABLES:
        value = env.get(name)
        if value and len(value) >= 6:
            text = text.replace(value, redact_key(value))
    return redact_url(text)


def model_name(env: dict[str, str]) -> str:
    return env.get("RUBRIC_GENERATION_MODEL") or "gpt-4.1"


class LiveScenario(Scenario, register=False):
    """One of the three live calls (not a fault scenario: it is not in the registry)."""

    def __init__(self, number: int, name: str, cases: list[Case]) -> None:
        self.NUMBER, self.NAME = number, name  # type: ignore[misc]  # this instance's own, read by .number and .name
        super().__init__(cases=cases)


def _no_raise(label: str) -> object:
    def evaluate(obs: Observation) -> list[Problem]:
        step = obs.step(label)
        if step.outcome == "unfinished":
            return [("live", f"{step.name}: no answer within {obs.case.limit:g}s")]
        if step.outcome == "missing":
            return [("live", f"{step.name}: {step.error['message'] if step.error else 'not defined'} (is the checkout patched?)")]
        if step.outcome == "uncallable":
            return [("live", f"{step.name}: {step.error['message'] if step.error else 'cannot call it'}")]
        if step.outcome == "raised":
            return [("live", f"{step.name} raised {step.error['type']}: {step.error['message'].splitlines()[0][:200]}")]
        if label in ("completion", "rubric") and not step.value:
            return [("live", f"{step.name} returned {step.describe()}: the call failed or the answer was empty")]
        return []

    return evaluate


def _first(checkout: Checkout, kind: str, prefer_async: bool = False) -> Target | None:
    targets = [t for t in checkout.callable if t.kind == kind]
    if prefer_async:
        targets.sort(key=lambda t: not t.is_async)
    return targets[0] if targets else None


def _takes(target: Target, name: str) -> bool:
    return any(p.name == name or p.kind == VAR_KEYWORD for p in target.parameters)


def scenarios(env: dict[str, str], checkout: Checkout) -> list[Scenario]:
    model = model_name(env)
    found = []
    helper = _first(checkout, HELPER, prefer_async=True)
    if helper is not None and helper.is_async:
        step = Step("precheck", ENSURE, helper, model if helper.controls_model else None)
        found.append(LiveScenario(1, "precheck", [
            Case("L1", "precheck", f"ensure_connection through {helper.name}", "passes", [step], _no_raise("precheck"), LIVE_LIMIT),
        ]))
    if helper is not None:
        extra = {"max_tokens": 5} if _takes(helper, "max_tokens") else {}
        step = Step("completion", CALL, helper, model if helper.controls_model else None, extra=extra)
        found.append(LiveScenario(2, "completion", [
            Case("L2", "completion", f"{helper.name}{', max_tokens 5' if extra else ''}", "non-empty text", [step], _no_raise("completion"), LIVE_LIMIT),
        ]))
    generator = _first(checkout, GENERATOR)
    if generator is not None:
        step = Step("rubric", CALL, generator, model if generator.controls_model else None)
        found.append(LiveScenario(3, "rubric", [
            Case("L3", "rubric", "generator, two-response example", "a rubric dict", [step], _no_raise("rubric"), LIVE_LIMIT),
        ]))
    return found
