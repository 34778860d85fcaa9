"""response_text: the answer's text, or "" and one warning naming the model when the answer holds none."""

from __future__ import annotations

import logging
from types import SimpleNamespace

import pytest
from runtime_support import TEST_KEY, module_records, run

from llmfix.codemods.runtime.litellm_utils import response_text


def answer(mock_llm, behaviour: str, is_async: bool):
    """A real litellm response to a request MockLLM answers with ``behaviour``."""
    import litellm

    mock_llm.plan("judge-model", [behaviour])
    arguments = dict(
        model="openai/judge-model",
        messages=[{"role": "user", "content": "Reply with OK."}],
        api_base=mock_llm.base_url,
        api_key=TEST_KEY,
        num_retries=0,
    )
    return run(litellm.acompletion(**arguments)) if is_async else litellm.completion(**arguments)


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
@pytest.mark.parametrize(("behaviour", "what"), [("nochoices", "no choices"), ("null", "None"), ("empty", "''")])
def test_empty_answers_give_empty_text_and_one_warning(litellm_module, mock_llm, logs, is_async, behaviour, what):
    response = answer(mock_llm, behaviour, is_async)
    logs.clear()
    assert response_text(response) == ""
    (warning,) = module_records(logs)
    assert warning.levelno == logging.WARNING
    assert "judge-model" in warning.getMessage() and what in warning.getMessage(), warning.getMessage()


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
def test_a_normal_answer_is_returned_quietly(litellm_module, mock_llm, logs, is_async):
    mock_llm.set_content("judge-model", "  1.0\n")
    response = answer(mock_llm, "ok", is_async)
    logs.clear()
    assert response_text(response) == "  1.0\n"  # as the model wrote it
    assert module_records(logs) == []


@pytest.mark.parametrize(
    ("response", "what", "model"),
    [
        (SimpleNamespace(model="m", choices=[SimpleNamespace(message=None)]), "message", "m"),
        (SimpleNamespace(model="m", choices=[SimpleNamespace()]), "message", "m"),
        (SimpleNamespace(model="m", choices=None), "choices", "m"),
        (SimpleNamespace(choices=[]), "choices", ""),
        (None, "choices", ""),
    ],
)
def test_shapes_without_a_message(logs, response, what, model):
    assert response_text(response) == ""
    (warning,) = module_records(logs)
    assert warning.levelno == logging.WARNING
    assert model in warning.getMessage() and what in warning.getMessage(), warning.getMessage()


def test_each_empty_shape_is_told_apart(logs):
    for response in (
        None,
        SimpleNamespace(model="m", choices=[SimpleNamespace(message=None)]),
        SimpleNamespace(model="m", choices=[SimpleNamespace(message=SimpleNamespace(content=None))]),
        SimpleNamespace(model="m", choices=[SimpleNamespace(message=SimpleNamespace(content=""))]),
    ):
        response_text(response)
    assert len({r.getMessage() for r in module_records(logs)}) == 4


def test_the_warning_names_each_model(logs):
    for model in ("openai/gpt-4.1", "gpt-4.1-mini"):
        response_text(SimpleNamespace(model=model, choices=[SimpleNamespace(message=SimpleNamespace(content=""))]))
    first, second = (r.getMessage() for r in module_records(logs))
    assert "openai/gpt-4.1" in first and "gpt-4.1-mini" in second
