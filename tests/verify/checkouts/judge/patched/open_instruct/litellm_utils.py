# LiteLLM call support written by llmfix 0.1.0: `llmfix apply` keeps it current, `llmfix revert` removes it.
"""Support for LiteLLM calls that must survive a bad network. Its settings, checked when read (a bad value raises
ValueError): LITELLM_NUM_RETRIES, LITELLM_DEFAULT_TIMEOUT, LITELLM_FALLBACK_MODELS ("a,b" or JSON), LITELLM_PRECHECK
(on, warn, off), LITELLM_PRECHECK_TIMEOUT, LITELLM_PRECHECK_RECHECK, LITELLM_HEALTH_INTERVAL, LITELLM_MAX_FAILURE_RATE
(unset: never stop) and LITELLM_FAILURE_WINDOW."""

import asyncio
import collections
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
import types
import urllib.parse
import urllib.request

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
# a name that holds a secret: a whole run of name characters (one scan per run keeps redact linear); not "code",
# which in an API error names what went wrong ('code': 'rate_limit_exceeded'), except ?code= (OAuth)
_NAME = r"(?<![\w.-])(?=[\w.-]*?(?:key|token|secret|passw|pwd|auth|sig|credential))[\w.-]+"
_SECRETS = (  # key parameters, key fields (JSON, keyword arguments), bearer tokens
    (r"(?i)([?&;#](?:code|" + _NAME + r")=)[^&;#\s'\"]+", r"\1***"),
    (r"(?i)((['\"]?)" + _NAME + r"\2\s*[:=]\s*)(['\"])(?:\\.|(?!\3)[^\\\n])*\3", r"\1\3***\3"),
    (r"(?i)\b(bearer\s+)[\w.~+/=-]+", r"\1***"),
)
_AT_HOST = r"(?<![^\s\"])[^\s\"]*@(?=[\w\[])"  # a word up to its last "@" before a host: URL credentials


class LiteLLMConnectionError(RuntimeError):
    """The connection check got no answer from the model or its fallbacks."""


class LiteLLMDegradedError(RuntimeError):
    """Too many of a function's recent calls failed or came back empty."""


def from_env(name, default):
    """The number in environment variable ``name``, else ``default``."""
    raw = os.environ.get(name, "").strip()
    kind, low, high = _LIMITS[name]
    try:
        value = kind(raw) if raw else default
    except ValueError:
        value = None
    if raw and (value is None or not low <= value <= high):  # NaN fails both
        raise ValueError(f"{name}={raw!r}: expected {'an integer' if kind is int else 'a number'} in {low}..{high}")
    return value


def fallback_models(default, model_name=None):
    """LITELLM_FALLBACK_MODELS if set (else ``default``), without ``model_name``."""
    raw = os.environ.get("LITELLM_FALLBACK_MODELS")
    models = default if raw is None else raw.split(",")
    try:
        models = json.loads(raw) if raw and raw.strip()[:1] in ("[", "{") else models
    except (ValueError, RecursionError) as error:  # RecursionError: nested too deep
        raise ValueError(redact(f"LITELLM_FALLBACK_MODELS is not valid JSON: {error}")) from None
    models = [m.strip() if isinstance(m, str) else m for m in ([models] if isinstance(models, dict) else models)]
    names = [m.get("model") if isinstance(m, dict) else m for m in models if m != ""]
    if not all(isinstance(name, str) and name for name in names):
        raise ValueError("LITELLM_FALLBACK_MODELS: expected model names, or objects with a model")
    return [m for m in models if m != "" and (m.get("model") if isinstance(m, dict) else m) != model_name]


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
    text = re.sub(_AT_HOST, _hide_userinfo, text)
    for pattern, replacement in _SECRETS:
        text = re.sub(pattern, replacement, text)
    return text


def _hide_userinfo(match):
    """``user:***@``, ``scheme://user:***@`` or ``scheme://***@``: a password or token before a word's last "@"."""
    text, colon = match[0], re.search(r":(?!//)|$", match[0]).start()
    scheme = text.find("://")
    if scheme < 0 or colon < scheme:  # user:password@ (or no password: bob@example.com)
        return text if colon == len(text) else f"{text[: colon + 1]}***@"
    user = text[scheme + 3 : colon]
    keep = colon + 1 if colon < len(text) and not re.search(r"[@/?#()<>\[\]{}]", user) else scheme + 3
    return f"{text[:keep]}***@"


def root_cause(error):
    """``Type: message`` of the innermost error that says why, redacted."""
    chain = []
    while error is not None and all(error is not seen for seen in chain):
        chain.append(error)
        hidden = error.__suppress_context__ and not isinstance(error.__context__, OSError)
        error = error.__cause__ or (None if hidden else error.__context__)
    told = [e for e in chain if str(e).strip()] or chain
    sockets = [e for e in told if isinstance(e, OSError)]
    root = (sockets or [e for e in told if type(e) not in (Exception, RuntimeError)] or told)[-1]
    message = redact((str(root).strip().splitlines() or [""])[0])[:300]
    return f"{type(root).__name__}: {message}" if message else type(root).__name__


