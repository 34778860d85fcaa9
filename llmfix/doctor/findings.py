"""A doctor report: the checks' findings, most likely root cause first, as text or JSON."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from llmfix.doctor.redact import redact_url
from llmfix.exit_codes import OK as EXIT_HEALTHY
from llmfix.exit_codes import PENDING as EXIT_PROBLEMS

OK, WARN, FAIL = "OK", "WARN", "FAIL"
STATUSES = (FAIL, WARN, OK)
# Causal layers, most fundamental first: a finding of a lower layer ranks before the findings
# of higher layers it explains (a dead proxy before the endpoint behind it, DNS before TLS).
LAYER = dict(config=5, proxy=10, dns=20, tcp=21, tls=22, http=23, key=30, model=40, probe=45, litellm=50, checkout=60, launcher=70)


@dataclass
class Finding:
    """What one check saw and the line to change. ``cause`` names the root cause (``proxy-refused``,
    ...); ``caused_by`` names the check whose failure explains this one (a symptom, for ranking)."""

    check: str
    status: str
    summary: str
    fix: str = ""
    cause: str = ""
    source: str = "environment"
    layer: float = LAYER["litellm"]
    detail: list[str] = field(default_factory=list)
    caused_by: str = ""

    def __post_init__(self) -> None:
        self.redact()  # what a finding shows comes from env, launchers and exception texts

    def redact(self) -> None:
        """Every shown string through the one redaction (again on output: a check may edit one)."""
        self.summary, self.fix, self.source = redact_url(self.summary), redact_url(self.fix), redact_url(self.source)
        self.detail = [redact_url(line) for line in self.detail]

    def to_json(self) -> dict[str, Any]:
        self.redact()
        out = {"check": self.check, "status": self.status, "summary": self.summary, "fix": self.fix, "source": self.source}
        optional = {"cause": self.cause, "detail": list(self.detail), "caused_by": self.caused_by}
        return {**out, **{name: value for name, value in optional.items() if value}}


def rank(findings: list[Finding]) -> list[Finding]:
    """FAIL, WARN, OK; within a status, causes before the symptoms they explain (``caused_by`` a
    failing check of the same source), then by layer; ties keep the order the checks ran in."""
    failing = {(f.source, f.check) for f in findings if f.status == FAIL}

    def key(item: tuple[int, Finding]) -> tuple[int, bool, float, int]:
        index, f = item
        return (STATUSES.index(f.status), bool(f.caused_by) and (f.source, f.caused_by) in failing, f.layer, index)

    return [f for _, f in sorted(enumerate(findings), key=key)]


@dataclass
class Report:
    findings: list[Finding]  # ranked
    seconds: float = 0.0
    offline: bool = False

    @property
    def exit_code(self) -> int:
        return EXIT_PROBLEMS if any(f.status == FAIL for f in self.findings) else EXIT_HEALTHY

    @property
    def counts(self) -> tuple[int, int]:
        return (sum(f.status == FAIL for f in self.findings), sum(f.status == WARN for f in self.findings))

    def to_json(self) -> dict[str, Any]:
        fails, warns = self.counts
        head = dict(command="doctor", healthy=self.exit_code == EXIT_HEALTHY, exit_code=self.exit_code, fail=fails, warn=warns, offline=self.offline)
        return {**head, "seconds": round(self.seconds, 2), "findings": [f.to_json() for f in self.findings]}


def render_json(report: Report) -> str:
    return json.dumps(report.to_json(), indent=2, ensure_ascii=False)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def render_text(report: Report, color: bool = False) -> str:
    fails, warns = report.counts
    if fails:
        head = f"llmfix doctor: {_plural(fails, 'problem')}, {_plural(warns, 'warning')}; most likely cause first"
    else:
        head = f"llmfix doctor: no failures, {_plural(warns, 'warning')}" if warns else "llmfix doctor: healthy"
    lines = [head + f"  ({report.seconds:.1f} s{', offline' if report.offline else ''})", ""]
    width = max((len(f.check) for f in report.findings), default=8)
    pad = " " * (4 + 4 + 2 + width + 2)
    colors = {FAIL: "\x1b[31m", WARN: "\x1b[33m", OK: "\x1b[32m"}
    for i, f in enumerate(report.findings, 1):
        f.redact()
        status = f"{colors[f.status]}{f.status}\x1b[0m" + " " * (4 - len(f.status)) if color else f.status.ljust(4)
        lines.append(f"{i:>2}. {status}  {f.check.ljust(width)}  {f'[{f.source}] ' if f.source != 'environment' else ''}{f.summary}")
        if f.status != OK:
            lines += ([f"{pad}fix: {f.fix}"] if f.fix else []) + [f"{pad}  {d}" for d in f.detail]
    return "\n".join(lines)
