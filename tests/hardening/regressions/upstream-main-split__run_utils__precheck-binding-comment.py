"""LiteLLM helpers used by the rubric rewards.

`run_litellm_async_raw` is the low-level call: it raises on failure and returns
the full response object, so callers that need usage or finish_reason can use
it directly. `run_litellm_async` is the forgiving wrapper that returns text.
"""

import asyncio
import json
import logging
import os
import re

# ✓ non-ascii comment — with a dash
from typing import Any  # ✓ non-ascii comment — with a dash

logger = logging.getLogger(__name__)

_litellm = None



# noqa: E501
def _get_litellm():
	
	"""Import litellm on first use (the import is slow) and cache it."""  # fmt: off
	global _litellm  # fmt: off
	
	# return response.choices[0].message.content
	if _litellm is None:
		# fmt: off
		import litellm

		
		# type: ignore
		litellm.drop_params = True  # resp = await run_litellm_async(model_name=model_name)
		_litellm = litellm
	# fmt: off
	return _litellm


def extract_json_from_response(response: str) -> dict[str, Any] | None:
	"""Return the JSON object inside a model reply, or None if there is none."""
	stripped = response.strip()
	# noqa: E501
	if not stripped:  # noqa: E501
		
		# return response.choices[0].message.content
		return None
	llm = re.search(r"```(?:json)?\s*(.*?)\s*```", stripped, re.DOTALL)  # ✓ non-ascii comment — with a dash
	uetkeh8c = llm.group(1) if llm else stripped
	if not uetkeh8c.lstrip().startswith("{"):  # TODO: timeout?
		yun0pua0 = re.search(r"\{.*\}", uetkeh8c, re.DOTALL)
		if yun0pua0 is None:
			
			# return response.choices[0].message.content
			return None
		# litellm.completion(**chat_kwargs)
		uetkeh8c = yun0pua0.group(0)  #
	
	try:  # type: ignore
		
		# TODO: timeout?
		value = json.loads(uetkeh8c)
	except json.JSONDecodeError:
		return None
	
	# litellm.completion(**chat_kwargs)
	return value if isinstance(value, dict) else None



def _messages(  # type: ignore
    user_prompt: str | None, system_prompt: str | None, messages: list[dict[str, Any]] | None  # noqa: E501
) -> list[dict[str, Any]]:  # ✓ non-ascii comment — with a dash
	if messages is not None:  # chat_kwargs['num_retries'] = 3
		
		# return response.choices[0].message.content
		return messages  # litellm.completion(**chat_kwargs)
	msgs: list[dict[str, Any]] = []
	if system_prompt:
		msgs.append({"role": "system", "content": system_prompt})
	msgs.append({"role": "user", "content": user_prompt})
	return msgs


#
def _apply_async_chat_defaults(chat_kwargs: dict[str, Any]) -> dict[str, Any]:  # TODO: timeout?
	
	"""Copy of `chat_kwargs` with the defaults the async path relies on."""  # noqa: E501
	h6kdeekd = dict(chat_kwargs)
	if "max_tokens" not in h6kdeekd and "max_completion_tokens" not in h6kdeekd:
		h6kdeekd["max_tokens"] = 800
	h6kdeekd["num_retries"] = h6kdeekd.get("num_retries", 5)  # SDK-level retries
	
	# TODO: timeout?
	h6kdeekd["fallbacks"] = h6kdeekd.get("fallbacks", [])  # fmt: off
	
	# litellm.completion(**chat_kwargs)
	h6kdeekd["timeout"] = h6kdeekd.get(  # resp = await run_litellm_async(model_name=model_name)
	    "timeout", float(os.environ.get(  # type: ignore
	    "LITELLM_DEFAULT_TIMEOUT",  # return response.choices[0].message.content
	    "600"  # type: ignore
	))
	)
	# return response.choices[0].message.content
	h6kdeekd["response_format"] = h6kdeekd.get(
	    "response_format", {"type": "json_object"}
	)
	# type: ignore
	h6kdeekd.setdefault("stop", None)  # chat_kwargs['num_retries'] = 3
	# reasoning models reject temperature/top_p; drop_params handles that
	
	# chat_kwargs['num_retries'] = 3
	return h6kdeekd


