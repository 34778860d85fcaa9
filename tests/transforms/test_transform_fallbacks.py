"""fallbacks: before/after pairs, and the inserted helper's behaviour."""

import json

import libcst as cst
import pytest

from llmfix.codemods import ALREADY_PRESENT, ANCHOR_MISSING, APPLIED
from llmfix.codemods.fallbacks import HELPER_SOURCE, FallbacksTransform

from harness import run_transform

SOURCE = """\
import json
import os
import litellm

def run_litellm(model_name, **chat_kwargs):
    chat_kwargs["fallbacks"] = chat_kwargs.get("fallbacks", ["gpt-4.1-mini"])
    return litellm.completion(model=model_name, **chat_kwargs)

async def run_litellm_async(model_name, **chat_kwargs):
    chat_kwargs["fallbacks"] = chat_kwargs.get("fallbacks", [])
    return await litellm.acompletion(model=model_name, **chat_kwargs)
"""


def test_both_sites_read_the_env_through_one_helper():
    new, outcome = run_transform(FallbacksTransform, SOURCE)
    assert outcome.status == APPLIED
    assert new.count("def _fallback_models_from_env(") == 1
    assert '_fallback_models_from_env(["gpt-4.1-mini"], model_name))' in new
    # the empty async list takes the file's list
    assert new.count('_fallback_models_from_env(["gpt-4.1-mini"], model_name)') == 2
    again, second = run_transform(FallbacksTransform, new)
    assert again == new and second.status == ALREADY_PRESENT


def test_no_list_anywhere_uses_the_built_in_default():
    source = "import litellm\ndef f(m, **kw):\n    return litellm.completion(model=m, **kw)\n"
    new, outcome = run_transform(FallbacksTransform, source)
    assert outcome.status == APPLIED
    assert 'kw["fallbacks"] = kw.get("fallbacks", _fallback_models_from_env(["openai/gpt-4o-mini"], m))' in new
    assert "import json" in new and "import os" in new


def test_fallback_flag_wins():
    new, _ = run_transform(FallbacksTransform, SOURCE, fallbacks=["a", "b"])
    assert new.count('_fallback_models_from_env(["a", "b"], model_name)') == 2


def test_non_list_default_is_anchor_missing(check_transform):
    check_transform(
        FallbacksTransform,
        """\
        import litellm
        def f(m, **kw):
            kw["fallbacks"] = kw.get("fallbacks", FALLBACKS)
            return litellm.completion(model=m, **kw)
        """,
        None,
        ANCHOR_MISSING,
    )


@pytest.fixture
def fallback_models(monkeypatch):
    """The inserted helper, compiled on its own."""
    namespace = {"os": __import__("os"), "json": json}
    exec(HELPER_SOURCE, namespace)
    return namespace["_fallback_models_from_env"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, ["d1", "d2"]),
        ("", []),
        ("  ", []),
        ("a, b,,c", ["a", "b", "c"]),
        ("primary,b", ["b"]),
        ('["a", {"model": "openai/x", "api_base": "http://127.0.0.1:1/v1", "api_key": "k"}]',
         ["a", {"model": "openai/x", "api_base": "http://127.0.0.1:1/v1", "api_key": "k"}]),
        ('[{"model": "primary"}]', []),
        ('{"model": "openai/x", "api_base": "http://127.0.0.1:1/v1"}', [{"model": "openai/x", "api_base": "http://127.0.0.1:1/v1"}]),
    ],
)
def test_helper_parses_the_variable(fallback_models, monkeypatch, value, expected):
    if value is None:
        monkeypatch.delenv("LITELLM_FALLBACK_MODELS", raising=False)
    else:
        monkeypatch.setenv("LITELLM_FALLBACK_MODELS", value)
    assert fallback_models(["d1", "d2"], "primary") == expected


@pytest.mark.parametrize("value", ["[not json", '{"model": '])
def test_helper_rejects_bad_json_with_a_clear_message(fallback_models, monkeypatch, value):
    monkeypatch.setenv("LITELLM_FALLBACK_MODELS", value)
    with pytest.raises(ValueError, match="LITELLM_FALLBACK_MODELS"):
        fallback_models([], "p")
