"""fallback_models: LITELLM_FALLBACK_MODELS as names or JSON, else the default; never the model itself."""

from __future__ import annotations

import json

import pytest

from llmfix.codemods.runtime.litellm_utils import fallback_models

SECRET = "sk-or-v1-0123456789abcdef0123456789abcdef"
OWN_ENDPOINT = {"model": "openai/gpt-4.1-mini", "api_base": "http://127.0.0.1:8001/v1", "api_key": SECRET}


def test_unset_gives_the_default_without_the_model(llm_env):
    assert fallback_models(["gpt-4.1-mini"], "gpt-4.1") == ["gpt-4.1-mini"]
    assert fallback_models(["gpt-4.1-mini"], "gpt-4.1-mini") == []
    assert fallback_models(["gpt-4.1-mini", "gpt-4o"]) == ["gpt-4.1-mini", "gpt-4o"]
    assert fallback_models([]) == []


def test_the_default_list_is_not_changed(llm_env):
    default = ["gpt-4.1-mini", "gpt-4.1"]
    assert fallback_models(default, "gpt-4.1") == ["gpt-4.1-mini"]
    assert default == ["gpt-4.1-mini", "gpt-4.1"]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("openai/a", ["openai/a"]),
        ("openai/a,openai/b", ["openai/a", "openai/b"]),
        (" openai/a , openai/b ,", ["openai/a", "openai/b"]),
        ("openai/a,,openai/b", ["openai/a", "openai/b"]),
        ('["openai/a", "openai/b"]', ["openai/a", "openai/b"]),
        ('  [" openai/a "]\n', ["openai/a"]),
        (json.dumps([OWN_ENDPOINT]), [OWN_ENDPOINT]),
        (json.dumps(OWN_ENDPOINT), [OWN_ENDPOINT]),
        (json.dumps(["openai/a", OWN_ENDPOINT]), ["openai/a", OWN_ENDPOINT]),
    ],
)
def test_names_and_json(llm_env, raw, expected):
    llm_env.setenv("LITELLM_FALLBACK_MODELS", raw)
    assert fallback_models(["gpt-4.1-mini"], "gpt-4.1") == expected


@pytest.mark.parametrize("raw", ["", " ", "\t\n", ",", " , ", "[]", '[""]'])
def test_set_but_empty_means_no_fallbacks(llm_env, raw):
    llm_env.setenv("LITELLM_FALLBACK_MODELS", raw)
    assert fallback_models(["gpt-4.1-mini"], "gpt-4.1") == []


def test_entries_equal_to_the_model_are_dropped(llm_env):
    llm_env.setenv("LITELLM_FALLBACK_MODELS", "gpt-4.1, gpt-4.1-mini,gpt-4.1")
    assert fallback_models([], "gpt-4.1") == ["gpt-4.1-mini"]
    llm_env.setenv("LITELLM_FALLBACK_MODELS", json.dumps([OWN_ENDPOINT, "openai/b"]))
    assert fallback_models([], "openai/gpt-4.1-mini") == ["openai/b"]
    assert fallback_models([], "openai/b") == [OWN_ENDPOINT]


@pytest.mark.parametrize(
    "raw",
    [
        '[{"model": "openai/x", "api_key": "' + SECRET + '"',  # cut short
        '{"model": "openai/x", "api_key": "' + SECRET + '",}',  # trailing comma
        "['openai/x', '" + SECRET + "']",  # Python, not JSON
        '[{"model": "openai/x", "api_key": ' + SECRET + "}]",  # unquoted
    ],
)
def test_invalid_json_is_named_without_the_secret(llm_env, raw):
    llm_env.setenv("LITELLM_FALLBACK_MODELS", raw)
    with pytest.raises(ValueError) as raised:
        fallback_models([], "gpt-4.1")
    message = str(raised.value)
    assert "LITELLM_FALLBACK_MODELS" in message and "JSON" in message
    assert SECRET not in message and SECRET[:12] not in message
    assert raised.value.__cause__ is None and raised.value.__suppress_context__  # the parser's error is not shown


@pytest.mark.parametrize(
    "raw",
    ["[1]", "[null]", "[{}]", '[{"model": ""}]', '[{"model": 5}]', '{"api_base": "http://127.0.0.1:1/v1"}', '[["a"]]'],
)
def test_entries_that_are_not_models_are_named(llm_env, raw):
    llm_env.setenv("LITELLM_FALLBACK_MODELS", raw)
    with pytest.raises(ValueError, match="LITELLM_FALLBACK_MODELS"):
        fallback_models([], "gpt-4.1")


def test_deeply_nested_json_is_a_named_error(llm_env):
    llm_env.setenv("LITELLM_FALLBACK_MODELS", "[" * 100_000)
    with pytest.raises(ValueError, match="LITELLM_FALLBACK_MODELS"):
        fallback_models([], "gpt-4.1")
