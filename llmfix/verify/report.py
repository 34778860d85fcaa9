"""verify's output: a table on stdout, or one JSON object for machines."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from llmfix.exit_codes import ERROR as EXIT_ERROR
from llmfix.exit_codes import OK as EXIT_OK
from llmfix.exit_codes import PENDING as EXIT_FAILED
from llmfix.verify import expect
from llmfix.verify.analysis import Checkout
from llmfix.verify.cases import CaseOutcome, RunResult, Settings, StepResult, counted_runs, tally
from llmfix.verify.scenarios import fix_order

COLUMNS = ("ID", "SCENARIO", "CASE", "EXPECTED", "OBSERVED", "ATTEMPTS", "SECS", "RESULT")
WIDTHS = {"CASE": 30, "EXPECTED": 40, "OBSERVED": 44}


def observed(outcome: CaseOutcome) -> str:
    if outcome.status == "skip":
        return f"skipped: {outcome.reason}"
    obs = outcome.observation
    texts = []
    for step in outcome.case.steps if obs else []:
        result = obs.result(step)
        text = f"[{result.describe()}]" if len(result.calls) > 1 else result.describe()  # one step's calls, in order
        mine = expect.own_warnings(result, step)
        texts.append(text + (f" +{len(mine)} warning{'s' if len(mine) > 1 else ''}" if step.is_generator and mine else ""))
    return counted_runs(texts, lambda text: len(text) > 8)


def attempts(outcome: CaseOutcome) -> str:
    obs = outcome.observation
    if obs is None or not (obs.attempts or obs.extra_attempts):
        return "-"
    parts = ["/".join(str(obs.attempts.get(step.label, 0)) for step in outcome.case.steps)] if obs.attempts else ["refused"]
    return ", ".join(parts + [f"{name} {count}" for name, count in obs.extra_attempts.items()])


def missing_fixes(result: RunResult) -> dict[str, list[str]]:
    """fix -> problems, each once with the ids of the cases that showed it, in transform order."""
    found: dict[str, dict[str, list[str]]] = {}
    for outcome in result.outcomes:
        for fix, message in outcome.problems:
            ids = found.setdefault(fix, {}).setdefault(message, [])
            if outcome.case.id not in ids:
                ids.append(outcome.case.id)
    order = fix_order()
    ordered = sorted(found, key=lambda f: order.index(f) if f in order else len(order))
    return {fix: [f"{message} [{', '.join(ids)}]" for message, ids in found[fix].items()] for fix in ordered}


def summary(result: RunResult) -> str:
    counts, unexercised = tally(result.outcomes), len(result.not_exercised)
    text = f"{counts['pass']} passed, {counts['fail']} failed" + (f", {counts['skip']} skipped" if counts["skip"] else "")
    text += f", {unexercised} function{'s' if unexercised > 1 else ''} not exercised" if unexercised else ""
    text += f" in {result.seconds:.1f}s"
    return text + (f" (child start-up: litellm import {result.startup_seconds:.1f}s)" if result.startup_seconds is not None else "")


def to_text(result: RunResult, header: list[str]) -> str:
    rows = [(o.case.id, o.case.scenario, o.case.title, o.case.expected, observed(o), attempts(o),
             "-" if o.observation is None else f"{o.observation.seconds:.2f}", o.status) for o in result.outcomes]
    table = [COLUMNS] + [tuple(cell if len(cell) <= WIDTHS.get(COLUMNS[i], len(cell)) else cell[: WIDTHS[COLUMNS[i]] - 1] + "…"
                               for i, cell in enumerate(row)) for row in rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(COLUMNS))]
    lines = [*header, "", *("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in table), ""]
    fixes = missing_fixes(result)
    if fixes:
        lines.append("missing fixes:" if not result.live else "problems:")
        lines += [f"  {fix:<9} {problem}" for fix, problems in fixes.items() for problem in problems]
    lines += [f"not exercised: {name}: {reason}" for name, reason in result.not_exercised]
    lines += [f"note: {note}" for note in result.notes]
    return "\n".join([*lines, summary(result)])


def header(path: Path, checkout: Checkout, s: Settings, live: list[str] | None) -> list[str]:
    """The lines above the table: the functions verify drives, and the settings it runs them with (or the live endpoint)."""
    lines = [f"llmfix verify{' --live' if live is not None else ''} {path}"]
    for module in checkout.modules:
        targets = [t.describe() for t in checkout.targets if t.module == module]
        if targets:
            lines.append(f"  {'functions:' if len(lines) == 1 else '':<10} {module}: {', '.join(targets)}")
    if live is not None:
        return lines + live
    lines.append(f"  settings:  LITELLM_NUM_RETRIES={s.retries}, LITELLM_DEFAULT_TIMEOUT={s.timeout:g} ({s.hang_timeout:g} in hang),"
                 f" LITELLM_PRECHECK_TIMEOUT={s.precheck_timeout_passing:g} ({s.precheck_timeout:g} where a failing check is timed),"
                 f" LITELLM_PRECHECK_RECHECK={s.recheck:g} in precheck-recheck; {s.slack:g}s of slack on time bounds; mock endpoints on 127.0.0.1, dummy key")
    lines.append(f"             health-*: LITELLM_NUM_RETRIES=0 where calls fail, LITELLM_FAILURE_WINDOW={s.failure_window},"
                 f" LITELLM_MAX_FAILURE_RATE={s.max_failure_rate:g} (unset in health-unset),"
                 f" LITELLM_HEALTH_INTERVAL={s.health_interval:g} where a summary line is expected")
    if checkout.judges:
        lines.append("             judges: an instance built by parameter name, its config's model verify's own"
                     " and its timeout LITELLM_DEFAULT_TIMEOUT's value")
    return lines


def render(path: Path, results: list[RunResult], codes: list[int], empty: list[str], settings: Settings, live: list[str] | None,
           as_json: bool, several: bool) -> str:
    """The report: one checkout's table (or JSON object), or each checkout's and a last line counting them."""
    if as_json and not several:
        return to_json(results[0], codes[0])
    if as_json:
        objects = [json.loads(to_json(r, c)) if not r.error else {"checkout": r.checkout.to_json(), "exit_code": c, "error": r.error}
                   for r, c in zip(results, codes)]
        return json.dumps({"command": "verify", "exit_code": max(codes), "checkouts": objects, "nothing_to_verify": empty}, indent=2)
    parts = [f"llmfix verify {r.checkout.path}\n  could not run: {r.error}" if r.error
             else to_text(r, header(r.checkout.path if several else path, r.checkout, settings, live)) for r in results]
    if several:
        verdicts = {"passed": codes.count(EXIT_OK), "failed": codes.count(EXIT_FAILED), "could not run": codes.count(EXIT_ERROR)}
        empty = [*empty, f"{len(results)} checkouts: " + ", ".join(f"{n} {word}" for word, n in verdicts.items() if n or word != "could not run")]
    return "\n\n".join(parts + empty)


def _call_json(call: StepResult) -> dict[str, Any]:
    return {"outcome": call.outcome, "type": call.type, "value": call.value, "error": call.error, "seconds": call.seconds}


def _case_json(outcome: CaseOutcome) -> dict[str, Any]:
    obs, case = outcome.observation, outcome.case
    data = {"id": case.id, "scenario": case.scenario, "case": case.title, "expected": case.expected, "observed": observed(outcome),
            "status": outcome.status, "reason": outcome.reason or None, "attempts": obs.attempts if obs else {}, "models": obs.models if obs else {},
            "extra_attempts": obs.extra_attempts if obs else {}, "seconds": obs.seconds if obs else None, "killed": obs.killed if obs else False,
            "problems": [{"fix": fix, "message": message} for fix, message in outcome.problems],
            "steps": [{"label": s.label, "op": s.op, "function": s.function, **_call_json(s),
                       "warnings": [{k: v for k, v in w.items() if k != "path"} for w in s.warnings],
                       **({"calls": [_call_json(c) for c in s.calls]} if s.calls else {})}
                      for s in (obs.steps.values() if obs else [])]}
    if obs and (case.keep_lines or case.report):  # per process: its steps, the log lines it kept, what health() returned
        processes = [(lane, obs.process(lane[0])) for lane in case.lanes()]
        data["processes"] = [{"steps": [step.label for step in lane], "lines": process.lines,
                              "report": None if process.report is None else {"function": process.report.function, **_call_json(process.report)}}
                             for lane, process in processes]
    return data


def to_json(result: RunResult, exit_code: int) -> str:
    s, counts = result.settings, tally(result.outcomes)
    settings = {"LITELLM_NUM_RETRIES": s.retries, "LITELLM_DEFAULT_TIMEOUT": s.timeout, "LITELLM_DEFAULT_TIMEOUT_in_hang": s.hang_timeout,
                "LITELLM_PRECHECK_TIMEOUT": s.precheck_timeout_passing, "LITELLM_PRECHECK_TIMEOUT_in_failing_checks": s.precheck_timeout,
                "LITELLM_PRECHECK_RECHECK_in_recheck": s.recheck, "tenacity": s.tenacity, "LITELLM_HEALTH_INTERVAL_in_health": s.health_interval,
                "LITELLM_FAILURE_WINDOW_in_health": s.failure_window, "LITELLM_MAX_FAILURE_RATE_in_health": s.max_failure_rate}
    return json.dumps({"command": "verify", "exit_code": exit_code, "live": result.live, "checkout": result.checkout.to_json(), "settings": settings,
                       "seconds": result.seconds, "startup_seconds": result.startup_seconds, "passed": counts["pass"], "failed": counts["fail"],
                       "skipped": counts["skip"], "missing_fixes": missing_fixes(result) if not result.live else {},
                       "not_exercised": [{"function": name, "reason": reason} for name, reason in result.not_exercised], "notes": result.notes,
                       "cases": [_case_json(o) for o in result.outcomes]}, indent=2, default=str)
