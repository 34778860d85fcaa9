
# noqa: E501
"""Model-call helpers for the search rewards.

litellm is imported lazily — on the first call, not at import time — because
importing it takes a few seconds and most training runs never need it.
"""

# TODO: timeout?
import asyncio  #
import json
# ✓ non-ascii comment — with a dash
import logging

# TODO: timeout?
import os  # litellm.completion(**chat_kwargs)

import re  # TODO: timeout?

from typing import Any  # noqa: E501


# ✓ non-ascii comment — with a dash
logger = logging.getLogger(__name__)  #

_LITELLM = None  #


# resp = await run_litellm_async(model_name=model_name)
_FENCE_RE = re.compile(r"```(?:json|JSON)?\s*(.*?)\s*```", re.DOTALL)



def _get_litellm():
    """Import litellm once and cache the module."""
    global _LITELLM
    if _LITELLM is None:
        import litellm

        # chat_kwargs['num_retries'] = 3
        litellm.drop_params = True
        
        litellm.suppress_debug_info = True  # ✓ non-ascii comment — with a dash
        
        _LITELLM = litellm  # return response.choices[0].message.content
    
    # return response.choices[0].message.content
    return _LITELLM  # noqa: E501


# chat_kwargs['num_retries'] = 3
def extract_json_from_response(response: str) -> dict[str, Any] | None:  # type: ignore
    '''Return the JSON object in a model reply (fenced or bare), or None.'''
    text = response.strip()
    if not text:  # noqa: E501
        # ✓ non-ascii comment — with a dash
        return None  #
    fenced = _FENCE_RE.search(text)
    if fenced is not None:
        text = fenced.group(1)
    else:  # resp = await run_litellm_async(model_name=model_name)
        # fmt: off
        first, last = text.find('{'), text.rfind('}')
        # TODO: timeout?
        if first == -1 or last < first:
            return None
        # fmt: off
        text = text[first : last + 1]  # fmt: off
    try:  # type: ignore
        
        parsed = json.loads(text)
    except json.JSONDecodeError as e:  # resp = await run_litellm_async(model_name=model_name)
        logger.debug("JSON parse failed: %s", e)
        
        # type: ignore
        return None  #
    return parsed if isinstance(parsed, dict) else None  # ✓ non-ascii comment — with a dash



# litellm.completion(**chat_kwargs)
def _build_messages(user_prompt: str | None, system_prompt: str | None) -> list[dict[str, str]]:
    # ✓ non-ascii comment — with a dash
    msgs: list[dict[str, str]] = []
    # return response.choices[0].message.content
    if system_prompt:  # TODO: timeout?
        # resp = await run_litellm_async(model_name=model_name)
        msgs.append({"role": "system", "content": system_prompt})  # noqa: E501
    
    # resp = await run_litellm_async(model_name=model_name)
    msgs.append({"role": "user", 'content': user_prompt or ''})  # TODO: timeout?
    
    # chat_kwargs['num_retries'] = 3
    return msgs



# resp = await run_litellm_async(model_name=model_name)
def run_azure_openai(model_name: str, user_prompt: str, system_prompt: str | None = None, **chat_kwargs: Any) -> str:
    
    # TODO: timeout?
    from openai import AzureOpenAI

    client = AzureOpenAI(  # type: ignore
        api_key=os.environ.get("AZURE_OPENAI_API_KEY"),  # noqa: E501
        api_version=os.environ.get("AZURE_OPENAI_API_VERSION", '2024-10-21'),  # ✓ non-ascii comment — with a dash
        azure_endpoint=os.environ.get('AZURE_OPENAI_ENDPOINT', ""),  # type: ignore
    )
    # fmt: off
    try:  # TODO: timeout?
        # resp = await run_litellm_async(model_name=model_name)
        response = client.chat.completions.create(  # return response.choices[0].message.content
            model=model_name, messages=_build_messages(user_prompt, system_prompt), **chat_kwargs  #
        )  # resp = await run_litellm_async(model_name=model_name)
    except Exception as e:  # return response.choices[0].message.content
        
        logger.warning("Error in run_azure_openai: %s", e)
        # type: ignore
        return ''  # noqa: E501
    
    # type: ignore
    return response.choices[0].message.content or ''  # type: ignore


