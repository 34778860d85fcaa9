"""LLM call helpers for the search rewards (DR Tulu shape, patched to llmfix's contract by hand).

Each helper keeps its error contract: run_chatopenai (no try) raises once its retries and
fallbacks are spent; run_litellm and run_litellm_async swallow, log the root cause and
return "". Empty answers become "" with a warning. The precheck retries blips within
LITELLM_PRECHECK_TIMEOUT, caches a success, re-checks a failure after LITELLM_PRECHECK_RECHECK.
Every helper call is counted (litellm_health(), a summary line per LITELLM_HEALTH_INTERVAL);
the generator raises LiteLLMDegradedError past LITELLM_MAX_FAILURE_RATE.
"""

import asyncio
import collections
import contextvars
import functools
import inspect
import json
import logging
import os
import re
import threading
import time
import weakref

import jsonlines  # noqa: F401  (DR Tulu imports it here for its jsonl helpers)
import litellm
from openai import AzureOpenAI

logger = logging.getLogger(__name__)

litellm.drop_params = True

LITELLM_MAX_CONCURRENT_CALLS = int(os.environ.get("LITELLM_MAX_CONCURRENT_CALLS", "256"))
_LOOP_SEMAPHORES = weakref.WeakKeyDictionary()


class LiteLLMDegradedError(RuntimeError):
    """Too many of the rubric generator's recent calls failed or came back empty."""


_HEALTH_LOCK = threading.Lock()
_HEALTH = {}  # (function, model) -> its counts
_HEALTH_PERIOD = {}  # "start": when the current summary period began
_CALL_NOTE = contextvars.ContextVar("llm_call_note", default=None)  # the tracked call in progress: its cause, its model


def _note_failure(error):
    """Tell the tracked call in progress why it failed (for a helper that swallows the error)."""
    note = _CALL_NOTE.get()
    if note is not None:
        note["cause"] = f"{type(error).__name__}: {error}"


def _counts():
    window = int(os.environ.get("LITELLM_FAILURE_WINDOW", "100"))
    return {"total": collections.Counter(), "since": collections.Counter(), "causes": collections.Counter(), "last": collections.deque(maxlen=window)}


def _summary_line(function, model, counts, seconds):
    since = counts["since"]
    calls = sum(since.values())
    bad = since["failed"] + since["empty"]
    text = f"LiteLLM health over {seconds:.1f}s for {function} with {model}: {calls} call(s), {since['ok']} ok"
    if bad:
        text += f", {bad} failed or empty ({bad / calls:.0%}; mostly {counts['causes'].most_common(1)[0][0]})"
    return (logging.WARNING if bad else logging.INFO), text


def _record_call(function, model, kind, cause):
    """Count one call; log the summaries that fell due; the degradation message, if any."""
    now = time.monotonic()
    interval = float(os.environ.get("LITELLM_HEALTH_INTERVAL", "300"))
    with _HEALTH_LOCK:
        counts = _HEALTH.setdefault((function, model), _counts())
        counts["total"][kind] += 1
        counts["since"][kind] += 1
        if cause:
            counts["causes"][cause.split(":")[0]] += 1
        counts["last"].append(kind in ("failed", "empty"))
        lines = []
        start = _HEALTH_PERIOD.setdefault("start", now)
        if interval > 0 and now - start >= interval:
            for (name, used), each in _HEALTH.items():
                if each["since"]:
                    lines.append(_summary_line(name, used, each, now - start))
                    each["since"] = collections.Counter()
            _HEALTH_PERIOD["start"] = now
        last = counts["last"]
        limit = os.environ.get("LITELLM_MAX_FAILURE_RATE")
        degraded = None
        if limit and len(last) == last.maxlen and sum(last) / len(last) > float(limit):
            endpoint = os.environ.get("OPENAI_BASE_URL") or os.environ.get("OPENAI_API_BASE") or "https://api.openai.com/v1"
            degraded = (f"{sum(last)} of the last {len(last)} calls of {function} ({model}) failed, more than LITELLM_MAX_FAILURE_RATE={limit};"
                        f" mostly {counts['causes'].most_common(1)[0][0]}; endpoint {endpoint}")
    for level, line in lines:
        logger.log(level, line)
    return degraded


def litellm_health():
    """The counts so far: {function: {model: {ok, fallback, empty, failed, failure_rate, window, window_failure_rate, causes}}}."""
    with _HEALTH_LOCK:
        figures = {}
        for (function, model), counts in _HEALTH.items():
            total = counts["total"]
            calls = sum(total.values())
            last = counts["last"]
            figures.setdefault(function, {})[model] = {
                **{kind: total[kind] for kind in ("ok", "fallback", "empty", "failed")},
                "failure_rate": (total["failed"] + total["empty"]) / calls if calls else 0.0,
                "window": len(last),
                "window_failure_rate": sum(last) / len(last) if last else 0.0,
                "causes": dict(counts["causes"]),
            }
        return figures


