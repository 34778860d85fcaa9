"""_fallback_models_from_env: LITELLM_FALLBACK_MODELS as names or endpoint objects."""

from __future__ import annotations

import pytest

from llmfix.codemods.runtime.fallbacks import _fallback_models_from_env

OBJECT = {"model": "openai/x", "api_base": "http://127.0.0.1:1/v1", "api_key": "k"}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, ["d1", "d2"]),  # unset: the default
        ("", []),  # set but empty: none
        ("  ", []),
        ("a, b,,c", ["a", "b", "c"]),
        ("primary,b", ["b"]),  # the primary is dropped
        ('["a", {"model": "openai/x", "api_base": "http://127.0.0.1:1/v1", "api_key": "k"}]', ["a", OBJECT]),
        (' [{"model": "primary"}, "primary", "c"]', ["c"]),
        ('{"model": "openai/x", "api_base": "http://127.0.0.1:1/v1", "api_key": "k"}', [OBJECT]),
    ],
)
def test_the_variable(llm_env, value, expected):
    if value is not None:
        llm_env.setenv("LITELLM_FALLBACK_MODELS", value)
    assert _fallback_models_from_env(["d1", "d2"], "primary") == expected


def test_default_is_copied_and_primary_dropped_from_it():
    default = ["primary", "d"]
    models = _fallback_models_from_env(default, "primary")
    assert models == ["d"] and default == ["primary", "d"]
    assert _fallback_models_from_env(("a",)) == ["a"]


@pytest.mark.parametrize("value", ["[not json", '{"model": ', "[1, 2"])
def test_invalid_json_names_the_variable(llm_env, value):
    llm_env.setenv("LITELLM_FALLBACK_MODELS", value)
    with pytest.raises(ValueError, match="^LITELLM_FALLBACK_MODELS is not valid JSON: ") as raised:
        _fallback_models_from_env([], "p")
    assert raised.value.__cause__ is None and raised.value.__suppress_context__
