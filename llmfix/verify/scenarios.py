"""The fault scenarios: what each case sets up, runs, and expects.

A *scenario* (``healthy``, ``transient``, ...) is one of the nine in issue 3; it has one
or more *cases*. A case runs in its own forked child process (see ``child.py``): the
runner plans the mock endpoints, the child calls the checkout's functions (*steps*), and
the case's ``evaluate`` turns what was observed into problems. A problem is
``(fix, text)`` where ``fix`` names the llmfix transform whose behaviour is missing
(retries, fallbacks, timeout, guards, precheck), so an unpatched checkout fails with a
list of the fixes it lacks.

Every step gets its own model name, ``openai/verify-<case>-<step>``; the mock endpoint
keys plans and attempt counts on it (the ``openai/`` prefix is what LiteLLM strips).
Environment values may hold ``$names`` the runner fills in (``$mock``, ``$dead_base``,
...); ``None`` removes a variable.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Problem = tuple[str, str]

RUBRIC = {
    "positive_rubrics": [{"title": "Names the mechanism", "description": "Explains Rayleigh scattering."}],
    "negative_rubrics": [{"title": "Wrong cause", "description": "Claims the sky reflects the ocean."}],
}
RUBRIC_TEXT = json.dumps(RUBRIC)
HELPER_TEXT = "llmfix verify: ok"
FALLBACK_RUBRIC = {**RUBRIC, "answered_by": "fallback"}
FALLBACK_TEXT = json.dumps(FALLBACK_RUBRIC)  # the fallback answers helpers and the generator alike


@dataclass(frozen=True)
class Settings:
    """The small retry/timeout settings verify runs with (through the patched env vars)."""

    retries: int = 2
    timeout: float = 5.0
    hang_timeout: float = 1.0
    precheck_timeout: float = 2.0
    retry_after: float = 1.0
    slack: float = 6.0  # scheduling noise: all cases run at once, on a machine that may be busy
    tenacity: bool = False  # LiteLLM's own retry layer is installed: sync retries multiply

    def backoff(self, retries: int | None = None) -> float:
        """The openai SDK's longest total sleep between ``retries`` retries (0.5 * 2^k, capped at 8)."""
        n = self.retries if retries is None else retries
        return sum(min(0.5 * 2**k, 8.0) for k in range(n))

    def rounds(self, op: str) -> int:
        """How many times the SDK's retry loop can run for one helper call."""
        return self.retries + 1 if (op == "sync" and self.tenacity) else 1

    def max_attempts(self, op: str) -> int:
        """Attempts one failing helper call may make: N+1, or (N+1)^2 for sync with tenacity."""
        return (self.retries + 1) * self.rounds(op)

    def failing_call_bound(self, op: str, per_attempt: float = 0.0) -> float:
        """Upper bound, in seconds, for a call whose every attempt fails."""
        attempts = (self.retries + 1) * self.rounds(op)
        return attempts * per_attempt + self.backoff() * self.rounds(op) + self.slack


@dataclass
class Step:
    op: str  # sync | async | generator | ensure | check
    label: str
    model: str | None = None
    kwargs: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str | None:
        """The mock's request key: the model name without the provider prefix."""
        return self.model.split("/", 1)[1] if self.model and "/" in self.model else self.model

    def to_json(self) -> dict[str, Any]:
        return {"op": self.op, "label": self.label, "model": self.model, "kwargs": self.kwargs}


@dataclass
class StepResult:
    label: str
    op: str
    function: str | None
    outcome: str  # returned | raised | missing | unfinished
    value: Any = None
    type: str | None = None
    error: dict[str, str] | None = None
    seconds: float | None = None
    warnings: list[dict[str, Any]] = field(default_factory=list)
    model: str | None = None

    @classmethod
    def from_event(cls, event: dict[str, Any]) -> StepResult:
        return cls(
            label=event["label"], op=event["op"], function=event.get("function"), outcome=event["outcome"],
            value=event.get("value"), type=event.get("type"), error=event.get("error"),
            seconds=event.get("seconds"), warnings=event.get("warnings", []), model=event.get("model"),
        )

    @property
    def name(self) -> str:
        return self.function or self.op

    def describe(self) -> str:
        """A few words for the table: ``text``, ``""``, ``None``, ``dict``, ``raised X``, ``killed``."""
        if self.outcome == "unfinished":
            return "killed"
        if self.outcome == "missing":
            return "not defined"
        if self.outcome == "raised":
            return f"raised {self.error['type']}" if self.error else "raised"
        if isinstance(self.value, str):
            return "text" if self.value else '""'
        if isinstance(self.value, dict):
            return "dict"
        return repr(self.value)


