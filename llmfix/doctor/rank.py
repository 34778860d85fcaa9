"""Order findings: most likely root cause first.

FAIL before WARN before OK; within a status, causes before the symptoms they explain
(a finding with ``caused_by`` set goes after the independent ones); then by causal layer
(proxy < DNS < TCP < TLS < HTTP < key < model < ...), so the most fundamental failure leads;
ties keep the order the checks ran in.
"""

from __future__ import annotations

from llmfix.doctor.findings import FAIL, OK, WARN, Finding

_STATUS = {FAIL: 0, WARN: 1, OK: 2}


def rank(findings: list[Finding]) -> list[Finding]:
    failing = {f.key for f in findings if f.status == FAIL}

    def symptom(f: Finding) -> bool:
        return bool(f.caused_by) and (f.source, f.caused_by) in failing

    indexed = list(enumerate(findings))
    indexed.sort(key=lambda item: (_STATUS[item[1].status], symptom(item[1]), item[1].layer, item[0]))
    return [f for _, f in indexed]
