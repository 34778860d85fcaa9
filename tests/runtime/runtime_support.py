"""Helpers shared by the support-module tests (imported as a plain module).

The LiteLLM helpers here are shaped like the code llmfix patches (DR Tulu's run_utils.py and
rubric_utils.py, upstream's raw helper, the LLM judge's hand retry loop), as they read after
``llmfix apply``: they call the support module the way the patched code does. Their default
fallbacks are empty, so a test controls every request MockLLM sees.
"""

from __future__ import annotations

import asyncio
import json
import logging
import weakref
from dataclasses import dataclass
from typing import Any, Coroutine

import pytest

from llmfix.codemods.runtime import litellm_utils

TEST_KEY = "sk-test-0123456789abcdef"
PASSWORD = "Pr0xyPassw0rd"
PROBE = "Reply with OK."
RUBRICS = '{"question": "q", "rubrics": [{"description": "cites a source", "weight": 1}]}'

logger = logging.getLogger("tests.runtime.helpers")


def run(coroutine: Coroutine[Any, Any, Any]) -> Any:
    """Run on a fresh event loop, closing LiteLLM's async clients of that loop after."""

    async def main() -> Any:
        import litellm

        try:
            return await coroutine
        finally:
            await litellm.close_litellm_async_clients()

    return asyncio.run(main())


def module_records(caplog: pytest.LogCaptureFixture, level: int | None = None) -> list[logging.LogRecord]:
    """The support module's log records, optionally of one level only."""
    name = litellm_utils.logger.name
    return [r for r in caplog.records if r.name == name and (level is None or r.levelno == level)]


def _litellm():
    import litellm

    return litellm


def _defaults(model_name: str, chat_kwargs: dict[str, Any]) -> dict[str, Any]:
    """The patched default lines: env-driven retries, fallbacks and timeout."""
    chat_kwargs["num_retries"] = chat_kwargs.get("num_retries", litellm_utils.from_env("LITELLM_NUM_RETRIES", 10))
    chat_kwargs["fallbacks"] = chat_kwargs.get("fallbacks", litellm_utils.fallback_models([], model_name))
    chat_kwargs["timeout"] = chat_kwargs.get("timeout", litellm_utils.from_env("LITELLM_DEFAULT_TIMEOUT", 600))
    return chat_kwargs


def _messages(user_prompt: str | None, system_prompt: str | None) -> list[dict[str, str]]:
    if system_prompt:
        return [{"role": "system", "content": system_prompt}, {"role": "user", "content": user_prompt or ""}]
    return [{"role": "user", "content": user_prompt or ""}]


_LOOP_SEMAPHORES: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = weakref.WeakKeyDictionary()


def _loop_semaphore() -> asyncio.Semaphore:
    """DR Tulu's per-event-loop semaphore."""
    loop = asyncio.get_running_loop()
    if loop not in _LOOP_SEMAPHORES:
        _LOOP_SEMAPHORES[loop] = asyncio.Semaphore(256)
    return _LOOP_SEMAPHORES[loop]


@litellm_utils.track_calls
async def run_litellm_async(model_name, user_prompt=None, system_prompt=None, messages=None, **chat_kwargs):
    """DR Tulu's run_litellm_async, patched: any error is printed and "" returned (it swallows)."""
    _defaults(model_name, chat_kwargs)
    msgs = messages if messages is not None else _messages(user_prompt, system_prompt)
    try:
        async with _loop_semaphore():
            response = await _litellm().acompletion(messages=msgs, model=model_name, **chat_kwargs)
    except Exception as e:
        print(f"Error in run_litellm_async: {e}")
        return ""
    return litellm_utils.response_text(response)


@litellm_utils.track_calls
async def run_litellm_async_raw(model_name, messages, **chat_kwargs):
    """Upstream's raw helper: no try, the error reaches the caller."""
    _defaults(model_name, chat_kwargs)
    response = await _litellm().acompletion(model=model_name, messages=messages, **chat_kwargs)
    return litellm_utils.response_text(response)