@dataclass
class Observation:
    """What the runner saw for one case."""

    case: Case
    settings: Settings
    steps: dict[str, StepResult]
    attempts: dict[str, int]  # per step label, on the endpoint the step talks to
    extra_attempts: dict[str, int]  # e.g. {"fallback": 3}
    seconds: float
    killed: bool
    env: dict[str, str]
    proxy_log: str = ""
    names: dict[str, str] = field(default_factory=dict)  # op -> the checkout's function name

    def step(self, label: str) -> StepResult:
        if label in self.steps:
            return self.steps[label]
        planned = next((s for s in self.case.steps if s.label == label), None)
        op = planned.op if planned else ""
        return StepResult(label, op, self.names.get(op), "unfinished", model=planned.model if planned else None)


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
    plans: dict[str, list[str]] = field(default_factory=dict)  # key -> behaviours (primary endpoint)
    contents: dict[str, str | None] = field(default_factory=dict)
    fallback_contents: dict[str, str] = field(default_factory=dict)
    server: str = "primary"  # primary | tls
    concurrent: bool = True
    needs: tuple[str, ...] = ()  # "tinyproxy"
    skip_reason: str | None = None


@dataclass
class Scenario:
    number: int
    name: str
    summary: str
    cases: list[Case]


# ----------------------------------------------------------------------------- evaluation helpers


def _unfinished(step: StepResult, fix: str, obs: Observation) -> list[Problem]:
    """Problems for a step that never returned: killed at the case limit, or not defined at all."""
    if step.outcome == "missing":
        return [(fix, step.error["message"] if step.error else f"{step.name}: not defined")]
    if step.outcome != "unfinished":
        return []
    n = obs.settings.retries
    seen = obs.attempts.get(step.label)
    text = f"{step.name}: no result after {obs.case.limit:g}s (killed)"
    if seen is None:
        return [(fix, text)]
    text += f"; the server saw {seen} attempt{'s' if seen != 1 else ''}"
    if seen > n + 1 and not (step.op == "sync" and obs.settings.tenacity):
        return [("retries", f"{text}, LITELLM_NUM_RETRIES={n} allows {n + 1}")]
    return [(fix, text)]


def _show(value: Any) -> str:
    if isinstance(value, str):
        return json.dumps(value) if len(value) <= 40 else f"{json.dumps(value[:30])[:-1]}…\" ({len(value)} chars)"
    if isinstance(value, dict):
        return "the rubric dict"
    return repr(value)


def _returns(step: StepResult, expected: Any, fix: str, obs: Observation, why: str, shown: str | None = None) -> list[Problem]:
    problems = _unfinished(step, fix, obs)
    if problems or step.outcome in ("missing", "unfinished"):
        return problems
    if step.outcome == "raised":
        return [(fix, f"{step.name} raised {step.error['type']} on {why}: {_first_line(step.error['message'])}")]
    if step.value != expected or (expected == "" and step.type != "str"):
        return [(fix, f"{step.name} returned {step.describe()} on {why} (expected {shown or _show(expected)})")]
    return []


def _first_line(text: str, limit: int = 120) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= limit else line[: limit - 3] + "..."


def _generator_none_with_warning(step: StepResult, fix: str, obs: Observation, why: str, rubric_module: str | None) -> list[Problem]:
    problems = _unfinished(step, fix, obs)
    if problems or step.outcome in ("missing", "unfinished"):
        return problems
    if step.outcome == "raised":
        return [(fix, f"{step.name} raised {step.error['type']} on {why}: {_first_line(step.error['message'])}")]
    if step.value is not None:
        return [(fix, f"{step.name} returned {step.describe()} on {why} (expected None)")]
    mine = [w for w in step.warnings if rubric_module is None or w["logger"] == rubric_module]
    model = (step.model or "").split("/", 1)[-1]
    naming = [w for w in mine if model and model in w["message"]]
    if len(mine) != 1 or not naming:
        detail = f"{len(mine)} warning(s)" + ("" if not mine else f", none naming the model" if not naming else "")
        return [(fix, f"{step.name} returned None on {why} but logged {detail} (expected one naming {model})")]
    return []