def route():
    """Where LiteLLM's calls go: the endpoint and its proxy, redacted."""
    url = (os.environ.get("OPENAI_BASE_URL") or os.environ.get("OPENAI_API_BASE") or "").strip()
    proxies = urllib.request.getproxies_environment()
    try:
        parts = urllib.parse.urlsplit(url or "https://api.openai.com/v1")
        shown, proxy, host = parts.geturl(), proxies.get(parts.scheme) or proxies.get("all"), parts.hostname or ""
    except ValueError:  # malformed ("http://[::1"): shown as written, since error texts include it
        shown, proxy, host = url, proxies.get(url.partition(":")[0].lower()) or proxies.get("all"), ""
    if proxy and urllib.request.proxy_bypass_environment(host, proxies):
        proxy = None
    return f"endpoint {redact(shown)}{'' if url else ' (the default)'}, proxy {redact(proxy or 'none')}"


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


# Health. LiteLLM reports a request's failure in the caller's context, so a tracked call knows whether its
# last request failed: then what it returned is a default (a "" or a zero score), and the call failed.
_CALL = contextvars.ContextVar("litellm_call", default=None)  # [last request: sent/failed, its cause, model]
_LOCK, _STATS, _CLOCK, _EVENTS = threading.Lock(), {}, [time.monotonic()], []


def _count(name, model, outcome, cause):
    """Count one outcome and log the health lines due; the alarm's text, if any."""
    limit, interval = from_env("LITELLM_MAX_FAILURE_RATE", None), from_env("LITELLM_HEALTH_INTERVAL", 300)
    with _LOCK:  # per function and model: totals, this interval's counts, a window of bad outcomes, causes by type
        stats = _STATS.get((name, model)) or _STATS.setdefault((name, model), types.SimpleNamespace(causes={}))
        if not hasattr(stats, "window"):
            stats.totals, stats.recent = collections.Counter(), collections.Counter()
            stats.window = collections.deque(maxlen=from_env("LITELLM_FAILURE_WINDOW", 100))
        stats.totals[outcome] += 1
        stats.recent[outcome] += 1
        if outcome == "failed" and name == "LiteLLM requests" and False in stats.window:  # that request went bad
            stats.window.remove(False)
        stats.window.append(outcome in ("failed", "empty"))
        if cause:  # the latest cause last
            stats.causes.pop(cause.split(":")[0], None)
            stats.causes[cause.split(":")[0]] = cause
        since, now = _CLOCK[0], time.monotonic()
        due = [(key, s, s.recent) for key, s in _STATS.items() if s.recent and 0 < interval <= now - since]
        for _, s, _ in due:
            s.recent, _CLOCK[0] = collections.Counter(), now
        bad, size = sum(stats.window), len(stats.window)
    for (function, used), s, counts in due:
        text = ", ".join(f"{number} {outcome}" for outcome, number in sorted(counts.items()))
        text += f"; last cause: {list(s.causes.values())[-1]}" if counts["failed"] else ""
        level = logging.WARNING if counts["failed"] or counts["empty"] else logging.INFO
        logger.log(level, "LiteLLM health, last %.0f s: %s %s: %s", now - since, function, used, text)
    if limit is not None and size == stats.window.maxlen and bad / size > limit:
        what = f"{bad} of the last {size} calls of {name} with {model} failed or came back empty"
        what += f" (> LITELLM_MAX_FAILURE_RATE={limit:g}); last: {cause or 'an empty answer'}"
        return f"LiteLLM calls are failing: {what}; {route()}"


def _listen(litellm):
    """Have LiteLLM count its requests and tell the tracked call in progress about them."""
    if not _EVENTS:

        class Events(importlib.import_module("litellm.integrations.custom_logger").CustomLogger):
            def log_pre_api_call(self, model, messages, kwargs):
                _count("LiteLLM requests", str(model), "sent", None)
                if _CALL.get() is not None:
                    _CALL.get()[:] = ["sent", None, _CALL.get()[2] or model]

            def log_failure_event(self, kwargs, response_obj, start_time, end_time):
                cause = root_cause(kwargs.get("exception") or RuntimeError("unknown error"))
                _count("LiteLLM requests", str(kwargs.get("model")), "failed", cause)
                if _CALL.get() is not None:
                    _CALL.get()[:2] = ["failed", cause]

            async def async_log_failure_event(self, kwargs, response_obj, start_time, end_time):
                self.log_failure_event(kwargs, response_obj, start_time, end_time)

        _EVENTS.append(Events())
    if _EVENTS[0] not in litellm.callbacks:
        litellm.callbacks.append(_EVENTS[0])


