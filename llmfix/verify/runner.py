"""Run the cases: start the mock endpoints (and tinyproxy), spawn the child, judge what it saw.

One child process per run (``child.py``, with verify's interpreter or the training
environment's) imports litellm once and forks a process per case lane, so the cases run
at the same time; several checkouts share the child. Every lane talks to its own scope of
the shared mock endpoints (``/scope/<checkout>-<case>-<lane>/v1``), so plans and counts
never mix, whatever model names the checkout's code sends. The runner follows the child's
events as they come and judges each case as soon as its last lane ends (``progress``).

Everything a run starts is registered with a :class:`~llmfix.verify.reaper.Reaper`, which
removes it even when verify is killed.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from llmfix.errors import LlmfixError
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
from llmfix.verify.reaper import Reaper
from llmfix.verify.scenarios import Scenario

CHILD = Path(__file__).with_name("child.py")
IMPORT_LIMIT = 120.0  # seconds for the child to import litellm and the checkout
KEPT_VARIABLES = ("PATH", "HOME", "LANG", "LC_ALL", "LC_CTYPE", "TMPDIR", "TEMP", "TMP", "PYTHONPATH", "VIRTUAL_ENV", "SYSTEMROOT", "USER", "LOGNAME")
DUMMY_KEY = "sk-llmfix-verify-dummy"
PLACEHOLDERS = ("mock", "fallback", "dead_base", "dead_proxy", "proxied_base", "proxied_ca", "proxy")
Progress = Callable[[int, "CaseOutcome"], None]


class VerifyError(LlmfixError):
    """verify could not run (exit 2): a missing module, a child that died, bad input."""


@dataclass
class CaseOutcome:
    case: Case
    status: str  # pass | fail | skip
    problems: list[tuple[str, str]] = field(default_factory=list)
    observation: Observation | None = None
    reason: str = ""


@dataclass
class RunResult:
    checkout: Checkout
    settings: Settings
    outcomes: list[CaseOutcome]
    seconds: float
    startup_seconds: float | None = None  # litellm import + warm-up in the child
    notes: list[str] = field(default_factory=list)
    live: bool = False
    error: str | None = None
    not_exercised: list[tuple[str, str]] = field(default_factory=list)  # (function, why verify could not call it)
    stubbed: dict[str, list[str]] = field(default_factory=dict)  # judge module -> the missing packages stubbed to import it

    @property
    def failed(self) -> list[CaseOutcome]:
        return [o for o in self.outcomes if o.status == "fail"]

    @property
    def ok(self) -> bool:
        """Every case passed (or was skipped) and every helper and generator was exercised."""
        return not self.error and not self.failed and not self.not_exercised


def base_env(settings: Settings) -> dict[str, str]:
    """The child's environment: a few process basics and verify's own settings, nothing of the user's LLM setup."""
    env = {name: os.environ[name] for name in KEPT_VARIABLES if name in os.environ}
    env.update(
        PYTHONDONTWRITEBYTECODE="1",  # leave no __pycache__ in the checkout
        PYTHONUNBUFFERED="1",
        OPENAI_API_BASE="$mock",
        OPENAI_API_KEY=DUMMY_KEY,
        LITELLM_LOCAL_MODEL_COST_MAP="True",
        LITELLM_NUM_RETRIES=str(settings.retries),
        LITELLM_DEFAULT_TIMEOUT=f"{settings.timeout:g}",
        LITELLM_FALLBACK_MODELS="",
        LITELLM_PRECHECK_TIMEOUT=f"{settings.precheck_timeout_passing:g}",
    )
    return env


def resolve_env(base: dict[str, str], overrides: dict[str, str | None], resources: dict[str, str | None]) -> dict[str, str]:
    """``base`` updated with ``overrides``; ``$name`` placeholders filled from ``resources``.

    A value that is just a placeholder whose resource is None is dropped, like an override of
    None. Only verify's own placeholder names are replaced, so a ``$`` in a user's value (live
    mode) stays as it is.
    """
    env: dict[str, str] = {}
    for name, value in {**base, **overrides}.items():
        if value is None:
            continue
        if value.startswith("$") and value[1:] in resources and resources[value[1:]] is None:
            continue
        for key in sorted(PLACEHOLDERS, key=len, reverse=True):
            if f"${key}" in value and resources.get(key) is not None:
                value = value.replace(f"${key}", str(resources[key]))
        env[name] = value
    return env


