"""Run every check and rank the findings: the doctor's Python entry point.

PATH names one checkout, a folder holding several, or a launcher script. A folder holding several
checkouts (two copies of an open-instruct checkout side by side) is handled checkout by checkout,
as `llmfix check` accepts such a folder: each gets its own `llmfix check`, its own launchers
(``*.sh`` at its root) and findings under its own name."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Mapping, NamedTuple

from llmfix.doctor import launchers
from llmfix.doctor.checks import checkout, endpoint, key, launcher, litellm_setup, live, models, proxy
from llmfix.doctor.env import EnvView
from llmfix.doctor.findings import FAIL, Finding, Report, rank
from llmfix.doctor.probe import PROBE_TIMEOUT, LiveProbe, ProbeResult

ONLINE_BUDGET = 14.0  # seconds; the live probe is abandoned after this
PACKAGE_PREFIXES = ("rl/open-instruct", "open-instruct")  # where open_instruct sits below a repository root (DR Tulu: rl/...)


class DoctorInputError(ValueError):
    """Bad input: the doctor cannot run (exit 2)."""


class Checkout(NamedTuple):
    """One checkout: what `llmfix check` gets, and the name its findings carry (``label``: empty when
    PATH is the one checkout, else its path relative to PATH). Its launchers are the ``*.sh`` at its root."""

    root: Path
    label: str = ""


def _repository_root(parent: Path, top: Path) -> Path:
    """``a/rl/open-instruct`` -> ``a`` when that stays strictly inside ``top``."""
    for prefix in PACKAGE_PREFIXES:
        n = len(Path(prefix).parts)
        if parent.parts[-n:] == Path(prefix).parts:
            root = Path(*parent.parts[:-n])
            if root != top and top in root.parents:
                return root
    return parent


def checkouts(path: Path) -> tuple[list[Checkout], list[Path]]:
    """(the checkouts PATH, an existing folder or file, names; launcher scripts of no one checkout)."""
    if not path.is_dir():
        return ([], [path]) if path.suffix == ".sh" else ([Checkout(path)], [])
    top = path.absolute()
    try:  # the folders holding an open_instruct package with target files, by the core's discovery
        from llmfix.discovery import targets_in_directory  # the core's file walk: only when PATH is a folder

        parents = {t.checkout for t in targets_in_directory(top)}
    except Exception:  # the core is not there or changed: treat PATH as one checkout
        parents = set()
    roots = sorted({_repository_root(p, top) for p in parents})
    if len(roots) <= 1 or any(r == top or r in top.parents for r in roots):
        return [Checkout(path)], []
    return [Checkout(path / label, label) for label in (r.relative_to(top).as_posix() for r in roots)], launchers.find_launchers(path)


@dataclass
class _Run:
    """What every environment view of one run shares, and where to say what is being done."""

    offline: bool
    model: str | None
    say: Callable[[str], None]
    traces: dict = field(default_factory=dict)

    def view(self, env: Mapping[str, str], source: str) -> EnvView:
        return EnvView(dict(env), source, self.offline, self.model, self.traces)

    def env_findings(self, view: EnvView) -> list[Finding]:
        """Checks 1-4 on ``view``, saying which endpoint is being contacted (it can take seconds)."""
        if not self.offline:
            self.say(f"checking {view.endpoint.base_url.strip()}" + ("" if view.source == "environment" else f" (as {view.source} sets it up)"))
        return [f for check in (proxy.check, endpoint.check, key.check, models.check) for f in check(view)]

    def launched(self, path: Path, source: str, env: Mapping[str, str]) -> launcher.Launched:
        script = launchers.parse_launcher(path, env)
        return launcher.Launched(script, source, self.view(script.overlay(env), source) if launcher.changes(script, env) else None)

    def launcher_findings(self, item: launcher.Launched) -> list[Finding]:
        findings = launcher.check(item.launcher, item.source)
        if item.view is not None:
            findings += self.env_findings(item.view)
            if any(n.startswith("LITELLM_") for n in item.launcher.exports()):
                findings += litellm_setup.budget_findings(item.view.env, None, item.source)
        return findings


def _validate(path: str | os.PathLike[str] | None, model: str | None, python: str | None) -> str | None:
    """Refuse bad input; return the training job's interpreter, resolved (None: not given)."""
    if model is not None and not model.strip():
        raise DoctorInputError("--model needs a model name")
    if path is not None and not str(path).strip():
        raise DoctorInputError("empty PATH: name a checkout, a launcher script, or nothing (this shell's environment)")
    found = litellm_setup.resolve_python(python) if python is not None and python.strip() else None
    if python is not None and found is None:
        raise DoctorInputError(f"--python {python}: no such executable (name the interpreter the training job runs)")
    if path is not None and not Path(path).exists():
        raise DoctorInputError(f"{Path(path)}: no such file or directory")
    return found


