"""Run the cases: the mock endpoints (and tinyproxy), one child that imports litellm once and forks a process per
case lane (each on a scope of its own of the endpoints), and judge what it saw; a :class:`Reaper` cleans up."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from llmfix.errors import LlmfixError
from llmfix.verify.analysis import JUDGE, Checkout
from llmfix.verify.cases import BASICS, Case, CaseOutcome, Observation, Process, Progress, RunResult, Settings, Step, StepResult, tally
from llmfix.verify.endpoints import DUMMY_KEY, PLACEHOLDERS, Endpoints, base_env, resolve_env
from llmfix.verify.reaper import Reaper
from llmfix.verify.scenarios import Scenario

CHILD = Path(__file__).with_name("child.py")
IMPORT_LIMIT = 120.0  # seconds for the child to import litellm and the checkout
__all__ = ["DUMMY_KEY", "CaseOutcome", "Child", "RunResult", "VerifyError", "base_env", "resolve_env", "run_many", "tally"]


class VerifyError(LlmfixError):
    """verify could not run (exit 2): a missing module, a child that died, bad input."""


def json_lines(text: str) -> list[Any]:
    """The JSON values of the lines of ``text`` that parse (a line being written does not)."""
    found = []
    for line in text.splitlines():
        with contextlib.suppress(ValueError):
            found.append(json.loads(line))
    return found


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def import_error(event: dict[str, Any], python: str) -> str:
    """One line for a module the child could not import: which package is missing and what to do."""
    missing, module = event.get("missing"), event.get("module")
    if event.get("kind") == "missing-module" and missing and module == "litellm":
        return f"verify runs the checkout's code with {python}, which has no litellm; install it there or pass --python <the training environment's python>"
    if event.get("kind") == "missing-module" and missing:
        return (f"cannot import {module}: it imports {missing!r}, which is not installed for {python}; "
                f"run verify with --python <the training environment's python>, or install it there (pip install {missing.split('.', 1)[0]})")
    if event.get("kind") == "checkout-module" and missing:
        return f"cannot import {module}: it imports {missing}, which is not in the checkout"
    return f"cannot import {module}: {event.get('message')}"


class Child:
    """The verify child, started early (it imports litellm while the parent sets up), with the run's :class:`Reaper`
    (started first: nothing runs unwatched) and output folder; ``env``: the live one, else verify's own."""

    def __init__(self, settings: Settings, env: dict[str, str] | None = None, python: str | None = None) -> None:
        env = dict(env) if env is not None else base_env(settings)
        self.python = python or sys.executable
        self.reaper = Reaper()
        self.out = Path(tempfile.mkdtemp(prefix="llmfix-verify-"))
        self.reaper.watch_folder(str(self.out))
        self._stderr = open(self.out / "child-stderr.txt", "wb")  # noqa: SIM115 - the child's, closed by stop()
        self._seen = 0
        importable = {k: v for k, v in env.items() if not (v.startswith("$") and v[1:] in PLACEHOLDERS)}  # the endpoints are not known yet
        try:
            self.process = subprocess.Popen([self.python, str(CHILD), str(self.out), str(os.getpid())], stdin=subprocess.PIPE,
                                            stdout=subprocess.DEVNULL, stderr=self._stderr, cwd=str(self.out), env=importable, start_new_session=True)
        except OSError as error:
            self._stderr.close()
            self.reaper.close()
            raise VerifyError(f"cannot run {self.python}: {error.strerror or error}") from None
        self.reaper.watch_group(self.process.pid)

    def send(self, job: dict[str, Any]) -> None:
        with contextlib.suppress(BrokenPipeError):
            assert self.process.stdin is not None
            self.process.stdin.write(json.dumps(job).encode())
            self.process.stdin.close()

    def events(self) -> list[dict[str, Any]]:
        """The child's own events written since the last call (a line being written is not one yet)."""
        found = json_lines(_read(self.out / "zygote.jsonl"))
        self._seen, new = len(found), found[self._seen :]
        return new

    def stop(self) -> None:
        """Kill the child's process group (the child and every fork it left behind) unless it has exited and been waited for."""
        if self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        with contextlib.suppress(OSError):
            if self.process.stdin is not None:
                self.process.stdin.close()
        self._stderr.close()

    def close(self) -> None:
        """Stop the child, remove its folder, let the reaper go (again: a no-op)."""
        try:
            self.stop()
        finally:
            shutil.rmtree(self.out, ignore_errors=True)
            self.reaper.close()


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
                 endpoints: Endpoints | None, child: Child) -> None:
        self.index, self.checkout, self.settings, self.endpoints = index, checkout, settings, endpoints
        self.out, self.python = child.out, child.python  # the interpreter an import error names: --python's, as given
        self.cases = [c for s in scenarios for c in s.cases]
        self.outcomes: dict[str, CaseOutcome] = {}
        self.lanes: dict[str, list[Lane]] = {}
        self.ends: dict[str, dict[str, Any]] = {}
        self.probe: dict[str, Any] | None = None  # the probe's probe (or import-error) event, once it ended; {} if it wrote none
        for case in self.cases:
            no_proxy = endpoints is not None and case.server == "proxied" and endpoints.proxy is None
            if case.skip_reason or no_proxy or not case.steps:
                reason = case.skip_reason or (endpoints.proxy_missing if endpoints and no_proxy else "no function of this kind in the checkout")
                self.outcomes[case.id] = CaseOutcome(case, "skip", reason=reason)
                continue
            self.lanes[case.id] = []
            for number, steps in enumerate(case.lanes()):
                scope = f"{index}-{case.id}-{number}"
                if endpoints:
                    endpoints.prepare(case, scope, settings)
                self.lanes[case.id].append(Lane(case, steps, scope, resolve_env(base, case.env, endpoints.resources(scope) if endpoints else {})))
        self.probe_env = resolve_env(base, {}, endpoints.resources(f"{index}-probe") if endpoints else {})

    def job(self) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """What the child needs: the checkout, and each lane with its environment and steps."""
        c = self.checkout
        checkout = {"import_root": str(c.import_root), "modules": [m for m in c.modules if m not in c.judge_modules],
                    "judge_modules": c.judge_modules, "support": c.support, "probe_env": self.probe_env}
        return checkout, [{"file": lane.scope, "checkout": self.index, "env": lane.env, "limit": lane.case.limit, "concurrent": lane.case.concurrent,
                           "keep_lines": lane.case.keep_lines, "report": lane.case.report, "judge": any(s.is_judge for s in lane.steps),
                           "steps": [s.to_json() for s in lane.steps]} for lanes in self.lanes.values() for lane in lanes]

    def probed_now(self) -> None:
        self.probe = next((e for e in json_lines(_read(self.out / f"case-probe-{self.index}.jsonl")) if e.get("event") in ("probe", "import-error")), {})

    @property
    def finished(self) -> bool:
        """Every lane ended (or the checkout's probe failed, so none will run)."""
        return self.probe is not None and (self.probe_error() is not None or all(lane.scope in self.ends for lanes in self.lanes.values() for lane in lanes))

    def probe_error(self) -> str | None:
        probe = self.probe or {}
        if probe.get("event") == "import-error":
            return import_error(probe, self.python)
        if not probe:
            tails = [_read(self.out / name).strip().splitlines()[-3:] for name in ("child-stderr.txt", "zygote.log", f"case-probe-{self.index}.log")]
            detail = next((" | ".join(tail) for tail in tails if tail), "no output (timed out?)")
            return f"the verify child did not start: {detail}"
        return None

    @property
    def stubbed(self) -> dict[str, list[str]]:
        return {module: found["stubbed"] for module, found in ((self.probe or {}).get("judges") or {}).items() if found.get("stubbed")}

    def judge_ended(self, every: bool = False) -> list[CaseOutcome]:
        """The outcomes of the cases whose lanes have all ended since the last call (``every``: of all the cases left)."""
        done = [case_id for case_id, lanes in self.lanes.items() if case_id not in self.outcomes and (every or all(lane.scope in self.ends for lane in lanes))]
        self.outcomes.update((case_id, self._judge(self.lanes[case_id])) for case_id in done)
        return [self.outcomes[case_id] for case_id in done]

    def not_exercised(self) -> list[tuple[str, str]]:
        """The helpers and generators verify could not call: found so by analysis, or by the child on the imported code."""
        found = [(t.name, t.reason or "") for t in self.checkout.not_exercised]
        for outcome in self.outcomes.values():
            for result in (outcome.observation.steps.values() if outcome.observation and not outcome.case.is_judge else []):
                if result.outcome == "uncallable" and all(name != result.name for name, _ in found):
                    found.append((result.name, result.error["message"] if result.error else "cannot call it"))
        return found

    def _judge(self, lanes: list[Lane]) -> CaseOutcome:
        """The outcome of a case from its lanes' events and the endpoints' counts (a judge's case is skipped when it could not run)."""
        case = lanes[0].case
        by_lane = [(lane, json_lines(_read(self.out / f"case-{lane.scope}.jsonl"))) for lane in lanes]
        events = [e for _, lane_events in by_lane for e in lane_events]
        by_label = {step.label: step for step in case.steps}
        steps = {e["label"]: StepResult.from_event(e, by_label[e["label"]]) for e in events if e.get("event") == "step"}
        skipped = self._judge_skip(case, events, steps) if case.is_judge else None
        if skipped:
            return CaseOutcome(case, "skip", reason=skipped)
        processes: dict[str, Process] = {}
        for lane, lane_events in by_lane:
            kept = [r for e in lane_events if e.get("event") == "lines" for r in e.get("records", [])]
            report = next((StepResult.from_event(e) for e in lane_events if e.get("event") == "report"), None)
            setup = next((e["setup"] for e in lane_events if e.get("event") == "lane"), 0.0)
            processes.update((step.label, Process(lane.env, kept, report, setup)) for step in lane.steps)
        counted = self.endpoints and case.env.get("OPENAI_API_BASE") != "$dead_base"  # nothing listens there: no count to show
        counts = self.endpoints.counts(case, [(lane.scope, lane.steps) for lane in lanes]) if counted else ({}, {}, {})
        extra: dict[str, int] = {}
        if self.endpoints and "$fallback" in (case.env.get("LITELLM_FALLBACK_MODELS") or ""):
            extra["fallback"] = sum(self.endpoints.fallback.scope(lane.scope).total_attempts for lane in lanes)
        ends = [self.ends.get(lane.scope) for lane in lanes]
        seconds = max((end["seconds"] if end else case.limit) for end in ends)
        proxy_log = self.endpoints.proxy.log_text() if self.endpoints and self.endpoints.proxy and case.server == "proxied" else ""
        observation = Observation(case, self.settings, steps, counts[0], counts[1], extra, seconds, any(end and end.get("killed") for end in ends),
                                  lanes[0].env, proxy_log, processes, counts[2])
        problems = [(BASICS, f"the case crashed: {e['error']['type']}: {e['error']['message']}") for e in events if e.get("event") == "crash"]
        problems += [(BASICS, f"import failed: {e.get('message')}") for e in events if e.get("event") == "import-error"]
        problems += case.problems(observation)
        return CaseOutcome(case, "fail" if problems else "pass", problems, observation)

    def _judge_skip(self, case: Case, events: list[dict[str, Any]], steps: dict[str, StepResult]) -> str | None:
        """Why a judge's case could not run: its module would not import, or verify could not build or call it."""
        if any(e.get("event") == "import-error" for e in events):
            judges = (self.probe or {}).get("judges") or {}
            for module in sorted({s.target.module for s in case.steps if s.target is not None and s.target.kind == JUDGE}):
                if (judges.get(module) or {}).get("kind"):
                    return f"judge not run: {import_error(judges[module], self.python)}"
        unrunnable = [r for r in steps.values() if r.outcome in ("uncallable", "missing")]
        if unrunnable:
            return f"judge not run: {unrunnable[0].error['message'] if unrunnable[0].error else 'cannot call it'}"
        return None