class _Endpoints:
    """The mock servers and the proxy of a run (shared by every checkout and case), stopped together."""

    def __init__(self, stack: ExitStack, reaper: Reaper, want_proxy: bool) -> None:
        from llmfix.mockllm import MockLLM
        from llmfix.proxy import closed_port

        self.primary = stack.enter_context(MockLLM())
        self.fallback = stack.enter_context(MockLLM())
        self.proxied = self.primary
        self.proxy = None
        self.proxy_missing = "no proxy started"
        self.notes: list[str] = []
        self.reaper = reaper
        self.fixed: dict[str, str | None] = {
            "dead_base": f"http://127.0.0.1:{closed_port()}/v1",
            "dead_proxy": f"http://127.0.0.1:{closed_port()}",
            "proxied_ca": None,
            "proxy": None,
        }
        if want_proxy:
            self._start_proxy(stack)

    def _start_proxy(self, stack: ExitStack) -> None:
        from llmfix.proxy import ProxyUnavailable, Tinyproxy, tinyproxy_path

        if tinyproxy_path() is None:
            self.proxy_missing = "tinyproxy not found on PATH (apt-get install tinyproxy)"
            return
        proxy = Tinyproxy()
        try:
            proxy.start()
        except ProxyUnavailable as error:
            self.proxy_missing = str(error)
            return
        folder = str(proxy.log_path.parent)
        self.reaper.watch_folder(folder)
        stack.callback(self.reaper.forget_folder, folder)
        stack.callback(proxy.stop)
        self.proxy = proxy
        self.fixed["proxy"] = proxy.url
        if not self._tls(stack):
            self.notes.append("9b ran over plain HTTP through the proxy; install trustme to exercise CONNECT + TLS")

    def _tls(self, stack: ExitStack) -> bool:
        """A TLS mock signed by a throwaway CA, when trustme is installed (the production CONNECT path)."""
        try:
            import ssl

            import trustme
        except ImportError:
            return False
        from llmfix.mockllm import MockLLM

        ca = trustme.CA()
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
        folder = tempfile.mkdtemp(prefix="llmfix-verify-ca-")
        self.reaper.watch_folder(folder)
        stack.callback(self.reaper.forget_folder, folder)
        stack.callback(_remove, folder)
        ca_file = os.path.join(folder, "ca.pem")
        ca.cert_pem.write_to_path(ca_file)
        self.proxied = stack.enter_context(MockLLM(tls=context))
        self.fixed["proxied_ca"] = ca_file
        return True

    def server(self, case: Case) -> Any:
        return self.proxied if case.server == "proxied" else self.primary

    def resources(self, scope: str) -> dict[str, str | None]:
        """The placeholder values for one lane: the scoped endpoint URLs and the run-wide ones."""
        return {
            **self.fixed,
            "mock": self.primary.scope(scope).base_url,
            "fallback": self.fallback.scope(scope).base_url,
            "proxied_base": self.proxied.scope(scope).base_url,
        }

    def prepare(self, case: Case, scope: str, settings: Settings) -> None:
        server = self.server(case)
        server.retry_after = settings.retry_after
        lane = server.scope(scope)
        lane.each, lane.default, lane.content = list(case.endpoint.each), case.endpoint.then, case.answer
        self.fallback.scope(scope).content = case.fallback_answer

    def counts(self, case: Case, scope: str, steps: list[Step]) -> tuple[dict[str, int], dict[str, list[str]], dict[str, int]]:
        """Attempts, models and connection checks per step of a lane, as its scope saw them."""
        lane = self.server(case).scope(scope)
        attempts: dict[str, int] = {}
        models: dict[str, list[str]] = {}
        probes: dict[str, int] = {}
        seen = lane.keys
        checks = [r["key"] for r in lane.requests if _is_probe(r.get("body"))]
        for step in steps:
            key = step.key if step.key else (seen[0] if seen else None)  # a fixed model's first request is its own
            attempts[step.label] = lane.attempts(key) if key else 0
            models[step.label] = [key] if key in seen else []
            probes[step.label] = checks.count(key) if key else 0
        return attempts, models, probes


def _is_probe(body: Any) -> bool:
    """A connection check's request: one token asked for."""
    return isinstance(body, dict) and 1 in (body.get("max_tokens"), body.get("max_completion_tokens"))


def _remove(folder: str) -> None:
    import shutil

    shutil.rmtree(folder, ignore_errors=True)


def _read_events(path: Path) -> list[dict[str, Any]]:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    events = []
    for line in text.splitlines():
        try:
            events.append(json.loads(line))
        except ValueError:
            continue
    return events


def _tail(path: Path, lines: int = 3) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace").strip().splitlines()
    except OSError:
        return ""
    return " | ".join(text[-lines:])