def _hung(step: StepResult, obs: Observation) -> list[Problem]:
    """A call still waiting on a hanging endpoint: no timeout (1 attempt) or too many retries."""
    seen = obs.attempts.get(step.label, 0)
    timeout = obs.env.get("LITELLM_DEFAULT_TIMEOUT")
    if seen <= 1:
        return [("timeout", f"{step.name}: still waiting after {obs.case.limit:g}s on its first attempt: LITELLM_DEFAULT_TIMEOUT={timeout} not applied")]
    return _unfinished(step, "timeout", obs)


def _attempt_range(step: StepResult, obs: Observation, low: int, high: int) -> list[Problem]:
    """A finished failing call must have made between ``low`` and ``high`` attempts."""
    seen = obs.attempts.get(step.label)
    if step.outcome not in ("returned", "raised") or seen is None or low <= seen <= high:
        return []
    n = obs.settings.retries
    if seen < low:
        return [("retries", f"{step.name}: the server saw {seen} attempt(s), expected at least {low} with LITELLM_NUM_RETRIES={n}")]
    return [("retries", f"{step.name}: the server saw {seen} attempts, LITELLM_NUM_RETRIES={n} allows {high}")]


def _within(step: StepResult, bound: float, fix: str, what: str) -> list[Problem]:
    if step.seconds is not None and step.seconds > bound:
        return [(fix, f"{step.name} took {step.seconds:.1f}s on {what} (bound {bound:.1f}s)")]
    return []


# ----------------------------------------------------------------------------- the scenarios


def _model(case_id: str, label: str) -> str:
    return f"openai/verify-{case_id}-{label}"


def _callers(case_id: str, ops: tuple[str, ...] = ("sync", "async", "generator")) -> list[Step]:
    return [Step(op, op, _model(case_id, op)) for op in ops]


def _rubric_env(case_id: str, **extra: str | None) -> dict[str, str | None]:
    return {"RUBRIC_GENERATION_MODEL": _model(case_id, "generator"), **extra}


