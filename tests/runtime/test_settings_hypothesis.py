"""Arbitrary strings in every environment variable the module reads.

Each setting either raises ValueError naming its variable or gives the documented value; and a
tracked helper whose request MockLLM answers returns its answer whatever the variables hold:
bookkeeping never raises on a successful call, the alarm is for failed or empty calls only. The
helper's recent window is full of failures before the call, so the alarm's text is built too.
"""

from __future__ import annotations

import contextlib
import json
import os
from typing import Iterator

import httpx
import openai
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from runtime_support import TEST_KEY

from llmfix.codemods.runtime import litellm_utils
from llmfix.codemods.runtime.litellm_utils import _LIMITS
from llmfix.mockllm import MockLLM

NUMERIC = tuple(_LIMITS)
ROUTE = ("OPENAI_BASE_URL", "OPENAI_API_BASE") + tuple(
    case(f"{scheme}_proxy") for scheme in ("http", "https", "all", "no") for case in (str.lower, str.upper)
)
MODEL = "openai/fuzz"
INVALID = object()
FOUND = settings(
    max_examples=int(os.environ.get("LLMFIX_RUNTIME_EXAMPLES", "60")),  # more for a thorough run
    deadline=None,
    database=None,
    derandomize=os.environ.get("CI", "").lower() in ("1", "true", "yes"),
    suppress_health_check=[HealthCheck.too_slow],
)

# values an environment can hold: no NUL, no lone surrogate
text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=30)
# fmt: off
edges = st.sampled_from([
    "", " ", "0", "1", "-1", "2.5", "1e3", "1_0", "nan", "inf", "-inf", "abc", "0.001", "0.2", "100", "100000",
    "86400", "604800", "on", "warn", "OFF", "yes", "[]", "{}", '["a"]', '{"model": "x"}', '[{"model": ""}]',
    "a,b", "openai/fuzz", "[", '{"model": "openai/x", "api_key": "sk-secret"',
])
# fmt: on
numbers = st.one_of(st.integers(-10, 200_000).map(str), st.floats().map(repr))
value = st.none() | text | edges | numbers
url = st.sampled_from(["http://127.0.0.1:9/v1", "https://alice:pw@127.0.0.1:9/v1", "127.0.0.1:9", "*", ""])
litellm_settings = st.fixed_dictionaries(
    {name: value for name in (*NUMERIC, "LITELLM_FALLBACK_MODELS", "LITELLM_PRECHECK")}
)
every_variable = st.fixed_dictionaries(
    {name: value for name in (*NUMERIC, "LITELLM_FALLBACK_MODELS", "LITELLM_PRECHECK", *ROUTE)}
)


@contextlib.contextmanager
def environment(values: dict[str, str | None]) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in values}
    try:
        for name, raw in values.items():
            if raw is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = raw
        yield
    finally:
        for name, raw in saved.items():
            if raw is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = raw


# --------------------------------------------------------------------------- the documented values


def documented_number(name: str, raw: str | None):
    kind, low, high = _LIMITS[name]
    if raw is None or not raw.strip():
        return "default"
    try:
        number = kind(raw.strip())
    except ValueError:
        return INVALID
    return number if low <= number <= high else INVALID


def documented_fallbacks(raw: str | None, default: list, model: str):
    if raw is None:
        entries = list(default)
    elif raw.strip()[:1] in ("[", "{"):
        try:
            parsed = json.loads(raw)
        except (ValueError, RecursionError):
            return INVALID
        entries = [parsed] if isinstance(parsed, dict) else parsed
    else:
        entries = raw.split(",")
    entries = [e.strip() if isinstance(e, str) else e for e in entries]
    entries = [e for e in entries if e != ""]
    for entry in entries:
        name = entry.get("model") if isinstance(entry, dict) else entry
        if not (isinstance(name, str) and name):
            return INVALID
    return [e for e in entries if (e.get("model") if isinstance(e, dict) else e) != model]


def documented_mode(raw: str | None):
    word = (raw or "").strip().lower() or "on"
    word = {"1": "on", "true": "on", "yes": "on", "0": "off", "false": "off", "no": "off"}.get(word, word)
    return word if word in ("on", "warn", "off") else INVALID


def first_bad_variable(env: dict[str, str | None]) -> str | None:
    """The variable check_settings must name, in its order; None when all are good."""
    for name in NUMERIC:
        if documented_number(name, env.get(name)) is INVALID:
            return name
    if documented_fallbacks(env.get("LITELLM_FALLBACK_MODELS"), [], "") is INVALID:
        return "LITELLM_FALLBACK_MODELS"
    if documented_mode(env.get("LITELLM_PRECHECK")) is INVALID:
        return "LITELLM_PRECHECK"
    return None