def _import_error(event: dict[str, Any], python: str) -> str:
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


class Child:
    """The verify child process. Started early: it imports litellm while the parent sets up.

    It owns the run's :class:`Reaper` (started first, so nothing is ever started unwatched)
    and its output folder.
    """

    def __init__(self, env: dict[str, str], python: str | None = None) -> None:
        self.python = python or sys.executable
        self.reaper = Reaper()
        self.out = Path(tempfile.mkdtemp(prefix="llmfix-verify-"))
        self.reaper.watch_folder(str(self.out))
        self._stderr = open(self.out / "child-stderr.txt", "wb")
        # the endpoints are not known yet (each fork gets its own environment later)
        importable = {k: v for k, v in env.items() if not (v.startswith("$") and v[1:] in PLACEHOLDERS)}
        try:
            self.process = subprocess.Popen(
                [self.python, str(CHILD), str(self.out), str(os.getpid())], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                stderr=self._stderr, cwd=str(self.out), env=importable, start_new_session=True,
            )
        except OSError as error:
            self.close_files()
            raise VerifyError(f"cannot run {self.python}: {error.strerror or error}") from None
        self.reaper.watch_group(self.process.pid)
        self._closed = False
        self._offset = 0

    def send(self, job: dict[str, Any]) -> None:
        try:
            assert self.process.stdin is not None
            self.process.stdin.write(json.dumps(job).encode())
            self.process.stdin.close()
        except BrokenPipeError:
            pass

    def events(self) -> list[dict[str, Any]]:
        """The child's own events written since the last call."""
        try:
            with open(self.out / "zygote.jsonl", "rb") as handle:
                handle.seek(self._offset)
                data = handle.read()
        except OSError:
            return []
        complete = data[: data.rfind(b"\n") + 1]
        self._offset += len(complete)
        found = []
        for line in complete.decode(errors="replace").splitlines():
            try:
                found.append(json.loads(line))
            except ValueError:
                continue
        return found

    @property
    def running(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        """Kill the child's process group unless it has already exited (and been waited for)."""
        if self.process.returncode is None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)  # the child and every fork it left behind
            except ProcessLookupError:
                pass
            self.process.wait()
        self.reaper.forget_group(self.process.pid)
        if self.process.stdin is not None and not self.process.stdin.closed:
            try:
                self.process.stdin.close()
            except OSError:
                pass
        self.close_files()

    def close_files(self) -> None:
        self._stderr.close()

    def close(self) -> None:
        """Stop the child if still running, remove its folder, let the reaper go."""
        if getattr(self, "_closed", True):
            return
        self._closed = True
        try:
            self.stop()
        finally:
            _remove(str(self.out))
            self.reaper.forget_folder(str(self.out))
            self.reaper.close()


def start_child(settings: Settings, live_env: dict[str, str] | None = None, python: str | None = None) -> Child:
    """Start the child now (litellm takes seconds to import); hand it to :func:`run_many` later."""
    return Child(dict(live_env) if live_env is not None else base_env(settings), python)


def run(checkout: Checkout, scenarios: list[Scenario], settings: Settings, live_env: dict[str, str] | None = None, child: Child | None = None) -> RunResult:
    """Run every case of ``scenarios`` against ``checkout``; raise :class:`VerifyError` when it cannot."""
    result = run_many([(checkout, scenarios)], settings, live_env, child=child)[0]
    if result.error:
        raise VerifyError(result.error)
    return result


