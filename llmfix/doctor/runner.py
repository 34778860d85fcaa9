"""Run every check and rank the findings: the doctor's Python entry point."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Mapping

from llmfix.doctor import launchers as launchermod
from llmfix.doctor.checks import endpoint, key, launcher, litellm_setup, live, mergedriver, models, proxy
from llmfix.doctor.checks.checkout import CheckoutCheck
from llmfix.doctor.env import EnvView
from llmfix.doctor.findings import FAIL, Finding, rank
from llmfix.doctor.jobpython import JobPython, JobPythonCheck, resolve
from llmfix.doctor.launched import Launched, probe_environment, settle_key
from llmfix.doctor.layout import Checkout, checkouts
from llmfix.doctor.probe import PROBE_TIMEOUT, LiveProbe, ProbeResult
from llmfix.doctor.report import Report

ONLINE_BUDGET = 14.0  # seconds; the live probe is abandoned after this


def _quiet(_step: str) -> None:
    """The progress callback when nothing is shown."""


class DoctorInputError(ValueError):
    """Bad input: the doctor cannot run (exit 2)."""


@dataclass
class _Settings:
    """What every environment view of one run shares, and where to say what is being done."""

    offline: bool
    model: str | None
    traces: dict
    say: Callable[[str], None] = _quiet

    def findings(self, view: EnvView) -> list[Finding]:
        """Checks 1-4 on ``view``, saying which endpoint is being contacted (it can take seconds)."""
        if not self.offline:
            whose = "" if view.source == "environment" else f" (as {view.source} sets it up)"
            self.say(f"checking {view.endpoint.base_url.strip()}{whose}")
        return env_findings(view)

    def view(self, env: Mapping[str, str], source: str) -> EnvView:
        return EnvView(dict(env), source, self.offline, self.model, self.traces)


def env_findings(view: EnvView) -> list[Finding]:
    """Checks 1-4 on one environment."""
    out: list[Finding] = []
    for check in (proxy.check, endpoint.check, key.check, models.check):
        out.extend(check(view))
    return out


def _layout(path: str | os.PathLike[str] | None) -> tuple[list[Checkout], list[tuple[Path, str]]]:
    """(the checkouts to examine, every launcher script with the name its findings carry)."""
    if path is None:
        return [], []
    path = Path(path)
    if not path.exists():
        raise DoctorInputError(f"{path}: no such file or directory")
    found, lone = checkouts(path)
    scripts = [(s, c.script_source(s)) for c in found for s in c.scripts] + [(s, s.name) for s in lone]
    return found, scripts


def _launched(scripts: list[tuple[Path, str]], env: Mapping[str, str], settings: _Settings) -> list[Launched]:
    out = []
    for path, source in scripts:
        script = launchermod.parse_launcher(path, env)
        view = settings.view(script.overlay(env), source) if launcher.changes(script, env) else None
        out.append(Launched(script, source, view))
    return out


def _launcher_findings(item: Launched, settings: _Settings) -> list[Finding]:
    findings = launcher.check(item.launcher, item.source)
    if item.view is not None:
        findings += settings.findings(item.view)
        if any(n.startswith("LITELLM_") for n in item.launcher.exports()):
            findings += litellm_setup.budget_findings(item.view.env, None, item.source)
    return findings


def _validate(path: str | os.PathLike[str] | None, model: str | None, python: str | None) -> str | None:
    """Refuse bad input; return the training job's interpreter, resolved (None: not given)."""
    if model is not None and not model.strip():
        raise DoctorInputError("--model needs a model name")
    if path is not None and not str(path).strip():
        raise DoctorInputError("empty PATH: name a checkout, a launcher script, or nothing (this shell's environment)")
    if python is None:
        return None
    found = resolve(python) if python.strip() else None
    if found is None:
        raise DoctorInputError(f"--python {python}: no such executable (name the interpreter the training job runs)")
    return found


def _checkout_findings(checks: list[CheckoutCheck], env: Mapping[str, str], say: Callable[[str], None]) -> tuple[list[Finding], bool | None]:
    """Each checkout's verdict and merge driver, and whether the code is patched (None: unknown or mixed)."""
    findings: list[Finding] = []
    repositories: set[str] = set()
    for check in checks:
        say(f"llmfix check {check.path}")
        findings += check.findings()
        findings += mergedriver.check(check.path, env, check.source, repositories)
    verdicts = {check.patched for check in checks}
    return findings, (verdicts.pop() if len(verdicts) == 1 else False if False in verdicts else None)


def _await(probe: LiveProbe, deadline: float, say: Callable[[str], None]) -> ProbeResult:
    """The probe's result by ``deadline``, saying what it is doing meanwhile."""
    while time.monotonic() < deadline:
        say(f"live probe ({probe.model}): {probe.phase}")
        if probe.wait(min(0.25, deadline - time.monotonic())):
            break
    return probe.result(deadline - time.monotonic())


def run_doctor(
    path: str | os.PathLike[str] | None = None,
    *,
    env: Mapping[str, str] | None = None,
    offline: bool = False,
    model: str | None = None,
    probe_timeout: float = PROBE_TIMEOUT,
    python: str | None = None,
    progress: Callable[[str], None] | None = None,
) -> Report:
    """Diagnose the environment ``env`` (default ``os.environ``) and the checkout(s) at ``path``;
    ``python`` is the training job's interpreter, whose packages are checked; ``progress`` is
    told, in a few words, what is being done (the CLI shows it on a terminal)."""
    started = time.monotonic()
    env = {str(k): str(v) for k, v in (os.environ if env is None else env).items()}
    python = _validate(path, model, python)
    found, scripts = _layout(path)

    job_check = JobPythonCheck(python, env).start() if python is not None else None
    checks = [CheckoutCheck(c.root, source=c.source).start() for c in found]
    settings = _Settings(offline, model, {}, progress or _quiet)
    main = settings.view(env, "environment")
    launched = _launched(scripts, env, settings)
    probe = None
    if not offline:
        probe_source, probe_env, probe_view = probe_environment(main, launched)
        probe = LiveProbe(probe_env, probe_view.probe_model, probe_timeout).start()

    findings: list[Finding] = settle_key(settings.findings(main), main, launched)
    job: JobPython | None = None
    if job_check is not None:
        settings.say(f"asking {python} for its packages")
        job = job_check.result()
    findings += litellm_setup.install_findings(env, job)
    for item in launched:
        findings += _launcher_findings(item, settings)
    checkout_findings, patched = _checkout_findings(checks, env, settings.say)
    findings += checkout_findings
    tenacity = job.has("tenacity") if job is not None and not job.error else None
    findings += litellm_setup.budget_findings(env, patched, tenacity=tenacity)

    if probe is not None:
        result = _await(probe, started + ONLINE_BUDGET, settings.say)
        failed = {f.check for f in findings if f.status == FAIL and f.source == probe_source}
        default_base = endpoint.describe(probe_view) if endpoint.is_default(probe_view) else ""
        findings.append(live.finding(result, probe_timeout, failed, default_base, probe_source))

    return Report(rank(findings), time.monotonic() - started, offline)
