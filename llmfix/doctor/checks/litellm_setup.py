"""Check 5: LiteLLM itself: the training job's litellm and tenacity (asked of ``--python``; llmfix's
own virtualenv says nothing about the job), the cost-map fetch, and the worst case one call takes."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Mapping
from typing import NamedTuple

from llmfix.codemods import litellm_facts as facts
from llmfix.codemods.runtime.litellm_utils import _LIMITS as LIMITS
from llmfix.doctor.checks import Started, last_words
from llmfix.doctor.env import env_true, getproxies
from llmfix.doctor.findings import FAIL, LAYER, OK, WARN, Finding

CHECK = "litellm"
UNPATCHED_RETRIES = 5  # the DR Tulu async helper's own num_retries (TARGETS.md)
WORST_CASE_LIMIT = 900.0  # seconds one helper call may hang before it is a problem
JOB_PYTHON_TIMEOUT = 15.0
_LOOK_UP_PACKAGES = """\
import importlib.util, json, sys
from importlib import metadata
def look(name):
    try:
        return metadata.version(name)
    except Exception:
        return "" if importlib.util.find_spec(name) else None
print(json.dumps({"python": sys.version.split()[0], "packages": {n: look(n) for n in ("litellm", "tenacity")}}))
"""


def ask_job_python(python: str, env: Mapping[str, str]) -> Started:
    """The interpreter started now, looking up its packages while the other checks run."""
    return Started([python, "-c", _LOOK_UP_PACKAGES], env, JOB_PYTHON_TIMEOUT)


def job_findings(python: str | None, asked: Started | None) -> tuple[list[Finding], bool | None]:
    """litellm and tenacity as the training job's interpreter (``--python``) has them; and whether it has tenacity (None: unknown)."""
    done, data = asked.collect() if asked is not None else "", None
    if not isinstance(done, str) and done[0] == 0 and done[1].strip():
        with contextlib.suppress(ValueError):
            data = json.loads(done[1].strip().splitlines()[-1])
    if not isinstance(data, dict) or not isinstance(data.get("packages"), dict):
        error = done if isinstance(done, str) else f"{python} -c ... failed ({last_words(done[0], done[2])})"
        why = f": {error}" if error else " (litellm version, tenacity): llmfix's own virtualenv says nothing about it"
        fix = "run again with --python /path/to/the/training/job's/python (e.g. its virtualenv's bin/python)"
        return [_finding(WARN, f"could not examine the training job's Python environment{why}", fix, "training-env-unknown")], None
    packages = {str(n): v for n, v in data["packages"].items() if isinstance(v, str)}
    where, litellm, tenacity = f"{python} (Python {data.get('python', '')})", packages.get("litellm"), packages.get("tenacity")
    if litellm is not None:
        out = [_finding(OK, f"litellm {litellm or '(version unknown)'} installed for {where}")]
    else:
        out = [_finding(FAIL, f"litellm is not installed for {where}: the helpers cannot make any call", f"{python} -m pip install litellm", "litellm-missing")]
    if tenacity is not None:
        return out + [_finding(OK, f"{f'tenacity {tenacity}'.strip()} installed for {where}: LiteLLM's own retry layer works")], True
    summary = f"tenacity is not installed for {where}: a sync litellm.completion(num_retries>0) whose attempts all fail raises 'tenacity import failed', "
    summary += "hiding the real error (the judge's run_litellm)"
    return out + [_finding(WARN, summary, f"{python} -m pip install tenacity", "tenacity-missing")], False


def _finding(status: str, summary: str, fix: str = "", cause: str = "") -> Finding:
    return Finding(CHECK, status, summary, fix, cause, "environment", LAYER["litellm"])


def cost_map_findings(env: Mapping[str, str]) -> list[Finding]:
    """Does importing litellm fetch the remote cost map?"""
    local = next((n for n in ("LITELLM_LOCAL_MODEL_COST_MAP", "LITELLM_OFFLINE_MODE") if env_true(env.get(n))), None)
    if local:
        return [_finding(OK, f"{local}=True: importing litellm does not fetch the remote cost map")]
    proxied = any(getproxies(env).get(s) for s in ("https", "all"))
    summary = "LITELLM_LOCAL_MODEL_COST_MAP is not set: every `import litellm` fetches a cost map from the internet"
    summary += "; behind a proxy that drops it this adds a 5 s timeout" if proxied else ""
    return [_finding(WARN, summary, "export LITELLM_LOCAL_MODEL_COST_MAP=True", "cost-map-remote")]


