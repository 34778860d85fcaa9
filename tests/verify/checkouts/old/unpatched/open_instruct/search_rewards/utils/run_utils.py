"""LLM call helpers (older open-instruct shape: no retries, fallbacks or timeout; no try, so failures raise)."""

import json
import re

import litellm


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


def run_chatopenai(model_name, system_prompt, user_prompt, json_mode=False, **chat_kwargs):
    chat_kwargs["temperature"] = chat_kwargs.get("temperature", 0)
    if json_mode:
        chat_kwargs["response_format"] = {"type": "json_object"}
    msgs = [{"role": "system", "content": system_prompt}, {"role": "user", "content": user_prompt}]
    resp = litellm.completion(model=model_name, messages=msgs, **chat_kwargs)
    return resp.choices[0].message.content


def run_litellm(model_name, user_prompt, system_prompt=None, **chat_kwargs):
    chat_kwargs["temperature"] = chat_kwargs.get("temperature", 0)
    if system_prompt:
        msgs = [{"role": "system", "content": system_prompt}, {"role": "user", "content": user_prompt}]
    else:
        msgs = [{"role": "user", "content": user_prompt}]
    response = litellm.completion(messages=msgs, model=model_name, **chat_kwargs)
    return response.choices[0].message.content


async def run_litellm_async(model_name, user_prompt=None, system_prompt=None, messages=None, **chat_kwargs):
    chat_kwargs["temperature"] = chat_kwargs.get("temperature", 0)
    if messages is not None:
        msgs = messages
    elif system_prompt:
        msgs = [{"role": "system", "content": system_prompt}, {"role": "user", "content": user_prompt}]
    else:
        msgs = [{"role": "user", "content": user_prompt}]
    response = await litellm.acompletion(messages=msgs, model=model_name, **chat_kwargs)
    return response.choices[0].message.content