@contextlib.contextmanager
def _tracked_call(function, parameter, args, kwargs, raise_on_degraded):
    """Count the outcome of the call made inside (it sets the answer in the list this yields)."""
    check_settings()
    model = inspect.signature(function).bind_partial(*args, **kwargs).arguments.get(parameter) if parameter else None
    with contextlib.suppress(ImportError):  # LiteLLM tells the call about its requests, even its first ones
        _listen(importlib.import_module("litellm"))
    outer, request, answer, error = _CALL.get(), [None] * 3, [None], None
    token = _CALL.set(request)
    try:
        yield answer
    except Exception as raised:
        error = raised
    finally:  # a cancelled or interrupted call is not counted
        _CALL.reset(token)
    outcome, cause = "empty" if answer[0] in (None, "") else "ok", None
    if error is not None or request[0] == "failed":
        outcome, cause = "failed", request[1] if error is None else root_cause(error)
    if outer is not None and request[0] is not None:
        outer[:] = ["failed" if outcome == "failed" else "sent", cause, outer[2] or request[2]]
    alarm = _count(function.__qualname__, str(model or request[2] or "?"), outcome, cause)
    if alarm and raise_on_degraded and outcome != "ok":
        raise LiteLLMDegradedError(alarm) from error
    if error is not None:
        raise error


def track_calls(function=None, *, raise_on_degraded=False):
    """Count each call's outcome; ``raise_on_degraded``: raise past LITELLM_MAX_FAILURE_RATE."""
    if function is None:
        return functools.partial(track_calls, raise_on_degraded=raise_on_degraded)
    parameter = next((p for p in ("model_name", "model") if p in inspect.signature(function).parameters), None)

    @functools.wraps(function)
    def tracked(*args, **kwargs):
        with _tracked_call(function, parameter, args, kwargs, raise_on_degraded) as answer:
            answer[0] = function(*args, **kwargs)
        return answer[0]

    @functools.wraps(function)
    async def tracked_async(*args, **kwargs):
        with _tracked_call(function, parameter, args, kwargs, raise_on_degraded) as answer:
            answer[0] = await function(*args, **kwargs)
        return answer[0]

    return tracked_async if inspect.iscoroutinefunction(function) else tracked


def health():
    """``{function: {model: figures}}`` of the calls counted so far."""
    figures: dict = collections.defaultdict(dict)
    with _LOCK:
        for (name, model), s in _STATS.items():
            counts = dict.fromkeys(("sent", "failed") if name == "LiteLLM requests" else ("ok", "failed", "empty"), 0)
            figures[name][model] = {**counts, **s.totals, "window_failure_rate": sum(s.window) / len(s.window)}
            figures[name][model]["causes"] = dict(s.causes)
    return dict(figures)


_CHECKS = {}  # model -> (report or None, when checked, the check running)


async def ensure_connection(helper, *args, **kwargs):
    """Before a model's first request, ask ``helper(*args, **kwargs)`` for one token; raise if nothing answers."""
    mode, model = check_settings(), str(kwargs.get("model_name", kwargs.get("model", args[0] if args else "?")))
    report, when, running = _CHECKS.get(model, (None, None, None))
    started = False  # by this call: it warns (a cached or shared report was warned of already)
    if mode == "off" or (when and (not report or time.monotonic() - when < from_env("LITELLM_PRECHECK_RECHECK", 60))):
        running = None
    elif running is None or running.done() or running.get_loop() is not asyncio.get_running_loop():
        running, started = asyncio.ensure_future(_check_connection(helper, model, args, kwargs)), True
        _CHECKS[model] = (report, when, running)
    report = await asyncio.shield(running) if running else report
    if report and mode == "on":
        raise LiteLLMConnectionError(report)
    if report and mode == "warn" and started:
        logger.warning("%s", report)


async def _check_connection(helper, model, args, kwargs):
    """The report of one connection check through ``helper`` (None: it answered)."""
    _listen(importlib.import_module("litellm"))
    budget, request, started = from_env("LITELLM_PRECHECK_TIMEOUT", 30), [None] * 3, time.monotonic()
    _CALL.set(request)  # this task's own context
    try:
        await asyncio.wait_for(helper(*args, **{**kwargs, "max_tokens": 1, "num_retries": 2}), budget)
        cause = request[1] if request[0] == "failed" else None
    except Exception as error:
        cause = root_cause(error)
    if time.monotonic() - started >= budget:
        cause = f"no answer within {budget:g} s (LITELLM_PRECHECK_TIMEOUT)"
    hint = f"{route()}\n  LITELLM_PRECHECK=warn logs this and goes on, =off skips the check"
    name = getattr(helper, "__qualname__", None) or repr(helper)  # an AsyncMock or a partial has none
    report = cause and f"LiteLLM connection check of {model!r} via {name} failed: {cause}\n  {hint}"
    _CHECKS[model] = (report, time.monotonic(), None)
    return report
