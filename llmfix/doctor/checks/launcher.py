"""Check 6b: what the launcher scripts export, how they set --apply_adaptive_rubric_reward, and the key
they give the job: a key this shell lacks but a launcher exports is not "not set" (the probe uses it too)."""

from __future__ import annotations

from dataclasses import dataclass

from llmfix.doctor.env import EnvView
from llmfix.doctor.findings import LAYER, OK, WARN, Finding
from llmfix.doctor.launchers import Assignment, Launcher, flag_enabled, relevant
from llmfix.doctor.redact import redact_key

CHECK = "launcher"


def _shown(name: str, a: Assignment) -> str:
    """One export as the detail shows it, a secret's value as a short prefix."""
    value = redact_key(a.shown) if any(word in name.upper() for word in ("KEY", "TOKEN", "SECRET", "PASSWORD")) else a.shown
    return f"line {a.line}: {'export ' if a.scope == 'script' else ''}{name}={value}" + (" (for one command)" if a.scope == "command" else "")


def check(launcher: Launcher, source: str) -> list[Finding]:
    """What ``launcher`` exports and how it sets the flag; ``source``: the name findings carry."""
    exports = {n: a for n, a in launcher.exports().items() if relevant(n)}
    detail = [_shown(n, a) for n, a in sorted(exports.items(), key=lambda x: x[1].line)] + [f"unset {n}" for n in sorted(launcher.unset) if relevant(n)]
    detail += [f"line {line}: sources {what} (not followed)" for what, line in launcher.sourced]
    findings = [Finding(CHECK, WARN, problem, "", "launcher-unreadable", source, LAYER["launcher"]) for problem in launcher.problems]
    flag = "no --apply_adaptive_rubric_reward flag: adaptive rubrics off unless the config enables them"
    if launcher.flag is not None:
        value, line = launcher.flag
        state = {True: "rubric generation calls the LLM during training", False: "adaptive rubrics off", None: "value not understood"}
        flag = f"--apply_adaptive_rubric_reward {value} (line {line}): {state[flag_enabled(value)]}"
    summary = f"exports {', '.join(sorted(exports)) or 'no LLM-related variables'}; {flag}"
    findings.append(Finding(CHECK, OK, summary, source=source, layer=LAYER["launcher"], detail=detail))
    for a in launcher.unexported():
        summary, fix = f"line {a.line} sets {a.name} without exporting it: the training job does not see it", f"write `export ` in front of line {a.line}"
        findings.append(Finding(CHECK, WARN, summary, f"{fix} of {source} (or add `export {a.name}` after it)", "launcher-unexported", source, LAYER["config"]))
    unresolved = "comes from a command substitution or argument; the doctor cannot check its value"
    return findings + [
        Finding(CHECK, WARN, f"line {a.line}: {n} {unresolved}", "", "launcher-unresolved", source, LAYER["launcher"])
        for n, a in exports.items()
        if a.unresolved
    ]


@dataclass
class Launched:
    """One launcher script, the name its findings carry, and the job's environment (None when running
    through it changes no LLM-related variable)."""

    launcher: Launcher
    source: str
    view: EnvView | None

    @property
    def gives_key(self) -> bool:
        return self.view is not None and bool(self.view.endpoint.key) and self.view.endpoint.key_source in self.launcher.exports()


def _names(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def settle_key(findings: list[Finding], main: EnvView, launched: list[Launched]) -> list[Finding]:
    """The shell's "key is not set" findings, told again when launchers export the key."""
    givers = [item for item in launched if item.gives_key]
    if not givers or main.endpoint.key:
        return findings
    others, var = [item.source for item in launched if not item.gives_key], main.endpoint.key_variable
    lines = [f"{g.source} (line {g.launcher.exports()[g.view.endpoint.key_source].line})" for g in givers]  # type: ignore[union-attr,index]
    one = len(givers) == 1
    summary = (
        f"{var} is not set in this shell, but {_names(lines)} {'exports' if one else 'export'} it: the training job started by "
        f"{'it' if one else 'them'} has the key"
    )
    if others:
        summary += f"; {_names(others)} {'does' if len(others) == 1 else 'do'} not set it: a job started there fails with 'Missing credentials'"
    fix = f"export {var}=... in {_names(others)} too (or in this shell)" if others else ""
    return [
        Finding(f.check, WARN if others else OK, summary, fix, "key-from-launcher", f.source, f.layer)
        if f.source == main.source and f.cause == "key-missing"
        else f
        for f in findings
    ]