def run_many(
    jobs: list[tuple[Checkout, list[Scenario]]], settings: Settings, live_env: dict[str, str] | None = None,
    max_parallel: int = 32, child: Child | None = None, progress: Progress | None = None,
) -> list[RunResult]:
    """Run several checkouts with one child (one litellm import) and one set of endpoints.

    A checkout that cannot be imported gets a result with ``error`` set instead of outcomes.
    ``progress(job index, outcome)`` is told of each case as soon as it is judged.
    """
    started = time.monotonic()
    live = live_env is not None
    with ExitStack() as stack:
        base = dict(live_env) if live else base_env(settings)
        child = child or Child(base)
        stack.callback(child.close)
        endpoints = None
        if not live:
            want_proxy = any("tinyproxy" in c.needs for _, scenarios in jobs for s in scenarios for c in s.cases)
            endpoints = _Endpoints(stack, child.reaper, want_proxy)
        plans = [_Plan(index, checkout, scenarios, base, settings, endpoints, child) for index, (checkout, scenarios) in enumerate(jobs)]
        for plan in plans:
            for outcome in plan.outcomes.values():
                if progress:
                    progress(plan.index, outcome)
        job = {
            "checkouts": [p.checkout_json() for p in plans],
            "warmup": {"model": "openai/verify-warmup", "api_base": endpoints.primary.base_url} if endpoints else None,
            "import_limit": IMPORT_LIMIT, "max_parallel": max_parallel, "out_dir": str(child.out),
            "cases": [lane for p in plans for lane in p.lanes_json()],
        }
        notes = list(endpoints.notes) if endpoints else []
        if not job["cases"]:  # every case skipped: nothing for the child to do
            return [RunResult(p.checkout, settings, p.results(), round(time.monotonic() - started, 2), None, list(notes), live,
                              not_exercised=p.not_exercised()) for p in plans]
        waves = max(1, -(-len(job["cases"]) // max_parallel))
        deadline = time.monotonic() + IMPORT_LIMIT * 2 + waves * max((c["limit"] for c in job["cases"]), default=0) + 10
        child.send(job)
        startup = 0.0
        fatal = None
        lanes = {lane: plan for plan in plans for lane in plan.lane_files}
        while True:
            running = child.running
            for event in child.events():
                kind = event.get("event")
                if kind in ("litellm-imported", "warmed-up"):
                    startup += event.get("seconds", 0)
                elif kind == "import-error":
                    fatal = event
                elif kind == "case-end" and event["file"].startswith("probe-"):
                    plans[int(event["file"].split("-")[1])].probe()
                elif kind == "case-end" and event["file"] in lanes:
                    for outcome in lanes[event["file"]].lane_ended(event):
                        if progress:
                            progress(lanes[event["file"]].index, outcome)
            if not running or time.monotonic() > deadline or all(p.finished for p in plans):
                break  # (the child's own exit, litellm's at-exit work included, is not waited for)
            time.sleep(0.05)
        child.stop()
        results = []
        for plan in plans:
            error = _import_error(fatal, child.python) if fatal is not None else plan.probe_error()
            outcomes = [] if error else plan.results()
            results.append(RunResult(plan.checkout, settings, outcomes, 0.0, round(startup, 2), notes + plan.notes, live, error,
                                     plan.not_exercised(), plan.stubbed))
    elapsed = round(time.monotonic() - started, 2)
    for result in results:
        result.seconds = elapsed
    return results


@dataclass
class _Lane:
    """The steps of a case that run in one process, against one scope of the endpoints."""

    case: Case
    steps: list[Step]
    scope: str
    env: dict[str, str]


class _Plan:
    """One checkout's share of a run: its cases, their lanes and environments, and what became of them."""

    def __init__(self, index: int, checkout: Checkout, scenarios: list[Scenario], base: dict[str, str], settings: Settings,
                 endpoints: _Endpoints | None, child: Child) -> None:
        self.index = index
        self.checkout = checkout
        self.settings = settings
        self.endpoints = endpoints
        self.out = child.out
        self.cases = [c for s in scenarios for c in s.cases]
        self.outcomes: dict[str, CaseOutcome] = {}
        self.lanes: dict[str, list[_Lane]] = {}
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

    def _lane(self, case: Case, number: int, steps: list[Step], base: dict[str, str]) -> _Lane:
        scope = f"{self.index}-{case.id}-{number}"
        resources = self.endpoints.resources(scope) if self.endpoints else {}
        if self.endpoints:
            self.endpoints.prepare(case, scope, self.settings)
        return _Lane(case, steps, scope, resolve_env(base, case.env, resources))

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
            self._probe = _read_events(self.out / f"case-probe-{self.index}.jsonl")
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
                return _import_error(event, next((e.get("python") for e in probe if e.get("python")), sys.executable))
        if not any(e.get("event") == "probe" for e in probe):
            detail = _tail(self.out / "child-stderr.txt") or _tail(self.out / "zygote.log") or _tail(self.out / f"case-probe-{self.index}.log")
            return f"the verify child did not start: {detail or 'no output (timed out?)'}"
        return None

    def judge_error(self, module: str) -> str | None:
        """Why a judge module could not be imported (even with stubs), from the probe."""
        event = next((e for e in self.probe() if e.get("event") == "probe"), {})
        found = (event.get("judges") or {}).get(module) or {}
        return _import_error(found, event.get("python") or sys.executable) if found.get("kind") else None

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

    def _judge(self, lanes: list[_Lane]) -> CaseOutcome:
        case = lanes[0].case
        by_lane = [(lane, _read_events(self.out / f"case-{lane.scope}.jsonl")) for lane in lanes]
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
