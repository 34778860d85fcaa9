"""The environments the launcher scripts give the training job, and what they settle about the shell's.

A key this shell lacks but a launcher exports is not "not set": the job started by that
launcher has it. The shell's finding says so, and the live probe runs with the launcher's
environment, so the doctor never contradicts its own launcher findings."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from llmfix.doctor.checks import key
from llmfix.doctor.env import EnvView
from llmfix.doctor.findings import OK, WARN, Finding
from llmfix.doctor.launchers import Launcher


@dataclass
class Launched:
    """One launcher script, the name findings about it carry, and the job's environment
    (None when running through the launcher changes no LLM-related variable)."""

    launcher: Launcher
    source: str
    view: EnvView | None

    @property
    def gives_key(self) -> bool:
        return self.view is not None and bool(self.view.endpoint.key) and self.view.endpoint.key_source in self.launcher.exports()

    def key_line(self) -> str:
        assert self.view is not None and self.view.endpoint.key_source is not None
        return f"{self.source} (line {self.launcher.exports()[self.view.endpoint.key_source].line})"


def _names(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def settle_key(findings: list[Finding], main: EnvView, launched: list[Launched]) -> list[Finding]:
    """The shell's "key is not set" findings, told again when launchers export the key."""
    givers = [item for item in launched if item.gives_key]
    if not givers or main.endpoint.key:
        return findings
    others = [item.source for item in launched if not item.gives_key]
    var = key.variable(main)
    out = []
    for f in findings:
        if f.source != main.source or f.cause != "key-missing":
            out.append(f)
            continue
        exports = "exports" if len(givers) == 1 else "export"
        summary = (f"{var} is not set in this shell, but {_names([g.key_line() for g in givers])} {exports} it: "
                   f"the training job started by {'it' if len(givers) == 1 else 'them'} has the key")
        if not others:
            out.append(Finding(f.check, OK, summary, "", [], "key-from-launcher", f.source, f.layer))
            continue
        summary += f"; {_names(others)} {'does' if len(others) == 1 else 'do'} not set it: a job started there fails with 'Missing credentials'"
        out.append(Finding(f.check, WARN, summary, f"export {var}=... in {_names(others)} too (or in this shell)", [],
                           "key-from-launcher", f.source, f.layer))
    return out


def probe_environment(main: EnvView, launched: list[Launched]) -> tuple[str, Mapping[str, str], EnvView]:
    """(source, env, view) the live probe runs with: this shell's, or, when the shell has no key
    and a launcher gives the job one, that launcher's (a call without a key proves nothing)."""
    if not main.endpoint.key:
        for item in launched:
            if item.gives_key and item.view is not None:
                return item.source, item.view.env, item.view
    return main.source, main.env, main
