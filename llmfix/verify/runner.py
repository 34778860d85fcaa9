"""Run the cases: start the mock endpoints (and tinyproxy) and the child, and judge what it saw.

One child per run imports litellm once and forks a process per case lane (several checkouts
share it); each case is judged as its last lane ends (``progress``). A :class:`Reaper` removes
whatever the run started, even when verify is killed.
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
from llmfix.verify.analysis import Checkout
from llmfix.verify.cases import Settings
from llmfix.verify.endpoints import (
    DUMMY_KEY,
    PLACEHOLDERS,
    Endpoints,
    base_env,
    remove,
    resolve_env,
)
from llmfix.verify.observe import json_lines
from llmfix.verify.plan import CaseOutcome, Plan, import_error
from llmfix.verify.reaper import Reaper
from llmfix.verify.scenarios import Scenario

CHILD = Path(__file__).with_name("child.py")
IMPORT_LIMIT = 120.0  # seconds for the child to import litellm and the checkout
Progress = Callable[[int, CaseOutcome], None]
__all__ = ["DUMMY_KEY", "CaseOutcome", "Child", "RunResult", "VerifyError", "base_env", "resolve_env", "run", "run_many", "start_child"]


class VerifyError(LlmfixError):
    """verify could not run (exit 2): a missing module, a child that died, bad input."""


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


class Child:
    """The verify child process, started early (it imports litellm while the parent sets up); it owns the run's
    :class:`Reaper` (started first, so nothing is ever started unwatched) and its output folder."""

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
        return json_lines(complete.decode(errors="replace"))

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
            remove(str(self.out))
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
    """Run several checkouts with one child and one set of endpoints (a checkout that cannot be imported gets
    ``error`` instead of outcomes); ``progress(job index, outcome)`` hears of each case as soon as it is judged."""
    started = time.monotonic()
    live = live_env is not None
    with ExitStack() as stack:
        base = dict(live_env) if live else base_env(settings)
        child = child or Child(base)
        stack.callback(child.close)
        endpoints = None
        if not live:
            want_proxy = any("tinyproxy" in c.needs for _, scenarios in jobs for s in scenarios for c in s.cases)
            endpoints = Endpoints(stack, child.reaper, want_proxy)
        plans = [Plan(index, checkout, scenarios, base, settings, endpoints, child.out) for index, (checkout, scenarios) in enumerate(jobs)]
        for plan in plans:
            for outcome in plan.outcomes.values():
                if progress:
                    progress(plan.index, outcome)
        notes = list(endpoints.notes) if endpoints else []
        lanes = [lane for p in plans for lane in p.lanes_json()]
        if not lanes:  # every case skipped: nothing for the child to do
            return [RunResult(p.checkout, settings, p.results(), round(time.monotonic() - started, 2), None, list(notes), live,
                              not_exercised=p.not_exercised()) for p in plans]
        child.send({
            "checkouts": [p.checkout_json() for p in plans], "cases": lanes, "out_dir": str(child.out),
            "warmup": {"model": "openai/verify-warmup", "api_base": endpoints.primary.base_url} if endpoints else None,
            "import_limit": IMPORT_LIMIT, "max_parallel": max_parallel,
        })
        waves = max(1, -(-len(lanes) // max_parallel))
        startup, fatal = _follow(child, plans, IMPORT_LIMIT * 2 + waves * max(lane["limit"] for lane in lanes) + 10, progress)
        results = []
        for plan in plans:
            error = import_error(fatal, child.python) if fatal is not None else plan.probe_error()
            results.append(RunResult(plan.checkout, settings, [] if error else plan.results(), 0.0, round(startup, 2), notes + plan.notes, live,
                                     error, plan.not_exercised(), plan.stubbed))
    for result in results:
        result.seconds = round(time.monotonic() - started, 2)
    return results


def _follow(child: Child, plans: list[Plan], limit: float, progress: Progress | None) -> tuple[float, dict[str, Any] | None]:
    """Read the child's events until every lane ended (or the child did, or ``limit`` s passed); judge each case
    as its last lane ends. (The start-up seconds, the child's own import error.)"""
    deadline = time.monotonic() + limit
    startup, fatal = 0.0, None
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
    return startup, fatal
