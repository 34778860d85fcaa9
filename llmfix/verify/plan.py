"""One checkout's share of a verify run: its cases, their lanes (processes) and what became of them."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from llmfix.verify.analysis import JUDGE, Checkout
from llmfix.verify.cases import (
    BASICS,
    Case,
    Observation,
    Process,
    Settings,
    Step,
    StepResult,
)
from llmfix.verify.endpoints import Endpoints, resolve_env
from llmfix.verify.observe import json_lines
from llmfix.verify.scenarios import Scenario


@dataclass
class CaseOutcome:
    case: Case
    status: str  # pass | fail | skip
    problems: list[tuple[str, str]] = field(default_factory=list)
    observation: Observation | None = None
    reason: str = ""


def tally(outcomes: list[CaseOutcome]) -> dict[str, int]:
    """How many cases passed, failed, were skipped."""
    return {status: sum(o.status == status for o in outcomes) for status in ("pass", "fail", "skip")}


def read_events(path: Path) -> list[dict[str, Any]]:
    try:
        return json_lines(path.read_text(encoding="utf-8", errors="replace"))
    except OSError:
        return []


def _tail(path: Path, lines: int = 3) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace").strip().splitlines()
    except OSError:
        return ""
    return " | ".join(text[-lines:])


def import_error(event: dict[str, Any], python: str) -> str:
    """One line for a module the child could not import: which package is missing and what to do."""
    if event.get("kind") == "missing-module" and event.get("missing"):
        top = event["missing"].split(".", 1)[0]
        if event.get("module") == "litellm":
            return f"verify runs the checkout's code with {python}, which has no litellm; install it there or pass --python <the training environment's python>"
        return (f"cannot import {event['module']}: it imports {event['missing']!r}, which is not installed for {python}; "
                f"run verify with --python <the training environment's python>, or install it there (pip install {top})")
    if event.get("kind") == "checkout-module" and event.get("missing"):
        return f"cannot import {event['module']}: it imports {event['missing']}, which is not in the checkout"
    return f"cannot import {event.get('module')}: {event.get('message')}"


@dataclass
class Lane:
    """The steps of a case that run in one process, against one scope of the endpoints."""

    case: Case
    steps: list[Step]
    scope: str
    env: dict[str, str]


class Plan:
    """One checkout's share of a run: its cases, their lanes and environments, and what became of them."""

    def __init__(self, index: int, checkout: Checkout, scenarios: list[Scenario], base: dict[str, str], settings: Settings,
                 endpoints: Endpoints | None, out: Path) -> None:
        self.index = index
        self.checkout = checkout
        self.settings = settings
        self.endpoints = endpoints
        self.out = out
        self.cases = [c for s in scenarios for c in s.cases]
        self.outcomes: dict[str, CaseOutcome] = {}
        self.lanes: dict[str, list[Lane]] = {}
        self.ends: dict[str, dict[str, Any]] = {}
        self.notes: list[str] = []
        self.stubbed: dict[str, list[str]] = {}
        self._probe: list[dict[str, Any]] | None = None
        for case in self.cases:
            if case.skip_reason:
                self.outcomes[case.id] = CaseOutcome(case, "skip", reason=case.skip_reason)
            elif endpoints and "tinyproxy" in case.needs and endpoints.proxy is None:
                self.outcomes[case.id] = CaseOutcome(case, "skip", reason=endpoints.proxy_missing)
            elif not case.steps:
                self.outcomes[case.id] = CaseOutcome(case, "skip", reason="no function of this kind in the checkout")
            else:
                self.lanes[case.id] = [self._lane(case, number, steps, base) for number, steps in enumerate(case.lanes())]
        self.probe_env = resolve_env(base, {}, endpoints.resources(f"{index}-probe") if endpoints else {})

    def _lane(self, case: Case, number: int, steps: list[Step], base: dict[str, str]) -> Lane:
        scope = f"{self.index}-{case.id}-{number}"
        resources = self.endpoints.resources(scope) if self.endpoints else {}
        if self.endpoints:
            self.endpoints.prepare(case, scope, self.settings)
        return Lane(case, steps, scope, resolve_env(base, case.env, resources))

    @property
    def finished(self) -> bool:
        """Every lane ended (or the checkout's probe failed, so none will run)."""
        return self._probe is not None and (self.probe_error() is not None or all(lane in self.ends for lane in self.lane_files))

    @property
    def lane_files(self) -> list[str]:
        return [lane.scope for lanes in self.lanes.values() for lane in lanes]

    def checkout_json(self) -> dict[str, Any]:
        c = self.checkout
        return {"import_root": str(c.import_root), "modules": [m for m in c.modules if m not in c.judge_modules],
                "judge_modules": c.judge_modules, "support": c.support, "probe_env": self.probe_env}

    def lanes_json(self) -> list[dict[str, Any]]:
        return [
            {"file": lane.scope, "checkout": self.index, "env": lane.env, "limit": lane.case.limit, "concurrent": lane.case.concurrent,
             "keep_lines": lane.case.keep_lines, "report": lane.case.report, "judge": any(s.is_judge for s in lane.steps),
             "steps": [s.to_json() for s in lane.steps]}
            for lanes in self.lanes.values() for lane in lanes
        ]

    def probe(self) -> list[dict[str, Any]]:
        if self._probe is None:
            self._probe = read_events(self.out / f"case-probe-{self.index}.jsonl")
            event = next((e for e in self._probe if e.get("event") == "probe"), {})
            for module, found in (event.get("judges") or {}).items():
                if found.get("stubbed"):
                    self.stubbed[module] = found["stubbed"]
                    self.notes.append(f"{module} imported with stubs for what is not installed: {', '.join(found['stubbed'])}")
        return self._probe

    def probe_error(self) -> str | None:
        probe = self.probe()
        for event in probe:
            if event.get("event") == "import-error":
                return import_error(event, next((e.get("python") for e in probe if e.get("python")), sys.executable))
        if not any(e.get("event") == "probe" for e in probe):
            detail = _tail(self.out / "child-stderr.txt") or _tail(self.out / "zygote.log") or _tail(self.out / f"case-probe-{self.index}.log")
            return f"the verify child did not start: {detail or 'no output (timed out?)'}"
        return None

    def judge_error(self, module: str) -> str | None:
        """Why a judge module could not be imported (even with stubs), from the probe."""
        event = next((e for e in self.probe() if e.get("event") == "probe"), {})
        found = (event.get("judges") or {}).get(module) or {}
        return import_error(found, event.get("python") or sys.executable) if found.get("kind") else None

    def lane_ended(self, event: dict[str, Any]) -> list[CaseOutcome]:
        """Note a lane's end; the case's outcome when it was the case's last lane."""
        self.ends[event["file"]] = event
        for case_id, lanes in self.lanes.items():
            if case_id not in self.outcomes and any(lane.scope == event["file"] for lane in lanes):
                if all(lane.scope in self.ends for lane in lanes):
                    self.outcomes[case_id] = self._judge(lanes)
                    return [self.outcomes[case_id]]
        return []

    def results(self) -> list[CaseOutcome]:
        for case_id, lanes in self.lanes.items():
            if case_id not in self.outcomes:
                self.outcomes[case_id] = self._judge(lanes)
        return [self.outcomes[c.id] for c in self.cases]

    def not_exercised(self) -> list[tuple[str, str]]:
        """The helpers and generators verify could not call: found so by analysis, or by the child on the imported code."""
        found = [(t.name, t.reason or "") for t in self.checkout.not_exercised]
        for outcome in self.outcomes.values():
            for result in (outcome.observation.steps.values() if outcome.observation and not outcome.case.is_judge else []):
                if result.outcome == "uncallable" and all(name != result.name for name, _ in found):
                    found.append((result.name, result.error["message"] if result.error else "cannot call it"))
        return found

    def _judge(self, lanes: list[Lane]) -> CaseOutcome:
        case = lanes[0].case
        by_lane = [(lane, read_events(self.out / f"case-{lane.scope}.jsonl")) for lane in lanes]
        events = [e for _, lane_events in by_lane for e in lane_events]
        steps = {e["label"]: StepResult.from_event(e) for e in events if e.get("event") == "step"}
        if case.is_judge:
            skipped = self._judge_skip(case, events, steps)
            if skipped:
                return CaseOutcome(case, "skip", reason=skipped)
        processes: dict[str, Process] = {}
        for lane, lane_events in by_lane:
            kept = [r for e in lane_events if e.get("event") == "lines" for r in e.get("records", [])]
            report = next((StepResult.from_event(e) for e in lane_events if e.get("event") == "report"), None)
            setup = next((e["setup"] for e in lane_events if e.get("event") == "lane"), 0.0)
            processes.update((step.label, Process(lane.env, kept, report, setup)) for step in lane.steps)
        attempts: dict[str, int] = {}
        models: dict[str, list[str]] = {}
        probes: dict[str, int] = {}
        extra: dict[str, int] = {}
        if self.endpoints:
            if case.env.get("OPENAI_API_BASE") != "$dead_base":  # nothing listens there: no count to show
                for lane in lanes:
                    counted = self.endpoints.counts(case, lane.scope, lane.steps)
                    attempts.update(counted[0])
                    models.update(counted[1])
                    probes.update(counted[2])
            if "$fallback" in (case.env.get("LITELLM_FALLBACK_MODELS") or ""):
                extra["fallback"] = sum(self.endpoints.fallback.scope(lane.scope).total_attempts for lane in lanes)
        ends = [self.ends.get(lane.scope) for lane in lanes]
        killed = any(end and end.get("killed") for end in ends)
        seconds = max((end["seconds"] if end else case.limit) for end in ends)
        proxy_log = self.endpoints.proxy.log_text() if self.endpoints and self.endpoints.proxy and "tinyproxy" in case.needs else ""
        observation = Observation(case, self.settings, steps, attempts, models, extra, seconds, killed, lanes[0].env, proxy_log, processes, probes)
        problems = []
        for event in events:
            if event.get("event") == "crash":
                problems.append((BASICS, f"the case crashed: {event['error']['type']}: {event['error']['message']}"))
            if event.get("event") == "import-error":
                problems.append((BASICS, f"import failed: {event.get('message')}"))
        problems += case.problems(observation)
        return CaseOutcome(case, "fail" if problems else "pass", problems, observation)

    def _judge_skip(self, case: Case, events: list[dict[str, Any]], steps: dict[str, StepResult]) -> str | None:
        """Why a judge's case could not run: its module would not import, or verify could not build or call it."""
        modules = {s.target.module for s in case.steps if s.target is not None and s.target.kind == JUDGE}
        for module in sorted(modules):
            error = self.judge_error(module) if any(e.get("event") == "import-error" for e in events) else None
            if error:
                return f"judge not run: {error}"
        unrunnable = [r for r in steps.values() if r.outcome in ("uncallable", "missing")]
        if unrunnable:
            return f"judge not run: {unrunnable[0].error['message'] if unrunnable[0].error else 'cannot call it'}"
        return None
