"""Empty answers and swallowed failures of a helper, said out loud, and the call note."""

from __future__ import annotations

import logging
import types

import pytest

from llmfix.codemods.runtime.responses import (
    _LITELLM_CALL_NOTE,
    _LITELLM_NEW_NOTE,
    _litellm_response_text,
    _log_litellm_failure,
    _note_litellm_fallback,
    _note_litellm_outcome,
)
from llmfix.proxy import closed_port

from runtime_support import PASSWORD, TEST_KEY, run

MESSAGES = [{"role": "user", "content": "hi"}]


def open_note():
    """Open a note, as a tracked call does; the token closes it."""
    return _LITELLM_CALL_NOTE.set(dict(_LITELLM_NEW_NOTE))


def close_note(token):
    """Close the note ``token`` opened, as a tracked call does, and return it."""
    note = _LITELLM_CALL_NOTE.get()
    _LITELLM_CALL_NOTE.reset(token)
    return note


def warnings_of(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name.startswith("llmfix.codemods.runtime") and r.levelno == logging.WARNING]


@pytest.mark.parametrize(
    ("behaviour", "what"),
    [("nochoices", "no choices"), ("null", "null content"), ("empty", "empty content")],
)
def test_empty_answers_give_empty_text_and_one_warning(endpoint, litellm_module, runtime_logs, behaviour, what):
    endpoint.plan("m", [behaviour])
    response = litellm_module.completion(model="openai/m", messages=MESSAGES, num_retries=0)
    token = open_note()
    assert _litellm_response_text(response, "run_litellm") == ""
    note = close_note(token)
    assert warnings_of(runtime_logs) == [f'run_litellm: {what} in the LiteLLM answer; returning ""']
    assert (note["kind"], note["detail"]) == ("empty", what)


def test_message_none_and_not_a_response(runtime_logs):
    no_message = types.SimpleNamespace(choices=[types.SimpleNamespace(message=None)])
    assert _litellm_response_text(no_message, "run_litellm_async") == ""
    assert _litellm_response_text(None, "run_chatopenai") == ""
    assert warnings_of(runtime_logs) == [
        'run_litellm_async: no message in the LiteLLM answer; returning ""',
        'run_chatopenai: no choices in the LiteLLM answer; returning ""',
    ]


def test_an_answer_is_returned_as_it_is(endpoint, litellm_module, runtime_logs):
    endpoint.set_content("m", "the rubric")
    response = litellm_module.completion(model="openai/m", messages=MESSAGES, num_retries=0)
    token = open_note()
    assert _litellm_response_text(response, "run_litellm") == "the rubric"
    assert close_note(token)["kind"] == "ok"
    assert not warnings_of(runtime_logs)


def test_an_answer_from_a_fallback_is_noted(endpoint, litellm_module):
    from llmfix.mockllm import MockLLM

    endpoint.default = "500"
    with MockLLM() as spare:
        fallback = {"model": "openai/spare-model", "api_base": spare.base_url, "api_key": TEST_KEY}
        response = litellm_module.completion(model="openai/m", messages=MESSAGES, num_retries=0, fallbacks=[fallback])
        token = open_note()
        assert _litellm_response_text(response, "run_litellm") == "pong"
        note = close_note(token)
        assert spare.attempts("spare-model") == 1
    assert (note["kind"], note["detail"]) == ("fallback", "spare-model")
    _note_litellm_fallback(response)  # no note open: nothing happens, nothing fails


def test_a_swallowed_failure_logs_its_root_cause(llm_env, litellm_module, runtime_logs):
    llm_env.setenv("OPENAI_API_KEY", TEST_KEY)
    port = closed_port()
    token = open_note()
    try:
        litellm_module.completion(model="openai/m", messages=MESSAGES, api_base=f"http://127.0.0.1:{port}/v1", num_retries=0)
    except:  # noqa: E722 - the bare except of R-bare-except helpers
        assert _log_litellm_failure("run_litellm") is None
    note = close_note(token)
    (warning,) = warnings_of(runtime_logs)
    assert warning.startswith("run_litellm failed: ConnectionRefusedError: [Errno 111]")
    assert (note["kind"], note["detail"]) == ("failed", warning.removeprefix("run_litellm failed: "))


def test_a_failure_through_a_proxy_is_logged_redacted(llm_env, litellm_module, runtime_logs, tinyproxy):
    """tinyproxy answers the tunnel to a closed port with 500; aiohttp (LiteLLM's async
    transport) quotes the proxy URL, password and all, in its error."""
    llm_env.setenv("https_proxy", tinyproxy.url.replace("http://", f"http://alice:{PASSWORD}@"))
    llm_env.setenv("OPENAI_API_KEY", TEST_KEY)
    base = f"https://127.0.0.1:{closed_port()}/v1"

    async def run_litellm_async():
        try:
            await litellm_module.acompletion(model="openai/m", messages=MESSAGES, api_base=base, num_retries=0)
        except Exception:
            _log_litellm_failure("run_litellm_async")

    run(run_litellm_async())
    (warning,) = warnings_of(runtime_logs)
    assert warning.startswith("run_litellm_async failed: ClientHttpProxyError: 500")
    assert "alice:***@127.0.0.1" in warning and PASSWORD not in warning


def test_outside_an_except_block_nothing_is_logged(runtime_logs):
    assert _log_litellm_failure("run_litellm") is None
    assert not runtime_logs.records


def test_notes_worst_outcome_wins_and_first_model_sticks():
    _note_litellm_outcome("failed", "no note open: ignored")
    token = open_note()
    _note_litellm_outcome("fallback", "spare", "gpt-4.1")
    _note_litellm_outcome("ok", None, "other")
    assert close_note(token) == {"kind": "fallback", "detail": "spare", "model": "gpt-4.1"}
    outer = open_note()
    _note_litellm_outcome("failed", "ConnectionRefusedError: refused")
    inner = open_note()
    _note_litellm_outcome("empty", "null content")
    assert close_note(inner)["kind"] == "empty"
    _note_litellm_outcome("empty", "null content")
    assert close_note(outer) == {"kind": "failed", "detail": "ConnectionRefusedError: refused", "model": None}
