"""For LiteLLM calls that survive a bad network. Settings: LITELLM_NUM_RETRIES, _DEFAULT_TIMEOUT, _FALLBACK_MODELS,
_PRECHECK (on/warn/off), _PRECHECK_TIMEOUT, _PRECHECK_RECHECK, _HEALTH_INTERVAL, _MAX_FAILURE_RATE, _FAILURE_WINDOW."""

import asyncio
import contextlib
import contextvars
import functools
import importlib
import inspect
import json
import logging
import os
import re
import sys
import threading
import time
from collections import Counter, defaultdict, deque
from urllib import parse, request

logger = logging.getLogger(__name__)

_LIMITS = {  # variable: (type, lowest, highest)
    "LITELLM_NUM_RETRIES": (int, 0, 100),
    "LITELLM_DEFAULT_TIMEOUT": (float, 0.001, 604800),
    "LITELLM_PRECHECK_TIMEOUT": (float, 0.001, 3600),
    "LITELLM_PRECHECK_RECHECK": (float, 0, 86400),
    "LITELLM_HEALTH_INTERVAL": (float, 0, 86400),
    "LITELLM_MAX_FAILURE_RATE": (float, 0, 1),
    "LITELLM_FAILURE_WINDOW": (int, 1, 100000),
}
# a secret's name: one whole run of name characters (linear); not "code" ('code': 'rate_limit_exceeded'), but ?code=
_NAME = r"(?<![\w.-])(?=[\w.-]*?(?:key|token|secret|passw|pwd|auth|sig|credential))[\w.-]+"
_SECRETS = (  # a word's credentials before its last "@" (a URL's userinfo), key parameters, key fields, bearer tokens
    (r"(?<![^\s\"])([^:\s\"]*?://(?:[^@/?#()<>\[\]{}:\s\"]*:(?!//))?|[^:\s\"]*:)[^\s\"]*@(?=[\w\[])", r"\1***@"),
    (r"(?i)([?&;#](?:code|" + _NAME + r")=)[^&;#\s'\"]+", r"\1***"),
    (r"(?i)((['\"]?)" + _NAME + r"\2\s*[:=]\s*)(['\"])(?:\\.|(?!\3)[^\\\n])*\3", r"\1\3***\3"),
    (r"(?i)\b(bearer\s+)[\w.~+/=-]+", r"\1***"),
)
_REQUESTS = "LiteLLM requests"  # health's name for LiteLLM's own count of requests
_CALL = contextvars.ContextVar("litellm_call", default=None)  # [last request: sent/failed, its cause, model]
_LOCK, _CLOCK, _EVENTS = threading.Lock(), [time.monotonic()], []
# per function and model: totals, the totals at the last health line, a window of bad outcomes, causes by type
_STATS = defaultdict(lambda: (Counter(), Counter(), deque(maxlen=from_env("LITELLM_FAILURE_WINDOW", 100)), {}))
_CHECKS = {}  # model -> (report or None, until when a failure holds, the check running)


class LiteLLMConnectionError(RuntimeError):
    """The connection check got no answer from the model or its fallbacks."""


class LiteLLMDegradedError(RuntimeError):
    """Too many of a function's recent calls failed or came back empty."""


def from_env(name, default):
    """The number in environment variable ``name``, else ``default``."""
    raw, (kind, low, high) = os.environ.get(name, "").strip(), _LIMITS[name]
    with contextlib.suppress(ValueError):  # NaN is never in range
        if not raw or low <= (value := kind(raw)) <= high:
            return value if raw else default
    raise ValueError(f"{name}={raw!r}: expected {'an integer' if kind is int else 'a number'} in {low}..{high}")


def fallback_models(default, model_name=None):
    """LITELLM_FALLBACK_MODELS if set (else ``default``), without ``model_name``."""
    raw = os.environ.get("LITELLM_FALLBACK_MODELS")
    models = default if raw is None else raw.split(",")
    try:
        models = json.loads(raw) if raw and raw.strip()[:1] in ("[", "{") else models
    except (ValueError, RecursionError) as error:  # RecursionError: nested too deep
        raise ValueError(redact(f"LITELLM_FALLBACK_MODELS is not valid JSON: {error}")) from None
    models = [m.strip() if isinstance(m, str) else m for m in ([models] if isinstance(models, dict) else models)]
    models = [(m.get("model") if isinstance(m, dict) else m, m) for m in models if m != ""]
    if not all(isinstance(name, str) and name for name, _ in models):
        raise ValueError("LITELLM_FALLBACK_MODELS: expected model names, or objects with a model")
    return [m for name, m in models if name != model_name]


def check_settings():
    """Raise ValueError for the first bad LITELLM_* variable; else the precheck mode."""
    for name in _LIMITS:
        from_env(name, None)
    fallback_models([])
    raw = os.environ.get("LITELLM_PRECHECK", "").strip().lower() or "on"
    mode = {"1": "on", "true": "on", "yes": "on", "0": "off", "false": "off", "no": "off"}.get(raw, raw)
    if mode not in ("on", "warn", "off"):
        raise ValueError(f"LITELLM_PRECHECK={raw!r}: expected on, warn or off")
    return mode


