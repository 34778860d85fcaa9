"""Check 4: RUBRIC_GENERATION_MODEL / RUBRIC_JUDGE_MODEL, how LiteLLM routes them, and whether they exist."""

from __future__ import annotations

from llmfix.doctor import env as envmod
from llmfix.doctor.context import EnvView
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


def check(view: EnvView) -> list[Finding]:
    models = view.models
    ep = view.endpoint
    findings: list[Finding] = []

    shown_detail = False

    def finding(status: str, summary: str, fix: str = "", cause: str = "", detail: list[str] | None = None, layer: float = LAYER_MODEL) -> Finding:
        nonlocal shown_detail
        if detail is base_detail:  # the variables once, on the first models finding
            detail = [] if shown_detail else list(base_detail)
            shown_detail = True
        return Finding(CHECK, status, summary, fix, detail or [], cause, view.source, layer)

    gen = f"RUBRIC_GENERATION_MODEL={models.generation}" if models.generation_set else f"RUBRIC_GENERATION_MODEL unset -> {envmod.DEFAULT_RUBRIC_MODEL}"
    judge = f"RUBRIC_JUDGE_MODEL={models.judge}" if models.judge_set else f"RUBRIC_JUDGE_MODEL unset -> {envmod.DEFAULT_RUBRIC_MODEL}"
    base_detail = [gen, judge]
    if view.model_override:
        base_detail.append(f"--model {view.model_override} (checked and probed instead of the generation model)")
    if models.judge_set and not models.generation_set and models.judge != envmod.DEFAULT_RUBRIC_MODEL:
        findings.append(finding(WARN, f"only RUBRIC_JUDGE_MODEL is set ({models.judge}): rubric generation silently uses {envmod.DEFAULT_RUBRIC_MODEL}",
                                f"export RUBRIC_GENERATION_MODEL={models.judge}", "generation-model-default", base_detail))

    http = view.trace.stage("http") if view.trace is not None else None
    listed = list(http.data.get("models") or []) if http is not None and http.ok else []
    names: list[tuple[str, str]] = []
    if view.model_override:
        names.append(("--model", view.model_override))
    else:
        names.append(("generation", models.generation))
    if models.judge not in [n for _, n in names]:
        names.append(("judge", models.judge))
    problems = 0
    for role, name in names:
        r = route(name)
        label = f"--model {name!r}" if role == "--model" else f"{role} model {name!r}"
        if r.route == "unknown":
            problems += 1
            findings.append(finding(FAIL, f"{label}: {r.note}", f"spell it openai/{name} to send {name!r} to the OpenAI-compatible base URL",
                                    "provider-unknown", base_detail))
            continue
        if r.route not in (OPENAI_ROUTE, OPENROUTER_ROUTE):
            problems += 1
            findings.append(finding(WARN, f"{label}: {r.note}", f"spell it openai/{r.sent} if {ep.base_url.strip()} serves it",
                                    "provider-elsewhere", base_detail))
            continue
        if r.route == OPENROUTER_ROUTE and ep.route != "openrouter" and role != "--model" and name != view.probe_model:
            base_detail.append(f"{label} uses LiteLLM's openrouter/ route (OPENROUTER_API_KEY), not {ep.base_url.strip()}")
        sends = f"LiteLLM sends {r.sent!r}"
        if listed:
            if r.sent in listed:
                findings.append(finding(OK, f"{label}: {sends}; the endpoint lists it", "", "", base_detail))
            else:
                problems += 1
                hints = _suggest(r.sent, listed)
                fix = (f"use an id the endpoint lists, e.g. openai/{hints[0]}" if hints else "use an id from GET /models")
                var = "RUBRIC_GENERATION_MODEL" if role == "generation" else "RUBRIC_JUDGE_MODEL" if role == "judge" else "--model"
                if hints and var != "--model":
                    fix = f"export {var}=openai/{hints[0]}" + (f"  (or openrouter/{hints[0]})" if ep.is_openrouter else "")
                findings.append(finding(FAIL, f"{label}: {sends}, which the endpoint does not list ({len(listed)} models)",
                                        fix, "model-unknown", [f"close matches: {', '.join(hints)}"] if hints else []))
            continue
        if ep.is_openrouter and "/" not in r.sent:
            problems += 1
            findings.append(finding(WARN, f"{label}: {sends}, a bare name OpenRouter does not know", _spelling_for_openrouter(r.sent),
                                    "model-spelling", base_detail))
            continue
        if view.trace is None:
            tail = ""
        elif view.trace.failed is not None:
            tail = " (not checked against the endpoint: it did not answer)"
        else:
            tail = " (the endpoint does not list models)"
        findings.append(finding(OK, f"{label}: {sends}{tail}", "", "", base_detail))
    return findings