class Fallback(NamedTuple):
    model: str
    api_base: str | None = None


def _number(env: Mapping[str, str], name: str, problems: list[tuple[str, str]]) -> float | None:
    """The variable's value when the patched code accepts it (the support module's own LIMITS), else a problem."""
    raw, (kind, low, high) = env.get(name, "").strip(), LIMITS[name]
    try:
        if not raw or low <= (value := kind(raw)) <= high:  # NaN fails
            return value if raw else None
    except ValueError:
        pass
    expected = f"{'an integer' if kind is int else 'a number'} in {low:g}..{high:g}"
    problems.append((name, f"{name}={env[name]!r} is not {expected}: the patched helpers raise ValueError"))
    return None


def parse_fallbacks(raw: str) -> tuple[tuple[Fallback, ...], str | None]:
    """LITELLM_FALLBACK_MODELS: a JSON list (strings or {model, api_base, ...}) or a comma list."""
    text = raw.strip()
    if not text.startswith("["):
        return tuple(Fallback(p.strip()) for p in text.split(",") if p.strip()), None
    try:
        items = json.loads(text)
    except ValueError as exc:
        return (), f"LITELLM_FALLBACK_MODELS looks like JSON but does not parse: {exc.msg}"
    out = []
    for item in items:
        if not isinstance(item, str) and not (isinstance(item, dict) and isinstance(item.get("model"), str)):
            return tuple(out), f"LITELLM_FALLBACK_MODELS item {item!r} is neither a name nor an object with 'model'"
        out.append(Fallback(item) if isinstance(item, str) else Fallback(item["model"], item.get("api_base") or None))
    return tuple(out), None


class Budget(NamedTuple):
    attempts: int
    seconds: float  # worst case
    outage: float  # how long an outage that fails fast (refused, reset) is ridden out: the backoff alone


def budget(retries: int, timeout: float, fallbacks: int = 0, tenacity_layer: bool = False) -> Budget:
    """Worst case of one helper call (TARGETS.md): N+1 attempts of the whole (idle) timeout plus the SDK's backoff, per
    fallback model; with tenacity, LiteLLM's own layer re-runs the SDK's retries N more times on the sync path."""
    layers, models, backoff = retries + 1 if tenacity_layer and retries > 0 else 1, 1 + max(fallbacks, 0), facts.outage_ridden_out(retries)
    return Budget((retries + 1) * layers * models, layers * ((retries + 1) * timeout + backoff) * models, layers * backoff)


def human(seconds: float) -> str:
    """3615.5 -> '3616 s (1.0 h)'."""
    if seconds >= 3600:
        return f"{seconds:.0f} s ({seconds / 3600:.1f} h)"
    return f"{seconds:.0f} s ({seconds / 60:.0f} min)" if seconds >= 120 else f"{seconds:.1f} s"


