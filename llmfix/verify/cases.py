"""A verify case (its steps, what the endpoint does), what was observed, and what became of it: an evaluator turns
an observation into problems ``(fix, text)``, ``fix`` naming the transform whose behaviour is missing (or ``basics``)."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from llmfix.verify.analysis import GENERATOR, JUDGE, Checkout, Target

Problem = tuple[str, str]
BASICS = "basics"  # a problem no transform fixes: the code does not work even on a healthy endpoint
JUDGE_FIX = "judge"
CALL, ENSURE = "call", "ensure"

RUBRIC = {
    "positive_rubrics": [{"title": "Names the mechanism", "description": "Explains Rayleigh scattering."}],
    "negative_rubrics": [{"title": "Wrong cause", "description": "Claims the sky reflects the ocean."}],
}
ANSWER = json.dumps(RUBRIC)  # what the mock answers: helpers return it, generators parse it
FALLBACK_RUBRIC = {**RUBRIC, "answered_by": "fallback"}
FALLBACK_ANSWER = json.dumps(FALLBACK_RUBRIC)
JUDGE_ANSWER = json.dumps({"REASONING": "It names Rayleigh scattering.", "SCORE": 9})  # a judge's verdict, in the shape its extractors read
JUDGE_FALLBACK_ANSWER = json.dumps({"REASONING": "Answered by the fallback.", "SCORE": 7})


def counted_runs(texts: list[str], merge: Callable[[str], bool] = lambda text: True) -> str:
    """``a, b x3, c``: a run of equal texts (that ``merge`` allows to join) shown once, counted."""
    runs: list[list[Any]] = []
    for text in texts:
        if runs and merge(text) and runs[-1][0] == text:
            runs[-1][1] += 1
        else:
            runs.append([text, 1])
    return ", ".join(text if count == 1 else f"{text} x{count}" for text, count in runs)


@dataclass(frozen=True)
class Settings:
    """The small retry/timeout settings verify runs with (through the patched env vars)."""

    retries: int = 2
    timeout: float = 5.0
    hang_timeout: float = 1.0
    precheck_timeout: float = 2.0  # LITELLM_PRECHECK_TIMEOUT where a failing check is timed
    precheck_timeout_passing: float = 20.0  # ... everywhere else: a busy machine must not fail a check that should pass
    recheck: float = 1.0  # LITELLM_PRECHECK_RECHECK in the recheck case
    retry_after: float = 1.0
    slack: float = 8.0  # scheduling noise: many cases run at once, on a machine that may be busy
    tenacity: bool = False  # LiteLLM's own retry layer is installed: sync retries multiply
    health_interval: float = 2.0  # LITELLM_HEALTH_INTERVAL in the health cases that expect a summary
    failure_window: int = 5  # LITELLM_FAILURE_WINDOW in the health cases
    max_failure_rate: float = 0.3  # LITELLM_MAX_FAILURE_RATE where it is set (not a multiple of 1/window)
    passing_limit: float = 30.0  # the limit of a case whose calls end quickly, patched or not: only a machine too busy reaches it

    def calls_limit(self, calls: int, pause: float = 0.0) -> float:
        return self.passing_limit + 2 * calls + pause

    @classmethod
    def for_this_machine(cls, **values: Any) -> Settings:
        """The settings, with the slack (and the time a passing case or check may take) scaled by the load per CPU, 1x to 3x."""
        try:
            busy = min(3.0, max(1.0, os.getloadavg()[0] / (os.cpu_count() or 1)))
        except OSError:
            busy = 1.0
        return cls(slack=round(cls.slack * busy, 1), precheck_timeout_passing=round(cls.precheck_timeout_passing * busy, 1),
                   passing_limit=round(cls.passing_limit * busy, 1), **values)

    @property
    def short_precheck(self) -> dict[str, str | None]:
        return {"LITELLM_PRECHECK_TIMEOUT": f"{self.precheck_timeout:g}"}

    def backoff(self) -> float:
        """The openai SDK's longest total sleep between its retries (0.5 * 2^k, capped at 8)."""
        from llmfix.codemods.litellm_facts import outage_ridden_out  # codemods: libcst

        return outage_ridden_out(self.retries)

    def rounds(self, is_async: bool) -> int:
        """How many times the SDK's retry loop can run for one helper call: N+1 for sync with tenacity."""
        return self.retries + 1 if (not is_async and self.tenacity) else 1

    def max_attempts(self, is_async: bool) -> int:
        return (self.retries + 1) * self.rounds(is_async)

    def failing_call_bound(self, is_async: bool, per_attempt: float = 0.0) -> float:
        return self.max_attempts(is_async) * per_attempt + self.backoff() * self.rounds(is_async) + self.slack

    def judge_bound(self, target: Target | None, per_attempt: float = 0.0) -> float:
        """Upper bound for a judge call whose every request fails: its own attempts, each the SDK's retries
        (verify sets LITELLM_NUM_RETRIES to the SDK's 2), and its sleeps between them (1 s doubling)."""
        attempts = target.attempts if target else 1
        return attempts * ((self.retries + 1) * per_attempt + self.backoff()) + (2 ** (attempts - 1) - 1) * 1.0 + self.slack + 4


