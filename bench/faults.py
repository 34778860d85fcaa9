"""Family 2: what the patch buys when the endpoint misbehaves (2a outage, 2b yield, 2c failure).

Two copies of drtulu-canonical: one as is, one after ``llmfix apply`` (both with a judge
module, bench/judge_module.py, when the fixture has none: 6c uses it). Each scenario runs
in its own forked process (bench/fault_child.py) with its own MockLLM on 127.0.0.1, real
litellm, and the checkout's real ``generate_instance_wise_adaptive_rubrics`` ->
``run_litellm_async`` -> ``litellm.acompletion``.

The openai SDK's backoff (about 0.5*2^k s, capped at 8 s, minus up to 25% jitter) cannot
be shortened, so 2a and 2b wait it out for real. 2c's unpatched blackhole run uses a short
LITELLM_DEFAULT_TIMEOUT and is projected to the 600 s default (measured + attempts * (600 - T));
the quick profile also shortens LITELLM_PRECHECK_TIMEOUT and extrapolates 2a's patched budget
from a shorter retry count (each extra retry adds one capped 8 s backoff).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from bench import judge_module
from bench.common import BENCH, CANONICAL, CATALOG, Profile, Row, Scratch, apply_report, clean_env, fmt_s, median, old_behaviour, percentile
from llmfix.codemods.litellm_facts import DEFAULT_RETRIES, backoff, outage_ridden_out

MEAN_JITTER = 0.875  # 1 - 0.25 * E[random()]
UNPATCHED_RETRIES = 5  # the fixture's hard-coded num_retries
QUICK_RETRIES = 6  # 2a, quick profile: the patched schedule is recorded at this many retries
OUTAGES = {"unpatched": (8, 20), "patched": (35, 65)}  # 2a: outage widths (s) either side of each budget (about 14 s / 49 s)
DROP = 0.6  # 2b: share of attempts dropped


def prepare(scratch: Scratch) -> dict:
    """The unpatched and the patched checkout (each with a judge module), how to import them, and
    the variables apply's report gives for the old behaviour."""
    entry = CATALOG[CANONICAL]
    sub = entry["root_subdir"]
    files = {kind: Path(rel).relative_to(sub).as_posix() for kind, rel in entry["files"].items() if kind in ("run_utils", "rubric_utils")}
    judge = Path(judge_module.relative(CANONICAL)).relative_to(sub).as_posix()
    found = {"judge_written_by_bench": not judge_module.present(CANONICAL)}
    for variant in ("unpatched", "patched"):
        copy = scratch.copy_fixture(CANONICAL, f"2-{variant}")
        judge_module.write(copy, CANONICAL)
        if variant == "patched":
            found["old_behaviour"] = old_behaviour(apply_report(copy))
        found[variant] = {"root": str(copy / sub), "files": files, "generator": entry["generator"], "judge_file": judge}
    return found


def run_children(jobs: dict[str, dict], folder: Path, slack: float = 180.0) -> dict[str, dict]:
    """Run every job at once, each in a fork of one warmed-up zygote process; collect results."""
    folder.mkdir(parents=True, exist_ok=True)
    jobs_path = folder / f"jobs-{int(time.time() * 1000)}.json"
    jobs_path.write_text(json.dumps(jobs))
    limit = max(spec.get("limit", 300) for spec in jobs.values()) + slack
    zygote = subprocess.Popen([sys.executable, str(BENCH / "fault_child.py"), str(jobs_path), str(folder)], env=clean_env(), stdin=subprocess.DEVNULL)
    try:
        zygote.wait(timeout=limit)
    except subprocess.TimeoutExpired:
        zygote.kill()
        zygote.wait()
    results = {}
    for name in jobs:
        out = folder / f"{name}.json"
        if out.exists():
            results[name] = json.loads(out.read_text())
        else:
            log_file = folder / f"{name}.log"
            tail = log_file.read_text(errors="replace")[-600:] if log_file.exists() else ""
            results[name] = {"crash": f"no result (zygote exit {zygote.returncode}): {tail}"}
    status = folder / "zygote.json"
    results["_zygote"] = json.loads(status.read_text()) if status.exists() else {}
    return results


def crashes(results: dict[str, dict], prefix: str) -> list[str]:
    return [f"{name}: {r['crash']}" for name, r in results.items() if name.startswith(prefix) and "crash" in r]


