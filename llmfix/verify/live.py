"""``verify --live``: a connection check, one tiny completion and one rubric against the caller's real endpoint,
in the caller's environment as it is; a key is never printed beyond a short prefix."""

from __future__ import annotations

import os

from llmfix.doctor.redact import redact_key, redact_url
from llmfix.verify.analysis import GENERATOR, HELPER, Checkout
from llmfix.verify.binding import VAR_KEYWORD
from llmfix.verify.cases import CALL, ENSURE
from llmfix.verify.scenarios import Case, Observation, Problem, Scenario, Settings, Step, Unit

LIVE_LIMIT = 120.0
PROXY_VARIABLES = ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY", "no_proxy", "NO_PROXY")
KEY_VARIABLES = ("OPENAI_API_KEY", "OPENROUTER_API_KEY", "AZURE_API_KEY", "AZURE_OPENAI_API_KEY", "ANTHROPIC_API_KEY")


def live_env() -> dict[str, str]:
    """The caller's environment, as training would see it."""
    return {**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": os.environ.get("LITELLM_LOCAL_MODEL_COST_MAP", "True"), "PYTHONDONTWRITEBYTECODE": "1"}


def header(env: dict[str, str]) -> list[str]:
    endpoint = env.get("OPENAI_BASE_URL") or env.get("OPENAI_API_BASE") or "https://api.openai.com/v1 (LiteLLM default)"
    proxies = [f"{n}={redact_url(env[n])}" for n in PROXY_VARIABLES if env.get(n)]
    return [f"  endpoint: {redact_url(endpoint)}", f"  OPENAI_API_KEY: {redact_key(env.get('OPENAI_API_KEY'))}",
            f"  proxy variables: {', '.join(proxies) or 'none set'}",
            f"  model: {model_name(env)} (RUBRIC_GENERATION_MODEL{'' if env.get('RUBRIC_GENERATION_MODEL') else ' unset: the generator default'})"]


def scrub(text: str, env: dict[str, str]) -> str:
    """``text`` with every key of ``env`` shortened and the credentials of every URL redacted."""
    for value in (env.get(name) for name in KEY_VARIABLES):
        if value and len(value) >= 6:
            text = text.replace(value, redact_key(value))
    return redact_url(text)


def model_name(env: dict[str, str]) -> str:
    return env.get("RUBRIC_GENERATION_MODEL") or "gpt-4.1"


def _live(number: int, name: str, title: str, expected: str, step: Step) -> Scenario:
    """One of the three live calls (not a fault scenario: it is not registered)."""
    case = Case(f"L{number}", name, title, expected, [step], _no_raise, LIVE_LIMIT)
    return Scenario(Unit(number, name, (), title, lambda sc: [case]), Settings())


def _no_raise(obs: Observation) -> list[Problem]:
    step = obs.result(obs.case.steps[0])
    error = step.error or {}
    if step.outcome == "unfinished":
        return [("live", f"{step.name}: no answer within {obs.case.limit:g}s")]
    if step.outcome == "missing":
        return [("live", f"{step.name}: {error.get('message', 'not defined')} (is the checkout patched?)")]
    if step.outcome == "uncallable":
        return [("live", f"{step.name}: {error.get('message', 'cannot call it')}")]
    if step.outcome == "raised":
        return [("live", f"{step.name} raised {error['type']}: {error['message'].splitlines()[0][:200]}")]
    if step.op == CALL and not step.value:
        return [("live", f"{step.name} returned {step.describe()}: the call failed or the answer was empty")]
    return []


def scenarios(env: dict[str, str], checkout: Checkout) -> list[Scenario]:
    model = model_name(env)
    helpers = sorted((t for t in checkout.callable if t.kind == HELPER), key=lambda t: not t.is_async)
    generator = next((t for t in checkout.callable if t.kind == GENERATOR), None)
    found = []
    if helpers and helpers[0].is_async:
        step = Step("precheck", ENSURE, helpers[0], model if helpers[0].controls_model else None)
        found.append(_live(1, "precheck", f"ensure_connection through {helpers[0].name}", "passes", step))
    if helpers:
        extra = {"max_tokens": 5} if any(p.name == "max_tokens" or p.kind == VAR_KEYWORD for p in helpers[0].parameters) else {}
        step = Step("completion", CALL, helpers[0], model if helpers[0].controls_model else None, extra=extra)
        found.append(_live(2, "completion", f"{helpers[0].name}{', max_tokens 5' if extra else ''}", "non-empty text", step))
    if generator is not None:
        step = Step("rubric", CALL, generator, model if generator.controls_model else None)
        found.append(_live(3, "rubric", "generator, two-response example", "a rubric dict", step))
    return found
