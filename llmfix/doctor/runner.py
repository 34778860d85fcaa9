"""Run every check and rank the findings: the doctor's Python entry point. PATH names one checkout, a
launcher script, or a folder of checkouts, each then with its own `llmfix check`, launchers and findings."""

from __future__ import annotations

import functools
import os
import shutil
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from llmfix.discovery import KNOWN_PREFIXES, targets_in_directory
from llmfix.doctor import launchers
from llmfix.doctor.checks import checkout, environment, litellm_setup, live
from llmfix.doctor.env import EnvView
from llmfix.doctor.findings import FAIL, OK, Report, rank
from llmfix.errors import BadInput

ONLINE_BUDGET = 14.0  # seconds; the live probe is abandoned after this


def _repository_root(parent: Path, top: Path) -> Path:
    """``a/rl/open-instruct`` -> ``a`` when that stays strictly inside ``top``."""
    for prefix in (Path(p) for p in KNOWN_PREFIXES if p != "."):
        root = Path(*parent.parts[: -len(prefix.parts)])
        if parent.parts[-len(prefix.parts) :] == prefix.parts and root != top and top in root.parents:
            return root
    return parent


def checkouts(path: Path) -> tuple[list[tuple[Path, str]], list[Path]]:
    """(the checkouts PATH names, each with its label: "" when PATH is the one checkout, else its
    path relative to PATH; the launcher scripts of no one checkout)."""
    if not path.is_dir():
        return ([], [path]) if path.suffix == ".sh" else ([(path, "")], [])
    top = path.absolute()
    try:
        roots = sorted({_repository_root(t.checkout, top) for t in targets_in_directory(top)})
    except (BadInput, OSError):  # a folder the core refuses: PATH is one checkout, and `llmfix check` says why
        roots = []
    if len(roots) <= 1 or any(r == top or r in top.parents for r in roots):
        return [(path, "")], []
    return [(path / label, label) for label in (r.relative_to(top).as_posix() for r in roots)], launchers.find_launchers(path)


def _validate(path: str | os.PathLike[str] | None, model: str | None, python: str | None) -> str | None:
    """Refuse bad input; return the training job's interpreter, resolved (None: not given)."""
    if model is not None and not model.strip():
        raise BadInput("--model needs a model name")
    if path is not None and not str(path).strip():
        raise BadInput("empty PATH: name a checkout, a launcher script, or nothing (this shell's environment)")
    found = None
    if python is not None and python.strip():  # as given when it names an executable file, else looked up on PATH
        found = (python if os.path.isfile(python) and os.access(python, os.X_OK) else None) if os.sep in python else shutil.which(python)
    if python is not None and found is None:
        raise BadInput(f"--python {python}: no such executable (name the interpreter the training job runs)")
    if path is not None and not Path(path).exists():
        raise BadInput(f"{Path(path)}: no such file or directory")
    return found


def _launched(found: list[tuple[Path, str]], lone: list[Path], env: dict[str, str], view: Callable[[dict[str, str], str], EnvView]) -> list[launchers.Launched]:
    """Every launcher script (those at each checkout's root, named under its label, then the lone ones), with the
    job's environment when running through it changes an LLM-related variable."""
    scripts = [(s, f"{label}/{s.name}" if label else s.name) for root, label in found for s in launchers.find_launchers(root)]
    out = []
    for script, source in scripts + [(s, s.name) for s in lone]:
        parsed = launchers.parse_launcher(script, env)
        job = parsed.overlay(env)
        changed = any(env.get(n) != job.get(n) for n in set(env) | set(job) if launchers.relevant(n))
        out.append(launchers.Launched(parsed, source, view(job, source) if changed else None))
    return out


def run_doctor(
    path: str | os.PathLike[str] | None = None,
    *,
    env: Mapping[str, str] | None = None,
    offline: bool = False,
    model: str | None = None,
    probe_timeout: float = live.PROBE_TIMEOUT,
    python: str | None = None,
    progress: Callable[[str], None] | None = None,
) -> Report:
    """Diagnose the environment ``env`` (default ``os.environ``) and the checkout(s) at ``path``; ``python``
    is the training job's interpreter, whose packages are checked; ``progress`` is told what is being done."""
    started, say = time.monotonic(), progress or (lambda _step: None)
    env = {str(k): str(v) for k, v in (os.environ if env is None else env).items()}
    python = _validate(path, model, python)
    found, lone = checkouts(Path(path)) if path is not None else ([], [])
    asked = litellm_setup.ask_job_python(python, env) if python is not None else None
    checks = [(root, label or "environment", checkout.start_check(root)) for root, label in found]
    view = functools.partial(EnvView, offline=offline, model_override=model, traces={})  # one trace cache for the run
    main, launched = view(env, "environment"), _launched(found, lone, env, view)
    # the live probe runs with this shell's environment, or, when the shell has no key and a launcher gives the job one,
    # with that launcher's (a call without a key proves nothing)
    probe_view = main if main.endpoint.key else next((item.view for item in launched if item.gives_key), main)
    probe = live.LiveProbe(probe_view, probe_timeout) if not offline else None

    findings = launchers.settle_key(environment.check(main, say), main, launched)
    if python is not None:
        say(f"asking {python} for its packages")
    job, tenacity = litellm_setup.job_findings(python, asked)
    findings += job + litellm_setup.cost_map_findings(env)
    for item in launched:
        findings += launchers.check(item.launcher, item.source)
        if item.view is not None:
            findings += environment.check(item.view, say)
            if any(n.startswith("LITELLM_") for n in item.launcher.exports()):
                findings += litellm_setup.budget_findings(item.view.env, None, item.source)
    verdicts, repositories = set(), set()
    for root, source, started_check in checks:
        say(f"llmfix check {root}")
        verdict = checkout.interpret(root, started_check.collect(), source)
        verdicts.add(True if verdict.status == OK else False if verdict.cause == "checkout-unpatched" else None)
        findings += [verdict, *checkout.merge_driver_findings(root, env, source, repositories)]
    patched = verdicts.pop() if len(verdicts) == 1 else False if False in verdicts else None  # any unpatched: not patched; drift: unknown
    findings += litellm_setup.budget_findings(env, patched, tenacity=tenacity)
    if probe is not None:
        failed = {f.check for f in findings if f.status == FAIL and f.source == probe_view.source}
        findings.append(probe.finding(started + ONLINE_BUDGET, say, failed))
    return Report(rank(findings), time.monotonic() - started, offline)
