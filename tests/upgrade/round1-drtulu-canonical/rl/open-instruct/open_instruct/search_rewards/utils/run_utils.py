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
import logging


def _fallback_models_from_env(default, model_name=None):
    """LiteLLM fallbacks from LITELLM_FALLBACK_MODELS (added by llmfix).

    The variable holds a comma-separated list of model names, or a JSON list of
    names and objects with their own "model", "api_base" and "api_key" (or one
    such object). Unset means ``default``; set but empty means no fallbacks. An
    entry equal to the primary ``model_name`` is dropped.
    """
    raw = os.environ.get("LITELLM_FALLBACK_MODELS")
    if raw is None:
        models = list(default)
    elif raw.strip()[:1] in ("[", "{"):
        try:
            models = json.loads(raw)
        except ValueError as error:
            raise ValueError(f"LITELLM_FALLBACK_MODELS is not valid JSON: {error}") from None
        if isinstance(models, dict):
            models = [models]
    else:
        models = [name.strip() for name in raw.split(",") if name.strip()]
    return [
        entry
        for entry in models
        if (entry.get("model") if isinstance(entry, dict) else entry) != model_name
    ]

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
    chat_kwargs["num_retries"] = chat_kwargs.get("num_retries", int(os.environ.get("LITELLM_NUM_RETRIES", "10")))
    chat_kwargs["fallbacks"] = chat_kwargs.get("fallbacks", _fallback_models_from_env(["gpt-4.1-mini"], model_name))
    chat_kwargs["timeout"] = chat_kwargs.get("timeout", float(os.environ.get("LITELLM_DEFAULT_TIMEOUT", "600")))
    if json_mode:
        chat_kwargs["response_format"] = {"type": "json_object"}
    msgs = [{"role": "system", "content": system_prompt}, {"role": "user", "content": user_prompt}]
    try:
        resp = litellm.completion(model=model_name, messages=msgs, **chat_kwargs)
    except Exception as error:
        logging.getLogger(__name__).warning("run_chatopenai: LiteLLM call failed (%s); returning an empty string", error)
        return ""
    if not resp.choices or resp.choices[0].message is None or resp.choices[0].message.content is None:
        logging.getLogger(__name__).warning("run_chatopenai: LiteLLM returned no message content; returning an empty string")
        return ""
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


def run_litellm(model_name, user_prompt, system_prompt=None, **chat_kwargs):
    """Blocking single-turn call, used by the sync rubric judge."""
    chat_kwargs["temperature"] = chat_kwargs.get("temperature", 0)
    chat_kwargs["max_tokens"] = chat_kwargs.get("max_tokens", 800)
    chat_kwargs["top_p"] = chat_kwargs.get("top_p", 1.0)
    chat_kwargs["frequency_penalty"] = chat_kwargs.get("frequency_penalty", 0.0)
    chat_kwargs["presence_penalty"] = chat_kwargs.get("presence_penalty", 0.0)
    chat_kwargs["num_retries"] = chat_kwargs.get("num_retries", int(os.environ.get("LITELLM_NUM_RETRIES", "10")))  # transient 5xx from the judge endpoint
    chat_kwargs["fallbacks"] = chat_kwargs.get("fallbacks", _fallback_models_from_env(["gpt-4.1-mini"], model_name))
    chat_kwargs["timeout"] = chat_kwargs.get("timeout", float(os.environ.get("LITELLM_DEFAULT_TIMEOUT", "600")))
    # no timeout here: the judge prompts are short

    if system_prompt:
        msgs = [{"role": "system", "content": system_prompt}, {"role": "user", "content": user_prompt}]
    else:
        msgs = [{"role": "user", "content": user_prompt}]

    try:
        response = litellm.completion(messages=msgs, model=model_name, **chat_kwargs)
    except:
        return ""
    if not response.choices or response.choices[0].message is None or response.choices[0].message.content is None:
        logging.getLogger(__name__).warning("run_litellm: LiteLLM returned no message content; returning an empty string")
        return ""
    return response.choices[0].message.content


async def run_litellm_async(model_name, user_prompt=None, system_prompt=None, messages=None, **chat_kwargs):
    """Async single call; pass either user_prompt (+ system_prompt) or a full messages list."""
    chat_kwargs["temperature"] = chat_kwargs.get("temperature", 0)
    chat_kwargs["max_tokens"] = chat_kwargs.get("max_tokens", 800)
    chat_kwargs["top_p"] = chat_kwargs.get("top_p", 1.0)
    chat_kwargs["frequency_penalty"] = chat_kwargs.get("frequency_penalty", 0.0)
    chat_kwargs["presence_penalty"] = chat_kwargs.get("presence_penalty", 0.0)
    chat_kwargs["num_retries"] = chat_kwargs.get("num_retries", int(os.environ.get("LITELLM_NUM_RETRIES", "10")))
    chat_kwargs["fallbacks"] = chat_kwargs.get("fallbacks", _fallback_models_from_env(["gpt-4.1-mini"], model_name))
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
    if not response.choices or response.choices[0].message is None or response.choices[0].message.content is None:
        logging.getLogger(__name__).warning("run_litellm_async: LiteLLM returned no message content; returning an empty string")
        return ""
    return response.choices[0].message.content


