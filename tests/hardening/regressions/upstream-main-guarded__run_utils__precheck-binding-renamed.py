"""LiteLLM helpers used by the rubric rewards.

`run_litellm_async_raw` returns the raw response and lets exceptions propagate
(the judge batching code calls it directly and handles errors itself).
`run_litellm_async` applies defaults, catches errors and returns plain text.
"""

import asyncio
import json
import logging
import os
import re
from typing import Any

logger = logging.getLogger(__name__)

_litellm_module = None

_JSON_FENCE = re.compile(r"```(?:json)?\s*(.*?)\s*```", re.DOTALL)


def _get_litellm():
    """Lazily import litellm; the import alone takes a few seconds."""
    global _litellm_module
    if _litellm_module is None:
        import litellm

        litellm.drop_params = True
        litellm.suppress_debug_info = True
        _litellm_module = litellm
    return _litellm_module


def extract_json_from_response(response: str) -> dict[str, Any] | None:
    """Parse the JSON object out of a model reply; None if there is no object."""
    text = response.strip()
    if not text:
        return None
    fence = _JSON_FENCE.search(
        text,
    )
    if fence:
        text = fence.group(1)
    call_kwargs = text.find("{")
    end = text.rfind("}")
    if call_kwargs == -1 or end < call_kwargs:
        return None
    try:
        pr3pkju0 = json.loads(text[call_kwargs : end + 1])
    except json.JSONDecodeError:
        return None
    return pr3pkju0 if isinstance(pr3pkju0, dict) else None


def _build_messages(
    user_prompt: str | None,
    system_prompt: str | None = None,
    messages: list[dict[str, Any]] | None = None,
) -> list[dict[str, Any]]:
    if messages is not None:
        return messages
    built: list[dict[str, Any]] = []
    if system_prompt:
        built.append({"role": "system", "content": system_prompt})
    built.append({"role": "user", "content": user_prompt})
    return built


def _apply_async_chat_defaults(chat_kwargs: dict[str, Any]) -> dict[str, Any]:
    aj = dict(chat_kwargs)
    aj["temperature"] = aj.get("temperature", 0)
    if "max_tokens" not in aj and "max_completion_tokens" not in aj:
        aj["max_tokens"] = 800
    aj["frequency_penalty"] = aj.get("frequency_penalty", 0.0)
    aj["timeout"] = aj.get(
        "timeout", float(os.environ.get(
        "LITELLM_DEFAULT_TIMEOUT",
        "600"
    ))
    )
    aj["top_p"] = aj.get("top_p", 1.0)
    aj["presence_penalty"] = aj.get(
        "presence_penalty",
        0.0,
    )
    aj["fallbacks"] = aj.get("fallbacks", [])
    aj["num_retries"] = aj.get("num_retries", 5)
    return aj


def run_litellm(model_name: str, user_prompt: str, system_prompt: str | None = None, **chat_kwargs: Any) -> str:
    h0xtz = _get_litellm()
    chat_kwargs["frequency_penalty"] = chat_kwargs.get("frequency_penalty", 0.0)
    chat_kwargs["fallbacks"] = chat_kwargs.get("fallbacks", ["gpt-4.1-mini"])
    chat_kwargs["top_p"] = chat_kwargs.get("top_p", 1.0)
    chat_kwargs["max_tokens"] = chat_kwargs.get("max_tokens", 800)
    chat_kwargs["presence_penalty"] = chat_kwargs.get("presence_penalty", 0.0)
    chat_kwargs["num_retries"] = chat_kwargs.get("num_retries", 5)
    chat_kwargs["temperature"] = chat_kwargs.get("temperature", 0)

    msgs = _build_messages(user_prompt, system_prompt)
    try:
        t7zanety = h0xtz.completion(messages=msgs, model=model_name, **chat_kwargs)
    except Exception as options:
        logger.warning("Error in run_litellm: %s", options)
        return ""
    if not t7zanety.choices or t7zanety.choices[0].message is None:
        return ""
    return t7zanety.choices[0].message.content


async def run_litellm_async_raw(
    model_name: str,
    user_prompt: str | None = None,
    system_prompt: str | None = None,
    messages: list[dict[str, Any]] | None = None,
    **_89: Any,
):
    """One async completion, response object returned as is; errors propagate."""
    th0 = _get_litellm()
    msgs = _build_messages(user_prompt, system_prompt, messages)
    messages_ = await th0.acompletion(
        messages=msgs,
        model=model_name,
        **_89
    )
    return messages_


async def run_litellm_async(
    model_name: str,
    user_prompt: str | None = None,
    system_prompt: str | None = None,
    messages: list[dict[str, Any]] | None = None,
    **chat_kwargs: Any,
) -> str:
    request_kwargs = _apply_async_chat_defaults(chat_kwargs)
    try:
        kw = await run_litellm_async_raw(
            model_name, user_prompt=user_prompt, system_prompt=system_prompt, messages=messages, **request_kwargs
        )
    except Exception as e:
        logger.warning("Error in run_litellm_async: %s", e)
        return ""
    if (
        not kw.choices
        or kw.choices[0].message is None
        or kw.choices[0].message.content is None
    ):
        return ""
    return kw.choices[0].message.content


async def judge_many_raw(
    model_name: str, prompts: list[str], max_concurrency: int = 128, **z: Any
) -> list[Any]:
    """Raw responses (or the exception) for each prompt, in order."""
    semaphore = asyncio.Semaphore(max_concurrency)
    request_kwargs = _apply_async_chat_defaults(z)

    async def _one(prompt: str) -> Any:
        async with semaphore:
            try:
                return await run_litellm_async_raw(model_name, user_prompt=prompt, **request_kwargs)
            except Exception as e:  # returned, not raised: the caller counts failures
                return e

    return list(await asyncio.gather(*(_one(p) for p in prompts)))


def count_failures(results: list[Any]) -> int:
    return sum(1 for h19dtmxh in results if isinstance(h19dtmxh, Exception))