def redact(text):
    """``text`` with URL credentials, key parameters, key fields and bearer tokens as ***, in linear time."""
    for pattern, replacement in _SECRETS:
        text = re.sub(pattern, replacement, text)
    return text


def root_cause(error):
    """``Type: message`` of the innermost error that says why (a socket error, else a specific one), redacted."""
    chain = []
    while error is not None and all(error is not seen for seen in chain):
        chain.append(error)
        hidden = error.__suppress_context__ and not isinstance(error.__context__, OSError)
        error = error.__cause__ or (None if hidden else error.__context__)
    told = [e for e in chain if str(e).strip()] or chain or [RuntimeError()]  # None: a RuntimeError, cause unknown
    root = max(reversed(told), key=lambda e: (isinstance(e, OSError), type(e) not in (Exception, RuntimeError)))
    message = redact((str(root).strip().splitlines() or [""])[0])[:300]
    return f"{type(root).__name__}: {message}" if message else type(root).__name__


def route():
    """Where LiteLLM's calls go: the endpoint and its proxy, redacted."""
    url = (os.environ.get("OPENAI_BASE_URL") or os.environ.get("OPENAI_API_BASE") or "").strip()
    proxies, host = request.getproxies_environment(), ""
    proxy = proxies.get((url or "https:").partition(":")[0].lower()) or proxies.get("all")
    with contextlib.suppress(ValueError):  # a malformed URL ("http://[::1") has no host
        host = parse.urlsplit(url or "https://api.openai.com/v1").hostname or ""
    proxy = None if request.proxy_bypass_environment(host, proxies) else proxy
    return f"endpoint {redact(url or 'https://api.openai.com/v1 (the default)')}, proxy {redact(proxy or 'none')}"


def response_text(response):
    """The answer's text; "" and a warning when it holds none."""
    choices = getattr(response, "choices", None)
    message = getattr(choices[0], "message", None) if choices else None
    content = getattr(message, "content", None)
    if not content:
        what = "no choices" if not choices else "no message" if message is None else f"{content!r} content"
        logger.warning('LiteLLM answer from %s has %s; returning ""', getattr(response, "model", "a model"), what)
    return content or ""


def log_failure(where):
    """Log the root cause of the error being handled, naming ``where``."""
    if sys.exc_info()[1] is not None:
        logger.warning("%s failed: %s", where, root_cause(sys.exc_info()[1]))


def _count(name, model, outcome, cause, loud=False, error=None):
    """Count one outcome, tell the tracked call about a request, log the health lines due; ``loud``: the alarm."""
    limit, interval = from_env("LITELLM_MAX_FAILURE_RATE", None), from_env("LITELLM_HEALTH_INTERVAL", 300)
    with _LOCK:
        totals, _, window, causes = _STATS[name, model]
        totals[outcome] += 1
        if outcome == "failed" and name == _REQUESTS and False in window:  # that request went bad
            window.remove(False)
        window.append(outcome in ("failed", "empty"))
        if cause:  # the latest cause last
            causes.pop(cause.split(":")[0], None)
            causes[cause.split(":")[0]] = cause
        since, now, due = _CLOCK[0], time.monotonic(), []
        if 0 < interval <= now - since:  # a health line for each function and model with calls since the last
            due = [(key, new - old, list(told.values())) for key, (new, old, _, told) in _STATS.items() if new != old]
            _CLOCK[0] = now
            for new, old, _, _ in _STATS.values():
                old.update(new - old)
        bad, size = sum(window), len(window)
    if name == _REQUESTS and _CALL.get() is not None:
        _CALL.get()[:] = [outcome, cause, _CALL.get()[2] or model]
    for (function, used), counts, told in due:
        text = ", ".join(f"{number} {outcome}" for outcome, number in sorted(counts.items()))
        text += f"; last cause: {told[-1]}" if counts.get("failed") else ""
        level = logging.WARNING if counts.get("failed") or counts.get("empty") else logging.INFO
        logger.log(level, "LiteLLM health, last %.0f s: %s %s: %s", now - since, function, used, text)
    if loud and outcome != "ok" and limit is not None and size == window.maxlen and bad / size > limit:
        what = f"LiteLLM calls are failing: {bad} of the last {size} calls of {name} with {model} failed or were empty"
        what += f" (> LITELLM_MAX_FAILURE_RATE={limit:g}); last: {cause or 'an empty answer'}; {route()}"
        raise LiteLLMDegradedError(what) from error