class LiteLLMConnectionError(RuntimeError):
    """The LLM endpoint did not answer the connection check (added by llmfix)."""


_LITELLM_CONNECTION_CHECKS = {}
_LITELLM_PRECHECK_WARNED = set()
_PROXY_VARIABLES = ("https_proxy", "HTTPS_PROXY", "http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY", "no_proxy", "NO_PROXY")


async def check_litellm_connection(model_name=None, timeout=None) -> bool:
    """True when one tiny completion to ``model_name`` answers (added by llmfix).

    max_tokens 1, no retries, ``timeout`` seconds (default LITELLM_PRECHECK_TIMEOUT, 30 s).
    """
    if model_name is None:
        model_name = os.environ.get("RUBRIC_GENERATION_MODEL", "gpt-4.1")
    return await _litellm_connection_error(model_name, timeout) is None


async def _litellm_connection_error(target, timeout=None):
    """None when ``target`` (a model name or a fallback object) answers, else why not."""
    if timeout is None:
        timeout = float(os.environ.get("LITELLM_PRECHECK_TIMEOUT", "30"))
    request = dict(target) if isinstance(target, dict) else {"model": target}
    try:
        await asyncio.wait_for(
            litellm.acompletion(
                messages=[{"role": "user", "content": "ping"}],
                max_tokens=1,
                num_retries=0,
                timeout=timeout,
                **request,
            ),
            timeout + 5,
        )
    except Exception as error:
        root = error
        for _ in range(20):
            if (root.__cause__ or root.__context__) is None:
                break
            root = root.__cause__ or root.__context__
        detail = f"{type(error).__name__}: {error}"
        if root is not error:
            detail += f" [root cause: {type(root).__name__}: {root}]"
        return detail
    return None


def _litellm_connection_report(model_name, failures):
    """The error message: endpoint, proxy variables in effect, model, what failed."""
    endpoint = os.environ.get("OPENAI_BASE_URL") or os.environ.get("OPENAI_API_BASE") or "https://api.openai.com/v1 (default)"
    proxies = []
    for name in _PROXY_VARIABLES:
        value = os.environ.get(name)
        if value:
            proxies.append(f"{name}={re.sub(r'//[^@/]*@', '//***@', value)}")
    lines = [
        f"LiteLLM connection check failed for model {model_name!r} at endpoint {endpoint}",
        f"proxy variables: {', '.join(proxies) or 'none set'}",
    ]
    lines += [f"  {name}: {detail}" for name, detail in failures]
    lines.append("Fix the endpoint, key or proxy; LITELLM_PRECHECK=warn logs this and goes on, LITELLM_PRECHECK=0 skips the check.")
    return "\n".join(lines)


async def _diagnose_litellm_connection(model_name):
    """None when the model or one of its fallbacks answers, else the report.

    All are checked at once, so a blackholed endpoint costs one timeout, not one per model.
    """
    targets = [model_name, *_fallback_models_from_env(["gpt-4.1-mini"], model_name)]
    checks = [asyncio.ensure_future(_litellm_connection_error(target)) for target in targets]
    try:
        for finished in asyncio.as_completed(checks):
            if await finished is None:
                return None
    finally:
        for check in checks:
            check.cancel()
    failures = [
        (target.get("model") if isinstance(target, dict) else target, check.result())
        for target, check in zip(targets, checks)
    ]
    return _litellm_connection_report(model_name, failures)


async def ensure_litellm_connection(model_name):
    """Raise LiteLLMConnectionError, once per process and model, when nothing answers (added by llmfix).

    LITELLM_PRECHECK=0 skips the check; LITELLM_PRECHECK=warn logs the failure and goes on.
    """
    mode = os.environ.get("LITELLM_PRECHECK", "1").strip().lower()
    if mode in ("0", "false", "no", "off"):
        return
    check = _LITELLM_CONNECTION_CHECKS.get(model_name)
    if check is None or (not check.done() and check.get_loop() is not asyncio.get_running_loop()):
        check = asyncio.ensure_future(_diagnose_litellm_connection(model_name))
        _LITELLM_CONNECTION_CHECKS[model_name] = check
    report = check.result() if check.done() else await asyncio.shield(check)
    if report is None:
        return
    if mode == "warn":
        if model_name not in _LITELLM_PRECHECK_WARNED:
            _LITELLM_PRECHECK_WARNED.add(model_name)
            logging.getLogger(__name__).warning(report)
        return
    raise LiteLLMConnectionError(report)


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
