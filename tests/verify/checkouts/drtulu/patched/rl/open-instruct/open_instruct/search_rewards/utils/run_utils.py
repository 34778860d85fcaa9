"""LLM call helpers for the search rewards (DR Tulu shape: chatopenai, azure, litellm sync and async)."""

import asyncio
import json
import os
import re
import weakref

import jsonlines  # noqa: F401  (DR Tulu imports it here for its jsonl helpers)
import litellm
from openai import AzureOpenAI

from open_instruct.search_rewards.utils import litellm_utils

litellm.drop_params = True

LITELLM_MAX_CONCURRENT_CALLS = int(os.environ.get("LITELLM_MAX_CONCURRENT_CALLS", "256"))
_LOOP_SEMAPHORES = weakref.WeakKeyDictionary()


def _get_loop_semaphore():
    loop = asyncio.get_running_loop()
    if loop not in _LOOP_SEMAPHORES:
        _LOOP_SEMAPHORES[loop] = asyncio.Semaphore(LITELLM_MAX_CONCURRENT_CALLS)
    return _LOOP_SEMAPHORES[loop]


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


def run_azure_openai(model_name, system_prompt, user_prompt, max_tokens=800, **chat_kwargs):
    client = AzureOpenAI(
        api_key=os.environ.get("AZURE_OPENAI_API_KEY", ""),
        api_version="2024-10-21",
        azure_endpoint=os.environ.get("AZURE_OPENAI_ENDPOINT", "https://azure.invalid"),
    )
    msgs = [{"role": "system", "content": system_prompt}, {"role": "user", "content": user_prompt}]
    response = client.chat.completions.create(model=model_name, messages=msgs, max_tokens=max_tokens, **chat_kwargs)
    return response.choices[0].message.content


@litellm_utils.track_calls
def run_litellm(model_name, user_prompt, system_prompt=None, **chat_kwargs):
    chat_kwargs["temperature"] = chat_kwargs.get("temperature", 0)
    chat_kwargs["max_tokens"] = chat_kwargs.get("max_tokens", 800)
    chat_kwargs["num_retries"] = chat_kwargs.get(
        "num_retries", litellm_utils.from_env("LITELLM_NUM_RETRIES", 10)
    )
    chat_kwargs["fallbacks"] = chat_kwargs.get(
        "fallbacks", litellm_utils.fallback_models(["gpt-4.1-mini"], model_name)
    )
    chat_kwargs["timeout"] = chat_kwargs.get(
        "timeout", litellm_utils.from_env("LITELLM_DEFAULT_TIMEOUT", 600)
    )
    if system_prompt:
        msgs = [{"role": "system", "content": system_prompt}, {"role": "user", "content": user_prompt}]
    else:
        msgs = [{"role": "user", "content": user_prompt}]
    try:
        response = litellm.completion(messages=msgs, model=model_name, **chat_kwargs)
    except:  # noqa: E722
        litellm_utils.log_failure("run_litellm")
        return ""
    return litellm_utils.response_text(response)


@litellm_utils.track_calls
async def run_litellm_async(model_name, user_prompt=None, system_prompt=None, messages=None, **chat_kwargs):
    chat_kwargs["temperature"] = chat_kwargs.get("temperature", 0)
    chat_kwargs["max_tokens"] = chat_kwargs.get("max_tokens", 800)
    chat_kwargs["num_retries"] = chat_kwargs.get(
        "num_retries", litellm_utils.from_env("LITELLM_NUM_RETRIES", 10)
    )
    chat_kwargs["fallbacks"] = chat_kwargs.get(
        "fallbacks", litellm_utils.fallback_models([], model_name)
    )
    chat_kwargs["timeout"] = chat_kwargs.get(
        "timeout", float(os.environ.get("LITELLM_DEFAULT_TIMEOUT", "600"))
    )
    if messages is not None:
        msgs = messages
    elif system_prompt:
        msgs = [{"role": "system", "content": system_prompt}, {"role": "user", "content": user_prompt}]
    else:
        msgs = [{"role": "user", "content": user_prompt}]
    try:
        async with _get_loop_semaphore():
            response = await litellm.acompletion(messages=msgs, model=model_name, **chat_kwargs)
    except Exception as e:
        print(f"Error in run_litellm_async: {e}")
        return ""
    return litellm_utils.response_text(response)
