"""What a verify case is: its steps, what the mock endpoint does, what was observed.

A *case* runs in forked child processes (``child.py``): the runner sets up the mock
endpoint, the child calls the checkout's functions (*steps*), and the case's
``evaluate`` turns what was observed into problems. A problem is ``(fix, text)`` where
``fix`` names the llmfix transform whose behaviour is missing (or ``basics``), so an
unpatched checkout fails with a list of the fixes it lacks.

Each case talks to its own *scope* of the shared mock endpoint (a path prefix in
``OPENAI_API_BASE``), so counts never mix between cases. Inside a case, a call whose
model verify chooses gets its own model name (``openai/verify-<case>-<function>``); a
call whose model is fixed in the code (``model_name="gpt-4.1"``) runs in a *lane* of its
own (another process, another scope), so it is counted apart whatever model it sends.

Environment values may hold ``$names`` the runner fills in (``$mock``, ``$dead_base``,
...); ``None`` removes a variable.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from llmfix.verify.analysis import GENERATOR, Target

Problem = tuple[str, str]
BASICS = "basics"  # a problem no transform fixes: the code does not work even on a healthy endpoint

RUBRIC = {
    "positive_rubrics": [{"title": "Names the mechanism", "description": "Explains Rayleigh scattering."}],
    "negative_rubrics": [{"title": "Wrong cause", "description": "Claims the sky reflects the ocean."}],
}
ANSWER = json.dumps(RUBRIC)  # what the mock answers: helpers return it, generators parse it
FALLBACK_RUBRIC = {**RUBRIC, "answered_by": "fallback"}
FALLBACK_ANSWER = json.dumps(FALLBACK_RUBRIC)
PRECHECK = "ensure_litellm_connection"


@dataclass(frozen=True)
class Settings:
    """The small retry/timeout settings verify runs with (through the patched env vars)."""

    retries: int = 2
    timeout: float = 5.0
    hang_timeout: float = 1.0
    precheck_timeout: float = 2.0  # LITELLM_PRECHECK_TIMEOUT where a failing check is timed
    precheck_timeout_passing: float = 8.0  # ... everywhere else: a busy machine must not fail a check that should pass
    recheck: float = 1.0  # LITELLM_PRECHECK_RECHECK in the recheck case
    retry_after: float = 1.0
    slack: float = 6.0  # scheduling noise: all cases run at once, on a machine that may be busy
    tenacity: bool = False  # LiteLLM's own retry layer is installed: sync retries multiply
    health_interval: float = 2.0  # LITELLM_HEALTH_INTERVAL in the health cases that expect a summary
    failure_window: int = 5  # LITELLM_FAILURE_WINDOW in the health cases
    max_failure_rate: float = 0.3  # LITELLM_MAX_FAILURE_RATE where it is set (not a multiple of 1/window)

    @property
    def short_precheck(self) -> dict[str, str | None]:
        """The environment of a case that times a failing connection check."""
        return {"LITELLM_PRECHECK_TIMEOUT": f"{self.precheck_timeout:g}"}

    def backoff(self, retries: int | None = None) -> float:
        """The openai SDK's longest total sleep between ``retries`` retries (0.5 * 2^k, capped at 8)."""
        from llmfix.codemods.litellm_facts import outage_ridden_out

        return outage_ridden_out(self.retries if retries is None else retries)

    def rounds(self, is_async: bool) -> int:
        """How many times the SDK's retry loop can run for one helper call."""
        return self.retries + 1 if (not is_async and self.tenacity) else 1

    def max_attempts(self, is_async: bool) -> int:
        """Attempts one failing call may make: N+1, or (N+1)^2 for sync with tenacity."""
        return (self.retries + 1) * self.rounds(is_async)

    def failing_call_bound(self, is_async: bool, per_attempt: float = 0.0) -> float:
        """Upper bound, in seconds, for a call whose every attempt fails."""
        rounds = self.rounds(is_async)
        return (self.retries + 1) * rounds * per_attempt + self.backoff() * rounds + self.slack


@dataclass(frozen=True)
class Endpoint:
    """What the mock does with every model a case sends: ``each`` first, then ``then``."""

    each: tuple[str, ...] = ()
    then: str = "ok"


CALL, ENSURE, WAIT = "call", "ensure", "wait"


