"""Helpers for calling hosted chat models from the search-reward code.

Rubric generation and rubric judging both go through LiteLLM here; the Azure
helper is kept for the older judge configs that still point at an Azure
deployment.
"""

import asyncio
import json
import os
import re
import time
import weakref
from typing import Any, Dict, List, Optional

import jsonlines
import litellm
from openai import AzureOpenAI

from open_instruct import logger_utils


def litellm_version():
	"""The installed litellm version (for logs)."""
	from importlib import metadata

	return metadata.version("litellm")


def count_prompt_tokens(model_name, text):
	import litellm

	return litellm.token_counter(model=model_name, text=text)

logger = logger_utils.setup_logger(__name__)

litellm.drop_params = True
litellm.suppress_debug_info = True

LITELLM_MAX_CONCURRENT_CALLS = int(os.environ.get("LITELLM_MAX_CONCURRENT_CALLS", "256"))

# asyncio primitives are bound to the loop that first uses them, and every
# reward worker runs its own loop, so keep one semaphore per running loop.
_LOOP_SEMAPHORES: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore]" = (
    weakref.WeakKeyDictionary()
)


def _get_loop_semaphore() -> asyncio.Semaphore:
	loop = asyncio.get_running_loop()
	semaphore = _LOOP_SEMAPHORES.get(loop)
	if semaphore is None:
		semaphore = asyncio.Semaphore(LITELLM_MAX_CONCURRENT_CALLS)
		_LOOP_SEMAPHORES[loop] = semaphore
	return semaphore


def extract_json_from_response(response: str) -> Optional[Dict[str, Any]]:
	"""Pull the first JSON object out of a model reply.

    Models like to wrap JSON in ```json fences or add a sentence before it,
    so strip those first. Returns None when nothing parses to a dict.
    """
	text = response.strip()
	if not text:
		return None
	fenced = re.search(r"```(?:json)?\s*(.*?)```", text, re.DOTALL)
	if fenced:
		text = fenced.group(1).strip()
	else:
		braces = re.search(r"\{.*\}", text, re.DOTALL)
		if braces:
			text = braces.group(0)
	try:
		obj = json.loads(text)
	except json.JSONDecodeError:
		return None
	return obj if isinstance(obj, dict) else None


def run_chatopenai(model_name, system_prompt, user_prompt, json_mode=False, **chat_kwargs):
	chat_kwargs["temperature"] = chat_kwargs.get("temperature", 0)
	if json_mode:
		chat_kwargs["response_format"] = {"type": "json_object"}
	msgs = [{"role": "system", "content": system_prompt}, {"role": "user", "content": user_prompt}]
	if model_name is None:
		raise ValueError("model_name is required")
	resp = litellm.completion(model=model_name, messages=msgs, **chat_kwargs)
	return resp.choices[0].message.content


def run_azure_openai(model_name, user_prompt, system_prompt=None, max_attempts=3, **chat_kwargs):
	client = AzureOpenAI(
	    api_key=os.environ.get("AZURE_OPENAI_API_KEY"),
	    api_version=os.environ.get("AZURE_OPENAI_API_VERSION", "2024-10-21"),
	    azure_endpoint=os.environ.get("AZURE_OPENAI_ENDPOINT", ""),
	)
	if system_prompt:
		msgs = [{"role": "system", "content": system_prompt}, {"role": "user", "content": user_prompt}]
	else:
		msgs = [{"role": "user", "content": user_prompt}]
	for attempt in range(max_attempts):
		try:
			response = client.chat.completions.create(model=model_name, messages=msgs, **chat_kwargs)
			return response.choices[0].message.content
		except Exception as e:
			print(f"Azure call failed (attempt {attempt + 1}/{max_attempts}): {e}")  
			time.sleep(2**attempt)
	return ""


