"""Check 5: LiteLLM itself: version, tenacity, the cost-map fetch, retries/timeouts and their worst case."""

from __future__ import annotations

from typing import Mapping

from llmfix.codemods import litellm_facts
from llmfix.doctor import budget as budgetmod
from llmfix.doctor import env as envmod
from llmfix.doctor import proxyenv
from llmfix.doctor.findings import FAIL, LAYER_CONFIG, LAYER_LITELLM, OK, WARN, Finding
from llmfix.doctor.jobpython import JobPython

CHECK = "litellm"
UNPATCHED_RETRIES = 5  # the DR Tulu async helper's own num_retries (TARGETS.md)
WORST_CASE_LIMIT = 900.0  # seconds one helper call may hang before we call it a problem


def _cost_map_local(env: Mapping[str, str]) -> str | None:
    """The variable that keeps ``import litellm`` off the network, or None when it will fetch."""
    if env.get("LITELLM_LOCAL_MODEL_COST_MAP", "").lower() == "true":
        return "LITELLM_LOCAL_MODEL_COST_MAP"
    return "LITELLM_OFFLINE_MODE" if proxyenv.env_true(env.get("LITELLM_OFFLINE_MODE")) else None


def _cost_map_finding(env: Mapping[str, str], source: str) -> Finding:
    local = _cost_map_local(env)
    if local:
        return Finding(CHECK, OK, f"{local}=True: importing litellm does not fetch the remote cost map", "", [], "", source, LAYER_LITELLM)
    proxied = any(proxyenv.getproxies(env).get(s) for s in ("https", "all"))
    extra = "; behind a proxy that drops it this adds a 5 s timeout" if proxied else ""
    return Finding(CHECK, WARN, f"LITELLM_LOCAL_MODEL_COST_MAP is not set: every `import litellm` fetches a cost map from the internet{extra}",
                   "export LITELLM_LOCAL_MODEL_COST_MAP=True", [], "cost-map-remote", source, LAYER_LITELLM)


def _package_findings(job: JobPython | None, source: str) -> list[Finding]:
    """litellm and tenacity as the training job's interpreter has them; never llmfix's own."""
    if job is None:
        return [Finding(CHECK, WARN, "could not examine the training job's Python environment (litellm version, tenacity): "
                                     "llmfix's own virtualenv says nothing about it",
                        "run again with --python /path/to/the/training/job's/python", [], "training-env-unknown", source, LAYER_LITELLM)]
    if job.error:
        return [Finding(CHECK, WARN, f"could not examine the training job's Python environment: {job.error}",
                        "give --python the interpreter the training job runs (e.g. its virtualenv's bin/python)", [],
                        "training-env-unknown", source, LAYER_LITELLM)]
    where = f"{job.path} (Python {job.python_version})"
    out = []
    if not job.has("litellm"):
        out.append(Finding(CHECK, FAIL, f"litellm is not installed for {where}: the helpers cannot make any call",
                           f"{job.path} -m pip install litellm", [], "litellm-missing", source, LAYER_LITELLM))
    else:
        out.append(Finding(CHECK, OK, f"litellm {job.version('litellm') or '(version unknown)'} installed for {where}", "", [], "",
                           source, LAYER_LITELLM))
    if job.has("tenacity"):
        version = job.version("tenacity")
        out.append(Finding(CHECK, OK, f"tenacity{' ' + version if version else ''} installed for {where}: LiteLLM's own retry layer works",
                           "", [], "", source, LAYER_LITELLM))
    else:
        out.append(Finding(CHECK, WARN, f"tenacity is not installed for {where}: a sync litellm.completion(num_retries>0) whose attempts "
                                        "all fail raises 'tenacity import failed', hiding the real error (the judge's run_litellm)",
                           f"{job.path} -m pip install tenacity", [], "tenacity-missing", source, LAYER_LITELLM))
    return out


def install_findings(env: Mapping[str, str], job: JobPython | None = None, source: str = "environment") -> list[Finding]:
    """The training job's packages (``job``: what ``--python`` said; None: not given) and the cost-map setting."""
    return _package_findings(job, source) + [_cost_map_finding(env, source)]