def budget_findings(env: Mapping[str, str], patched: bool | None, source: str = "environment", tenacity: bool | None = None) -> list[Finding]:
    """The worst case one helper call can take with the settings in ``env``; ``tenacity``: whether the job has it (None: unknown)."""
    problems: list[tuple[str, str]] = []  # (variable, message)
    values = {name: _number(env, name, problems) for name in ("LITELLM_NUM_RETRIES", "LITELLM_DEFAULT_TIMEOUT", "LITELLM_PRECHECK_TIMEOUT")}
    fallbacks, problem = parse_fallbacks(env["LITELLM_FALLBACK_MODELS"]) if "LITELLM_FALLBACK_MODELS" in env else ((), None)
    problems += [("LITELLM_FALLBACK_MODELS", problem)] if problem else []
    fix = "export {}=<a valid value>  (or unset it)"
    findings = [Finding(CHECK, FAIL, message, fix.format(var), "bad-setting", source, LAYER["config"]) for var, message in problems]
    timeout = facts.DEFAULT_TIMEOUT if values["LITELLM_DEFAULT_TIMEOUT"] is None else values["LITELLM_DEFAULT_TIMEOUT"]
    timeout_src = f"timeout {timeout:g} s (default)" if values["LITELLM_DEFAULT_TIMEOUT"] is None else f"LITELLM_DEFAULT_TIMEOUT={timeout:g}"
    retries = facts.DEFAULT_RETRIES if values["LITELLM_NUM_RETRIES"] is None else int(values["LITELLM_NUM_RETRIES"])
    retries_src = f"{retries} retries (llmfix default)" if values["LITELLM_NUM_RETRIES"] is None else f"LITELLM_NUM_RETRIES={retries}"
    fb_src = "no fallback (each helper's own default, unchanged by llmfix)"
    fb_src = f"LITELLM_FALLBACK_MODELS: {len(fallbacks)} fallback(s)" if "LITELLM_FALLBACK_MODELS" in env else fb_src
    mine, theirs, sync = budget(retries, timeout, len(fallbacks)), budget(UNPATCHED_RETRIES, timeout), budget(retries, timeout, len(fallbacks), True)
    detail = [
        f"patched helper: {retries_src}, {timeout_src}, {fb_src} -> {mine.attempts} attempts, worst case {human(mine.seconds)} per call; "
        f"an outage that fails fast is ridden out for ~{human(mine.outage)} per model",
        f"unpatched DR Tulu async helper: {UNPATCHED_RETRIES} retries, {timeout_src}, no fallback -> {theirs.attempts} attempts, "
        f"worst case {human(theirs.seconds)}; a fast-failing outage is ridden out for only ~{human(theirs.outage)}",
        "timeout is per attempt and an idle timeout: a hanging endpoint costs the full value on every attempt; backoff 0.5*2^k s capped at 8 s",
    ]
    if tenacity is not False and sync.seconds != mine.seconds:
        given = "with tenacity installed in the training job" if tenacity else "if the training job has tenacity"
        detail.append(f"sync run_litellm {given}: LiteLLM re-runs the SDK's retries {retries} more times -> worst case {human(sync.seconds)}")
    bare = [model for model, api_base in fallbacks if not api_base]
    if bare:
        detail.append(f"fallbacks without their own api_base ({', '.join(bare)}) go to the same base URL and proxy: no help when either is down")
    pre, precheck = values["LITELLM_PRECHECK_TIMEOUT"], env.get("LITELLM_PRECHECK")
    pre_src = f"{facts.DEFAULT_PRECHECK_TIMEOUT:g} s (default)" if pre is None else f"{pre:g} s (from LITELLM_PRECHECK_TIMEOUT)"
    detail.append(f"patched precheck before training: LITELLM_PRECHECK={precheck or 'on'}, timeout {pre_src}")
    if (precheck or "").strip() == "0":
        detail.append("LITELLM_PRECHECK=0: a dead endpoint is only noticed after training starts")
    which, r, fb = ("patched", retries, len(fallbacks)) if patched is not False else ("unpatched", UNPATCHED_RETRIES, 0)
    worst = budget(r, timeout, fb)
    summary = f"{which} helper: worst case {human(worst.seconds)} per call ({worst.attempts} attempts x {timeout:g} s + backoff)"
    summary += "; checkout not examined, assuming llmfix's patched defaults" if patched is None else ""
    if worst.seconds > WORST_CASE_LIMIT:  # (not "<=": a NaN timeout is no finding)
        fix = f"export LITELLM_DEFAULT_TIMEOUT=60  (-> {human(budget(r, 60.0, fb).seconds)} worst case)"
        summary += ": a hanging endpoint stalls each rubric call this long"
        return findings + [Finding(CHECK, WARN, summary, fix, "worst-case-long", source, LAYER["litellm"] + 0.5, detail)]
    return findings + [Finding(CHECK, OK, summary, "", "", source, LAYER["litellm"] + 0.5, detail)]
