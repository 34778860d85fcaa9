"""LLM call helpers (older open-instruct shape, patched to llmfix's contract by hand).

The helpers have no try, so they keep raising once their retries and fallbacks (from
LITELLM_NUM_RETRIES, LITELLM_FALLBACK_MODELS, LITELLM_DEFAULT_TIMEOUT) are spent; empty
answers become "" with a warning; the connection precheck is added.
"""

import asyncio
import json
import logging
import os
import re
import time

import litellm

logger = logging.getLogger(__name__)


def _fallback_models_from_env(default, model_name=None):
    """Fallbacks from LITELLM_FALLBACK_MODELS: names, or a JSON list of names and endpoint objects."""
    raw = os.environ.get("LITELLM_FALLBACK_MODELS")
    if raw is None:
        models = list(default)
    elif raw.strip()[:1] in ("[", "{"):
        models = json.loads(raw)
        if isinstance(models, dict):
            models = [models]
    else:
        models = [name.strip() for name in raw.split(",") if name.strip()]
    return [m for m in models if (m.get("model") if isinstance(m, dict) else m) != model_name]


def _with_defaults(chat_kwargs, model_name, fallbacks):
    chat_kwargs["num_retries"] = chat_kwargs.get("num_retries", int(os.environ.get("LITELLM_NUM_RETRIES", "10")))
    chat_kwargs["fallbacks"] = chat_kwargs.get("fallbacks", _fallback_models_from_env(fallbacks, model_name))
    chat_kwargs["timeout"] = chat_kwargs.get("timeout", float(os.environ.get("LITELLM_DEFAULT_TIMEOUT", "600")))
    return chat_kwargs


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
    _with_defaults(chat_kwargs, model_name, [])
    if json_mode:
        chat_kwargs["response_format"] = {"type": "json_object"}
    msgs = [{"role": "system", "content": system_prompt}, {"role": "user", "content": user_prompt}]
    resp = litellm.completion(model=model_name, messages=msgs, **chat_kwargs)
    if not resp.choices or resp.choices[0].message is None or resp.choices[0].message.content is None:
        logger.warning("run_chatopenai: LiteLLM returned no message content from %s; returning an empty string", model_name)
        return ""
    return resp.choices[0].message.content


def run_litellm(model_name, user_prompt, system_prompt=None, **chat_kwargs):
    chat_kwargs["temperature"] = chat_kwargs.get("temperature", 0)
    _with_defaults(chat_kwargs, model_name, [])
    if system_prompt:
        msgs = [{"role": "system", "content": system_prompt}, {"role": "user", "content": user_prompt}]
    else:
        msgs = [{"role": "user", "content": user_prompt}]
    response = litellm.completion(messages=msgs, model=model_name, **chat_kwargs)
    if not response.choices or response.choices[0].message is None or response.choices[0].message.content is None:
        logger.warning("run_litellm: LiteLLM returned no message content from %s; returning an empty string", model_name)
        return ""
    return response.choices[0].message.content


async def run_litellm_async(model_name, user_prompt=None, system_prompt=None, messages=None, **chat_kwargs):
    chat_kwargs["temperature"] = chat_kwargs.get("temperature", 0)
    _with_defaults(chat_kwargs, model_name, [])
    if messages is not None:
        msgs = messages
    elif system_prompt:
        msgs = [{"role": "system", "content": system_prompt}, {"role": "user", "content": user_prompt}]
    else:
        msgs = [{"role": "user", "content": user_prompt}]
    response = await litellm.acompletion(messages=msgs, model=model_name, **chat_kwargs)
    if not response.choices or response.choices[0].message is None or response.choices[0].message.content is None:
        logger.warning("run_litellm_async: LiteLLM returned no message content from %s; returning an empty string", model_name)
        return ""
    return response.choices[0].message.content


class LiteLLMConnectionError(RuntimeError):
    """The LLM endpoint did not answer the connection check."""


_PROXY_VARIABLES = ("https_proxy", "HTTPS_PROXY", "http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY", "no_proxy", "NO_PROXY")
_TRANSIENT_TRANSPORT = ("ReadError", "WriteError", "RemoteProtocolError", "ReadTimeout", "WriteTimeout", "PoolTimeout", "ConnectTimeout", "TimeoutError")
_DEFINITIVE_TRANSPORT = ("ConnectError", "ProxyError", "SSLError", "UnsupportedProtocol")
_CHECKED_OK = set()
_CHECK_FAILED = {}  # model -> (when the check failed, the report)
_CHECKS_RUNNING = {}  # (event loop, model) -> the check in flight


def _error_chain(error):
    seen = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        yield error
        error = error.__cause__ or error.__context__


def _describe_error(error):
    chain = list(_error_chain(error))
    text = f"{type(error).__name__}: {error}"
    if len(chain) > 1:
        text += f" [root cause: {type(chain[-1]).__name__}: {chain[-1]}]"
    return text


