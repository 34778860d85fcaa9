"""Per-process health of LiteLLM calls, so that no degradation is silent.

``@_litellm_tracked(name)`` records one outcome per call of a LiteLLM helper
or of the rubric generator: ok, answered by a fallback, empty, or failed
(with its root cause); the outcome of a tracked call inside it reaches the
outer one through the call note (see responses). The model is the call's
``model_name`` or ``model`` argument, else the one the inner call named.
Every LITELLM_HEALTH_INTERVAL seconds (300; 0: never) with calls, one line
per function and model goes to the log, and ``litellm_health()`` returns the
figures. With LITELLM_MAX_FAILURE_RATE set, a function decorated with
``raise_on_degraded=True`` raises LiteLLMDegradedError while more than that
share of its last LITELLM_FAILURE_WINDOW (100) calls failed or came back
empty. Those two are read at a function's first call with a model. Memory
is constant: per function and model, a window of outcomes and counters; a
failure's group is its error's type.
"""

import collections
import functools
import inspect
import logging
import threading
import time

from llmfix.codemods.runtime.env import _litellm_env_number
from llmfix.codemods.runtime.errors import _litellm_cause
from llmfix.codemods.runtime.redact import _litellm_proxy, _litellm_route
from llmfix.codemods.runtime.responses import (
    _LITELLM_CALL_NOTE,
    _LITELLM_NEW_NOTE,
    _LITELLM_OUTCOMES,
    _note_litellm_fallback,
    _note_litellm_outcome,
)

logger = logging.getLogger(__name__)

__all__ = ["LiteLLMDegradedError", "_litellm_tracked", "litellm_health"]

_LITELLM_HEALTH_LOCK = threading.Lock()  # held for short updates only
_LITELLM_HEALTH = {}  # (function, model) -> _LiteLLMCallStats
_LITELLM_HEALTH_CLOCK = {}  # "since": when the summary interval began


class LiteLLMDegradedError(RuntimeError):
    """Too many recent LiteLLM calls failed or came back empty."""


class _LiteLLMCallStats:
    """One function's calls with one model: totals, interval and window."""

    def __init__(self):
        size = int(_litellm_env_number("LITELLM_FAILURE_WINDOW", 100.0))
        self.limit = _litellm_env_number("LITELLM_MAX_FAILURE_RATE", None)
        self.window = collections.deque(maxlen=max(size, 1))  # group or None
        self.totals = collections.Counter()  # kind -> calls
        self.causes = collections.Counter()  # group -> failed or empty calls
        self.latest = {}  # group -> its latest cause
        self.recent = collections.Counter()  # kind -> calls this interval
        self.recent_failed = collections.Counter()  # group -> failed calls
        self.recent_fallbacks = collections.Counter()  # model -> answers

    def add(self, kind, detail):
        """Count one outcome; a failure's group is its error's type."""
        group = "empty answer" if kind == "empty" else None
        if kind == "failed":
            proxy = _litellm_proxy()
            detail += f" via proxy {proxy}" if proxy else ""
            group = detail.split(":")[0]
            self.recent_failed[group] += 1
        elif kind == "fallback":
            self.recent_fallbacks[detail] += 1
        if group is not None:
            self.causes[group] += 1
            self.latest[group] = detail
        self.totals[kind] += 1
        self.recent[kind] += 1
        self.window.append(group)

    def summary(self, head):
        """The interval's log level and line; the next interval starts."""
        recent, calls = self.recent, sum(self.recent.values())
        parts = [f"{recent['ok']} ok"]
        if recent["failed"]:
            cause = self.latest[self.recent_failed.most_common(1)[0][0]]
            share = recent["failed"] / calls
            parts.append(f"{recent['failed']} failed ({share:.1%}, {cause})")
        if recent["empty"]:
            share = recent["empty"] / calls
            parts.append(f"{recent['empty']} empty ({share:.1%})")
        for model, count in self.recent_fallbacks.items():
            parts.append(f"{count} answered by fallback {model}")
        bad = recent["failed"] + recent["empty"]
        level = logging.WARNING if bad else logging.INFO
        self.recent.clear()
        self.recent_failed.clear()
        self.recent_fallbacks.clear()
        return level, f"{head}: {', '.join(parts)}"

    def degradation(self, name, model):
        """The LiteLLMDegradedError message if the window is too bad."""
        size = len(self.window)
        bad = size - self.window.count(None)
        full = size == self.window.maxlen
        if self.limit is None or not full or bad / size <= self.limit:
            return None
        groups = collections.Counter(g for g in self.window if g is not None)
        group, count = groups.most_common(1)[0]
        cause = self.latest[group]
        if group == "empty answer":
            cause = f"empty answer ({cause})"
        rate = f"{bad / size:.0%} > LITELLM_MAX_FAILURE_RATE={self.limit:g}"
        return (
            f"LiteLLM calls are failing: {bad} of the last {size} calls of"
            f" {name} with {model} failed or came back empty ({rate})\n"
            f"  most often ({count}): {cause}\n  {_litellm_route()}"
        )