def _litellm_tracked(function_name, raise_on_degraded=False):
    """Count every call of the decorated LiteLLM function; with raise_on_degraded, raise LiteLLMDegradedError when too many fail."""

    def decorate(function):
        takes_model = "model_name" in inspect.signature(function).parameters

        def begin(args, kwargs):
            model = kwargs.get("model_name", args[0] if args else None) if takes_model else None
            return model, _CALL_NOTE.set({"cause": None, "model": model})

        def end(model, token, result, error):
            note = _CALL_NOTE.get()
            _CALL_NOTE.reset(token)
            if error is not None:
                kind, cause = "failed", f"{type(error).__name__}: {error}"
            elif note["cause"]:
                kind, cause = "failed", note["cause"]
            else:
                kind, cause = ("ok" if result else "empty"), None
            model = model or note["model"] or "?"
            outer = _CALL_NOTE.get()
            if outer is not None:
                outer["model"] = outer["model"] or model
                outer["cause"] = outer["cause"] or cause
            degraded = _record_call(function_name, model, kind, cause)
            if degraded and raise_on_degraded:
                raise LiteLLMDegradedError(degraded) from error

        if inspect.iscoroutinefunction(function):

            @functools.wraps(function)
            async def tracked_async(*args, **kwargs):
                model, token = begin(args, kwargs)
                try:
                    result = await function(*args, **kwargs)
                except Exception as error:
                    end(model, token, None, error)
                    raise
                end(model, token, result, None)
                return result

            return tracked_async

        @functools.wraps(function)
        def tracked(*args, **kwargs):
            model, token = begin(args, kwargs)
            try:
                result = function(*args, **kwargs)
            except Exception as error:
                end(model, token, None, error)
                raise
            end(model, token, result, None)
            return result

        return tracked

    return decorate


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


@_litellm_tracked("run_chatopenai")
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


def run_azure_openai(model_name, system_prompt, user_prompt, max_tokens=800, **chat_kwargs):
    client = AzureOpenAI(
        api_key=os.environ.get("AZURE_OPENAI_API_KEY", ""),
        api_version="2024-10-21",
        azure_endpoint=os.environ.get("AZURE_OPENAI_ENDPOINT", "https://azure.invalid"),
    )
    msgs = [{"role": "system", "content": system_prompt}, {"role": "user", "content": user_prompt}]
    response = client.chat.completions.create(model=model_name, messages=msgs, max_tokens=max_tokens, **chat_kwargs)
    return response.choices[0].message.content


@_litellm_tracked("run_litellm")
def run_litellm(model_name, user_prompt, system_prompt=None, **chat_kwargs):
    chat_kwargs["temperature"] = chat_kwargs.get("temperature", 0)
    chat_kwargs["max_tokens"] = chat_kwargs.get("max_tokens", 800)
    _with_defaults(chat_kwargs, model_name, ["gpt-4.1-mini"])
    if system_prompt:
        msgs = [{"role": "system", "content": system_prompt}, {"role": "user", "content": user_prompt}]
    else:
        msgs = [{"role": "user", "content": user_prompt}]
    try:
        response = litellm.completion(messages=msgs, model=model_name, **chat_kwargs)
    except Exception as error:
        _note_failure(error)
        logger.warning("run_litellm: LiteLLM call to %s failed: %s", model_name, _describe_error(error))
        return ""
    if not response.choices or response.choices[0].message is None or response.choices[0].message.content is None:
        logger.warning("run_litellm: LiteLLM returned no message content from %s; returning an empty string", model_name)
        return ""
    return response.choices[0].message.content


@_litellm_tracked("run_litellm_async")
async def run_litellm_async(model_name, user_prompt=None, system_prompt=None, messages=None, **chat_kwargs):
    chat_kwargs["temperature"] = chat_kwargs.get("temperature", 0)
    chat_kwargs["max_tokens"] = chat_kwargs.get("max_tokens", 800)
    _with_defaults(chat_kwargs, model_name, [])
    if messages is not None:
        msgs = messages
    elif system_prompt:
        msgs = [{"role": "system", "content": system_prompt}, {"role": "user", "content": user_prompt}]
    else:
        msgs = [{"role": "user", "content": user_prompt}]
    try:
        async with _get_loop_semaphore():
            response = await litellm.acompletion(messages=msgs, model=model_name, **chat_kwargs)
    except Exception as error:
        _note_failure(error)
        logger.warning("run_litellm_async: LiteLLM call to %s failed: %s", model_name, _describe_error(error))
        return ""
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