def check_documented_values(env: dict[str, str | None]) -> None:
    for name in NUMERIC:
        expected = documented_number(name, env[name])
        if expected is INVALID:
            with pytest.raises(ValueError, match=name):
                litellm_utils.from_env(name, "default")
        else:
            assert litellm_utils.from_env(name, "default") == expected
    expected = documented_fallbacks(env["LITELLM_FALLBACK_MODELS"], ["gpt-4.1-mini"], MODEL)
    if expected is INVALID:
        with pytest.raises(ValueError, match="LITELLM_FALLBACK_MODELS"):
            litellm_utils.fallback_models(["gpt-4.1-mini"], MODEL)
    else:
        assert litellm_utils.fallback_models(["gpt-4.1-mini"], MODEL) == expected
    bad = first_bad_variable(env)
    if bad is None:
        assert litellm_utils.check_settings() == documented_mode(env["LITELLM_PRECHECK"])
    else:
        with pytest.raises(ValueError, match=bad):
            litellm_utils.check_settings()


def check_route(env: dict[str, str | None]) -> None:
    try:
        where = litellm_utils.route()
    except ValueError as error:
        assert any(name in str(error) for name in ROUTE), str(error)
    else:
        assert where.startswith("endpoint ") and ", proxy " in where, where


# --------------------------------------------------------------------------- a tracked helper that gets its answer


@litellm_utils.track_calls(raise_on_degraded=True)
def ask(model_name, client, fail=False):
    """A tracked helper; its client ignores the proxy variables and its api_base the OPENAI_* ones, so every
    request goes to MockLLM on 127.0.0.1 whatever the environment holds."""
    import litellm

    if fail:
        raise ConnectionResetError(104, "Connection reset by peer")
    response = litellm.completion(
        model=model_name,
        messages=[{"role": "user", "content": "hi"}],
        client=client,
        api_base=str(client.base_url),
        num_retries=0,
        timeout=5,
    )
    return litellm_utils.response_text(response)


@pytest.fixture(scope="module")
def answering(litellm_module) -> Iterator[tuple[MockLLM, openai.OpenAI]]:
    with MockLLM() as server, httpx.Client(trust_env=False) as http:
        yield server, openai.OpenAI(base_url=server.base_url, api_key=TEST_KEY, max_retries=0, http_client=http)


def check_answer_kept(env: dict[str, str | None], server: MockLLM, client: openai.OpenAI) -> None:
    litellm_utils._STATS.clear()
    bad = first_bad_variable(env)
    if bad is None:  # the last calls all failed (one for real, the rest filled in): the alarm's text is due
        with pytest.raises((ConnectionResetError, litellm_utils.LiteLLMDegradedError)):
            ask(MODEL, client, fail=True)
        _, _, window, _ = litellm_utils._STATS[ask.__qualname__, MODEL]  # totals, recent, window, causes
        window.extend([True] * window.maxlen)
    before = server.total_attempts
    if bad is not None:  # refused before asking: nothing was asked, so nothing is lost
        with pytest.raises(ValueError, match=bad):
            ask(MODEL, client)
        assert server.total_attempts == before
        return
    assert ask(MODEL, client) == "pong"
    assert server.total_attempts == before + 1
    assert litellm_utils.health()[ask.__qualname__][MODEL]["ok"] == 1  # counted, and not as a failure


@FOUND
@given(env=litellm_settings)
def test_litellm_settings_are_documented_values_or_named_errors_and_answers_are_kept(answering, env):
    with environment({**env, **dict.fromkeys(ROUTE)}):
        check_documented_values(env)
        check_answer_kept(env, *answering)


@FOUND
@given(env=every_variable)
@example(
    env={
        **dict.fromkeys((*NUMERIC, "LITELLM_FALLBACK_MODELS", "LITELLM_PRECHECK", *ROUTE)),
        "OPENAI_API_BASE": "http://[::1",
    }
)
def test_every_variable_is_a_documented_value_or_a_named_error_and_answers_are_kept(answering, env):
    with environment(env):
        check_documented_values(env)
        check_route(env)
        check_answer_kept(env, *answering)


@FOUND
@given(env=st.fixed_dictionaries({name: url | st.none() for name in ROUTE}))
def test_route_with_well_formed_addresses(env):
    with environment(env):
        where = litellm_utils.route()
    assert where.startswith("endpoint ") and ", proxy " in where
    assert "pw" not in where
