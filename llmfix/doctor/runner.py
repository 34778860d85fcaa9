"""Run every check and rank the findings: the doctor's Python entry point."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Mapping

from llmfix.doctor import launchers as launchermod
from llmfix.doctor.checks import endpoint, key, launcher, litellm_setup, live, models, proxy
from llmfix.doctor.checks.checkout import CheckoutCheck
from llmfix.doctor.context import EnvView, TraceCache
from llmfix.doctor.findings import FAIL, Finding
from llmfix.doctor.jobpython import JobPython, JobPythonCheck, resolve
from llmfix.doctor.launched import Launched, probe_environment, settle_key
from llmfix.doctor.probe import PROBE_TIMEOUT, LiveProbe
from llmfix.doctor.rank import rank
from llmfix.doctor.report import Report

ONLINE_BUDGET = 14.0  # seconds; the live probe is abandoned after this


class DoctorInputError(ValueError):
    """Bad input: the doctor cannot run (exit 2)."""


def env_findings(view: EnvView) -> list[Finding]:
    """Checks 1-4 on one environment."""
    out: list[Finding] = []
    for check in (proxy.check, endpoint.check, key.check, models.check):
        out.extend(check(view))
    return out


def _targets(path: Path | None) -> tuple[Path | None, list[Path]]:
    """(what `llmfix check` gets, the launcher scripts)."""
    if path is None:
        return None, []
    if not path.exists():
        raise DoctorInputError(f"{path}: no such file or directory")
    if path.is_dir():
        return path, launchermod.find_launchers(path)
    if path.suffix == ".sh":
        return None, [path]
    return path, []


def _launched(scripts: list[Path], env: Mapping[str, str], offline: bool, model: str | None, cache: TraceCache) -> list[Launched]:
    out = []
    for path in scripts:
        script = launchermod.parse_launcher(path, env)
        view = None
        if launcher.changes(script, env):
            view = EnvView.build(script.overlay(env), script.name, offline, model, cache)
        out.append(Launched(script, script.name, view))
    return out


def _launcher_findings(item: Launched, env: Mapping[str, str]) -> list[Finding]:
    findings = launcher.check(item.launcher)
    if item.view is not None:
        findings += env_findings(item.view)
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


def run_doctor(
    path: str | os.PathLike[str] | None = None,
    *,
    env: Mapping[str, str] | None = None,
    offline: bool = False,
    model: str | None = None,
    probe_timeout: float = PROBE_TIMEOUT,
    python: str | None = None,
) -> Report:
    """Diagnose the environment ``env`` (default ``os.environ``) and the checkout at ``path``;
    ``python`` is the training job's interpreter, whose packages are checked."""
    started = time.monotonic()
    env = {str(k): str(v) for k, v in (os.environ if env is None else env).items()}
    python = _validate(path, model, python)
    check_target, scripts = _targets(Path(path) if path is not None else None)

    job_check = JobPythonCheck(python, env).start() if python is not None else None
    checkout = CheckoutCheck(check_target).start() if check_target is not None else None
    cache = TraceCache()
    main = EnvView.build(env, "environment", offline, model, cache)
    launched = _launched(scripts, env, offline, model, cache)
    probe = None
    if not offline:
        probe_source, probe_env, probe_view = probe_environment(main, launched)
        probe = LiveProbe(probe_env, probe_view.probe_model, probe_timeout).start()

    findings: list[Finding] = settle_key(env_findings(main), main, launched)
    job: JobPython | None = job_check.result() if job_check is not None else None
    findings += litellm_setup.install_findings(env, job)
    for item in launched:
        findings += _launcher_findings(item, env)

    patched = None
    if checkout is not None:
        findings += checkout.findings()
        patched = checkout.patched
    tenacity = job.has("tenacity") if job is not None and not job.error else None
    findings += litellm_setup.budget_findings(env, patched, tenacity=tenacity)

    if probe is not None:
        result = probe.result(ONLINE_BUDGET - (time.monotonic() - started))
        failed = {f.check: f.cause for f in findings if f.status == FAIL and f.source == probe_source}
        default_base = endpoint.describe(probe_view) if endpoint.is_default(probe_view) else ""
        findings.append(live.finding(result, probe_timeout, failed, default_base, probe_source))

    return Report(rank(findings), time.monotonic() - started, offline)
