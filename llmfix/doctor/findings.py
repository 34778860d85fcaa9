"""The unit of a doctor report: one finding of one check."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from llmfix.doctor.redact import redact_url

OK = "OK"
WARN = "WARN"
FAIL = "FAIL"
STATUSES = (FAIL, WARN, OK)

# Causal layers, most fundamental first. Ranking puts a finding of a lower layer before
# the findings of higher layers that it explains (a dead proxy before the unreachable
# endpoint behind it, a DNS failure before a TLS one, ...).
LAYER_CONFIG = 5
LAYER_PROXY = 10
LAYER_DNS = 20
LAYER_TCP = 21
LAYER_TLS = 22
LAYER_HTTP = 23
LAYER_KEY = 30
LAYER_MODEL = 40
LAYER_PROBE = 45
LAYER_LITELLM = 50
LAYER_CHECKOUT = 60
LAYER_LAUNCHER = 70


@dataclass
class Finding:
    """What one check saw: status, a one-line summary and the line to change.

    ``cause`` is a stable machine-readable name for the root cause (``proxy-unreachable``,
    ``tls-verify``, ...); ``caused_by`` names the check whose failure explains this one,
    which makes this finding a symptom for ranking; ``layer`` orders causes before effects.
    """

    check: str
    status: str
    summary: str
    fix: str = ""
    detail: list[str] = field(default_factory=list)
    cause: str = ""
    source: str = "environment"
    layer: float = LAYER_LITELLM
    caused_by: str = ""

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"bad status {self.status!r}")
        # What a finding shows comes from the environment, launcher scripts and exception
        # texts: never let a credential through, in any of its strings.
        self.redact()

    def redact(self) -> Finding:
        """Pass every shown string through the one redaction (again: a check may have edited it)."""
        self.summary = redact_url(self.summary)
        self.fix = redact_url(self.fix)
        self.source = redact_url(self.source)
        self.detail = [redact_url(line) for line in self.detail]
        return self

    @property
    def key(self) -> tuple[str, str]:
        """(source, check): what ``caused_by`` refers to within one source."""
        return (self.source, self.check)

    def to_json(self) -> dict[str, Any]:
        self.redact()
        out: dict[str, Any] = {
            "check": self.check,
            "status": self.status,
            "summary": self.summary,
            "fix": self.fix,
            "source": self.source,
        }
        if self.cause:
            out["cause"] = self.cause
        if self.detail:
            out["detail"] = list(self.detail)
        if self.caused_by:
            out["caused_by"] = self.caused_by
        return out