def _precheck_detail(settings: envmod.RetrySettings) -> list[str]:
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
    settings = envmod.retry_settings(env)
    findings = [
        Finding(CHECK, FAIL, message, f"export {var}=<a valid value>  (or unset it)", [], "bad-setting", source, LAYER_CONFIG)
        for var, message in settings.problems
    ]
    timeout = settings.timeout if settings.timeout is not None else litellm_facts.DEFAULT_TIMEOUT
    timeout_src = f"LITELLM_DEFAULT_TIMEOUT={settings.timeout:g}" if settings.timeout is not None else "timeout 600 s (default)"
    retries = settings.retries if settings.retries is not None else litellm_facts.DEFAULT_RETRIES
    retries_src = f"LITELLM_NUM_RETRIES={settings.retries}" if settings.retries is not None else f"{litellm_facts.DEFAULT_RETRIES} retries (llmfix default)"
    fallbacks = settings.fallbacks if settings.fallbacks is not None else ()
    fb_src = (f"LITELLM_FALLBACK_MODELS: {len(fallbacks)} fallback(s)" if settings.fallbacks is not None
              else "no fallback (each helper's own default, unchanged by llmfix)")
    patched_b = budgetmod.budget(retries, timeout, len(fallbacks))
    unpatched_b = budgetmod.budget(UNPATCHED_RETRIES, timeout)
    sync_b = budgetmod.budget(retries, timeout, len(fallbacks), tenacity_layer=True)

    detail = [
        f"patched helper: {retries_src}, {timeout_src}, {fb_src} -> {patched_b.attempts} attempts, worst case {budgetmod.human(patched_b.seconds)} per call; "
        f"an outage that fails fast is ridden out for ~{budgetmod.human(patched_b.outage_seconds)} per model",
        f"unpatched DR Tulu async helper: 5 retries, {timeout_src}, no fallback -> {unpatched_b.attempts} attempts, worst case {budgetmod.human(unpatched_b.seconds)}; "
        f"a fast-failing outage is ridden out for only ~{budgetmod.human(unpatched_b.outage_seconds)}",
        "timeout is per attempt and an idle timeout: a hanging endpoint costs the full value on every attempt; backoff 0.5*2^k s capped at 8 s",
    ]
    if tenacity is not False and sync_b.seconds != patched_b.seconds:
        given = "with tenacity installed in the training job" if tenacity else "if the training job has tenacity"
        detail.append(f"sync run_litellm {given}: LiteLLM re-runs the SDK's retries {retries} more times -> "
                      f"worst case {budgetmod.human(sync_b.seconds)}")
    bare = [f.model for f in fallbacks if not f.own_endpoint]
    if bare:
        detail.append(f"fallbacks without their own api_base ({', '.join(bare)}) go to the same base URL and proxy: no help when either is down")
    detail += _precheck_detail(settings)
    findings.append(_worst_case_finding(patched, patched_b, unpatched_b, timeout, detail, source))
    return findings


def _worst_case_finding(patched: bool | None, patched_b: budgetmod.Budget, unpatched_b: budgetmod.Budget, timeout: float,
                        detail: list[str], source: str) -> Finding:
    which = "patched helper" if patched is not False else "unpatched helper"
    worst = patched_b if patched is not False else unpatched_b
    summary = f"{which}: worst case {budgetmod.human(worst.seconds)} per call ({worst.attempts} attempts x {timeout:g} s + backoff)"
    if patched is None:
        summary += "; checkout not examined, assuming llmfix's patched defaults"
    if worst.seconds > WORST_CASE_LIMIT:
        suggested = 60.0
        fix = f"export LITELLM_DEFAULT_TIMEOUT={suggested:g}  (-> {budgetmod.human(budgetmod.budget(worst.retries, suggested, worst.models - 1).seconds)} worst case)"
        return Finding(CHECK, WARN, summary + ": a hanging endpoint stalls each rubric call this long", fix, detail,
                       "worst-case-long", source, LAYER_LITELLM + 0.5)
    return Finding(CHECK, OK, summary, "", detail, "", source, LAYER_LITELLM + 0.5)
