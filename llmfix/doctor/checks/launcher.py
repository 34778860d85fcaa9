"""Check 6b: what the checkout's launcher scripts export, and --apply_adaptive_rubric_reward."""

from __future__ import annotations

from typing import Mapping

from llmfix.doctor.findings import LAYER_CONFIG, LAYER_LAUNCHER, OK, WARN, Finding
from llmfix.doctor.launchers import Launcher, flag_enabled, relevant
from llmfix.doctor.redact import redact_key, redact_url

CHECK = "launcher"


def shown_value(name: str, value: str) -> str:
    upper = name.upper()
    if "KEY" in upper or "TOKEN" in upper or "SECRET" in upper or "PASSWORD" in upper:
        return redact_key(value)
    if upper.endswith("_PROXY") or upper.endswith("_BASE") or upper.endswith("_URL"):
        return redact_url(value)
    return value


def changes(launcher: Launcher, env: Mapping[str, str]) -> bool:
    """Does running through this launcher change any LLM-related variable?"""
    overlay = launcher.overlay(env)
    names = {n for n in set(env) | set(overlay) if relevant(n)}
    return any(env.get(n) != overlay.get(n) for n in names)


def check(launcher: Launcher, source: str | None = None) -> list[Finding]:
    """``source``: the name findings carry (default: the script's file name)."""
    src = source or launcher.name
    findings: list[Finding] = []
    exports = {n: a for n, a in launcher.exports().items() if relevant(n)}
    detail = [f"line {a.line}: {'export ' if a.scope == 'script' else ''}{n}={shown_value(n, a.shown)}"
              + (" (for one command)" if a.scope == "command" else "") for n, a in sorted(exports.items(), key=lambda x: x[1].line)]
    detail += [f"unset {n}" for n in sorted(launcher.unset) if relevant(n)]
    detail += [f"line {line}: sources {what} (not followed)" for what, line in launcher.sourced]
    for problem in launcher.problems:
        findings.append(Finding(CHECK, WARN, problem, "", [], "launcher-unreadable", src, LAYER_LAUNCHER))
    if launcher.flag is None:
        flag = "no --apply_adaptive_rubric_reward flag: adaptive rubrics off unless the config enables them"
    else:
        value, line = launcher.flag
        on = flag_enabled(value)
        state = {True: "rubric generation calls the LLM during training", False: "adaptive rubrics off",
                 None: "value not understood"}[on]
        flag = f"--apply_adaptive_rubric_reward {value} (line {line}): {state}"
    names = ", ".join(sorted(exports)) or "no LLM-related variables"
    findings.append(Finding(CHECK, OK, f"exports {names}; {flag}", "", detail, "", src, LAYER_LAUNCHER))
    for a in launcher.unexported():
        findings.append(Finding(CHECK, WARN, f"line {a.line} sets {a.name} without exporting it: the training job does not see it",
                                f"write `export ` in front of line {a.line} of {src} (or add `export {a.name}` after it)", [],
                                "launcher-unexported", src, LAYER_CONFIG))
    for n, a in exports.items():
        if a.unresolved:
            findings.append(Finding(CHECK, WARN, f"line {a.line}: {n} comes from a command substitution or argument; the doctor cannot check its value",
                                    "", [], "launcher-unresolved", src, LAYER_LAUNCHER))
    return findings
