"""Check 5: LiteLLM itself: version, tenacity, the cost-map fetch, retries/timeouts and their worst case."""

from __future__ import annotations

import importlib.util
from typing import Mapping

from llmfix.doctor import budget as budgetmod
from llmfix.doctor import env as envmod
from llmfix.doctor import proxyenv
from llmfix.doctor.findings import FAIL, LAYER_CONFIG, LAYER_LITELLM, OK, WARN, Finding

CHECK = "litellm"
WORST_CASE_LIMIT = 900.0  # seconds one helper call may hang before we call it a problem


def installed_version(name: str) -> str | None:
    try:
        from importlib.metadata import PackageNotFoundError, version
    except ImportError:  # pragma: no cover
        return None
    try:
        return version(name)
    except PackageNotFoundError:
        return None


def importable(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def install_findings(env: Mapping[str, str], source: str = "environment") -> list[Finding]:
    findings = []
    version = installed_version("litellm")
    if version is None and not importable("litellm"):
        findings.append(Finding(CHECK, FAIL, "litellm is not installed: the helpers cannot make any call",
                                "pip install litellm", [], "litellm-missing", source, LAYER_LITELLM))
    else:
        findings.append(Finding(CHECK, OK, f"litellm {version or '(version unknown)'} installed", "", [], "", source, LAYER_LITELLM))
    if importable("tenacity"):
        findings.append(Finding(CHECK, OK, "tenacity is installed: LiteLLM's own retry layer works", "", [], "", source, LAYER_LITELLM))
    else:
        findings.append(Finding(CHECK, WARN,
                                "tenacity is not installed: a sync litellm.completion(num_retries>0) whose attempts all fail raises "
                                "'tenacity import failed', hiding the real error (the judge's run_litellm)",
                                "pip install tenacity", [], "tenacity-missing", source, LAYER_LITELLM))
    local = envmod.cost_map_local(env)
    if local:
        findings.append(Finding(CHECK, OK, f"{local}=True: importing litellm does not fetch the remote cost map", "", [], "", source, LAYER_LITELLM))
    else:
        proxied = any(proxyenv.getproxies(env).get(s) for s in ("https", "all"))
        extra = "; behind a proxy that drops it this adds a 5 s timeout" if proxied else ""
        findings.append(Finding(CHECK, WARN, f"LITELLM_LOCAL_MODEL_COST_MAP is not set: every `import litellm` fetches a cost map from the internet{extra}",
                                "export LITELLM_LOCAL_MODEL_COST_MAP=True", [], "cost-map-remote", source, LAYER_LITELLM))
    return findings


def budget_findings(env: Mapping[str, str], patched: bool | None, source: str = "environment") -> list[Finding]:
    settings = envmod.retry_settings(env)
    findings = [
        Finding(CHECK, FAIL, message, f"export {var}=<a valid value>  (or unset it)", [], "bad-setting", source, LAYER_CONFIG)
        for var, message in settings.problems
    ]
    tenacity = importable("tenacity")
    timeout = settings.timeout if settings.timeout is not None else envmod.PATCHED_TIMEOUT
    timeout_src = f"LITELLM_DEFAULT_TIMEOUT={settings.timeout:g}" if settings.timeout is not None else "timeout 600 s (default)"
    retries = settings.retries if settings.retries is not None else envmod.PATCHED_RETRIES
    retries_src = f"LITELLM_NUM_RETRIES={settings.retries}" if settings.retries is not None else f"{envmod.PATCHED_RETRIES} retries (llmfix default)"
    fallbacks = settings.fallbacks if settings.fallbacks is not None else tuple(envmod.Fallback(m) for m in envmod.PATCHED_FALLBACKS)
    fb_src = (f"LITELLM_FALLBACK_MODELS: {len(fallbacks)} fallback(s)" if settings.fallbacks is not None
              else "no fallback (each helper's own default, unchanged by llmfix)")
    patched_b = budgetmod.budget(retries, timeout, len(fallbacks))
    unpatched_b = budgetmod.budget(envmod.UNPATCHED_RETRIES, timeout)
    sync_b = budgetmod.budget(retries, timeout, len(fallbacks), tenacity_layer=tenacity)

    detail = [
        f"patched helper: {retries_src}, {timeout_src}, {fb_src} -> {patched_b.attempts} attempts, worst case {budgetmod.human(patched_b.seconds)} per call; "
        f"an outage that fails fast is ridden out for ~{budgetmod.human(patched_b.outage_seconds)} per model",
        f"unpatched DR Tulu async helper: 5 retries, {timeout_src}, no fallback -> {unpatched_b.attempts} attempts, worst case {budgetmod.human(unpatched_b.seconds)}; "
        f"a fast-failing outage is ridden out for only ~{budgetmod.human(unpatched_b.outage_seconds)}",
        "timeout is per attempt and an idle timeout: a hanging endpoint costs the full value on every attempt; backoff 0.5*2^k s capped at 8 s",
    ]
    if tenacity and sync_b.seconds != patched_b.seconds:
        detail.append(f"sync run_litellm with tenacity installed: LiteLLM re-runs the SDK's retries {retries} more times -> worst case {budgetmod.human(sync_b.seconds)}")
    bare = [f.model for f in fallbacks if not f.own_endpoint]
    if bare:
        detail.append(f"fallbacks without their own api_base ({', '.join(bare)}) go to the same base URL and proxy: no help when either is down")
    pre = settings.precheck_timeout if settings.precheck_timeout is not None else envmod.PATCHED_PRECHECK_TIMEOUT
    pre_mode = settings.precheck or "on"
    detail.append(f"patched precheck before training: LITELLM_PRECHECK={pre_mode}, timeout {pre:g} s" +
                  (" (from LITELLM_PRECHECK_TIMEOUT)" if settings.precheck_timeout is not None else " (default)"))
    if settings.precheck and settings.precheck.strip() == "0":
        detail.append("LITELLM_PRECHECK=0: a dead endpoint is only noticed after training starts")

    which = "patched helper" if patched is not False else "unpatched helper"
    worst = patched_b if patched is not False else unpatched_b
    summary = f"{which}: worst case {budgetmod.human(worst.seconds)} per call ({worst.attempts} attempts x {timeout:g} s + backoff)"
    if patched is None:
        summary += "; checkout not examined, assuming llmfix's patched defaults"
    if worst.seconds > WORST_CASE_LIMIT:
        suggested = 60.0
        fix = f"export LITELLM_DEFAULT_TIMEOUT={suggested:g}  (-> {budgetmod.human(budgetmod.budget(worst.retries, suggested, worst.models - 1).seconds)} worst case)"
        findings.append(Finding(CHECK, WARN, summary + ": a hanging endpoint stalls each rubric call this long", fix, detail,
                                "worst-case-long", source, LAYER_LITELLM + 0.5))
    else:
        findings.append(Finding(CHECK, OK, summary, "", detail, "", source, LAYER_LITELLM + 0.5))
    return findings