@dataclass(frozen=True)
class Endpoint:
    """What the mock does with every model a case sends: ``each`` first, then ``then``."""

    each: tuple[str, ...] = ()
    then: str = "ok"


@dataclass
class Step:
    """One thing a case does: call a checkout function, or run the support module's connection check through a helper;
    ``repeat`` times in a row (for the health counts), the last call ``pause`` seconds after the others."""

    label: str  # unique in its case: the function's name, or ensure / <name>-again / ...
    op: str  # call | ensure
    target: Target | None = None  # the function called (for ensure: the helper the check goes through)
    model: str | None = None  # the model verify passes; None when the code fixes it
    extra: dict[str, Any] = field(default_factory=dict)  # more keyword arguments (live mode)
    repeat: int = 1
    pause: float = 0.0

    @property
    def name(self) -> str:
        return "ensure_connection" if self.op == ENSURE else self.target.name if self.target else self.op

    @property
    def key(self) -> str | None:
        """The model the mock sees for this step when verify chose it (provider prefix stripped)."""
        return self.model.split("/", 1)[1] if self.model and "/" in self.model else self.model

    @property
    def known_model(self) -> str | None:
        """The model this step sends, when known before running: verify's, or a literal in the code."""
        literal = self.target.model_literal if self.target else None
        return self.key or (literal.split("/", 1)[1] if literal and literal.startswith("openai/") else literal)

    @property
    def is_generator(self) -> bool:
        return self.op == CALL and self.target is not None and self.target.kind == GENERATOR

    @property
    def is_judge(self) -> bool:
        return self.op == CALL and self.target is not None and self.target.kind == JUDGE

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"label": self.label, "op": self.op, "model": self.model, "repeat": self.repeat, "pause": self.pause}
        if self.target is not None and self.target.binding is not None:
            args, kwargs = self.target.binding.materialise(self.model)
            call = {"module": self.target.module, "name": self.target.name, "args": args, "kwargs": {**kwargs, **self.extra},
                    "is_async": self.target.is_async, "model_path": list(self.target.model_path), "model": self.model}
            data.update(call if self.op == CALL else {"helper": call})
        return data


@dataclass
class StepResult:
    label: str
    op: str
    function: str | None
    outcome: str  # returned | raised | missing | uncallable | unfinished
    value: Any = None
    type: str | None = None
    error: dict[str, str] | None = None
    seconds: float | None = None
    warnings: list[dict[str, Any]] = field(default_factory=list)
    calls: list[StepResult] = field(default_factory=list)  # each call of a repeated step, in order; the fields above are the last's
    printed: list[str] = field(default_factory=list)  # what the step printed on stdout

    @classmethod
    def from_event(cls, event: dict[str, Any], step: Step | None = None) -> StepResult:
        """The result of ``step`` (None: of ``health()``) from the child's event."""
        label, op, function = (step.label, step.op, step.name) if step else ("report", "report", "health")
        calls = [cls(f"{label}#{n}", op, function, c["outcome"], c.get("value"), c.get("type"), c.get("error"), c.get("seconds"))
                 for n, c in enumerate(event.get("calls") or [], 1)]
        return cls(label, op, function, event["outcome"], event.get("value"), event.get("type"), event.get("error"), event.get("seconds"),
                   event.get("warnings", []), calls, event.get("printed", []))

    @property
    def each(self) -> list[StepResult]:
        """Every call of the step: those of a repeated step, else the step itself."""
        return self.calls or [self]

    @property
    def raised(self) -> str | None:
        return (self.error or {}).get("type", "") if self.outcome == "raised" else None

    @property
    def name(self) -> str:
        return self.function or self.op

    @property
    def finished(self) -> bool:
        return self.outcome in ("returned", "raised")

    @property
    def score(self) -> float | None:
        """A judge's score (its VerificationResult's ``score``), else None."""
        value = self.value.get("score") if isinstance(self.value, dict) else None
        return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None

    def describe(self) -> str:
        """A few words for the table: ``text``, ``""``, ``None``, ``dict``, ``score 0.0``, ``raised X``, ``killed``;
        a repeated step's calls in order: ``None x4, raised X x3``."""
        words = {"unfinished": "killed", "missing": "not defined", "uncallable": "not called"}
        if len(self.calls) > 1:
            return counted_runs([call.describe() for call in self.calls])
        if self.outcome in words or self.outcome == "raised":
            return words.get(self.outcome) or (f"raised {self.error['type']}" if self.error else "raised")
        if self.score is not None:
            return f"score {self.score!r}"
        if isinstance(self.value, str):
            return "text" if self.value else '""'
        return "dict" if isinstance(self.value, dict) else repr(self.value)