def run_litellm(model_name, user_prompt, system_prompt=None, **kw):
	"""Blocking single-turn call, used by the sync rubric judge."""
	kw["temperature"] = kw.get("temperature", 0)
	kw["max_tokens"] = kw.get("max_tokens", 800)
	kw["top_p"] = kw.get("top_p", 1.0)
	kw["frequency_penalty"] = kw.get("frequency_penalty", 0.0)
	kw["presence_penalty"] = kw.get("presence_penalty", 0.0)
	kw["num_retries"] = kw.get("num_retries", 5)  # transient 5xx from the judge endpoint
	kw["fallbacks"] = kw.get("fallbacks", ["gpt-4.1-mini"])
	# no timeout here: the judge prompts are short

	if system_prompt:
		msgs = [{"role": "system", "content": system_prompt}, {"role": "user", "content": user_prompt}]
	else:
		msgs = [{"role": "user", "content": user_prompt}]

	try:
		response = litellm.completion(messages=msgs, model=model_name, **kw)
	except:
		return ""
	return response.choices[0].message.content


async def run_litellm_async(model_name, user_prompt=None, system_prompt=None, messages=None, **chat_kwargs):
	"""Async single call; pass either user_prompt (+ system_prompt) or a full messages list."""
	chat_kwargs["temperature"] = chat_kwargs.get("temperature", 0)
	chat_kwargs["max_tokens"] = chat_kwargs.get("max_tokens", 800)
	chat_kwargs["top_p"] = chat_kwargs.get("top_p", 1.0)
	chat_kwargs["frequency_penalty"] = chat_kwargs.get("frequency_penalty", 0.0)
	chat_kwargs["presence_penalty"] = chat_kwargs.get("presence_penalty", 0.0)
	chat_kwargs["num_retries"] = chat_kwargs.get("num_retries", 5)
	chat_kwargs["fallbacks"] = chat_kwargs.get("fallbacks", [])
	chat_kwargs["timeout"] = chat_kwargs.get(
	    "timeout", float(os.environ.get("LITELLM_DEFAULT_TIMEOUT", "600"))
	)
	# defaults above are per call; callers may override any of them

	if messages is not None:
		msgs = messages
	elif system_prompt:
		msgs = [{"role": "system", "content": system_prompt}, {"role": "user", "content": user_prompt}]
	else:
		msgs = [{"role": "user", "content": user_prompt}]

	try:
		async with _get_loop_semaphore():
			response = await litellm.acompletion(
			    messages=msgs,
			    model=model_name,  # routed through OPENAI_API_BASE when set
			    **chat_kwargs,
			)
	except Exception as e:
		print(f"Error in run_litellm_async: {e}")
		return ""
	return response.choices[0].message.content


async def run_litellm_batch_async(model_name, prompts: List[str], system_prompt=None, **chat_kwargs) -> List[str]:
	"""Fan out one call per prompt; the per-loop semaphore bounds concurrency."""
	tasks = [
	    run_litellm_async(model_name, user_prompt=prompt, system_prompt=system_prompt, **chat_kwargs)
	    for prompt in prompts
	]
	return list(await asyncio.gather(*tasks))


def run_litellm_batch(model_name, prompts: List[str], system_prompt=None, **chat_kwargs) -> List[str]:
	return asyncio.run(run_litellm_batch_async(model_name, prompts, system_prompt=system_prompt, **chat_kwargs))


def load_jsonl(path: str) -> List[Dict[str, Any]]:
	with jsonlines.open(path) as reader:
		return list(reader)


def save_jsonl(records: List[Dict[str, Any]], path: str) -> None:
	os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
	with jsonlines.open(path, mode="w") as writer:
		writer.write_all(records)


def cache_judge_outputs(model_name, prompts: List[str], cache_path: str, **chat_kwargs) -> List[str]:
	"""Run the batch once and keep the raw replies on disk for offline inspection."""
	if os.path.exists(cache_path):
		cached = load_jsonl(cache_path)
		if len(cached) == len(prompts):
			return [row["output"] for row in cached]
	outputs = run_litellm_batch(model_name, prompts, **chat_kwargs)
	save_jsonl([{"prompt": p, "output": o} for p, o in zip(prompts, outputs)], cache_path)
	return outputs