def run_many(jobs: list[tuple[Checkout, list[Scenario]]], settings: Settings, live_env: dict[str, str] | None = None,
             max_parallel: int = 32, child: Child | None = None, progress: Progress | None = None) -> list[RunResult]:
    """Run several checkouts with one child and one set of endpoints (a checkout that cannot be imported gets
    ``error`` instead of outcomes); ``progress(job index, outcome)`` hears of each case as soon as it is judged."""
    started = time.monotonic()
    live = live_env is not None
    say = progress or (lambda index, outcome: None)
    with ExitStack() as stack:
        base = dict(live_env) if live_env is not None else base_env(settings)
        child = child or Child(settings, live_env)
        stack.callback(child.close)
        want_proxy = any(c.server == "proxied" for _, scenarios in jobs for s in scenarios for c in s.cases)
        endpoints = None if live else Endpoints(stack, child.reaper, want_proxy)
        plans = [Plan(index, checkout, scenarios, base, settings, endpoints, child) for index, (checkout, scenarios) in enumerate(jobs)]
        for plan in plans:
            for outcome in plan.outcomes.values():
                say(plan.index, outcome)
        notes = list(endpoints.notes) if endpoints else []
        parts = [plan.job() for plan in plans]
        lanes = [lane for _, plan_lanes in parts for lane in plan_lanes]
        startup, fatal = None, None
        if lanes:  # else every case was skipped: nothing for the child to do
            child.send({"checkouts": [checkout for checkout, _ in parts], "cases": lanes, "out_dir": str(child.out), "import_limit": IMPORT_LIMIT,
                        "warmup": {"model": "openai/verify-warmup", "api_base": endpoints.primary.base_url} if endpoints else None,
                        "max_parallel": max_parallel})
            waves = max(1, -(-len(lanes) // max_parallel))
            startup, fatal = _follow(child, plans, IMPORT_LIMIT * 2 + waves * max(lane["limit"] for lane in lanes) + 10, say)
        results = []
        for plan in plans:
            error = (import_error(fatal, child.python) if fatal is not None else plan.probe_error()) if lanes else None
            plan.judge_ended(every=not error)
            stubbed = [f"{module} imported with stubs for what is not installed: {', '.join(stubs)}" for module, stubs in plan.stubbed.items()]
            results.append(RunResult(plan.checkout, settings, [] if error else [plan.outcomes[c.id] for c in plan.cases], 0.0, startup, notes + stubbed,
                                     live, error, plan.not_exercised(), plan.stubbed))
    for result in results:
        result.seconds = round(time.monotonic() - started, 2)
    return results


def _follow(child: Child, plans: list[Plan], limit: float, progress: Progress) -> tuple[float, dict[str, Any] | None]:
    """Read the child's events until every lane ended (or the child did, or ``limit`` s passed); judge each case
    as its last lane ends. (The start-up seconds, the child's own import error.)"""
    deadline = time.monotonic() + limit
    startup, fatal = 0.0, None
    lanes = {lane.scope: plan for plan in plans for case_lanes in plan.lanes.values() for lane in case_lanes}
    while True:
        running = child.process.poll() is None
        for event in child.events():
            kind, file = event.get("event"), event.get("file", "")
            if kind in ("litellm-imported", "warmed-up"):
                startup += event.get("seconds", 0)
            elif kind == "import-error":
                fatal = event
            elif kind == "case-end" and file.startswith("probe-"):
                plans[int(file.split("-")[1])].probed_now()
            elif kind == "case-end" and file in lanes:
                lanes[file].ends[file] = event
                for outcome in lanes[file].judge_ended():
                    progress(lanes[file].index, outcome)
        if not running or time.monotonic() > deadline or all(p.finished for p in plans):
            break  # (the child's own exit, litellm's at-exit work included, is not waited for)
        time.sleep(0.05)
    child.stop()
    for plan in plans:
        if plan.probe is None:
            plan.probed_now()
    return round(startup, 2), fatal
