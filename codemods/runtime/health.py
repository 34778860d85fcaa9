"""Per-process health of LiteLLM calls, so that no degradation is silent.

``@_litellm_tracked(name)`` records one outcome per call of a LiteLLM helper
or of the rubric generator: ok, answered by a fallback, empty, or failed
(with its root cause). Every LITELLM_HEALTH_INTERVAL seconds (300; 0: never)
with calls, one line per function and model goes to the log, and
``litellm_health()`` returns the figures. With LITELLM_MAX_FAILURE_RATE set,
a function decorated with ``raise_on_degraded=True`` raises
LiteLLMDegradedError while more than that share of its last
LITELLM_FAILURE_WINDOW (100) calls failed or came back empty. Those two are
read when a function's first call with a model is recorded.
"""

import collections
import functools
import inspect
import logging
import threading
import time

from llmfix.codemods.runtime.env import _litellm_env_number
from llmfix.codemods.runtime.errors import _litellm_cause
from llmfix.codemods.runtime.redact import _litellm_route, _litellm_via_proxy
from llmfix.codemods.runtime.responses import (
    _LITELLM_OUTCOMES,
    _close_litellm_note,
    _note_litellm_fallback,
    _note_litellm_outcome,
    _open_litellm_note,
)

logger = logging.getLogger(__name__)

__all__ = ["LiteLLMDegradedError", "_litellm_tracked", "litellm_health"]

_LITELLM_HEALTH_LOCK = threading.Lock()  # held for O(1) updates only
_LITELLM_HEALTH = {}  # (function, model) -> _LiteLLMCallFigures
_LITELLM_HEALTH_CLOCK = {}  # "since" the last summary, the next one "due"


class LiteLLMDegradedError(RuntimeError):
    """Too many recent LiteLLM calls failed or came back empty (llmfix)."""


class _LiteLLMCallFigures:
    """The outcomes of one function's calls with one model."""

    def __init__(self):
        window = int(_litellm_env_number("LITELLM_FAILURE_WINDOW", 100.0))
        self.limit = _litellm_env_number("LITELLM_MAX_FAILURE_RATE", None)
        self.totals = dict.fromkeys(_LITELLM_OUTCOMES, 0)
        self.recent = dict.fromkeys(_LITELLM_OUTCOMES, 0)  # since the summary
        self.causes = {}  # failure group -> [count, the latest cause]
        self.recent_causes = {}  # failed group -> count since the summary
        self.recent_fallbacks = {}  # model -> count since the summary
        self.ring = collections.deque(maxlen=max(window, 1))  # None or a group
        self.ring_groups = {}  # failure group -> count in the ring

    def add(self, kind, detail):
        """Count one outcome (O(1))."""
        self.totals[kind] += 1
        self.recent[kind] += 1
        group = None
        if kind == "failed":
            group = str(detail).split(":")[0]
        elif kind == "empty":
            group = "empty answer"
        elif kind == "fallback":
            count = self.recent_fallbacks.get(detail, 0)
            self.recent_fallbacks[detail] = count + 1
        if group is not None:
            self.causes.setdefault(group, [0, None])[0] += 1
            self.causes[group][1] = detail
        if kind == "failed":
            count = self.recent_causes.get(group, 0)
            self.recent_causes[group] = count + 1
        if len(self.ring) == self.ring.maxlen and self.ring[0] is not None:
            self.ring_groups[self.ring[0]] -= 1
        self.ring.append(group)
        if group is not None:
            self.ring_groups[group] = self.ring_groups.get(group, 0) + 1

    def ring_failures(self):
        """How many outcomes in the ring failed or came back empty."""
        return sum(self.ring_groups.values())

    def cause(self, group):
        """The latest cause of ``group``, with the proxy it went through."""
        if group == "empty answer":
            return f"empty answer ({self.causes[group][1]})"
        proxy = _litellm_via_proxy()
        via = f" via proxy {proxy}" if proxy else ""
        return f"{self.causes[group][1]}{via}"


def _litellm_health_line(name, model, figures, seconds):
    """The summary of recent calls of one function with one model."""
    recent = figures.recent
    total = sum(recent.values())
    parts = [f"{recent['ok']} ok"]
    if recent["failed"]:
        share = recent["failed"] / total
        causes = figures.recent_causes
        group = max(causes, key=causes.get)
        cause = figures.cause(group)
        parts.append(f"{recent['failed']} failed ({share:.1%}, {cause})")
    if recent["empty"]:
        share = recent["empty"] / total
        parts.append(f"{recent['empty']} empty ({share:.1%})")
    for fallback, count in figures.recent_fallbacks.items():
        parts.append(f"{count} answered by fallback {fallback}")
    head = f"LiteLLM health, last {seconds:.0f} s: {name} {model}"
    return f"{head}: {', '.join(parts)}"


def _litellm_health_summary(now):
    """The summary lines due at ``now`` (lock held), recent counts reset."""
    since = _LITELLM_HEALTH_CLOCK.get("since")
    if since is not None and now < _LITELLM_HEALTH_CLOCK["due"]:
        return []
    interval = _litellm_env_number("LITELLM_HEALTH_INTERVAL", 300.0)
    _LITELLM_HEALTH_CLOCK["since"] = now
    _LITELLM_HEALTH_CLOCK["due"] = now + (interval if interval > 0 else 1e18)
    if since is None:
        return []
    lines = []
    for (name, model), figures in _LITELLM_HEALTH.items():
        if not any(figures.recent.values()):
            continue
        bad = figures.recent["failed"] + figures.recent["empty"]
        line = _litellm_health_line(name, model, figures, now - since)
        lines.append((logging.WARNING if bad else logging.INFO, line))
        figures.recent = dict.fromkeys(_LITELLM_OUTCOMES, 0)
        figures.recent_causes = {}
        figures.recent_fallbacks = {}
    return lines