def _listen(litellm):
    """Have LiteLLM count its requests and tell the tracked call in progress (hooks run in the caller's context)."""
    if not _EVENTS:

        class Events(importlib.import_module("litellm.integrations.custom_logger").CustomLogger):
            def log_pre_api_call(self, model, messages, kwargs):
                _count(_REQUESTS, str(model), "sent", None)

            def log_failure_event(self, kwargs, response_obj, start_time, end_time):
                _count(_REQUESTS, str(kwargs.get("model")), "failed", root_cause(kwargs.get("exception")))

            async def async_log_failure_event(self, kwargs, response_obj, start_time, end_time):
                self.log_failure_event(kwargs, response_obj, start_time, end_time)

        _EVENTS.append(Events())
    if _EVENTS[0] not in litellm.callbacks:
        litellm.callbacks.append(_EVENTS[0])


def track_calls(function=None, *, raise_on_degraded=False):
    """Count each call's outcome; ``raise_on_degraded``: raise past LITELLM_MAX_FAILURE_RATE."""
    if function is None:
        return functools.partial(track_calls, raise_on_degraded=raise_on_degraded)

    @contextlib.contextmanager
    def tracking(args, kwargs):  # counts the call made inside (it sets the answer), failed if its last request failed
        check_settings()
        arguments = inspect.signature(function).bind_partial(*args, **kwargs).arguments
        with contextlib.suppress(ImportError):  # LiteLLM tells the call about its requests, even its first ones
            _listen(importlib.import_module("litellm"))
        outer, last, answer, error = _CALL.get(), [None] * 3, [None], None
        token = _CALL.set(last)
        try:
            yield answer
        except Exception as raised:
            error = raised
        finally:  # a cancelled or interrupted call is not counted
            _CALL.reset(token)
        cause = root_cause(error) if error is not None else last[1] if last[0] == "failed" else None
        outcome = "failed" if cause else "empty" if answer[0] in (None, "") else "ok"
        if outer is not None and last[0] is not None:
            outer[:] = ["failed" if cause else "sent", cause, outer[2] or last[2]]
        model = arguments.get("model_name") or arguments.get("model") or last[2] or "?"
        _count(function.__qualname__, str(model), outcome, cause, raise_on_degraded, error)
        if error is not None:
            raise error

    def tracked(*args, **kwargs):
        with tracking(args, kwargs) as answer:
            answer[0] = function(*args, **kwargs)
        return answer[0]

    async def tracked_async(*args, **kwargs):
        with tracking(args, kwargs) as answer:
            answer[0] = await function(*args, **kwargs)
        return answer[0]

    return functools.wraps(function)(tracked_async if inspect.iscoroutinefunction(function) else tracked)


def health():
    """``{function: {model: figures}}`` of the calls counted so far."""
    figures = {}
    with _LOCK:
        for (name, model), (totals, _, window, causes) in _STATS.items():
            zeros = dict.fromkeys(("sent", "failed") if name == _REQUESTS else ("ok", "failed", "empty"), 0)
            windowed = {"window_failure_rate": sum(window) / len(window), "causes": dict(causes)}
            figures.setdefault(name, {})[model] = {**zeros, **totals, **windowed}
    return figures


async def ensure_connection(helper, *args, **kwargs):
    """Before a model's first request, ask ``helper(*args, **kwargs)`` for one token; raise if nothing answers."""
    mode, model = check_settings(), str(kwargs.get("model_name", kwargs.get("model", args[0] if args else "?")))

    async def check():  # the report of one check (None: it answered), logged once in warn mode
        _listen(importlib.import_module("litellm"))
        budget, last, started = from_env("LITELLM_PRECHECK_TIMEOUT", 30), [None] * 3, time.monotonic()
        _CALL.set(last)  # this task's own context
        try:
            await asyncio.wait_for(helper(*args, **{**kwargs, "max_tokens": 1, "num_retries": 2}), budget)
            cause = last[1] if last[0] == "failed" else None
        except Exception as error:
            cause = root_cause(error)
        if time.monotonic() - started >= budget:
            cause = f"no answer within {budget:g} s (LITELLM_PRECHECK_TIMEOUT)"
        hint = f"{route()}\n  LITELLM_PRECHECK=warn logs this and goes on, =off skips the check"
        name = getattr(helper, "__qualname__", None) or repr(helper)  # an AsyncMock or a partial has none
        report = cause and f"LiteLLM connection check of {model!r} via {name} failed: {cause}\n  {hint}"
        _CHECKS[model] = (report, time.monotonic() + from_env("LITELLM_PRECHECK_RECHECK", 60), None)
        if report and mode == "warn":  # once per check, not per caller
            logger.warning("%s", report)
        return report

    report, until, running = _CHECKS.get(model, (None, None, None))
    if mode != "off" and not (until and (not report or time.monotonic() < until)):  # a success holds for good
        if running is None or running.done() or running.get_loop() is not asyncio.get_running_loop():
            running = asyncio.ensure_future(check())
            _CHECKS[model] = (report, until, running)
        report = await asyncio.shield(running)
    if report and mode == "on":
        raise LiteLLMConnectionError(report)