@litellm_utils.track_calls
def run_litellm(model_name, user_prompt, system_prompt=None, **chat_kwargs):
    """DR Tulu's sync run_litellm, patched: a bare except logs the cause and returns ""."""
    _defaults(model_name, chat_kwargs)
    try:
        response = _litellm().completion(
            messages=_messages(user_prompt, system_prompt), model=model_name, **chat_kwargs
        )
    except:  # noqa: E722 - the shape under test
        litellm_utils.log_failure("run_litellm")
        return ""
    return litellm_utils.response_text(response)


@litellm_utils.track_calls
def run_chatopenai(model_name, system_prompt, user_prompt, json_mode=False, **chat_kwargs):
    """run_chatopenai, patched: no try, the error reaches the caller."""
    _defaults(model_name, chat_kwargs)
    resp = _litellm().completion(model=model_name, messages=_messages(user_prompt, system_prompt), **chat_kwargs)
    return litellm_utils.response_text(resp)


def extract_json_from_response(response: str) -> dict[str, Any] | None:
    text = response.strip()
    start, end = text.find("{"), text.rfind("}")
    try:
        obj = json.loads(text[start : end + 1]) if start >= 0 else None
    except ValueError:
        return None
    return obj if isinstance(obj, dict) else None


@litellm_utils.track_calls(raise_on_degraded=True)
async def generate_instance_wise_adaptive_rubrics(
    question, response_list, existing_rubrics=None, model_name="gpt-4.1"
):
    """DR Tulu's rubric generator, patched: connection check, empty guard, health with the alarm."""
    prompt = f"Question: {question}\nResponses: {response_list}\nExisting rubrics: {existing_rubrics}"
    resp = None
    await litellm_utils.ensure_connection(run_litellm_async, model_name=model_name, user_prompt=prompt)
    try:
        resp = await run_litellm_async(model_name=model_name, user_prompt=prompt)
        if not resp:
            logger.warning("Empty rubric response from model %s", model_name)
            return None
        obj = extract_json_from_response(resp)
        print(f"Generated instance-wise adaptive rubrics: {obj}")
    except Exception as e:
        print(f"Prompt: {prompt}")
        print(f"Response: {resp}")
        print(f"Error: {e}")
        return None
    return obj


@dataclass
class VerificationResult:
    score: float
    cost: float = 0.0
    reasoning: str | None = None


class LMJudgeVerifier:
    """The LLM judge's shape: a hand retry loop around acompletion, a default score of 0.0 at the end."""

    def __init__(self, model: str, retry_delay: float = 0.01) -> None:
        self.model = model
        self.retry_delay = retry_delay
        self.attempts = 0

    @litellm_utils.track_calls(raise_on_degraded=True)
    async def async_call(self, tokenized_prediction, prediction, label, query) -> VerificationResult:
        max_retries = 3
        for attempt in range(max_retries):
            self.attempts += 1
            try:
                response = await _litellm().acompletion(
                    model=self.model,
                    messages=[{"role": "user", "content": f"Score {prediction!r} against {label!r} for {query!r}"}],
                    temperature=0.0,
                    max_completion_tokens=8,
                    timeout=litellm_utils.from_env("LITELLM_DEFAULT_TIMEOUT", 600),
                    fallbacks=litellm_utils.fallback_models([], self.model),
                    num_retries=0,
                )
                text = litellm_utils.response_text(response)
                return VerificationResult(score=float(text), reasoning=text)
            except Exception as e:
                logger.warning(f"LLM judge attempt {attempt + 1}/{max_retries} failed: {e}")
                if attempt == max_retries - 1:
                    logger.error(f"LLM judge failed after {max_retries} attempts. Returning default score of 0.0")
                    return VerificationResult(score=0.0, cost=0.0, reasoning=f"Error: {e}")
                await asyncio.sleep(self.retry_delay * 2**attempt)
        return VerificationResult(score=0.0, cost=0.0, reasoning="Unknown error after all retries.")