def _litellm_degradation(name, model, figures):
    """The LiteLLMDegradedError message when the ring is too bad, else None."""
    window = len(figures.ring)
    bad = figures.ring_failures()
    limit = figures.limit
    if limit is None or window < figures.ring.maxlen or bad / window <= limit:
        return None
    group = max(figures.ring_groups, key=figures.ring_groups.get)
    share = f"{bad / window:.0%} > LITELLM_MAX_FAILURE_RATE={limit:g}"
    lines = [f"LiteLLM calls are failing: {bad} of the last {window} calls"]
    lines[0] += f" of {name} with {model} failed or came back empty ({share})"
    count = figures.ring_groups[group]
    lines.append(f"  most often ({count}): {figures.cause(group)}")
    lines.append(f"  {_litellm_route()}")
    return "\n".join(lines)


def _record_litellm_outcome(name, model, kind, detail):
    """Count one call, log the summary when due; the degradation, if any."""
    now = time.monotonic()
    with _LITELLM_HEALTH_LOCK:
        figures = _LITELLM_HEALTH.get((name, model))
        if figures is None:
            figures = _LiteLLMCallFigures()
            _LITELLM_HEALTH[(name, model)] = figures
        figures.add(kind, detail)
        lines = _litellm_health_summary(now)
        degraded = _litellm_degradation(name, model, figures)
    for level, line in lines:
        logger.log(level, "%s", line)
    return degraded


def _litellm_model_parameter(function):
    """(name, position or None, default) of the model parameter, or None."""
    parameters = inspect.signature(function).parameters
    for name in ("model_name", "model"):
        parameter = parameters.get(name)
        if parameter is None:
            continue
        positional = parameter.kind <= parameter.POSITIONAL_OR_KEYWORD
        index = list(parameters).index(name) if positional else None
        empty = parameter.default is parameter.empty
        return name, index, None if empty else parameter.default
    return None


def _litellm_call_model(parameter, args, kwargs):
    """The model a call names, following _litellm_model_parameter."""
    if parameter is None:
        return None
    name, index, default = parameter
    if name in kwargs:
        return kwargs[name]
    if index is not None and index < len(args):
        return args[index]
    return default


def _settle_litellm_call(name, model, token, result, error, loud):
    """Close the call's note, record its outcome and tell the outer call."""
    if error is None:
        _note_litellm_fallback(result)
    note = _close_litellm_note(token)
    kind, detail = note["kind"], note["detail"]
    empty = result is None or (isinstance(result, str) and not result)
    if error is not None:
        kind, detail = "failed", _litellm_cause(error)
    elif empty and kind in ("ok", "fallback"):
        kind, detail = "empty", f"returned {result!r}"
    model = str(model or note["model"] or "?")
    _note_litellm_outcome(kind, detail, model)
    degraded = _record_litellm_outcome(name, model, kind, detail)
    if degraded is not None and loud:
        raise LiteLLMDegradedError(degraded) from error


def _litellm_tracked(name, raise_on_degraded=False):
    """Record the outcome of every call of a LiteLLM function (llmfix)."""

    def decorate(function):
        parameter = _litellm_model_parameter(function)
        loud = raise_on_degraded

        @functools.wraps(function)
        def tracked(*args, **kwargs):
            model = _litellm_call_model(parameter, args, kwargs)
            token = _open_litellm_note()
            try:
                result = function(*args, **kwargs)
            except Exception as error:
                _settle_litellm_call(name, model, token, None, error, loud)
                raise
            except BaseException:
                _close_litellm_note(token)
                raise
            _settle_litellm_call(name, model, token, result, None, loud)
            return result

        @functools.wraps(function)
        async def tracked_async(*args, **kwargs):
            model = _litellm_call_model(parameter, args, kwargs)
            token = _open_litellm_note()
            try:
                result = await function(*args, **kwargs)
            except Exception as error:
                _settle_litellm_call(name, model, token, None, error, loud)
                raise
            except BaseException:
                _close_litellm_note(token)
                raise
            _settle_litellm_call(name, model, token, result, None, loud)
            return result

        if inspect.iscoroutinefunction(function):
            return tracked_async
        return tracked

    return decorate


def litellm_health():
    """Outcomes of LiteLLM calls so far, per function and model (llmfix).

    ``{function: {model: {"ok", "fallback", "empty", "failed": counts,
    "failure_rate": failed or empty / calls, "window": outcomes in the ring,
    "window_failure_rate": the same over the ring, "causes": {group:
    count}, "latest_causes": {group: cause}}}}``.
    """
    health = {}
    with _LITELLM_HEALTH_LOCK:
        for (name, model), figures in _LITELLM_HEALTH.items():
            entry = dict(figures.totals)
            calls = sum(entry.values())
            bad = entry["failed"] + entry["empty"]
            entry["failure_rate"] = bad / calls if calls else 0.0
            window = len(figures.ring)
            rate = figures.ring_failures() / window if window else 0.0
            entry["window"] = window
            entry["window_failure_rate"] = rate
            causes = figures.causes
            entry["causes"] = {g: c[0] for g, c in causes.items()}
            entry["latest_causes"] = {g: c[1] for g, c in causes.items()}
            health.setdefault(name, {})[model] = entry
    return health
