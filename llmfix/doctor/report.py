"""Render a doctor report as text or JSON."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from llmfix.doctor.findings import FAIL, WARN, Finding
from llmfix.doctor.redact import redact_url
from llmfix.exit_codes import OK as EXIT_HEALTHY
from llmfix.exit_codes import PENDING as EXIT_PROBLEMS


@dataclass
class Report:
    findings: list[Finding]
    seconds: float = 0.0
    offline: bool = False
    notes: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        return EXIT_PROBLEMS if any(f.status == FAIL for f in self.findings) else EXIT_HEALTHY

    @property
    def counts(self) -> tuple[int, int]:
        return (sum(f.status == FAIL for f in self.findings), sum(f.status == WARN for f in self.findings))

    def to_json(self) -> dict:
        fails, warns = self.counts
        return {
            "command": "doctor",
            "healthy": self.exit_code == EXIT_HEALTHY,
            "exit_code": self.exit_code,
            "fail": fails,
            "warn": warns,
            "offline": self.offline,
            "seconds": round(self.seconds, 2),
            "findings": [f.to_json() for f in self.findings],
            **({"notes": [redact_url(n) for n in self.notes]} if self.notes else {}),
        }


def render_json(report: Report) -> str:
    return json.dumps(report.to_json(), indent=2, ensure_ascii=False)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def render_text(report: Report, color: bool = False) -> str:
    fails, warns = report.counts
    if fails:
        head = f"llmfix doctor: {_plural(fails, 'problem')}, {_plural(warns, 'warning')}; most likely cause first"
    elif warns:
        head = f"llmfix doctor: no failures, {_plural(warns, 'warning')}"
    else:
        head = "llmfix doctor: healthy"
    lines = [head + f"  ({report.seconds:.1f} s{', offline' if report.offline else ''})", ""]
    width = max((len(f.check) for f in report.findings), default=8)
    for i, f in enumerate(report.findings, 1):
        f.redact()
        status = f.status
        if color:
            status = {"FAIL": "\x1b[31mFAIL\x1b[0m", "WARN": "\x1b[33mWARN\x1b[0m", "OK": "\x1b[32mOK\x1b[0m"}[f.status] + " " * (4 - len(f.status))
        else:
            status = f.status.ljust(4)
        where = f"[{f.source}] " if f.source != "environment" else ""
        lines.append(f"{i:>2}. {status}  {f.check.ljust(width)}  {where}{f.summary}")
        pad = " " * (4 + 4 + 2 + width + 2)
        if f.fix and f.status != "OK":
            lines.append(f"{pad}fix: {f.fix}")
        if f.status != "OK":
            for d in f.detail:
                lines.append(f"{pad}  {d}")
    for note in report.notes:
        lines.append("")
        lines.append(redact_url(note))
    return "\n".join(lines)