def build(settings: Settings, rubric_module: str | None = None) -> list[Scenario]:
    """All scenarios, for these settings. ``rubric_module`` is the generator module's name (for its warnings)."""
    s = settings
    n = s.retries
    scenarios: list[Scenario] = []

    # 1 healthy ---------------------------------------------------------------
    def healthy(obs: Observation) -> list[Problem]:
        problems = _returns(obs.step("sync"), HELPER_TEXT, "basics", obs, "a healthy endpoint")
        problems += _returns(obs.step("async"), HELPER_TEXT, "basics", obs, "a healthy endpoint")
        problems += _returns(obs.step("generator"), RUBRIC, "basics", obs, "a healthy endpoint")
        return problems

    scenarios.append(Scenario(1, "healthy", "the helpers return the text; the generator returns the parsed rubric", [
        Case("1", "healthy", "healthy endpoint", "text, text, rubric dict", _callers("1"), healthy,
             limit=20, env=_rubric_env("1"),
             contents={"verify-1-sync": HELPER_TEXT, "verify-1-async": HELPER_TEXT, "verify-1-generator": RUBRIC_TEXT}),
    ]))

    # 2 transient drops -------------------------------------------------------
    k = n

    def transient(obs: Observation) -> list[Problem]:
        problems: list[Problem] = []
        for label, expected in (("sync", HELPER_TEXT), ("async", HELPER_TEXT), ("generator", RUBRIC)):
            problems += _returns(obs.step(label), expected, "retries", obs, f"{k} dropped connection(s)")
            if obs.step(label).outcome == "returned" and obs.attempts.get(label) != k + 1:
                problems.append(("retries", f"{obs.step(label).name}: server saw {obs.attempts.get(label)} attempts (expected {k + 1})"))
        return problems

    scenarios.append(Scenario(2, "transient", f"first {k} attempts reset: retried, succeeds", [
        Case("2", "transient", f"{k} connection resets, then ok", f"succeeds; {k + 1} attempts each", _callers("2"), transient,
             limit=s.failing_call_bound("sync") + 8, env=_rubric_env("2", LITELLM_PRECHECK="0"),
             plans={f"verify-2-{op}": ["drop"] * k + ["ok"] for op in ("sync", "async", "generator")},
             contents={"verify-2-sync": HELPER_TEXT, "verify-2-async": HELPER_TEXT, "verify-2-generator": RUBRIC_TEXT}),
    ]))

    # 3 persistent 500 --------------------------------------------------------
    def persistent(obs: Observation) -> list[Problem]:
        problems: list[Problem] = []
        for label in ("sync", "async"):
            step = obs.step(label)
            problems += _returns(step, "", "guards", obs, "a persistent 500")
            problems += _within(step, s.failing_call_bound(label), "retries", f"a persistent 500 with LITELLM_NUM_RETRIES={n}")
            problems += _attempt_range(step, obs, n + 1, s.max_attempts(label))
        gen = obs.step("generator")
        problems += _attempt_range(gen, obs, n + 1, s.max_attempts("async"))
        problems += _generator_none_with_warning(gen, "guards", obs, "a persistent 500", rubric_module)
        problems += _within(gen, s.failing_call_bound("async"), "retries", f"a persistent 500 with LITELLM_NUM_RETRIES={n}")
        return problems

    scenarios.append(Scenario(3, "persistent-500", "every attempt 500: retried, then \"\" / None with one warning", [
        Case("3", "persistent-500", "500 on every attempt", f">= {n + 1} attempts; \"\", \"\", None + 1 warning",
             _callers("3"), persistent, limit=s.failing_call_bound("sync") + 4,
             env=_rubric_env("3", LITELLM_PRECHECK="0"),
             plans={f"verify-3-{op}": ["500"] * 200 for op in ("sync", "async", "generator")}),
    ]))

    # 4 429 + Retry-After -----------------------------------------------------
    def rate_limited(obs: Observation) -> list[Problem]:
        problems: list[Problem] = []
        for label, expected in (("sync", HELPER_TEXT), ("async", HELPER_TEXT), ("generator", RUBRIC)):
            problems += _returns(obs.step(label), expected, "retries", obs, "a 429 with Retry-After")
            if obs.step(label).outcome == "returned" and obs.attempts.get(label) != 2:
                problems.append(("retries", f"{obs.step(label).name}: server saw {obs.attempts.get(label)} attempts (expected 2)"))
        return problems

    scenarios.append(Scenario(4, "rate-limit", f"429 with Retry-After: {s.retry_after:g} once: retried, succeeds", [
        Case("4", "rate-limit", f"429, Retry-After {s.retry_after:g}s, then ok", "succeeds; 2 attempts each", _callers("4"), rate_limited,
             limit=s.retry_after + s.failing_call_bound("sync") + 5, env=_rubric_env("4", LITELLM_PRECHECK="0"),
             plans={f"verify-4-{op}": ["429", "ok"] for op in ("sync", "async", "generator")},
             contents={"verify-4-sync": HELPER_TEXT, "verify-4-async": HELPER_TEXT, "verify-4-generator": RUBRIC_TEXT}),
    ]))

    # 5 fallback with its own api_base -----------------------------------------
    fallback_model = _model("5", "fallback")
    fallback_env = json.dumps([{"model": fallback_model, "api_base": "$fallback", "api_key": "sk-llmfix-verify-fallback"}])

    def fallback(obs: Observation) -> list[Problem]:
        problems: list[Problem] = []
        for label, expected in (("sync", FALLBACK_TEXT), ("async", FALLBACK_TEXT), ("generator", FALLBACK_RUBRIC)):
            problems += _returns(obs.step(label), expected, "fallbacks", obs, "a dead primary with LITELLM_FALLBACK_MODELS set", "the fallback's answer")
        if not obs.extra_attempts.get("fallback"):
            problems.append(("fallbacks", "the fallback endpoint saw no request (LITELLM_FALLBACK_MODELS not used)"))
        return problems

    scenarios.append(Scenario(5, "fallback", "dead primary; LITELLM_FALLBACK_MODELS object with its own api_base answers", [
        Case("5", "fallback", "primary refused, fallback up", "fallback text, text, dict", _callers("5"), fallback,
             limit=2 * s.failing_call_bound("sync") + 5,
             env=_rubric_env("5", OPENAI_API_BASE="$dead_base", LITELLM_FALLBACK_MODELS=fallback_env),
             fallback_contents={"verify-5-fallback": FALLBACK_TEXT}),
    ]))

    # 6 hang ------------------------------------------------------------------
    def hang(obs: Observation) -> list[Problem]:
        problems: list[Problem] = []
        for label in ("sync", "async"):
            step = obs.step(label)
            if step.outcome == "unfinished":
                problems += _hung(step, obs)
                continue
            problems += _returns(step, "", "guards", obs, "a hanging endpoint")
            problems += _attempt_range(step, obs, n + 1, s.max_attempts(label))
            problems += _within(step, s.failing_call_bound(label, s.hang_timeout), "timeout", f"a hang with LITELLM_DEFAULT_TIMEOUT={s.hang_timeout:g}")
        gen = obs.step("generator")
        if gen.outcome == "unfinished":
            problems += _hung(gen, obs)
        else:
            problems += _generator_none_with_warning(gen, "guards", obs, "a hanging endpoint", rubric_module)
            problems += _within(gen, s.failing_call_bound("async", s.hang_timeout), "timeout", f"a hang with LITELLM_DEFAULT_TIMEOUT={s.hang_timeout:g}")
        return problems

    hang_bound = s.failing_call_bound("sync", s.hang_timeout)
    scenarios.append(Scenario(6, "hang", f"endpoint never answers; LITELLM_DEFAULT_TIMEOUT={s.hang_timeout:g}", [
        Case("6", "hang", f"no answer, timeout {s.hang_timeout:g}s", f"\"\", \"\", None within {hang_bound:.1f}s", _callers("6"), hang,
             limit=hang_bound + 4, env=_rubric_env("6", LITELLM_PRECHECK="0", LITELLM_DEFAULT_TIMEOUT=f"{s.hang_timeout:g}"),
             plans={f"verify-6-{op}": ["hang"] * 200 for op in ("sync", "async", "generator")}),
    ]))

    # 7 empty / null / no choices ----------------------------------------------
    def empty(behaviour: str, why: str) -> Evaluator:
        def evaluate(obs: Observation) -> list[Problem]:
            problems = _returns(obs.step("sync"), "", "guards", obs, why)
            problems += _returns(obs.step("async"), "", "guards", obs, why)
            problems += _generator_none_with_warning(obs.step("generator"), "guards", obs, why, rubric_module)
            return problems
        return evaluate

    cases7 = []
    for letter, behaviour, why in (("a", "empty", 'content ""'), ("b", "null", "content: null"), ("c", "nochoices", "choices: []")):
        cid = f"7{letter}"
        cases7.append(Case(cid, "empty", why, '"", "", None + 1 warning', _callers(cid), empty(behaviour, why),
                           limit=15, env=_rubric_env(cid, LITELLM_PRECHECK="0"),
                           plans={f"verify-{cid}-{op}": [behaviour] * 5 for op in ("sync", "async", "generator")}))
    scenarios.append(Scenario(7, "empty", "empty content, null content, no choices: \"\" / None, nothing raises", cases7))

    # 8 precheck --------------------------------------------------------------
    def refused(obs: Observation) -> list[Problem]:
        problems: list[Problem] = []
        endpoint = obs.env.get("OPENAI_API_BASE", "")
        for label in ("ensure", "generator"):
            step = obs.step(label)
            if step.outcome == "unfinished":
                problems.append(("precheck", f"{step.name}: still retrying the refused endpoint after {obs.case.limit:g}s (killed): no connection check first"))
                continue
            problems += _unfinished(step, "precheck", obs)
            if step.outcome == "missing":
                continue
            if step.outcome != "raised" or step.error["type"] != "LiteLLMConnectionError":
                problems.append(("precheck", f"{step.name} {step.describe()} on a refused endpoint (expected LiteLLMConnectionError)"))
                continue
            message = step.error["message"]
            model = (step.model or "").split("/", 1)[-1]
            for needle, what in ((endpoint, "the endpoint"), ("proxy", "the proxy variables"), (model, "the model")):
                if needle not in message:
                    problems.append(("precheck", f"{step.name}: the error does not name {what} ({needle})"))
            problems += _within(step, s.precheck_timeout + s.slack, "precheck", "a refused endpoint")
        return problems

    def blackholed(obs: Observation) -> list[Problem]:
        step = obs.step("ensure")
        problems = _unfinished(step, "precheck", obs)
        if not problems:
            if step.outcome != "raised" or step.error["type"] != "LiteLLMConnectionError":
                problems.append(("precheck", f"{step.name} {step.describe()} on a hanging endpoint (expected LiteLLMConnectionError)"))
            problems += _within(step, s.precheck_timeout + s.slack, "precheck", f"a hanging endpoint with LITELLM_PRECHECK_TIMEOUT={s.precheck_timeout:g}")
        return problems

    def once(obs: Observation) -> list[Problem]:
        problems: list[Problem] = []
        for label in ("ensure", "ensure-again"):
            step = obs.step(label)
            problems += _unfinished(step, "precheck", obs)
            if step.outcome == "raised":
                problems.append(("precheck", f"{step.name} raised {step.error['type']} on a healthy endpoint: {_first_line(step.error['message'])}"))
        if not problems and obs.attempts.get("ensure") != 1:
            problems.append(("precheck", f"two checks sent {obs.attempts.get('ensure')} request(s) (expected 1: once per process and model)"))
        return problems

    def disabled(obs: Observation) -> list[Problem]:
        step = obs.step("ensure")
        problems = _unfinished(step, "precheck", obs)
        if not problems:
            if step.outcome == "raised":
                problems.append(("precheck", f"{step.name} raised {step.error['type']} with LITELLM_PRECHECK=0"))
            if obs.attempts.get("ensure"):
                problems.append(("precheck", f"LITELLM_PRECHECK=0 still sent {obs.attempts['ensure']} request(s)"))
        return problems

    ensure_model = _model("8b", "ensure")
    scenarios.append(Scenario(8, "precheck", "ensure_litellm_connection fails fast and clearly, checks once, can be turned off", [
        Case("8a", "precheck", "refused endpoint", "raises; names endpoint, proxies, model",
             [Step("ensure", "ensure", _model("8a", "ensure")), Step("generator", "generator", _model("8a", "generator"))], refused,
             limit=s.failing_call_bound("sync") + s.precheck_timeout + 4,
             env=_rubric_env("8a", OPENAI_API_BASE="$dead_base")),
        Case("8b", "precheck", "healthy, checked twice", "passes; 1 request in all", [
            Step("ensure", "ensure", ensure_model), Step("ensure", "ensure-again", ensure_model)], once,
             limit=15, concurrent=False),
        Case("8c", "precheck", "LITELLM_PRECHECK=0", "passes; no request", [Step("ensure", "ensure", _model("8c", "ensure"))], disabled,
             limit=15, env={"LITELLM_PRECHECK": "0"}),
        Case("8d", "precheck", "hanging endpoint", f"raises within {s.precheck_timeout:g}s + slack", [Step("ensure", "ensure", _model("8d", "ensure"))],
             blackholed, limit=s.precheck_timeout + s.slack + 5, plans={"verify-8d-ensure": ["hang"] * 5}),
    ]))

    # 9 proxy -----------------------------------------------------------------
    proxy_vars = ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY")

    def dead_proxy(obs: Observation) -> list[Problem]:
        step = obs.step("ensure")
        problems = _unfinished(step, "precheck", obs)
        if problems:
            return problems
        if step.outcome != "raised" or step.error["type"] != "LiteLLMConnectionError":
            return [("precheck", f"{step.name} {step.describe()} through a dead proxy (expected LiteLLMConnectionError)")]
        proxy = obs.env.get("https_proxy", "")
        if proxy not in step.error["message"]:
            problems.append(("precheck", f"{step.name}: the error does not name the proxy ({proxy})"))
        problems += _within(step, s.precheck_timeout + s.slack, "precheck", "a dead proxy")
        if obs.attempts.get("ensure"):
            problems.append(("precheck", "the endpoint saw a request although the proxy is dead"))
        return problems

    def live_proxy(obs: Observation) -> list[Problem]:
        problems: list[Problem] = []
        for label, expected in (("sync", HELPER_TEXT), ("async", HELPER_TEXT), ("generator", RUBRIC)):
            problems += _returns(obs.step(label), expected, "basics", obs, "a live forward proxy")
        ensure = obs.step("ensure")
        if ensure.outcome == "raised":
            problems.append(("precheck", f"{ensure.name} raised {ensure.error['type']} through a live proxy: {_first_line(ensure.error['message'])}"))
        else:
            problems += _unfinished(ensure, "precheck", obs)
        if not problems and "127.0.0.1" not in obs.proxy_log:
            problems.append(("basics", "the proxy log shows no request: the calls did not go through the proxy"))
        return problems

    def bypass(obs: Observation) -> list[Problem]:
        problems: list[Problem] = []
        for label, expected in (("sync", HELPER_TEXT), ("async", HELPER_TEXT)):
            problems += _returns(obs.step(label), expected, "basics", obs, "no_proxy covering the endpoint")
        ensure = obs.step("ensure")
        if ensure.outcome == "raised":
            problems.append(("precheck", f"{ensure.name} raised {ensure.error['type']} with no_proxy covering the endpoint"))
        else:
            problems += _unfinished(ensure, "precheck", obs)
        return problems

    live_steps = [Step("ensure", "ensure", _model("9b", "ensure"))] + _callers("9b")
    scenarios.append(Scenario(9, "proxy", "dead proxy fails fast and is named; a live proxy carries the calls; no_proxy bypasses", [
        Case("9a", "proxy", "proxy at a closed port", "raises fast; names the proxy",
             [Step("ensure", "ensure", _model("9a", "ensure"))], dead_proxy, limit=s.precheck_timeout + s.slack + 5,
             env={name: "$dead_proxy" for name in proxy_vars}),
        Case("9b", "proxy", "live forward proxy (tinyproxy)", "all calls succeed through it", live_steps, live_proxy,
             limit=25, env=_rubric_env("9b", OPENAI_API_BASE="$proxied_base", SSL_CERT_FILE="$proxied_ca", **{name: "$proxy" for name in proxy_vars}),
             contents={"verify-9b-sync": HELPER_TEXT, "verify-9b-async": HELPER_TEXT, "verify-9b-generator": RUBRIC_TEXT},
             server="proxied", needs=("tinyproxy",)),
        Case("9c", "proxy", "dead proxy, no_proxy=127.0.0.1", "calls bypass the proxy and succeed",
             [Step("ensure", "ensure", _model("9c", "ensure"))] + _callers("9c", ("sync", "async")), bypass, limit=20,
             env={**{name: "$dead_proxy" for name in proxy_vars}, "no_proxy": "127.0.0.1,localhost", "NO_PROXY": "127.0.0.1,localhost"},
             contents={"verify-9c-sync": HELPER_TEXT, "verify-9c-async": HELPER_TEXT}),
    ]))
    return scenarios


def select(scenarios: list[Scenario], names: tuple[str, ...]) -> list[Scenario]:
    """The scenarios named (by name or number) or holding a named case id; all when ``names`` is empty."""
    if not names:
        return scenarios
    wanted = {n.strip().lower() for value in names for n in value.split(",") if n.strip()}
    known = {s.name for s in scenarios} | {str(s.number) for s in scenarios} | {c.id for s in scenarios for c in s.cases}
    unknown = sorted(wanted - known)
    if unknown:
        raise ValueError(f"unknown scenario {', '.join(unknown)}; choose from {', '.join(s.name for s in scenarios)}")
    chosen = []
    for scenario in scenarios:
        if scenario.name in wanted or str(scenario.number) in wanted:
            chosen.append(scenario)
            continue
        cases = [c for c in scenario.cases if c.id in wanted]
        if cases:
            chosen.append(Scenario(scenario.number, scenario.name, scenario.summary, cases))
    return chosen