def _await(probe: LiveProbe, deadline: float, say: Callable[[str], None]) -> ProbeResult:
    """The probe's result by ``deadline``, saying what it is doing meanwhile."""
    while time.monotonic() < deadline:
        say(f"live probe ({probe.model}): {probe.phase}")
        if probe.wait(min(0.25, deadline - time.monotonic())):
            break
    return probe.result(deadline - time.monotonic())


def run_doctor(path: str | os.PathLike[str] | None = None, *, env: Mapping[str, str] | None = None, offline: bool = False,
               model: str | None = None, probe_timeout: float = PROBE_TIMEOUT, python: str | None = None,
               progress: Callable[[str], None] | None = None) -> Report:
    """Diagnose the environment ``env`` (default ``os.environ``) and the checkout(s) at ``path``;
    ``python`` is the training job's interpreter, whose packages are checked; ``progress`` is
    told, in a few words, what is being done (the CLI shows it on a terminal)."""
    started = time.monotonic()
    env = {str(k): str(v) for k, v in (os.environ if env is None else env).items()}
    python = _validate(path, model, python)
    found, lone = checkouts(Path(path)) if path is not None else ([], [])
    asked = litellm_setup.ask_job_python(python, env) if python is not None else None
    checks = [(c, checkout.start_check(c.root)) for c in found]
    run = _Run(offline, model, progress or (lambda _step: None))
    main = run.view(env, "environment")
    scripts = [(s, f"{c.label}/{s.name}" if c.label else s.name) for c in found for s in launchers.find_launchers(c.root)]
    launched = [run.launched(script, source, env) for script, source in scripts + [(s, s.name) for s in lone]]
    probe_view = launcher.probe_environment(main, launched)
    probe = LiveProbe(probe_view.env, probe_view.probe_model, probe_timeout).start() if not offline else None

    findings = launcher.settle_key(run.env_findings(main), main, launched)
    job = None
    if python is not None and asked is not None:
        run.say(f"asking {python} for its packages")
        job = litellm_setup.job_python(python, asked)
    findings += litellm_setup.install_findings(env, job)
    findings += [f for item in launched for f in run.launcher_findings(item)]
    verdicts, repositories = set(), set()
    for c, started_check in checks:
        run.say(f"llmfix check {c.root}")
        verdict = checkout.check_findings(c.root, started_check, c.label or "environment")
        verdicts.add(checkout.patched(verdict))
        findings += verdict + checkout.merge_driver_findings(c.root, env, c.label or "environment", repositories)
    patched = verdicts.pop() if len(verdicts) == 1 else False if False in verdicts else None  # any unpatched: not patched
    findings += litellm_setup.budget_findings(env, patched, tenacity=job.has("tenacity") if job is not None and not job.error else None)
    if probe is not None:
        result = _await(probe, started + ONLINE_BUDGET, run.say)
        failed = {f.check for f in findings if f.status == FAIL and f.source == probe_view.source}
        default_base = endpoint.describe(probe_view) if endpoint.is_default(probe_view) else ""
        findings.append(live.finding(result, probe_timeout, failed, default_base, probe_view.source))
    return Report(rank(findings), time.monotonic() - started, offline)
