"""Check 4: RUBRIC_GENERATION_MODEL / RUBRIC_JUDGE_MODEL, how LiteLLM routes them, and whether they exist."""

from __future__ import annotations

from llmfix.doctor.env import DEFAULT_RUBRIC_MODEL, EnvView
from llmfix.doctor.findings import FAIL, LAYER_MODEL, OK, WARN, Finding
from llmfix.doctor.modelnames import OPENAI_ROUTE, OPENROUTER_ROUTE, route

CHECK = "models"


def _suggest(sent: str, listed: list[str]) -> list[str]:
    tail = sent.split("/")[-1]
    return [m for m in listed if m == tail or m.endswith("/" + tail)][:3]


def _spelling_for_openrouter(sent: str) -> str:
    tail = sent.split("/")[-1]
    vendor = "openai" if tail.startswith(("gpt", "o1", "o3", "o4")) else "VENDOR"
    return (f"OpenRouter ids look like {vendor}/{tail}: spell it openai/{vendor}/{tail} (sent via OPENAI_API_BASE) "
            f"or openrouter/{vendor}/{tail} (LiteLLM's OpenRouter route, needs OPENROUTER_API_KEY)")


class _Once:
    """The models' variables as detail lines: shown on the first finding that takes them only."""

    def __init__(self, lines: list[str]) -> None:
        self.lines = lines
        self.shown = False

    def take(self) -> list[str]:
        if self.shown:
            return []
        self.shown = True
        return list(self.lines)


def _variables(view: EnvView) -> list[str]:
    lines = [f"{var}={view.env[var]}" if view.env.get(var) else f"{var} unset -> {DEFAULT_RUBRIC_MODEL}"
             for var in ("RUBRIC_GENERATION_MODEL", "RUBRIC_JUDGE_MODEL")]
    if view.model_override:
        lines.append(f"--model {view.model_override} (checked and probed instead of the generation model)")
    return lines


def _names(view: EnvView) -> list[tuple[str, str]]:
    """(role, model name) for each model the helpers use: --model or generation, then judge."""
    names = [("--model", view.model_override)] if view.model_override else [("generation", view.generation_model)]
    if view.judge_model not in [n for _, n in names]:
        names.append(("judge", view.judge_model))
    return names


def check(view: EnvView) -> list[Finding]:
    once = _Once(_variables(view))

    def finding(status: str, summary: str, fix: str = "", cause: str = "", detail: list[str] | None = None) -> Finding:
        return Finding(CHECK, status, summary, fix, once.take() if detail is None else detail, cause, view.source, LAYER_MODEL)

    findings: list[Finding] = []
    judge = view.env.get("RUBRIC_JUDGE_MODEL")
    if judge and not view.env.get("RUBRIC_GENERATION_MODEL") and judge != DEFAULT_RUBRIC_MODEL:
        findings.append(finding(WARN, f"only RUBRIC_JUDGE_MODEL is set ({judge}): rubric generation silently uses {DEFAULT_RUBRIC_MODEL}",
                                f"export RUBRIC_GENERATION_MODEL={judge}", "generation-model-default"))
    http = view.trace.stage("http") if view.trace is not None else None
    listed = list(http.data.get("models") or []) if http is not None and http.ok else []
    for role, name in _names(view):
        findings.append(_model_finding(view, role, name, listed, once, finding))
    return findings


def _model_finding(view: EnvView, role: str, name: str, listed: list[str], once: _Once, finding) -> Finding:
    """How LiteLLM routes one model, and whether the endpoint serves it."""
    ep = view.endpoint
    r = route(name)
    label = f"--model {name!r}" if role == "--model" else f"{role} model {name!r}"
    if r.route == "unknown":
        return finding(FAIL, f"{label}: {r.note}", f"spell it openai/{name} to send {name!r} to the OpenAI-compatible base URL", "provider-unknown")
    if r.route not in (OPENAI_ROUTE, OPENROUTER_ROUTE):
        return finding(WARN, f"{label}: {r.note}", f"spell it openai/{r.sent} if {ep.base_url.strip()} serves it", "provider-elsewhere")
    if r.route == OPENROUTER_ROUTE and ep.route != "openrouter" and role != "--model" and name != view.probe_model:
        once.lines.append(f"{label} uses LiteLLM's openrouter/ route (OPENROUTER_API_KEY), not {ep.base_url.strip()}")
    sends = f"LiteLLM sends {r.sent!r}"
    if listed:
        if r.sent in listed:
            return finding(OK, f"{label}: {sends}; the endpoint lists it")
        hints = _suggest(r.sent, listed)
        fix = f"use an id the endpoint lists, e.g. openai/{hints[0]}" if hints else "use an id from GET /models"
        if hints and role != "--model":
            var = "RUBRIC_GENERATION_MODEL" if role == "generation" else "RUBRIC_JUDGE_MODEL"
            fix = f"export {var}=openai/{hints[0]}" + (f"  (or openrouter/{hints[0]})" if ep.is_openrouter else "")
        return finding(FAIL, f"{label}: {sends}, which the endpoint does not list ({len(listed)} models)",
                       fix, "model-unknown", [f"close matches: {', '.join(hints)}"] if hints else [])
    if ep.is_openrouter and "/" not in r.sent:
        return finding(WARN, f"{label}: {sends}, a bare name OpenRouter does not know", _spelling_for_openrouter(r.sent), "model-spelling")
    if view.trace is None:
        tail = ""
    elif view.trace.failed is not None:
        tail = " (not checked against the endpoint: it did not answer)"
    else:
        tail = " (the endpoint does not list models)"
    return finding(OK, f"{label}: {sends}{tail}")
