"""Run the cases: start the mock endpoints (and tinyproxy), spawn the child, judge what it saw.

One child process per run (``child.py``) imports litellm once and forks a process per
case, so all cases run at the same time; each has its own model names, so the shared
mock endpoints keep their plans and attempt counts apart.
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
from llmfix.verify.scenarios import Case, Observation, Scenario, Settings, StepResult

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

    @property
    def failed(self) -> list[CaseOutcome]:
        return [o for o in self.outcomes if o.status == "fail"]


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
        LITELLM_PRECHECK_TIMEOUT=f"{settings.precheck_timeout:g}",
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
    """The mock servers and proxies one run needs, started lazily, stopped together."""

    def __init__(self, stack: ExitStack, cases: list[Case]) -> None:
        from llmfix.mockllm import MockLLM
        from llmfix.proxy import closed_port

        self.primary = stack.enter_context(MockLLM())
        self.fallback = stack.enter_context(MockLLM())
        self.proxied = self.primary
        self.proxy = None
        self.proxy_missing = "no proxy started"
        self.ca_file: str | None = None
        self.notes: list[str] = []
        self.resources: dict[str, str | None] = {
            "mock": self.primary.base_url,
            "fallback": self.fallback.base_url,
            "dead_base": f"http://127.0.0.1:{closed_port()}/v1",
            "dead_proxy": f"http://127.0.0.1:{closed_port()}",
            "proxied_base": self.primary.base_url,
            "proxied_ca": None,
            "proxy": None,
        }
        if any("tinyproxy" in c.needs for c in cases):
            self._start_proxy(stack)

    def _start_proxy(self, stack: ExitStack) -> None:
        from llmfix.proxy import ProxyUnavailable, Tinyproxy, tinyproxy_path

        if tinyproxy_path() is None:
            self.proxy_missing = "tinyproxy not found on PATH (apt-get install tinyproxy)"
            return
        try:
            self.proxy = stack.enter_context(Tinyproxy())
        except ProxyUnavailable as error:
            self.proxy_missing = str(error)
            return
        self.resources["proxy"] = self.proxy.url
        tls = self._tls(stack)
        if tls is None:
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
        folder = stack.enter_context(tempfile.TemporaryDirectory(prefix="llmfix-verify-ca-"))
        self.ca_file = os.path.join(folder, "ca.pem")
        ca.cert_pem.write_to_path(self.ca_file)
        self.proxied = stack.enter_context(MockLLM(tls=context))
        self.resources.update(proxied_base=self.proxied.base_url, proxied_ca=self.ca_file)
        return self.proxied

    def server(self, case: Case) -> Any:
        return self.proxied if case.server == "proxied" else self.primary

    def prepare(self, case: Case, settings: Settings) -> None:
        server = self.server(case)
        server.retry_after = settings.retry_after
        for key, behaviours in case.plans.items():
            server.plan(key, behaviours)
        for key, content in case.contents.items():
            server.set_content(key, content)
        for key, content in case.fallback_contents.items():
            self.fallback.set_content(key, content)


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
    """The verify child process. Started early: it imports litellm while the parent sets up."""

    def __init__(self, env: dict[str, str]) -> None:
        self._tmp = tempfile.TemporaryDirectory(prefix="llmfix-verify-")
        self.out = Path(self._tmp.name)
        self._stderr = open(self.out / "child-stderr.txt", "wb")
        # the endpoints are not known yet (each fork gets its own environment later)
        importable = {k: v for k, v in env.items() if not (v.startswith("$") and v[1:] in PLACEHOLDERS)}
        self.process = subprocess.Popen(
            [sys.executable, str(CHILD), str(self.out)], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
            stderr=self._stderr, cwd=str(self.out), env=importable, start_new_session=True,
        )

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
        try:
            os.killpg(self.process.pid, signal.SIGKILL)  # the child and every fork it left behind
        except ProcessLookupError:
            pass
        self.process.wait()
        self._stderr.close()

    def close(self) -> None:
        """Stop the child if still running and remove its folder."""
        if self.process.returncode is None:
            self.stop()
        self._tmp.cleanup()


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
    """Run several checkouts with one child (one litellm import); each gets its own endpoints.

    A checkout that cannot be imported gets a result with ``error`` set instead of outcomes.
    """
    started = time.monotonic()
    with ExitStack() as stack:
        base = dict(live_env) if live_env is not None else base_env(settings)
        child = child or Child(base)
        stack.callback(child.close)
        out = child.out
        plans = [_Plan(index, checkout, scenarios, base, settings, stack, live_env is not None) for index, (checkout, scenarios) in enumerate(jobs)]
        first = plans[0].endpoints
        job = {
            "checkouts": [p.checkout_json() for p in plans],
            "warmup": {"model": "openai/verify-warmup", "api_base": first.primary.base_url} if first else None,
            "import_limit": IMPORT_LIMIT,
            "max_parallel": max_parallel,
            "cases": [case for p in plans for case in p.cases_json()],
        }
        if not job["cases"]:  # every case skipped: nothing for the child to do
            return [RunResult(p.checkout, settings, p.judge(out, {}), round(time.monotonic() - started, 2), None,
                              list(p.endpoints.notes if p.endpoints else []), live_env is not None) for p in plans]
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
            error = None
            if fatal is not None:
                error = _import_error(fatal)
            else:
                error = plan.probe_error(out)
            outcomes = [] if error else plan.judge(out, ends)
            notes = plan.endpoints.notes if plan.endpoints else []
            results.append(RunResult(plan.checkout, settings, outcomes, 0.0, round(startup, 2), list(notes), live_env is not None, error))
    elapsed = round(time.monotonic() - started, 2)
    for result in results:
        result.seconds = elapsed
    return results


class _Plan:
    """One checkout's share of a run: its endpoints, its cases, their environments."""

    def __init__(self, index: int, checkout: Checkout, scenarios: list[Scenario], base: dict[str, str], settings: Settings, stack: ExitStack, live: bool) -> None:
        self.index = index
        self.checkout = checkout
        self.settings = settings
        self.cases = [c for s in scenarios for c in s.cases]
        self.endpoints = None if live else _Endpoints(stack, self.cases)
        resources = self.endpoints.resources if self.endpoints else {}
        self.outcomes: dict[str, CaseOutcome] = {}
        self.runnable: list[Case] = []
        for case in self.cases:
            if case.skip_reason:
                self.outcomes[case.id] = CaseOutcome(case, "skip", reason=case.skip_reason)
            elif self.endpoints and "tinyproxy" in case.needs and self.endpoints.proxy is None:
                self.outcomes[case.id] = CaseOutcome(case, "skip", reason=self.endpoints.proxy_missing)
            else:
                self.runnable.append(case)
        self.envs = {case.id: resolve_env(base, case.env, resources) for case in self.runnable}
        self.probe_env = resolve_env(base, {}, resources)
        if self.endpoints:
            for case in self.runnable:
                self.endpoints.prepare(case, settings)

    def file(self, case_id: str) -> str:
        return f"{self.index}-{case_id}"

    def checkout_json(self) -> dict[str, Any]:
        c = self.checkout
        return {"import_root": str(c.import_root), "modules": c.modules, "helpers": c.helpers, "generator": c.generator, "probe_env": self.probe_env}

    def cases_json(self) -> list[dict[str, Any]]:
        return [
            {"file": self.file(c.id), "checkout": self.index, "env": self.envs[c.id], "limit": c.limit, "concurrent": c.concurrent, "steps": [s.to_json() for s in c.steps]}
            for c in self.runnable
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
        c = self.checkout
        names = {**c.helpers, "generator": c.generator or "generator", "ensure": "ensure_litellm_connection", "check": "check_litellm_connection"}
        for case in self.runnable:
            events = _read_events(out / f"case-{self.file(case.id)}.jsonl")
            self.outcomes[case.id] = _judge(case, self.settings, events, ends.get(self.file(case.id)), self.envs[case.id], self.endpoints, proxy_log, names)
        return [self.outcomes[c.id] for c in self.cases]


def _judge(case: Case, settings: Settings, events: list[dict[str, Any]], end: dict[str, Any] | None, env: dict[str, str], endpoints: _Endpoints | None, proxy_log: str, names: dict[str, str]) -> CaseOutcome:
    steps = {e["label"]: StepResult.from_event(e) for e in events if e.get("event") == "step"}
    attempts: dict[str, int] = {}
    extra: dict[str, int] = {}
    if endpoints:
        server = endpoints.server(case)
        if case.env.get("OPENAI_API_BASE") != "$dead_base":  # nothing listens there: no count to show
            attempts = {s.label: server.attempts(s.key) for s in case.steps if s.key}
        if case.fallback_contents:
            extra["fallback"] = sum(endpoints.fallback.attempts(k) for k in case.fallback_contents)
    killed = bool(end and end.get("killed"))
    seconds = end["seconds"] if end else case.limit
    observation = Observation(case, settings, steps, attempts, extra, seconds, killed, env, proxy_log, names)
    problems = []
    for event in events:
        if event.get("event") == "crash":
            problems.append(("basics", f"the case crashed: {event['error']['type']}: {event['error']['message']}"))
        if event.get("event") == "import-error":
            problems.append(("basics", f"import failed: {event.get('message')}"))
    problems += case.evaluate(observation)
    return CaseOutcome(case, "fail" if problems else "pass", problems, observation)
