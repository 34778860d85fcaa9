"""Run the cases: start the mock endpoints (and tinyproxy), spawn the child, judge what it saw.

One child process per run (``child.py``) imports litellm once and forks a process per
case lane, so all cases run at the same time. Every lane talks to its own scope of the
shared mock endpoints (``/scope/<checkout>-<case>-<lane>/v1``), so plans and counts never
mix, whatever model names the checkout's code sends.

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
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from llmfix.errors import LlmfixError
from llmfix.verify.analysis import Checkout
from llmfix.verify.cases import (
    ANSWER,
    BASICS,
    FALLBACK_ANSWER,
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

    @property
    def failed(self) -> list[CaseOutcome]:
        return [o for o in self.outcomes if o.status == "fail"]

    @property
    def ok(self) -> bool:
        """Every case passed (or was skipped) and every function was exercised."""
        return not self.failed and not self.not_exercised


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
        self.ca_file: str | None = None
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
        if self._tls(stack) is None:
            self.notes.append("9b ran over plain HTTP through the proxy; install trustme to exercise CONNECT + TLS")

    def _tls(self, stack: ExitStack) -> Any:
        """A TLS mock signed by a throwaway CA, when trustme is installed (the production CONNECT path)."""
        try:
            import ssl

            import trustme
        except ImportError:
            return None
        from llmfix.mockllm import MockLLM

        ca = trustme.CA()
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
        folder = tempfile.mkdtemp(prefix="llmfix-verify-ca-")
        self.reaper.watch_folder(folder)
        stack.callback(self.reaper.forget_folder, folder)
        stack.callback(_remove, folder)
        self.ca_file = os.path.join(folder, "ca.pem")
        ca.cert_pem.write_to_path(self.ca_file)
        self.proxied = stack.enter_context(MockLLM(tls=context))
        self.fixed["proxied_ca"] = self.ca_file
        return self.proxied

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
        lane.each, lane.default, lane.content = list(case.endpoint.each), case.endpoint.then, ANSWER
        self.fallback.scope(scope).content = FALLBACK_ANSWER


def _remove(folder: str) -> None:
    import shutil

    shutil.rmtree(folder, ignore_errors=True)


def _read_events(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    events = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
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


def _import_error(event: dict[str, Any]) -> str:
    python = sys.executable
    if event.get("kind") == "missing-module" and event.get("missing"):
        top = event["missing"].split(".", 1)[0]
        where = "verify needs litellm" if event.get("module") == "litellm" else f"{event['module']} imports {event['missing']!r}"
        return f"cannot import the checkout: {where}, which is not installed for {python}; install it there (e.g. pip install {top})"
    return f"cannot import {event.get('module')}: {event.get('message')}"


class Child:
    """The verify child process. Started early: it imports litellm while the parent sets up.

    It owns the run's :class:`Reaper` (started first, so nothing is ever started unwatched)
    and its output folder.
    """

    def __init__(self, env: dict[str, str]) -> None:
        self.reaper = Reaper()
        self.out = Path(tempfile.mkdtemp(prefix="llmfix-verify-"))
        self.reaper.watch_folder(str(self.out))
        self._stderr = open(self.out / "child-stderr.txt", "wb")
        # the endpoints are not known yet (each fork gets its own environment later)
        importable = {k: v for k, v in env.items() if not (v.startswith("$") and v[1:] in PLACEHOLDERS)}
        self.process = subprocess.Popen(
            [sys.executable, str(CHILD), str(self.out), str(os.getpid())], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
            stderr=self._stderr, cwd=str(self.out), env=importable, start_new_session=True,
        )
        self.reaper.watch_group(self.process.pid)
        self._closed = False

    def run(self, job: dict[str, Any], limit: float) -> None:
        """Send the job and wait for the child (and every fork it made) to finish, at most ``limit`` s."""
        try:
            assert self.process.stdin is not None
            self.process.stdin.write(json.dumps(job).encode())
            self.process.stdin.close()
            self.process.wait(limit)
        except (subprocess.TimeoutExpired, BrokenPipeError):
            pass
        finally:
            self.stop()

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
        self._stderr.close()

    def close(self) -> None:
        """Stop the child if still running, remove its folder, let the reaper go."""
        if self._closed:
            return
        self._closed = True
        try:
            self.stop()
        finally:
            _remove(str(self.out))
            self.reaper.forget_folder(str(self.out))
            self.reaper.close()


def start_child(settings: Settings, live_env: dict[str, str] | None = None) -> Child:
    """Start the child now (litellm takes seconds to import); hand it to :func:`run` later."""
    return Child(dict(live_env) if live_env is not None else base_env(settings))


def run(
    checkout: Checkout, scenarios: list[Scenario], settings: Settings, live_env: dict[str, str] | None = None, child: Child | None = None
) -> RunResult:
    """Run every case of ``scenarios`` against ``checkout``; raise :class:`VerifyError` when it cannot."""
    result = run_many([(checkout, scenarios)], settings, live_env, child=child)[0]
    if result.error:
        raise VerifyError(result.error)
    return result


def run_many(
    jobs: list[tuple[Checkout, list[Scenario]]], settings: Settings, live_env: dict[str, str] | None = None,
    max_parallel: int = 32, child: Child | None = None,
) -> list[RunResult]:
    """Run several checkouts with one child (one litellm import) and one set of endpoints.

    A checkout that cannot be imported gets a result with ``error`` set instead of outcomes.
    """
    started = time.monotonic()
    live = live_env is not None
    with ExitStack() as stack:
        base = dict(live_env) if live else base_env(settings)
        child = child or Child(base)
        stack.callback(child.close)
        out = child.out
        endpoints = None
        if not live:
            want_proxy = any("tinyproxy" in c.needs for _, scenarios in jobs for s in scenarios for c in s.cases)
            endpoints = _Endpoints(stack, child.reaper, want_proxy)
        plans = [_Plan(index, checkout, scenarios, base, settings, endpoints) for index, (checkout, scenarios) in enumerate(jobs)]
        job = {
            "checkouts": [p.checkout_json() for p in plans],
            "warmup": {"model": "openai/verify-warmup", "api_base": endpoints.primary.base_url} if endpoints else None,
            "import_limit": IMPORT_LIMIT,
            "max_parallel": max_parallel,
            "cases": [lane for p in plans for lane in p.lanes_json()],
        }
        notes = list(endpoints.notes) if endpoints else []
        if not job["cases"]:  # every case skipped: nothing for the child to do
            return [RunResult(p.checkout, settings, p.judge(out, {}), round(time.monotonic() - started, 2), None, list(notes), live,
                              not_exercised=p.not_exercised([])) for p in plans]
        waves = max(1, -(-len(job["cases"]) // max_parallel))
        limit = IMPORT_LIMIT * 2 + waves * max((c["limit"] for c in job["cases"]), default=0) + 10
        job["out_dir"] = str(out)
        child.run(job, limit)

        zygote = _read_events(out / "zygote.jsonl")
        startup = sum(e.get("seconds", 0) for e in zygote if e.get("event") in ("litellm-imported", "warmed-up"))
        ends = {e["file"]: e for e in zygote if e.get("event") == "case-end"}
        fatal = next((e for e in zygote if e.get("event") == "import-error"), None)
        results = []
        for plan in plans:
            error = _import_error(fatal) if fatal is not None else plan.probe_error(out)
            outcomes = [] if error else plan.judge(out, ends)
            results.append(RunResult(plan.checkout, settings, outcomes, 0.0, round(startup, 2), list(notes), live, error,
                                     plan.not_exercised(outcomes)))
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
    """One checkout's share of a run: its cases, their lanes and environments."""

    def __init__(self, index: int, checkout: Checkout, scenarios: list[Scenario], base: dict[str, str], settings: Settings, endpoints: _Endpoints | None) -> None:
        self.index = index
        self.checkout = checkout
        self.settings = settings
        self.endpoints = endpoints
        self.cases = [c for s in scenarios for c in s.cases]
        self.outcomes: dict[str, CaseOutcome] = {}
        self.lanes: dict[str, list[_Lane]] = {}
        for case in self.cases:
            if case.skip_reason:
                self.outcomes[case.id] = CaseOutcome(case, "skip", reason=case.skip_reason)
            elif endpoints and "tinyproxy" in case.needs and endpoints.proxy is None:
                self.outcomes[case.id] = CaseOutcome(case, "skip", reason=endpoints.proxy_missing)
            elif not case.lanes():
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

    def checkout_json(self) -> dict[str, Any]:
        c = self.checkout
        return {"import_root": str(c.import_root), "modules": c.modules, "precheck_module": c.precheck_module, "probe_env": self.probe_env}

    def lanes_json(self) -> list[dict[str, Any]]:
        return [
            {"file": lane.scope, "checkout": self.index, "env": lane.env, "limit": lane.case.limit, "concurrent": lane.case.concurrent,
             "keep_lines": lane.case.keep_lines, "report": lane.case.report, "steps": [s.to_json() for s in lane.steps]}
            for lanes in self.lanes.values() for lane in lanes
        ]

    def probe_error(self, out: Path) -> str | None:
        probe = _read_events(out / f"case-probe-{self.index}.jsonl")
        for event in probe:
            if event.get("event") == "import-error":
                return _import_error(event)
        if not any(e.get("event") == "probe" for e in probe):
            detail = _tail(out / "child-stderr.txt") or _tail(out / "zygote.log") or _tail(out / f"case-probe-{self.index}.log")
            return f"the verify child did not start: {detail or 'no output (timed out?)'}"
        return None

    def judge(self, out: Path, ends: dict[str, dict[str, Any]]) -> list[CaseOutcome]:
        proxy_log = self.endpoints.proxy.log_text() if self.endpoints and self.endpoints.proxy else ""
        for case_id, lanes in self.lanes.items():
            self.outcomes[case_id] = _judge(lanes, self.settings, out, ends, self.endpoints, proxy_log)
        return [self.outcomes[c.id] for c in self.cases]

    def not_exercised(self, outcomes: list[CaseOutcome]) -> list[tuple[str, str]]:
        """The functions verify could not call: found so by analysis, or by the child on the imported code."""
        found = [(t.name, t.reason or "") for t in self.checkout.not_exercised]
        for outcome in outcomes:
            for result in (outcome.observation.steps.values() if outcome.observation else []):
                if result.outcome == "uncallable" and all(name != result.name for name, _ in found):
                    found.append((result.name, result.error["message"] if result.error else "cannot call it"))
        return found


