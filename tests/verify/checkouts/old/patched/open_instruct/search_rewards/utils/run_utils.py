"""LLM call helpers (older open-instruct shape: no retries, fallbacks or timeout; no try, so failures raise)."""

import json
import re

import litellm

from open_instruct.search_rewards.utils import litellm_utils


def extract_json_from_response(response: str):
    text = response.strip()
    if not text:
        return None
    match = re.search(r"\{.*\}", text, re.DOTALL)
    try:
        obj = json.loads(match.group(0) if match else text)
    except json.JSONDecodeError:
        return None
    return obj if isinstance(obj, dict) else None


@litellm_utils.track_calls
def run_chatopenai(model_name, system_prompt, user_prompt, json_mode=False, **chat_kwargs):
    chat_kwargs["temperature"] = chat_kwargs.get("temperature", 0)
    chat_kwargs["num_retries"] = chat_kwargs.get(
        "num_retries", litellm_utils.from_env("LITELLM_NUM_RETRIES", 10)
    )
    chat_kwargs["fallbacks"] = chat_kwargs.get(
        "fallbacks", litellm_utils.fallback_models([], model_name)
    )
    chat_kwargs["timeout"] = chat_kwargs.get(
        "timeout", litellm_utils.from_env("LITELLM_DEFAULT_TIMEOUT", 600)
    )
    if json_mode:
        chat_kwargs["response_format"] = {"type": "json_object"}
    msgs = [{"role": "system", "content": system_prompt}, {"role": "user", "content": user_prompt}]
    resp = litellm.completion(model=model_name, messages=msgs, **chat_kwargs)
    return litellm_utils.response_text(resp)


@litellm_utils.track_calls
def run_litellm(model_name, user_prompt, system_prompt=None, **chat_kwargs):
    chat_kwargs["temperature"] = chat_kwargs.get("temperature", 0)
    chat_kwargs["num_retries"] = chat_kwargs.get(
        "num_retries", litellm_utils.from_env("LITELLM_NUM_RETRIES", 10)
    )
    chat_kwargs["fallbacks"] = chat_kwargs.get(
        "fallbacks", litellm_utils.fallback_models([], model_name)
    )
    chat_kwargs["timeout"] = chat_kwargs.get(
        "timeout", litellm_utils.from_env("LITELLM_DEFAULT_TIMEOUT", 600)
    )
    if system_prompt:
        msgs = [{"role": "system", "content": system_prompt}, {"role": "user", "content": user_prompt}]
    else:
        msgs = [{"role": "user", "content": user_prompt}]
    response = litellm.completion(messages=msgs, model=model_name, **chat_kwargs)
    return litellm_utils.response_text(response)


@litellm_utils.track_calls
async def run_litellm_async(model_name, user_prompt=None, system_prompt=None, messages=None, **chat_kwargs):
    chat_kwargs["temperature"] = chat_kwargs.get("temperature", 0)
    chat_kwargs["num_retries"] = chat_kwargs.get(
        "num_retries", litellm_utils.from_env("LITELLM_NUM_RETRIES", 10)
    )
    chat_kwargs["fallbacks"] = chat_kwargs.get(
        "fallbacks", litellm_utils.fallback_models([], model_name)
    )
    chat_kwargs["timeout"] = chat_kwargs.get(
        "timeout", litellm_utils.from_env("LITELLM_DEFAULT_TIMEOUT", 600)
    )
    if messages is not None:
        msgs = messages
    elif system_prompt:
        msgs = [{"role": "system", "content": system_prompt}, {"role": "user", "content": user_prompt}]
    else:
        msgs = [{"role": "user", "content": user_prompt}]
    response = await litellm.acompletion(messages=msgs, model=model_name, **chat_kwargs)
    return litellm_utils.response_text(response)