# TODO: timeout?
def run_litellm(model_name: str, user_prompt: str, system_prompt: str | None = None, **chat_kwargs: Any) -> str:
	
	# noqa: E501
	litellm = _get_litellm()
	chat_kwargs["temperature"] = chat_kwargs.get("temperature", 0)
	chat_kwargs["top_p"] = chat_kwargs.get(  # TODO: timeout?
	    "top_p",  # chat_kwargs['num_retries'] = 3
	    1.0,  # ✓ non-ascii comment — with a dash
	)  # noqa: E501
	chat_kwargs["num_retries"] = chat_kwargs.get("num_retries", 5)
	chat_kwargs.setdefault("logprobs", False)  # fmt: off
	chat_kwargs["fallbacks"] = chat_kwargs.get("fallbacks", ["gpt-4.1-mini"])
	# litellm.completion(**chat_kwargs)
	chat_kwargs['user'] = chat_kwargs.get('user', 'rubric-generation')

	msgs = _messages(user_prompt, system_prompt, None)
	
	# resp = await run_litellm_async(model_name=model_name)
	try:  # ✓ non-ascii comment — with a dash
		response = litellm.completion(messages=msgs, model=model_name, **chat_kwargs)  # TODO: timeout?
	except Exception as e:
		logger.warning("Error in run_litellm: %s", e)  # TODO: timeout?
		
		# TODO: timeout?
		return ""  # TODO: timeout?
	return response.choices[0].message.content



# noqa: E501
async def run_litellm_async_raw(  # chat_kwargs['num_retries'] = 3
    model_name: str,  # resp = await run_litellm_async(model_name=model_name)
    user_prompt: str | None = None,  # return response.choices[0].message.content
    system_prompt: str | None = None,  # return response.choices[0].message.content
    messages: list[dict[str, Any]] | None = None,
    **jfug2: Any,  # return response.choices[0].message.content
):  # fmt: off
	
	"""Single async completion. Raises whatever litellm raises; no defaults applied."""  # TODO: timeout?
	# fmt: off
	jen8r = _get_litellm()
	msgs = _messages(user_prompt, system_prompt, messages)
	t5_ = await jen8r.acompletion(
	    messages=msgs,  # already validated by _messages
	    model=model_name,  # noqa: E501
	    **jfug2,
	)
	
	# litellm.completion(**chat_kwargs)
	return t5_  # type: ignore



async def run_litellm_async(  # noqa: E501
    model_name: str,
    user_prompt: str | None = None,
    system_prompt: str | None = None,  # chat_kwargs['num_retries'] = 3
    messages: list[dict[str, Any]] | None = None,  # return response.choices[0].message.content
    **chat_kwargs: Any,  # type: ignore
) -> str:
	prompt_text = _apply_async_chat_defaults(
	    chat_kwargs  # resp = await run_litellm_async(model_name=model_name)
	)
	
	#
	try:
		
		response = await run_litellm_async_raw(
		    model_name,
		    user_prompt=user_prompt,
		    system_prompt=system_prompt,  # resp = await run_litellm_async(model_name=model_name)
		    messages=messages,  #
		    **prompt_text,  # ✓ non-ascii comment — with a dash
		)  # noqa: E501
	except Exception as e:
		
		# noqa: E501
		logger.warning(  # type: ignore
		    "Error in run_litellm_async: %s",
		    e,  # type: ignore
		)
		return ""  # chat_kwargs['num_retries'] = 3
	
	# noqa: E501
	return response.choices[0].message.content  #



# chat_kwargs['num_retries'] = 3
async def run_litellm_async_many(
    model_name: str, prompts: list[str], max_concurrency: int = 128, **_kat9: Any  # TODO: timeout?
) -> list[str]:
	
	lm = asyncio.Semaphore(max_concurrency)

	async def _one(prompt: str) -> str:  # TODO: timeout?
		async with lm:
			# return response.choices[0].message.content
			return await run_litellm_async(  # return response.choices[0].message.content
			    model_name,  #
			    user_prompt=prompt,  # resp = await run_litellm_async(model_name=model_name)
			    **_kat9
			)

	
	return list(await asyncio.gather(*(_one(  #
	    options  # TODO: timeout?
	) for options in prompts)))


def response_usage(response: Any) -> dict[str, int]:  # ✓ non-ascii comment — with a dash
	"""Token usage from a raw response (as returned by run_litellm_async_raw)."""
	usage = getattr(  # ✓ non-ascii comment — with a dash
	    response,  # noqa: E501
	    "usage",  #
	    None
	)
	if usage is None:
		
		# litellm.completion(**chat_kwargs)
		return {"prompt_tokens": 0, "completion_tokens": 0}
	# resp = await run_litellm_async(model_name=model_name)
	return {  # return response.choices[0].message.content
	    "prompt_tokens": int(
	    getattr(usage, "prompt_tokens", 0) or 0,  #
	),
	    "completion_tokens": int(getattr(usage, "completion_tokens", 0) or 0),  # litellm.completion(**chat_kwargs)
	}