def jobs(profile: Profile, checkouts: dict, dead_proxy: str) -> dict[str, dict]:
    """2a, 2b and 2c's scenarios."""
    found: dict[str, dict] = {}
    for variant, checkout in (("unpatched", checkouts["unpatched"]), ("patched", checkouts["patched"])):
        short = variant == "patched" and not profile.outage_real_defaults
        env = {"LITELLM_NUM_RETRIES": str(QUICK_RETRIES)} if short else {}
        found[f"2a-sched-{variant}"] = {**checkout, "kind": "schedule", "calls": profile.outage_calls, "env": env, "limit": 300}
        for width in OUTAGES[variant] if not short else ():
            found[f"2a-outage-{variant}-{width}"] = {**checkout, "kind": "outage", "width": width, "env": {}, "limit": width + 150}
        found[f"2b-{variant}"] = {
            **checkout,
            "kind": "yield",
            "drop": DROP,
            "empty": 0.05,
            "seed": 2026,
            "generations": profile.rubric_generations,
            "concurrency": 32,
            "env": {},
            "limit": 400,
        }
    for timeout in profile.blackhole_timeouts:
        found[f"2c-blackhole-unpatched-T{timeout:g}"] = {
            **checkouts["unpatched"],
            "kind": "failure",
            "fault": "blackhole",
            "env": {"LITELLM_DEFAULT_TIMEOUT": str(timeout)},
            "limit": 200,
        }
    precheck = {"LITELLM_PRECHECK_TIMEOUT": str(profile.precheck_timeout)}
    found["2c-blackhole-patched"] = {**checkouts["patched"], "kind": "failure", "fault": "blackhole", "env": precheck, "limit": 200}
    proxy = {name: dead_proxy for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY")}
    found["2c-deadproxy-unpatched"] = {**checkouts["unpatched"], "kind": "failure", "fault": "deadproxy", "env": proxy, "limit": 200}
    found["2c-deadproxy-patched"] = {**checkouts["patched"], "kind": "failure", "fault": "deadproxy", "env": {**proxy, **precheck}, "limit": 200}
    return found


def _schedule(result: dict) -> dict:
    """Per call: the start of its last attempt = the longest outage (from the call's start) it survives."""
    calls = result.get("calls") or []
    return {
        "windows": [c["attempts"][-1] for c in calls if c["attempts"]],
        "attempts": [len(c["attempts"]) for c in calls],
        "schedule": calls[0]["attempts"] if calls else [],
        "models": list(dict.fromkeys(calls[0]["models"])) if calls else [],
    }


def summarise_2a(profile: Profile, results: dict) -> dict:
    out: dict = {"crashes": crashes(results, "2a")}
    for variant in ("unpatched", "patched"):
        out[variant] = _schedule(results.get(f"2a-sched-{variant}", {}))
        out[variant]["w"] = median(out[variant]["windows"])
    if not profile.outage_real_defaults:  # the patched schedule was recorded at QUICK_RETRIES retries
        models = max(len(out["patched"]["models"]), 1)
        extra = sum(backoff(k) for k in range(QUICK_RETRIES, DEFAULT_RETRIES)) * MEAN_JITTER * models
        out["patched"]["w"] += extra
        out["patched"]["method"] = f"extrapolated from LITELLM_NUM_RETRIES={QUICK_RETRIES} (+{extra:.1f} s)"
    out["outages"] = {
        name[len("2a-outage-") :]: {k: r.get(k) for k in ("width", "outcome", "seconds")} for name, r in results.items() if name.startswith("2a-outage-")
    }
    return out


def rows_2a(s: dict) -> list[Row]:
    u, p = s["unpatched"]["w"], s["patched"]["w"]
    models = s["patched"].get("models") or ["?"]
    confirmed = "; ".join(f"{k}: {v['width']:g} s {'kept' if v['outcome'] == 'rubric' else 'lost'}" for k, v in s["outages"].items())
    expected = (
        f"expected ~{outage_ridden_out(UNPATCHED_RETRIES) * MEAN_JITTER:.0f} s vs ~{outage_ridden_out(DEFAULT_RETRIES) * MEAN_JITTER * len(models):.0f} s"
    )
    measure = f"longest connection-refused outage a rubric call survives (models tried: {', '.join(models)}; {expected})"
    rows = [Row("2a", measure, fmt_s(u), fmt_s(p), f"{p / u:.1f}x", "-", "-")]
    if confirmed:
        rows.append(Row("2a", f"real outages of W seconds from the call's start ({confirmed})", "-", "-", "-", "-", "-"))
    return rows


def summarise_2b(results: dict, patched_models: int) -> dict:
    out: dict = {"crashes": crashes(results, "2b"), "drop": DROP}
    attempts = {"unpatched": UNPATCHED_RETRIES + 1, "patched": patched_models * (DEFAULT_RETRIES + 1)}
    for variant in ("unpatched", "patched"):
        r = results.get(f"2b-{variant}", {})
        if "outcomes" not in r:
            continue
        outcomes, latencies = r["outcomes"], r["latencies"]
        out[variant] = {
            "n": len(outcomes),
            "yield": outcomes.count("rubric") / len(outcomes),
            "expected": (1 - DROP ** attempts[variant]) * 0.95,
            "p50": percentile(latencies, 50),
            "p95": percentile(latencies, 95),
            "wall": r["wall"],
            "attempts": r["attempts"],
            "behaviours": r["attempts_by_behaviour"],
            "raised": outcomes.count("raised"),
        }
    return out


def rows_2b(s: dict) -> list[Row]:
    u, p = s.get("unpatched"), s.get("patched")
    if not u or not p:
        return [Row("2b", f"rubric yield: no result ({'; '.join(s['crashes'])[:200]})", "-", "-", "-", "-", "-")]
    return [
        Row(
            "2b",
            f"{u['n']} rubric generations, {DROP:.0%} of attempts dropped, 5% of answers empty"
            f": rubrics returned (expected {u['expected']:.1%} / {p['expected']:.1%})",
            f"{u['yield']:.1%}",
            f"{p['yield']:.1%}",
            f"{(p['yield'] - u['yield']) * 100:+.1f} pt",
            "-",
            "-",
        ),
        Row(
            "2b",
            "same, latency per generation p50 / p95",
            f"{fmt_s(u['p50'])} / {fmt_s(u['p95'])}",
            f"{fmt_s(p['p50'])} / {fmt_s(p['p95'])}",
            f"{p['p95'] / u['p95']:.2f}x (p95)",
            "-",
            "-",
        ),
    ]


def summarise_2c(profile: Profile, results: dict) -> dict:
    out: dict = {"crashes": crashes(results, "2c"), "precheck_timeout": profile.precheck_timeout, "blackhole_unpatched": []}
    for timeout in profile.blackhole_timeouts:
        r = results.get(f"2c-blackhole-unpatched-T{timeout:g}", {})
        if "seconds" in r:
            attempts = len(r["attempts"])
            out["blackhole_unpatched"].append(
                {
                    "timeout": timeout,
                    "seconds": r["seconds"],
                    "attempts": attempts,
                    "projected": r["seconds"] + attempts * (600 - timeout),
                    "outcome": r["outcome"],
                }
            )
    for key in ("blackhole-patched", "deadproxy-unpatched", "deadproxy-patched"):
        r = results.get(f"2c-{key}", {})
        out[key] = {"seconds": r.get("seconds"), "outcome": r.get("outcome"), "attempts": r.get("attempts"), "error": (r.get("error") or "").splitlines()[:3]}
    return out


def _outcome(case: dict) -> str:
    if case["seconds"] is None:
        return f"no result ({case['outcome']})"
    words = {"raised": "raised", "none": "returned None", "rubric": "returned a rubric"}
    return f"{words.get(case['outcome'], case['outcome'])} after {fmt_s(case['seconds'])}"


def rows_2c(s: dict) -> list[Row]:
    limit = s["precheck_timeout"] + 1

    def status(case: dict) -> tuple[float, str]:
        seconds = case["seconds"] if case["outcome"] == "raised" and case["seconds"] is not None else float("nan")
        return seconds, "met" if seconds == seconds and seconds <= limit else "MISSED"

    seconds, met = status(s["blackhole-patched"])
    last = s["blackhole_unpatched"][-1] if s["blackhole_unpatched"] else None
    baseline = f"{last['projected'] / 60:.0f} min projected ({fmt_s(last['seconds'])} at timeout {last['timeout']:g} s)" if last else "n/a"
    ratio = f"{last['projected'] / seconds:.0f}x faster" if last and seconds == seconds else "n/a"
    rows = [
        Row(
            "2c",
            f"blackholed endpoint: time to a clear failure (LITELLM_PRECHECK_TIMEOUT={s['precheck_timeout']:g})",
            baseline,
            _outcome(s["blackhole-patched"]),
            ratio,
            f"<= {limit:g} s",
            met,
        )
    ]
    u, p = s["deadproxy-unpatched"], s["deadproxy-patched"]
    seconds, met = status(p)
    ratio = f"{u['seconds'] / p['seconds']:.0f}x faster" if u["seconds"] and p["seconds"] else "n/a"
    rows.append(
        Row(
            "2c",
            "dead proxy (closed port): time to a clear failure (no timeout involved: measured = worst case)",
            _outcome(u),
            _outcome(p),
            ratio,
            f"<= {limit:g} s",
            met,
        )
    )
    return rows


def summarise(profile: Profile, results: dict) -> dict:
    a = summarise_2a(profile, results)
    return {"2a": a, "2b": summarise_2b(results, max(len(a["patched"]["models"]), 1)), "2c": summarise_2c(profile, results)}


def rows(r: dict) -> list[Row]:
    return rows_2a(r["2a"]) + rows_2b(r["2b"]) + rows_2c(r["2c"])
