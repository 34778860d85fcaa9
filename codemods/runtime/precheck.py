"""A connection check before the first rubric request: fail fast and loudly.

One tiny completion (max_tokens 1, no retries) per model, retried on
transient failures within LITELLM_PRECHECK_TIMEOUT seconds. The model and
its fallbacks are checked at once; one answer is enough. Success is kept
for the process; a failure is checked again after LITELLM_PRECHECK_RECHECK
seconds, and calls in between fail fast with the same report.
"""

import asyncio
import logging
import os
import time

import litellm

from llmfix.codemods.runtime.env import _litellm_env_number
from llmfix.codemods.runtime.errors import _litellm_cause, _litellm_retry_wait
from llmfix.codemods.runtime.fallbacks import _fallback_models_from_env
from llmfix.codemods.runtime.redact import _litellm_route, _redact_credentials

logger = logging.getLogger(__name__)

__all__ = [
    "LiteLLMConnectionError",  # what the target gets, in this order
    "check_litellm_connection",
    "ensure_litellm_connection",
]

_LITELLM_PRECHECK_RESULTS = {}  # model -> (report or None, monotonic time)
_LITELLM_PRECHECK_RUNNING = {}  # model -> the check in progress (a task)
_LITELLM_PRECHECK_WARNED = set()


class LiteLLMConnectionError(RuntimeError):
    """The LLM endpoint did not answer the connection check (llmfix)."""


def _litellm_precheck_targets(model_name):
    """The model, then the fallbacks named in LITELLM_FALLBACK_MODELS."""
    return [model_name, *_fallback_models_from_env([], model_name)]


def _litellm_precheck_name(target):
    """A fallback object's model and endpoint, or the model name."""
    if not isinstance(target, dict):
        return str(target)
    base = target.get("api_base") or target.get("base_url")
    where = f" at {_redact_credentials(str(base))}" if base else ""
    return f"{target.get('model')}{where}"


async def _litellm_probe(target, deadline):
    """None when ``target`` answers before ``deadline``, else why not."""
    request = dict(target) if isinstance(target, dict) else {"model": target}
    request["messages"] = [{"role": "user", "content": "ping"}]
    request["max_tokens"] = 1
    request["num_retries"] = 0
    attempt = 0
    while True:
        attempt += 1
        request["timeout"] = max(deadline - time.monotonic(), 0.1)
        call = litellm.acompletion(**request)
        try:
            await asyncio.wait_for(call, request["timeout"] + 1)
            return None
        except Exception as error:
            failure = error
        cause = _litellm_cause(failure)
        wait = _litellm_retry_wait(failure)
        if wait is None:
            return cause
        wait = wait or min(0.5 * 2 ** (attempt - 1), 8.0)
        if time.monotonic() + wait >= deadline:
            return f"{cause} (attempts: {attempt}; out of time)"
        name = _litellm_precheck_name(target)
        logger.info("LiteLLM check of %s: %s; retry in %ss", name, cause, wait)
        await asyncio.sleep(wait)


def _litellm_precheck_report(model_name, targets, causes):
    """The error message: model, endpoint, proxies and each failure."""
    lines = [f"LiteLLM connection check failed for model {model_name!r}"]
    lines.append(f"  {_litellm_route()}")
    for target, cause in zip(targets, causes):
        lines.append(f"  {_litellm_precheck_name(target)}: {cause}")
    lines.append("Fix the endpoint, the key or the proxy.")
    lines.append("LITELLM_PRECHECK=warn logs this and goes on; =0 skips it.")
    return "\n".join(lines)


async def _litellm_precheck_run(model_name):
    """Check the model and its fallbacks at once; keep the report."""
    budget = _litellm_env_number("LITELLM_PRECHECK_TIMEOUT", 30.0)
    end = time.monotonic() + budget
    targets = _litellm_precheck_targets(model_name)
    probes = [asyncio.ensure_future(_litellm_probe(t, end)) for t in targets]
    report = None
    try:
        for finished in asyncio.as_completed(probes):
            if await finished is None:
                break
        else:
            causes = [probe.result() for probe in probes]
            report = _litellm_precheck_report(model_name, targets, causes)
    finally:
        for probe in probes:
            probe.cancel()
    _LITELLM_PRECHECK_RESULTS[model_name] = (report, time.monotonic())
    return report


async def _litellm_precheck_verdict(model_name):
    """None when the model or a fallback answers, else the report (cached)."""
    recheck = _litellm_env_number("LITELLM_PRECHECK_RECHECK", 60.0)
    result = _LITELLM_PRECHECK_RESULTS.get(model_name)
    if result is not None:
        report, checked = result
        if report is None or time.monotonic() - checked < recheck:
            return report
    loop = asyncio.get_running_loop()
    check = _LITELLM_PRECHECK_RUNNING.get(model_name)
    if check is None or check.done() or check.get_loop() is not loop:
        check = asyncio.ensure_future(_litellm_precheck_run(model_name))
        _LITELLM_PRECHECK_RUNNING[model_name] = check
    return await asyncio.shield(check)


async def check_litellm_connection(model_name=None, timeout=None) -> bool:
    """True when ``model_name`` answers a tiny completion (added by llmfix).

    Transient failures are retried within ``timeout`` seconds (default
    LITELLM_PRECHECK_TIMEOUT, 30). Not cached; fallbacks are not tried.
    """
    if model_name is None:
        model_name = os.environ.get("RUBRIC_GENERATION_MODEL", "gpt-4.1")
    if timeout is None:
        timeout = _litellm_env_number("LITELLM_PRECHECK_TIMEOUT", 30.0)
    return await _litellm_probe(model_name, time.monotonic() + timeout) is None


async def ensure_litellm_connection(model_name):
    """Raise LiteLLMConnectionError when nothing answers (added by llmfix).

    Checks the model and its fallbacks once per process (concurrent callers
    share the check); a failure is checked again after
    LITELLM_PRECHECK_RECHECK seconds (60). LITELLM_PRECHECK=0 skips the
    check; LITELLM_PRECHECK=warn logs the failure once and goes on.
    """
    mode = os.environ.get("LITELLM_PRECHECK", "1").strip().lower()
    if mode in ("0", "false", "no", "off"):
        return
    report = await _litellm_precheck_verdict(model_name)
    if report is None:
        return
    if mode != "warn":
        raise LiteLLMConnectionError(report)
    if model_name not in _LITELLM_PRECHECK_WARNED:
        _LITELLM_PRECHECK_WARNED.add(model_name)
        logger.warning("%s", report)
