"""Facts about LiteLLM and the patched code shared by the transforms, ``verify`` and ``doctor``: the environment
variables, llmfix's defaults, and the openai SDK's retry schedule (about 0.5 * 2**k s, capped at 8 s)."""

from __future__ import annotations

NUM_RETRIES = "LITELLM_NUM_RETRIES"
DEFAULT_TIMEOUT_VARIABLE = "LITELLM_DEFAULT_TIMEOUT"
FALLBACK_MODELS = "LITELLM_FALLBACK_MODELS"

DEFAULT_RETRIES = 10
SDK_DEFAULT_RETRIES = 2  # what the openai SDK retries when LiteLLM is given no num_retries
DEFAULT_TIMEOUT = 600.0
LITELLM_REQUEST_TIMEOUT = 6000.0  # LiteLLM's own per-request timeout when a call passes none (REQUEST_TIMEOUT overrides)
DEFAULT_PRECHECK_TIMEOUT = 30.0

BACKOFF_BASE = 0.5
BACKOFF_CAP = 8.0


def backoff(retry: int) -> float:
    """The SDK's nominal sleep before retry number ``retry`` (0-based), before jitter."""
    return min(BACKOFF_BASE * 2**retry, BACKOFF_CAP)


def outage_ridden_out(retries: int) -> float:
    """Seconds of fast-failing outage ``retries`` retries ride out (the sum of the sleeps)."""
    return sum(backoff(k) for k in range(retries))


def describe_outage(retries: int) -> str:
    seconds = outage_ridden_out(retries)
    return f"about {seconds:.0f} s" if seconds < 120 else f"about {seconds / 60:.0f} min"
