"""A connection check before the first rubric request: fail fast and loudly.

One tiny completion (max_tokens 1, no retries) per model, retried on
transient failures within LITELLM_PRECHECK_TIMEOUT seconds (30).
``ensure_litellm_connection`` checks the model and its fallbacks at once;
one answer is enough. Success is kept for the process; a failure is checked
again after LITELLM_PRECHECK_RECHECK seconds (60), and calls in between fail
fast with the same report. Concurrent callers on one event loop share one
check. ``check_litellm_connection`` checks one model, without fallbacks or
caching.
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
    """The LLM endpoint did not answer the connection check."""


def _litellm_precheck_targets(model_name):
    """The model, then the fallbacks named in LITELLM_FALLBACK_MODELS."""
    return [model_name, *_fallback_models_from_env([], model_name)]


async def _litellm_probe(target, deadline):
    """None if ``target`` answers before ``deadline``, else ``name: why``."""
    request = dict(target) if isinstance(target, dict) else {"model": target}
    base = request.get("api_base") or request.get("base_url")
    name = str(request.get("model"))
    if base:
        name += f" at {_redact_credentials(str(base))}"
    request.update(max_tokens=1, num_retries=0)
    request["messages"] = [{"role": "user", "content": "ping"}]
    attempt = 0
    while True:
        attempt += 1
        request["timeout"] = max(deadline - time.monotonic(), 0.1)
        try:
            call = litellm.acompletion(**request)
            await asyncio.wait_for(call, request["timeout"] + 1)
            return None
        except Exception as error:
            cause, wait = _litellm_cause(error), _litellm_retry_wait(error)
        if wait is None:
            return f"{name}: {cause}"
        wait = wait or min(0.5 * 2 ** (attempt - 1), 8.0)
        if time.monotonic() + wait >= deadline:
            return f"{name}: {cause} (attempts: {attempt}; out of time)"
        logger.info("LiteLLM check of %s: %s; retry in %ss", name, cause, wait)
        await asyncio.sleep(wait)


async def _litellm_precheck_run(model_name):
    """Check the model and its fallbacks at once; keep the report."""
    budget = _litellm_env_number("LITELLM_PRECHECK_TIMEOUT", 30.0)
    end = time.monotonic() + budget
    targets = _litellm_precheck_targets(model_name)
    probes = [asyncio.ensure_future(_litellm_probe(t, end)) for t in targets]
    report = None
    try:
        for probe in asyncio.as_completed(probes):
            if await probe is None:
                break
        else:  # nothing answered
            failures = "".join(f"\n  {probe.result()}" for probe in probes)
            report = (
                f"LiteLLM connection check failed for model {model_name!r}\n"
                f"  {_litellm_route()}{failures}\n"
                "LITELLM_PRECHECK=warn logs this and goes on; =0 skips it."
            )
    finally:
        for probe in probes:
            probe.cancel()
    _LITELLM_PRECHECK_RESULTS[model_name] = (report, time.monotonic())
    return report


async def check_litellm_connection(model_name=None, timeout=None) -> bool:
    """True when the model answers a tiny completion in time (not cached)."""
    if model_name is None:
        model_name = os.environ.get("RUBRIC_GENERATION_MODEL", "gpt-4.1")
    if timeout is None:
        timeout = _litellm_env_number("LITELLM_PRECHECK_TIMEOUT", 30.0)
    return await _litellm_probe(model_name, time.monotonic() + timeout) is None


async def ensure_litellm_connection(model_name):
    """Raise LiteLLMConnectionError unless the model or a fallback answers.

    LITELLM_PRECHECK=0 skips the check; =warn logs a failure once instead.
    Unset under pytest, it is off: a test's mocks answer, not the network.
    """
    mode = os.environ.get("LITELLM_PRECHECK")
    if mode is None and "PYTEST_CURRENT_TEST" in os.environ:
        return
    mode = (mode or "1").strip().lower()
    if mode in ("0", "false", "no", "off"):
        return
    recheck = _litellm_env_number("LITELLM_PRECHECK_RECHECK", 60.0)
    report, checked = _LITELLM_PRECHECK_RESULTS.get(model_name, (None, None))
    expired = report is not None and time.monotonic() - checked >= recheck
    if checked is None or expired:
        loop = asyncio.get_running_loop()
        check = _LITELLM_PRECHECK_RUNNING.get(model_name)
        if check is None or check.done() or check.get_loop() is not loop:
            check = asyncio.ensure_future(_litellm_precheck_run(model_name))
            _LITELLM_PRECHECK_RUNNING[model_name] = check
        report = await asyncio.shield(check)
    if report is not None and mode != "warn":
        raise LiteLLMConnectionError(report)
    if report is not None and model_name not in _LITELLM_PRECHECK_WARNED:
        _LITELLM_PRECHECK_WARNED.add(model_name)
        logger.warning("%s", report)