@dataclass
class Process:
    """One process of a case (a lane): its environment, the log lines it kept, what ``health()`` gave."""

    env: dict[str, str]
    lines: list[dict[str, Any]] = field(default_factory=list)  # Case.keep_lines: step, call, logger, level, message
    report: StepResult | None = None  # health()'s result; None when the case asks none or the process died first
    setup: float = 0.0  # seconds from importing the checkout to the first step (the support module's clock runs meanwhile)


@dataclass
class Observation:
    case: Case
    settings: Settings
    steps: dict[str, StepResult]
    attempts: dict[str, int]  # per step label, on the endpoint the step talks to
    models: dict[str, list[str]]  # per step label: the models the endpoint saw from it
    extra_attempts: dict[str, int]  # e.g. {"fallback": 3}
    seconds: float
    killed: bool
    env: dict[str, str]
    proxy_log: str = ""
    processes: dict[str, Process] = field(default_factory=dict)  # per step label: the process (lane) that ran it
    probes: dict[str, int] = field(default_factory=dict)  # per step label: its connection checks (one-token requests)

    def result(self, step: Step) -> StepResult:
        return self.steps.get(step.label) or StepResult(step.label, step.op, step.name, "unfinished")

    def models_of(self, step: Step) -> list[str]:
        """The models this step sent (as the endpoint saw them), else the one known beforehand."""
        return self.models.get(step.label) or ([step.known_model] if step.known_model else [])

    def process(self, step: Step) -> Process:
        return self.processes.get(step.label) or Process(self.env)

    def report_of(self, step: Step) -> StepResult:
        """What ``health()`` gave in the process that ran ``step``."""
        return self.process(step).report or StepResult.from_event({"outcome": "unfinished"})


Evaluator = Callable[[Observation], list[Problem]]
Check = Callable[[Observation, Step], list[Problem]]


def each(steps: list[Step], *checks: Check) -> Evaluator:
    return lambda obs: [p for step in steps for check in checks for p in check(obs, step)]


@dataclass
class Case:
    id: str
    scenario: str
    title: str
    expected: str
    steps: list[Step]
    evaluate: Evaluator
    limit: float
    env: dict[str, str | None] = field(default_factory=dict)
    endpoint: Endpoint = Endpoint()
    server: str = "primary"  # primary | proxied (through tinyproxy: the case needs it)
    concurrent: bool = True
    skip_reason: str | None = None
    keep_lines: str | None = None  # also keep the INFO+ log lines that start with this (the child logs at INFO then)
    report: bool = False  # each process calls the support module's health() after its steps

    def lanes(self) -> list[list[Step]]:
        """The steps by process: those whose model verify chooses together, then one lane per function with a fixed model."""
        lanes: dict[str | None, list[Step]] = {}
        for step in self.steps:
            fixed = step.target is not None and step.op != ENSURE and not step.target.controls_model
            lanes.setdefault(step.target.name if fixed else None, []).append(step)  # type: ignore[union-attr]
        return list(lanes.values())

    @property
    def is_judge(self) -> bool:
        return any(step.is_judge for step in self.steps)

    @property
    def answers(self) -> tuple[str, str]:
        """What the endpoint and the fallback answer: a rubric, or a judge's verdict."""
        return (JUDGE_ANSWER, JUDGE_FALLBACK_ANSWER) if self.is_judge else (ANSWER, FALLBACK_ANSWER)

    def problems(self, obs: Observation) -> list[Problem]:
        """The evaluator's problems; a judge's name ``judge``, the transform that patches it."""
        return [(fix if fix == BASICS or not self.is_judge else JUDGE_FIX, text) for fix, text in self.evaluate(obs)]


@dataclass
class CaseOutcome:
    case: Case
    status: str  # pass | fail | skip
    problems: list[tuple[str, str]] = field(default_factory=list)
    observation: Observation | None = None
    reason: str = ""


Progress = Callable[[int, CaseOutcome], None]


def tally(outcomes: list[CaseOutcome]) -> dict[str, int]:
    return {status: sum(o.status == status for o in outcomes) for status in ("pass", "fail", "skip")}


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
