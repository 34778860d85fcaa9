"""verify's output: a table on stdout, or one JSON object for machines."""

from __future__ import annotations

import json
from collections import OrderedDict
from typing import Any

from llmfix.verify import expect
from llmfix.verify.cases import StepResult, counted_runs
from llmfix.verify.runner import CaseOutcome, RunResult, tally
from llmfix.verify.scenarios import fix_order

COLUMNS = ("ID", "SCENARIO", "CASE", "EXPECTED", "OBSERVED", "ATTEMPTS", "SECS", "RESULT")
WIDTHS = {"CASE": 30, "EXPECTED": 40, "OBSERVED": 44}


def _clip(text: str, width: int | None) -> str:
    if width is None or len(text) <= width:
        return text
    return text[: width - 1] + "…"


def observed(outcome: CaseOutcome) -> str:
    if outcome.status == "skip":
        return f"skipped: {outcome.reason}"
    obs = outcome.observation
    if obs is None:
        return ""
    texts = []
    for step in outcome.case.calls:
        result = obs.result(step)
        text = result.describe()
        if len(result.calls) > 1:
            text = f"[{text}]"  # one step's calls, in order
        mine = expect.own_warnings(result, step)
        if step.is_generator and mine:
            text += f" +{len(mine)} warning{'s' if len(mine) > 1 else ''}"
        texts.append(text)
    return counted_runs(texts, lambda text: len(text) > 8)


def attempts(outcome: CaseOutcome) -> str:
    obs = outcome.observation
    if obs is None or not (obs.attempts or obs.extra_attempts):
        return "-"
    parts = ["/".join(str(obs.attempts.get(step.label, 0)) for step in outcome.case.calls)] if obs.attempts else ["refused"]
    parts += [f"{name} {count}" for name, count in obs.extra_attempts.items()]
    return ", ".join(parts)


def seconds(outcome: CaseOutcome) -> str:
    obs = outcome.observation
    return "-" if obs is None else f"{obs.seconds:.2f}"


def rows(result: RunResult) -> list[tuple[str, ...]]:
    return [
        (o.case.id, o.case.scenario, o.case.title, o.case.expected, observed(o), attempts(o), seconds(o), o.status)
        for o in result.outcomes
    ]


def missing_fixes(result: RunResult) -> OrderedDict[str, list[str]]:
    """fix -> problems, each once with the ids of the cases that showed it, in transform order."""
    found: dict[str, dict[str, list[str]]] = {}
    for outcome in result.outcomes:
        for fix, message in outcome.problems:
            ids = found.setdefault(fix, {}).setdefault(message, [])
            if outcome.case.id not in ids:
                ids.append(outcome.case.id)
    order = fix_order()
    ordered = sorted(found, key=lambda f: order.index(f) if f in order else len(order))
    return OrderedDict((fix, [f"{message} [{', '.join(ids)}]" for message, ids in found[fix].items()]) for fix in ordered)


def summary(result: RunResult) -> str:
    counts = tally(result.outcomes)
    text = f"{counts['pass']} passed, {counts['fail']} failed"
    if counts["skip"]:
        text += f", {counts['skip']} skipped"
    if result.not_exercised:
        text += f", {len(result.not_exercised)} function{'s' if len(result.not_exercised) > 1 else ''} not exercised"
    text += f" in {result.seconds:.1f}s"
    if result.startup_seconds is not None:
        text += f" (child start-up: litellm import {result.startup_seconds:.1f}s)"
    return text


