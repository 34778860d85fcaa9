"""Worst-case seconds one helper call can take, from retry/timeout/fallback settings (pure).

Facts (TARGETS.md, litellm 1.110 + openai SDK): ``num_retries=N`` makes N+1 HTTP attempts;
``timeout`` is per attempt (an idle timeout, so a hanging endpoint costs the full value each
time); the SDK sleeps between attempts as :mod:`llmfix.codemods.litellm_facts` states; each fallback
model gets its own full budget; with ``tenacity`` installed, LiteLLM's own retry layer re-runs the
SDK's retries N more times on the sync path.
"""

from __future__ import annotations

from dataclasses import dataclass

from llmfix.codemods.litellm_facts import outage_ridden_out as backoff_seconds  # total sleep between N+1 attempts


@dataclass(frozen=True)
class Budget:
    retries: int
    timeout: float
    models: int  # primary + fallbacks
    layers: int  # 1, or N+1 when LiteLLM's tenacity layer re-runs the SDK retries

    @property
    def attempts(self) -> int:
        return (self.retries + 1) * self.layers * self.models

    @property
    def seconds(self) -> float:
        return self.layers * ((self.retries + 1) * self.timeout + backoff_seconds(self.retries)) * self.models

    @property
    def outage_seconds(self) -> float:
        """How long an outage that fails fast (refused/reset) one call rides out: the backoff alone."""
        return self.layers * backoff_seconds(self.retries)


def budget(retries: int, timeout: float, fallbacks: int = 0, tenacity_layer: bool = False) -> Budget:
    return Budget(retries, timeout, 1 + max(fallbacks, 0), retries + 1 if tenacity_layer and retries > 0 else 1)


def human(seconds: float) -> str:
    """3615.5 -> '3616 s (1.0 h)'."""
    if seconds >= 3600:
        return f"{seconds:.0f} s ({seconds / 3600:.1f} h)"
    return f"{seconds:.0f} s ({seconds / 60:.0f} min)" if seconds >= 120 else f"{seconds:.1f} s"
