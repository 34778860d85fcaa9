"""Check 5: LiteLLM itself: the training job's litellm and tenacity, the cost-map fetch, retries/timeouts
and their worst case.

llmfix usually runs from its own virtualenv, which says nothing about the job's packages, so the
doctor asks the job's interpreter (``--python PATH``) itself; it imports neither package, only
looks them up."""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass, field
from typing import Mapping

from llmfix.codemods import litellm_facts
from llmfix.doctor import budget as budgetmod
from llmfix.doctor import proxyenv
from llmfix.doctor.checks import Started
from llmfix.doctor.env import RetrySettings, retry_settings
from llmfix.doctor.findings import FAIL, LAYER_CONFIG, LAYER_LITELLM, OK, WARN, Finding
from llmfix.doctor.redact import redact_url

CHECK = "litellm"
UNPATCHED_RETRIES = 5  # the DR Tulu async helper's own num_retries (TARGETS.md)
WORST_CASE_LIMIT = 900.0  # seconds one helper call may hang before we call it a problem
JOB_PYTHON_TIMEOUT = 15.0
_PACKAGES = ("litellm", "tenacity")
_LOOK_UP_PACKAGES = """\
import importlib.util, json, sys
try:
    from importlib.metadata import version
except ImportError:
    version = None
def look(name):
    try:
        found = importlib.util.find_spec(name) is not None
    except Exception:
        found = False
    try:
        return [found, version(name) if version else None]
    except Exception:
        return [found, None]
print(json.dumps({"python": sys.version.split()[0], "packages": {n: look(n) for n in PACKAGES}}))
""".replace("PACKAGES", repr(_PACKAGES))


@dataclass
class JobPython:
    """What the job's interpreter said, or why it could not be asked (``error``)."""

    path: str
    python_version: str = ""
    packages: dict[str, tuple[bool, str | None]] = field(default_factory=dict)  # name -> (importable, version)
    error: str = ""

    def has(self, name: str) -> bool:
        found, version = self.packages.get(name, (False, None))
        return found or version is not None

    def version(self, name: str) -> str | None:
        return self.packages.get(name, (False, None))[1]


def resolve_python(python: str) -> str | None:
    """The interpreter's path: as given when it is an executable file, else looked up on PATH."""
    if os.sep in python:
        return python if os.path.isfile(python) and os.access(python, os.X_OK) else None
    return shutil.which(python)


def ask_job_python(python: str, env: Mapping[str, str]) -> Started:
    """The interpreter started now, looking up its packages while the other checks run."""
    return Started([python, "-c", _LOOK_UP_PACKAGES], env, JOB_PYTHON_TIMEOUT)


def job_python(python: str, asked: Started) -> JobPython:
    """What the interpreter asked by :func:`ask_job_python` said, or why it said nothing useful."""
    if asked.error is not None:
        return JobPython(python, error=f"cannot run {python}: {asked.error.strerror or asked.error}")
    done = asked.collect()
    if done is None:
        return JobPython(python, error=f"{python} gave no answer within {asked.timeout:g} s")
    code, out, err = done
    try:
        data = json.loads(out.strip().splitlines()[-1]) if out.strip() else None
    except ValueError:
        data = None
    if code != 0 or not isinstance(data, dict) or not isinstance(data.get("packages"), dict):
        said = [line.strip() for line in err.strip().splitlines() if line.strip()]
        return JobPython(python, error=f"{python} -c ... failed (exit {code})" + (f": {redact_url(said[-1])[:200]}" if said else ""))
    packages = {str(n): (bool(v[0]), v[1] if isinstance(v[1], str) else None)
                for n, v in data["packages"].items() if isinstance(v, list) and len(v) == 2}
    return JobPython(python, str(data.get("python", "")), packages)


def _finding(status: str, summary: str, fix: str = "", cause: str = "") -> Finding:
    return Finding(CHECK, status, summary, fix, [], cause, "environment", LAYER_LITELLM)


def _package_findings(job: JobPython | None) -> list[Finding]:
    """litellm and tenacity as the training job's interpreter has them; never llmfix's own."""
    if job is None:
        return [_finding(WARN, "could not examine the training job's Python environment (litellm version, tenacity): "
                               "llmfix's own virtualenv says nothing about it",
                         "run again with --python /path/to/the/training/job's/python", "training-env-unknown")]
    if job.error:
        return [_finding(WARN, f"could not examine the training job's Python environment: {job.error}",
                         "give --python the interpreter the training job runs (e.g. its virtualenv's bin/python)", "training-env-unknown")]
    where = f"{job.path} (Python {job.python_version})"
    if job.has("litellm"):
        out = [_finding(OK, f"litellm {job.version('litellm') or '(version unknown)'} installed for {where}")]
    else:
        out = [_finding(FAIL, f"litellm is not installed for {where}: the helpers cannot make any call",
                        f"{job.path} -m pip install litellm", "litellm-missing")]
    if job.has("tenacity"):
        version = job.version("tenacity")
        return out + [_finding(OK, f"tenacity{' ' + version if version else ''} installed for {where}: LiteLLM's own retry layer works")]
    return out + [_finding(WARN, f"tenacity is not installed for {where}: a sync litellm.completion(num_retries>0) whose attempts "
                                 "all fail raises 'tenacity import failed', hiding the real error (the judge's run_litellm)",
                           f"{job.path} -m pip install tenacity", "tenacity-missing")]