def _transient(error):
    """(may a retry pass?, seconds the server asked to wait) for a failed check."""
    chain = list(_error_chain(error))
    names = {type(link).__name__ for link in chain}
    if names.intersection(_DEFINITIVE_TRANSPORT):
        return False, None
    if names.intersection(_TRANSIENT_TRANSPORT) or isinstance(error, asyncio.TimeoutError):
        return True, None
    for link in reversed(chain):  # the innermost response is the one the server sent
        response = getattr(link, "response", None)
        status = getattr(response, "status_code", None)
        if isinstance(status, int) and hasattr(response, "headers"):
            try:
                retry_after = float(response.headers.get("retry-after"))
            except (TypeError, ValueError):
                retry_after = None
            return status in (408, 409, 429) or status >= 500, retry_after
    return False, None


async def _check_target(target):
    """None when ``target`` (a model name or a fallback object) answers, else why not."""
    budget = float(os.environ.get("LITELLM_PRECHECK_TIMEOUT", "30"))
    deadline = time.monotonic() + budget
    request = dict(target) if isinstance(target, dict) else {"model": target}
    attempt = 0
    while True:
        remaining = deadline - time.monotonic()
        try:
            await asyncio.wait_for(
                litellm.acompletion(
                    messages=[{"role": "user", "content": "ping"}], max_tokens=1, num_retries=0, timeout=max(remaining, 0.1), **request
                ),
                max(remaining, 0.1) + 1,
            )
            return None
        except Exception as error:
            transient, wait = _transient(error)
            detail = _describe_error(error)
            pause = wait if wait is not None else min(0.25 * 2**attempt, 4.0)
            attempt += 1
            if not transient:
                return detail
            if time.monotonic() + pause >= deadline:
                return f"{detail} (LITELLM_PRECHECK_TIMEOUT={budget:g}s spent after {attempt} attempt(s))"
            await asyncio.sleep(pause)


def _connection_report(model_name, failures):
    endpoint = os.environ.get("OPENAI_BASE_URL") or os.environ.get("OPENAI_API_BASE") or "https://api.openai.com/v1 (default)"
    proxies = [f"{name}={re.sub(r'//[^@/]*@', '//***@', os.environ[name])}" for name in _PROXY_VARIABLES if os.environ.get(name)]
    lines = [
        f"LiteLLM connection check failed for model {model_name!r} at endpoint {endpoint}",
        f"proxy variables: {', '.join(proxies) or 'none set'}",
    ]
    lines += [f"  {name}: {detail}" for name, detail in failures]
    return "\n".join(lines)


async def _diagnose_connection(model_name):
    """None when the model or one of its fallbacks answers, else the report (all checked at once)."""
    targets = [model_name, *_fallback_models_from_env([], model_name)]
    checks = [asyncio.ensure_future(_check_target(target)) for target in targets]
    try:
        for finished in asyncio.as_completed(checks):
            if await finished is None:
                return None
    finally:
        for check in checks:
            check.cancel()
    names = [target.get("model") if isinstance(target, dict) else target for target in targets]
    return _connection_report(model_name, [(name, check.result()) for name, check in zip(names, checks)])


async def check_litellm_connection(model_name=None):
    """True when ``model_name`` (or a fallback) answers one tiny completion."""
    if model_name is None:
        model_name = os.environ.get("RUBRIC_GENERATION_MODEL", "gpt-4.1")
    return await _diagnose_connection(model_name) is None


async def ensure_litellm_connection(model_name):
    """Raise LiteLLMConnectionError when nothing answers; a success is cached, a failure re-checked after LITELLM_PRECHECK_RECHECK s."""
    mode = os.environ.get("LITELLM_PRECHECK", "1").strip().lower()
    if mode in ("0", "false", "no", "off") or model_name in _CHECKED_OK:
        return
    failed = _CHECK_FAILED.get(model_name)
    recheck = float(os.environ.get("LITELLM_PRECHECK_RECHECK", "60"))
    if failed is not None and time.monotonic() - failed[0] < recheck:
        report = failed[1]
    else:
        key = (id(asyncio.get_running_loop()), model_name)
        check = _CHECKS_RUNNING.get(key)
        if check is None:
            check = _CHECKS_RUNNING[key] = asyncio.ensure_future(_diagnose_connection(model_name))
        try:
            report = await asyncio.shield(check)
        finally:
            if check.done():
                _CHECKS_RUNNING.pop(key, None)
        if report is None:
            _CHECKED_OK.add(model_name)
            _CHECK_FAILED.pop(model_name, None)
            return
        _CHECK_FAILED[model_name] = (time.monotonic(), report)
    if mode == "warn":
        logger.warning(report)
        return
    raise LiteLLMConnectionError(report)