@dataclass
class Step:
    """One thing a case does: call a checkout function, run the precheck, or wait.

    A call may be repeated: ``repeat`` calls one after the other in the step's process
    (what the health tracking counts), the last one ``pause`` seconds after the others.
    """

    label: str  # unique in its case: the function's name, or ensure / ensure-again / ...
    op: str  # call | ensure | wait
    target: Target | None = None
    model: str | None = None  # the model verify passes; None when the code fixes it
    seconds: float = 0.0  # wait
    extra: dict[str, Any] = field(default_factory=dict)  # more keyword arguments (live mode)
    repeat: int = 1  # calls, one after the other
    pause: float = 0.0  # seconds before the last of them

    @property
    def name(self) -> str:
        return self.target.name if self.target else PRECHECK if self.op == ENSURE else self.op

    @property
    def key(self) -> str | None:
        """The model the mock sees for this step when verify chose it (provider prefix stripped)."""
        return self.model.split("/", 1)[1] if self.model and "/" in self.model else self.model

    @property
    def own_lane(self) -> bool:
        """A call whose model verify cannot choose runs in a process (and scope) of its own."""
        return self.op == CALL and self.target is not None and not self.target.controls_model

    @property
    def known_model(self) -> str | None:
        """The model this step sends, when known before running: verify's, or a literal in the code."""
        if self.key:
            return self.key
        literal = self.target.model_literal if self.target else None
        return literal.split("/", 1)[1] if literal and literal.startswith("openai/") else literal

    @property
    def is_generator(self) -> bool:
        return self.target is not None and self.target.kind == GENERATOR

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"label": self.label, "op": self.op, "model": self.model, "seconds": self.seconds}
        if self.repeat > 1:
            data.update(repeat=self.repeat, pause=self.pause)
        if self.target is not None and self.target.binding is not None:
            args, kwargs = self.target.binding.materialise(self.model)
            data.update(module=self.target.module, name=self.target.name, args=args, kwargs={**kwargs, **self.extra})
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
    model: str | None = None
    calls: list[StepResult] = field(default_factory=list)  # each call of a repeated step, in order; the fields above are the last's

    @classmethod
    def from_event(cls, event: dict[str, Any]) -> StepResult:
        calls = [
            cls(label=f"{event['label']}#{number}", op=event["op"], function=event.get("function"), outcome=call["outcome"],
                value=call.get("value"), type=call.get("type"), error=call.get("error"), seconds=call.get("seconds"),
                model=event.get("model"))
            for number, call in enumerate(event.get("calls") or [], 1)
        ]
        return cls(
            label=event["label"], op=event["op"], function=event.get("function"), outcome=event["outcome"],
            value=event.get("value"), type=event.get("type"), error=event.get("error"),
            seconds=event.get("seconds"), warnings=event.get("warnings", []), model=event.get("model"), calls=calls,
        )

    @property
    def each(self) -> list[StepResult]:
        """Every call of the step: those of a repeated step, else the step itself."""
        return self.calls or [self]

    @property
    def raised(self) -> str | None:
        """The type of the exception the call raised, else None."""
        return (self.error or {}).get("type", "") if self.outcome == "raised" else None

    @property
    def name(self) -> str:
        return self.function or self.op

    @property
    def finished(self) -> bool:
        return self.outcome in ("returned", "raised")

    def describe(self) -> str:
        """A few words for the table: ``text``, ``""``, ``None``, ``dict``, ``raised X``, ``killed``.

        A repeated step counts its calls in order: ``None x4, raised X x3``.
        """
        if len(self.calls) > 1:
            runs: list[list[Any]] = []
            for call in self.calls:
                text = call.describe()
                if runs and runs[-1][0] == text:
                    runs[-1][1] += 1
                else:
                    runs.append([text, 1])
            return ", ".join(text if count == 1 else f"{text} x{count}" for text, count in runs)
        if self.outcome == "unfinished":
            return "killed"
        if self.outcome == "missing":
            return "not defined"
        if self.outcome == "uncallable":
            return "not called"
        if self.outcome == "raised":
            return f"raised {self.error['type']}" if self.error else "raised"
        if isinstance(self.value, str):
            return "text" if self.value else '""'
        if isinstance(self.value, dict):
            return "dict"
        return repr(self.value)


@dataclass
class Process:
    """One process of a case (a lane): its environment, the log lines it kept, what its report function gave."""

    env: dict[str, str]
    lines: list[dict[str, Any]] = field(default_factory=list)  # Case.keep_lines: step, call, logger, level, message
    report: StepResult | None = None  # Case.report's result; None when the case has none or the process died first


@dataclass
class Observation:
    """What the runner saw for one case."""

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

    def result(self, step: Step) -> StepResult:
        if step.label in self.steps:
            return self.steps[step.label]
        return StepResult(step.label, step.op, step.name, "unfinished", model=step.model)

    def step(self, label: str) -> StepResult:
        return self.result(next(s for s in self.case.steps if s.label == label))

    def models_of(self, step: Step) -> list[str]:
        """The models this step sent (as the endpoint saw them), else the one known beforehand."""
        seen = self.models.get(step.label) or []
        known = step.known_model
        return seen or ([known] if known else [])

    def process(self, step: Step) -> Process:
        """The process that ran ``step``: its own environment, the lines it kept, its report."""
        return self.processes.get(step.label) or Process(self.env)

    def env_of(self, step: Step) -> dict[str, str]:
        return self.process(step).env

    def lines_of(self, step: Step) -> list[dict[str, Any]]:
        """The log lines kept in the process that ran ``step`` (empty when none or the case keeps none)."""
        return self.process(step).lines

    def report_of(self, step: Step) -> StepResult:
        """What the case's report function gave in the process that ran ``step``."""
        return self.process(step).report or StepResult("report", "report", self.case.report, "unfinished")


Evaluator = Callable[[Observation], list[Problem]]


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
    server: str = "primary"  # primary | proxied
    concurrent: bool = True
    needs: tuple[str, ...] = ()  # "tinyproxy"
    skip_reason: str | None = None
    keep_lines: str | None = None  # also keep the INFO+ log lines that start with this (the child logs at INFO then)
    report: str | None = None  # a function of the helpers' module each process calls, without arguments, after its steps

    def lanes(self) -> list[list[Step]]:
        """The steps by process: the shared lane first, then one lane per call with a fixed model."""
        shared = [s for s in self.steps if not s.own_lane]
        own = [[s] for s in self.steps if s.own_lane]
        return ([shared] if shared else []) + own

    @property
    def calls(self) -> list[Step]:
        return [s for s in self.steps if s.op != WAIT]