def _counts(lane: _Lane, endpoints: _Endpoints) -> tuple[dict[str, int], dict[str, list[str]]]:
    """Attempts and models per step of a lane, as the lane's scope saw them."""
    scope = endpoints.server(lane.case).scope(lane.scope)
    attempts: dict[str, int] = {}
    models: dict[str, list[str]] = {}
    seen = scope.keys
    for step in lane.steps:
        if step.key:
            attempts[step.label] = scope.attempts(step.key)
            models[step.label] = [step.key] if step.key in seen else []
        elif step.own_lane:
            primary = seen[:1]  # a call's first model is its own; fallbacks come after it failed
            attempts[step.label] = scope.attempts(primary[0]) if primary else 0
            models[step.label] = primary
    return attempts, models


def _judge(lanes: list[_Lane], settings: Settings, out: Path, ends: dict[str, dict[str, Any]], endpoints: _Endpoints | None, proxy_log: str) -> CaseOutcome:
    case = lanes[0].case
    by_lane = [(lane, _read_events(out / f"case-{lane.scope}.jsonl")) for lane in lanes]
    events = [e for _, lane_events in by_lane for e in lane_events]
    steps = {e["label"]: StepResult.from_event(e) for e in events if e.get("event") == "step"}
    processes: dict[str, Process] = {}
    for lane, lane_events in by_lane:
        kept = [r for e in lane_events if e.get("event") == "lines" for r in e.get("records", [])]
        report = next((StepResult.from_event(e) for e in lane_events if e.get("event") == "report"), None)
        process = Process(lane.env, kept, report)
        processes.update((step.label, process) for step in lane.steps)
    attempts: dict[str, int] = {}
    models: dict[str, list[str]] = {}
    extra: dict[str, int] = {}
    if endpoints:
        if case.env.get("OPENAI_API_BASE") != "$dead_base":  # nothing listens there: no count to show
            for lane in lanes:
                lane_attempts, lane_models = _counts(lane, endpoints)
                attempts.update(lane_attempts)
                models.update(lane_models)
        if "$fallback" in (case.env.get("LITELLM_FALLBACK_MODELS") or ""):
            extra["fallback"] = sum(endpoints.fallback.scope(lane.scope).total_attempts for lane in lanes)
    lane_ends = [ends.get(lane.scope) for lane in lanes]
    killed = any(end and end.get("killed") for end in lane_ends)
    seconds = max((end["seconds"] if end else case.limit) for end in lane_ends)
    observation = Observation(case, settings, steps, attempts, models, extra, seconds, killed, lanes[0].env, proxy_log, processes)
    problems = []
    for event in events:
        if event.get("event") == "crash":
            problems.append((BASICS, f"the case crashed: {event['error']['type']}: {event['error']['message']}"))
        if event.get("event") == "import-error":
            problems.append((BASICS, f"import failed: {event.get('message')}"))
    problems += case.evaluate(observation)
    return CaseOutcome(case, "fail" if problems else "pass", problems, observation)