def _record_litellm_outcome(name, model, kind, detail):
    """Count one call and log the summaries due; the degradation, if any."""
    now, lines = time.monotonic(), []
    with _LITELLM_HEALTH_LOCK:
        stats = _LITELLM_HEALTH.get((name, model))
        if stats is None:
            stats = _LITELLM_HEALTH[name, model] = _LiteLLMCallStats()
        stats.add(kind, detail)
        interval = _litellm_env_number("LITELLM_HEALTH_INTERVAL", 300.0)
        since = _LITELLM_HEALTH_CLOCK.setdefault("since", now)
        if 0 < interval <= now - since:
            _LITELLM_HEALTH_CLOCK["since"] = now
            head = f"LiteLLM health, last {now - since:.0f} s:"
            for (function, used), each in _LITELLM_HEALTH.items():
                if each.recent:
                    lines.append(each.summary(f"{head} {function} {used}"))
        degraded = stats.degradation(name, model)
    for level, line in lines:
        logger.log(level, "%s", line)
    return degraded


def _litellm_model_parameter(function):
    """(name, position or None, default) of the model parameter, or Nones."""
    parameters = inspect.signature(function).parameters.values()
    for position, parameter in enumerate(parameters):
        if parameter.name in ("model_name", "model"):
            positional = parameter.kind <= parameter.POSITIONAL_OR_KEYWORD
            empty = parameter.default is parameter.empty
            default = None if empty else parameter.default
            return parameter.name, position if positional else None, default
    return None, None, None


def _litellm_tracked(name, raise_on_degraded=False):
    """Record the outcome of every call of a LiteLLM function."""

    def decorate(function):
        key, position, default = _litellm_model_parameter(function)

        def settle(args, kwargs, token, result, error):
            _note_litellm_fallback(result)
            note = _LITELLM_CALL_NOTE.get()
            _LITELLM_CALL_NOTE.reset(token)
            if error is not None and not isinstance(error, Exception):
                return  # cancelled or interrupted: not an outcome
            kind, detail = note["kind"], note["detail"]
            empty = result is None or (isinstance(result, str) and not result)
            if error is not None:
                kind, detail = "failed", _litellm_cause(error)
            elif empty and kind in ("ok", "fallback"):
                kind, detail = "empty", f"returned {result!r}"
            model = kwargs.get(key, default)
            if position is not None and position < len(args):
                model = args[position]
            model = str(model or note["model"] or "?")
            _note_litellm_outcome(kind, detail, model)
            degraded = _record_litellm_outcome(name, model, kind, detail)
            if degraded is not None and raise_on_degraded:
                raise LiteLLMDegradedError(degraded) from error

        @functools.wraps(function)
        def tracked(*args, **kwargs):
            token = _LITELLM_CALL_NOTE.set(dict(_LITELLM_NEW_NOTE))
            try:
                result = function(*args, **kwargs)
            except BaseException as error:
                settle(args, kwargs, token, None, error)
                raise
            settle(args, kwargs, token, result, None)
            return result

        @functools.wraps(function)
        async def tracked_async(*args, **kwargs):
            token = _LITELLM_CALL_NOTE.set(dict(_LITELLM_NEW_NOTE))
            try:
                result = await function(*args, **kwargs)
            except BaseException as error:
                settle(args, kwargs, token, None, error)
                raise
            settle(args, kwargs, token, result, None)
            return result

        if inspect.iscoroutinefunction(function):
            return tracked_async
        return tracked

    return decorate


def litellm_health():
    """``{function: {model: figures}}`` of the LiteLLM calls so far."""
    health = {}
    with _LITELLM_HEALTH_LOCK:
        for (name, model), stats in _LITELLM_HEALTH.items():
            entry = {kind: stats.totals[kind] for kind in _LITELLM_OUTCOMES}
            bad = entry["failed"] + entry["empty"]  # failed or came back empty
            size = len(stats.window)
            recent_bad = size - stats.window.count(None)
            entry["failure_rate"] = bad / sum(entry.values())
            entry["window"] = size
            entry["window_failure_rate"] = recent_bad / size
            entry["causes"] = dict(stats.causes)  # group -> calls
            entry["latest_causes"] = dict(stats.latest)  # group -> its cause
            health.setdefault(name, {})[model] = entry
    return health