def install_findings(env: Mapping[str, str], job: JobPython | None = None) -> list[Finding]:
    """The training job's packages (``job``: what ``--python`` said; None: not given) and the cost-map setting."""
    if env.get("LITELLM_LOCAL_MODEL_COST_MAP", "").lower() == "true":
        local: str | None = "LITELLM_LOCAL_MODEL_COST_MAP"
    else:
        local = "LITELLM_OFFLINE_MODE" if proxyenv.env_true(env.get("LITELLM_OFFLINE_MODE")) else None
    if local:
        return _package_findings(job) + [_finding(OK, f"{local}=True: importing litellm does not fetch the remote cost map")]
    proxied = any(proxyenv.getproxies(env).get(s) for s in ("https", "all"))
    extra = "; behind a proxy that drops it this adds a 5 s timeout" if proxied else ""
    return _package_findings(job) + [_finding(
        WARN, f"LITELLM_LOCAL_MODEL_COST_MAP is not set: every `import litellm` fetches a cost map from the internet{extra}",
        "export LITELLM_LOCAL_MODEL_COST_MAP=True", "cost-map-remote")]


def _precheck_detail(settings: RetrySettings) -> list[str]:
    pre = settings.precheck_timeout if settings.precheck_timeout is not None else litellm_facts.DEFAULT_PRECHECK_TIMEOUT
    detail = [f"patched precheck before training: LITELLM_PRECHECK={settings.precheck or 'on'}, timeout {pre:g} s"
              + (" (from LITELLM_PRECHECK_TIMEOUT)" if settings.precheck_timeout is not None else " (default)")]
    if settings.precheck and settings.precheck.strip() == "0":
        detail.append("LITELLM_PRECHECK=0: a dead endpoint is only noticed after training starts")
    return detail


def budget_findings(env: Mapping[str, str], patched: bool | None, source: str = "environment",
                    tenacity: bool | None = None) -> list[Finding]:
    """The worst case one helper call can take with the settings in ``env``; ``tenacity``: whether
    the training job's Python has it (None: not known)."""
    settings, human = retry_settings(env), budgetmod.human
    findings = [Finding(CHECK, FAIL, message, f"export {var}=<a valid value>  (or unset it)", [], "bad-setting", source, LAYER_CONFIG)
                for var, message in settings.problems]
    timeout = settings.timeout if settings.timeout is not None else litellm_facts.DEFAULT_TIMEOUT
    timeout_src = f"LITELLM_DEFAULT_TIMEOUT={settings.timeout:g}" if settings.timeout is not None else f"timeout {timeout:g} s (default)"
    retries = settings.retries if settings.retries is not None else litellm_facts.DEFAULT_RETRIES
    retries_src = f"LITELLM_NUM_RETRIES={retries}" if settings.retries is not None else f"{retries} retries (llmfix default)"
    fallbacks = settings.fallbacks or ()
    fb_src = (f"LITELLM_FALLBACK_MODELS: {len(fallbacks)} fallback(s)" if settings.fallbacks is not None
              else "no fallback (each helper's own default, unchanged by llmfix)")
    patched_b, unpatched_b = budgetmod.budget(retries, timeout, len(fallbacks)), budgetmod.budget(UNPATCHED_RETRIES, timeout)
    sync_b = budgetmod.budget(retries, timeout, len(fallbacks), tenacity_layer=True)
    detail = [
        f"patched helper: {retries_src}, {timeout_src}, {fb_src} -> {patched_b.attempts} attempts, worst case {human(patched_b.seconds)} per call; "
        f"an outage that fails fast is ridden out for ~{human(patched_b.outage_seconds)} per model",
        f"unpatched DR Tulu async helper: {UNPATCHED_RETRIES} retries, {timeout_src}, no fallback -> {unpatched_b.attempts} attempts, "
        f"worst case {human(unpatched_b.seconds)}; a fast-failing outage is ridden out for only ~{human(unpatched_b.outage_seconds)}",
        "timeout is per attempt and an idle timeout: a hanging endpoint costs the full value on every attempt; backoff 0.5*2^k s capped at 8 s",
    ]
    if tenacity is not False and sync_b.seconds != patched_b.seconds:
        given = "with tenacity installed in the training job" if tenacity else "if the training job has tenacity"
        detail.append(f"sync run_litellm {given}: LiteLLM re-runs the SDK's retries {retries} more times -> worst case {human(sync_b.seconds)}")
    bare = [f.model for f in fallbacks if not f.own_endpoint]
    if bare:
        detail.append(f"fallbacks without their own api_base ({', '.join(bare)}) go to the same base URL and proxy: no help when either is down")
    worst = patched_b if patched is not False else unpatched_b
    summary = (f"{'patched' if patched is not False else 'unpatched'} helper: worst case {human(worst.seconds)} per call "
               f"({worst.attempts} attempts x {timeout:g} s + backoff)")
    summary += "; checkout not examined, assuming llmfix's patched defaults" if patched is None else ""
    if worst.seconds > WORST_CASE_LIMIT:  # (not "<=": a NaN timeout is no finding)
        shorter = budgetmod.budget(worst.retries, 60.0, worst.models - 1).seconds
        return findings + [Finding(CHECK, WARN, summary + ": a hanging endpoint stalls each rubric call this long",
                                   f"export LITELLM_DEFAULT_TIMEOUT=60  (-> {human(shorter)} worst case)", detail + _precheck_detail(settings),
                                   "worst-case-long", source, LAYER_LITELLM + 0.5)]
    return findings + [Finding(CHECK, OK, summary, "", detail + _precheck_detail(settings), "", source, LAYER_LITELLM + 0.5)]