def to_text(result: RunResult, header: list[str]) -> str:
    table = [COLUMNS] + [tuple(_clip(cell, WIDTHS.get(COLUMNS[i])) for i, cell in enumerate(row)) for row in rows(result)]
    widths = [max(len(row[i]) for row in table) for i in range(len(COLUMNS))]
    lines = list(header)
    lines.append("")
    for row in table:
        lines.append("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip())
    lines.append("")
    fixes = missing_fixes(result)
    if fixes:
        lines.append("missing fixes:" if not result.live else "problems:")
        for fix, problems in fixes.items():
            for problem in problems:
                lines.append(f"  {fix:<9} {problem}")
    for name, reason in result.not_exercised:
        lines.append(f"not exercised: {name}: {reason}")
    for note in result.notes:
        lines.append(f"note: {note}")
    lines.append(summary(result))
    return "\n".join(lines)


def _case_json(outcome: CaseOutcome) -> dict[str, Any]:
    obs = outcome.observation
    return {
        "id": outcome.case.id,
        "scenario": outcome.case.scenario,
        "case": outcome.case.title,
        "expected": outcome.case.expected,
        "observed": observed(outcome),
        "status": outcome.status,
        "reason": outcome.reason or None,
        "attempts": obs.attempts if obs else {},
        "models": obs.models if obs else {},
        "extra_attempts": obs.extra_attempts if obs else {},
        "seconds": obs.seconds if obs else None,
        "killed": obs.killed if obs else False,
        "problems": [{"fix": fix, "message": message} for fix, message in outcome.problems],
        "steps": [
            {"label": s.label, "op": s.op, "function": s.function, **_call_json(s), "warnings": [{k: v for k, v in w.items() if k != "path"} for w in s.warnings],
             **({"calls": [_call_json(c) for c in s.calls]} if s.calls else {})}
            for s in (obs.steps.values() if obs else [])
        ],
        **({"processes": _processes_json(outcome)} if obs and (outcome.case.keep_lines or outcome.case.report) else {}),
    }


def _call_json(call: StepResult) -> dict[str, Any]:
    return {"outcome": call.outcome, "type": call.type, "value": call.value, "error": call.error, "seconds": call.seconds}


def _processes_json(outcome: CaseOutcome) -> list[dict[str, Any]]:
    """Per process of the case: its steps, the log lines it kept and what its report function returned."""
    obs = outcome.observation
    assert obs is not None
    processes = []
    for lane in outcome.case.lanes():
        process = obs.process(lane[0])
        report = process.report
        processes.append({
            "steps": [step.label for step in lane],
            "lines": process.lines,
            "report": None if report is None else {"function": report.function, "outcome": report.outcome, "value": report.value, "error": report.error},
        })
    return processes


def to_json(result: RunResult, exit_code: int, extra: dict[str, Any] | None = None) -> str:
    settings, counts = result.settings, tally(result.outcomes)
    return json.dumps(
        {
            "command": "verify",
            "exit_code": exit_code,
            "live": result.live,
            "checkout": result.checkout.to_json(),
            "settings": {
                "LITELLM_NUM_RETRIES": settings.retries,
                "LITELLM_DEFAULT_TIMEOUT": settings.timeout,
                "LITELLM_DEFAULT_TIMEOUT_in_hang": settings.hang_timeout,
                "LITELLM_PRECHECK_TIMEOUT": settings.precheck_timeout_passing,
                "LITELLM_PRECHECK_TIMEOUT_in_failing_checks": settings.precheck_timeout,
                "LITELLM_PRECHECK_RECHECK_in_recheck": settings.recheck,
                "tenacity": settings.tenacity,
                "LITELLM_HEALTH_INTERVAL_in_health": settings.health_interval,
                "LITELLM_FAILURE_WINDOW_in_health": settings.failure_window,
                "LITELLM_MAX_FAILURE_RATE_in_health": settings.max_failure_rate,
            },
            "seconds": result.seconds,
            "startup_seconds": result.startup_seconds,
            "passed": counts["pass"], "failed": counts["fail"], "skipped": counts["skip"],
            "missing_fixes": missing_fixes(result) if not result.live else {},
            "not_exercised": [{"function": name, "reason": reason} for name, reason in result.not_exercised],
            "notes": result.notes,
            "cases": [_case_json(o) for o in result.outcomes],
            **(extra or {}),
        },
        indent=2,
        default=str,
    )