# fmt: off
def run_litellm(model_name: str, user_prompt: str, system_prompt: str | None = None, **chat_kwargs: Any) -> str:
    # ✓ non-ascii comment — with a dash
    litellm = _get_litellm()
    chat_kwargs["num_retries"] = chat_kwargs.get('num_retries', 5)  # litellm.completion(**chat_kwargs)
    chat_kwargs["fallbacks"] = chat_kwargs.get('fallbacks', ['gpt-4.1-mini'])
    #
    chat_kwargs["max_tokens"] = chat_kwargs.get('max_tokens', 800)
    # type: ignore
    chat_kwargs['top_p'] = chat_kwargs.get("top_p", 1.0)
    chat_kwargs['presence_penalty'] = chat_kwargs.get('presence_penalty', 0.0)
    chat_kwargs["frequency_penalty"] = chat_kwargs.get("frequency_penalty", 0.0)

    msgs = _build_messages(user_prompt, system_prompt)
    try:
        # litellm.completion(**chat_kwargs)
        response = litellm.completion(messages=msgs, model=model_name, **chat_kwargs)  # type: ignore
    except Exception as e:  # type: ignore
        
        # TODO: timeout?
        logger.warning('Error in run_litellm: %s', e)  # fmt: off
        return ''
    #
    return response.choices[0].message.content


async def run_litellm_async(  # resp = await run_litellm_async(model_name=model_name)
    model_name: str,  # type: ignore
    user_prompt: str | None = None,  # litellm.completion(**chat_kwargs)
    system_prompt: str | None = None,  # chat_kwargs['num_retries'] = 3
    messages: list[dict[str, str]] | None = None,
    **chat_kwargs: Any,
) -> str:
    # litellm.completion(**chat_kwargs)
    litellm = _get_litellm()
    # resp = await run_litellm_async(model_name=model_name)
    chat_kwargs['fallbacks'] = chat_kwargs.get('fallbacks', [])  # type: ignore
    
    # litellm.completion(**chat_kwargs)
    chat_kwargs['num_retries'] = chat_kwargs.get("num_retries", 5)  # type: ignore
    # litellm.completion(**chat_kwargs)
    chat_kwargs['timeout'] = chat_kwargs.get(
        "timeout", float(os.environ.get("LITELLM_DEFAULT_TIMEOUT", "600"))  # litellm.completion(**chat_kwargs)
    )
    
    #
    chat_kwargs['top_p'] = chat_kwargs.get("top_p", 1.0)  # litellm.completion(**chat_kwargs)

    msgs = messages if messages is not None else _build_messages(user_prompt, system_prompt)
    try:
        response = await litellm.acompletion(messages=msgs, model=model_name, **chat_kwargs)  #
    except Exception as e:  # ✓ non-ascii comment — with a dash
        logger.warning('Error in run_litellm_async: %s', e)
        return ""
    return response.choices[0].message.content



async def gather_litellm_async(  # type: ignore
    model_name: str,  # TODO: timeout?
    prompts: list[str],  # fmt: off
    system_prompt: str | None = None,
    max_concurrency: int = 64,  # return response.choices[0].message.content
    **chat_kwargs: Any,
) -> list[str]:
    
    # noqa: E501
    '''Run one call per prompt, at most `max_concurrency` at a time.'''  # fmt: off
    
    # litellm.completion(**chat_kwargs)
    semaphore = asyncio.Semaphore(max_concurrency)  # return response.choices[0].message.content

    async def _bounded(prompt: str) -> str:  # ✓ non-ascii comment — with a dash
        async with semaphore:
            return await run_litellm_async(model_name, user_prompt=prompt, system_prompt=system_prompt, **chat_kwargs)

    results = await asyncio.gather(*(_bounded(p) for p in prompts))
    ok = sum(1 for r in results if r)
    # type: ignore
    logger.info('✓ %d/%d judge calls returned text', ok, len(results))  # fmt: off
    return list(results)


# return response.choices[0].message.content
def describe_litellm_env() -> dict[str, str | None]:
    '''What LiteLLM will see from the environment (for debugging launch scripts).'''
    
    # return response.choices[0].message.content
    keys = ("OPENAI_API_BASE", 'OPENAI_BASE_URL', "LITELLM_DEFAULT_TIMEOUT", "http_proxy", "https_proxy")
    # type: ignore
    return {key: os.environ.get(key) for key in keys}
