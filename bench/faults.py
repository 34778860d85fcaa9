"""Family 2: what the patch buys when the endpoint misbehaves (2a outage, 2b yield, 2c failure).

Two copies of the drtulu-canonical fixture: one as is, one after ``llmfix apply``. Each
scenario runs in its own process (bench/fault_child.py) with its own MockLLM on
127.0.0.1, real litellm, and the checkout's real ``generate_instance_wise_adaptive_rubrics``
-> ``run_litellm_async`` -> ``litellm.acompletion``. Nothing leaves the loopback.

Waits: the openai SDK's backoff (about 0.5*2^k s, capped at 8 s, minus up to 25% jitter)
cannot be shortened by any env var, so 2a and 2b run it for real. Only 2c shortens a
wait: the unpatched blackhole run uses a short LITELLM_DEFAULT_TIMEOUT and the result is
projected to the 600 s default (time = measured + attempts * (600 - T)); the quick profile
also shortens LITELLM_PRECHECK_TIMEOUT and, for 2a, extrapolates the patched budget from
a shorter retry count (each extra retry adds one capped 8 s backoff).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from llmfix.codemods.litellm_facts import DEFAULT_RETRIES, backoff, outage_ridden_out

from bench.common import (
    BENCH,
    CANONICAL,
    CATALOG,
    Profile,
    Row,
    Scratch,
    apply_report,
    clean_env,
    fmt_s,
    log,
    median,
    old_behaviour,
    percentile,
)

CHILD = BENCH / "fault_child.py"
MEAN_JITTER = 0.875  # 1 - 0.25 * E[random()]
UNPATCHED_RETRIES = 5  # the fixture's hard-coded num_retries
QUICK_RETRIES = 6  # 2a, quick profile: the patched schedule is recorded at this many retries
PATCHED_OUTAGES = (35, 65)  # 2a: outage widths (s) either side of the patched budget (about 49 s)
UNPATCHED_OUTAGES = (8, 20)  # the same either side of the unpatched budget (about 14 s)
BLIP_SHARE = 0.1  # 2c: the endpoint refuses connections for this share of LITELLM_PRECHECK_TIMEOUT, then answers


def prepare(scratch: Scratch) -> dict:
    """The unpatched and the patched checkout, how to import them, and the variables apply's
    report gives for the old behaviour."""
    entry = CATALOG[CANONICAL]
    sub = entry["root_subdir"]
    files = {kind: Path(rel).relative_to(sub).as_posix() for kind, rel in entry["files"].items()}
    unpatched = scratch.copy_fixture(CANONICAL, "2-unpatched")
    patched = scratch.copy_fixture(CANONICAL, "2-patched")
    report = apply_report(patched)
    base = {"files": files, "generator": entry["generator"]}
    return {
        "unpatched": {**base, "root": str(unpatched / sub)},
        "patched": {**base, "root": str(patched / sub)},
        "old_behaviour": old_behaviour(report),
    }


def run_children(jobs: dict[str, dict], folder: Path, slack: float = 180.0) -> dict[str, dict]:
    """Run every job at once, each in a fork of one warmed-up zygote process; collect results."""
    folder.mkdir(parents=True, exist_ok=True)
    jobs_path = folder / f"jobs-{int(time.time() * 1000)}.json"
    jobs_path.write_text(json.dumps(jobs))
    limit = max(spec.get("limit", 300) for spec in jobs.values()) + slack
    zygote = subprocess.Popen([sys.executable, str(CHILD), str(jobs_path), str(folder)], env=clean_env(), stdin=subprocess.DEVNULL)
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


# ----------------------------------------------------------------------------- job lists


def jobs_2a(profile: Profile, checkouts: dict) -> dict[str, dict]:
    calls = profile.outage_calls

    def outage(variant: str, width: float) -> dict:
        return {**checkouts[variant], "kind": "outage", "width": width, "env": {}, "limit": width + 150}

    jobs = {"2a-sched-unpatched": {**checkouts["unpatched"], "kind": "schedule", "calls": calls, "env": {}, "limit": 200}}
    for width in UNPATCHED_OUTAGES:
        jobs[f"2a-outage-unpatched-{width}"] = outage("unpatched", width)
    if profile.outage_real_defaults:
        jobs["2a-sched-patched"] = {**checkouts["patched"], "kind": "schedule", "calls": calls, "env": {}, "limit": 300}
        for width in PATCHED_OUTAGES:
            jobs[f"2a-outage-patched-{width}"] = outage("patched", width)
    else:
        jobs["2a-sched-patched-short"] = {
            **checkouts["patched"],
            "kind": "schedule",
            "calls": calls,
            "env": {"LITELLM_NUM_RETRIES": str(QUICK_RETRIES)},
            "limit": 150,
        }
    return jobs


def jobs_2c(profile: Profile, checkouts: dict, dead_proxy: str) -> dict[str, dict]:
    jobs = {}
    for timeout in profile.blackhole_timeouts:
        jobs[f"2c-blackhole-unpatched-T{timeout:g}"] = {
            **checkouts["unpatched"], "kind": "failure", "fault": "blackhole", "env": {"LITELLM_DEFAULT_TIMEOUT": str(timeout)}, "limit": 200
        }
    precheck = {"LITELLM_PRECHECK_TIMEOUT": str(profile.precheck_timeout)}
    blip = profile.precheck_timeout * BLIP_SHARE
    for fault in ("blackhole", "refused", "drop-blip", "refused-blip"):
        jobs[f"2c-{fault}-patched"] = {**checkouts["patched"], "kind": "failure", "fault": fault, "blip": blip, "env": precheck, "limit": 200}
    for fault in ("refused", "drop-blip", "refused-blip"):
        jobs[f"2c-{fault}-unpatched"] = {**checkouts["unpatched"], "kind": "failure", "fault": fault, "blip": blip, "env": {}, "limit": 200}
    proxy = {name: dead_proxy for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY")}
    jobs["2c-deadproxy-unpatched"] = {**checkouts["unpatched"], "kind": "failure", "fault": "deadproxy", "env": proxy, "limit": 200}
    jobs["2c-deadproxy-patched"] = {**checkouts["patched"], "kind": "failure", "fault": "deadproxy", "env": {**proxy, **precheck}, "limit": 200}
    return jobs


def jobs_2b(profile: Profile, checkouts: dict) -> dict[str, dict]:
    jobs = {}
    for drop in (0.3, 0.6):
        for variant in ("unpatched", "patched"):
            jobs[f"2b-yield-{variant}-{int(drop * 100)}"] = {
                **checkouts[variant],
                "kind": "yield",
                "drop": drop,
                "empty": 0.05,
                "seed": 2026,
                "generations": profile.rubric_generations,
                "concurrency": 32,
                "env": {},
                "limit": 400,
            }
    return jobs


# ----------------------------------------------------------------------------- summaries


def _windows(schedule: dict) -> list[float]:
    """Per call: the start of its last attempt = the longest outage (from the call's start) it survives."""
    return [c["attempts"][-1] for c in schedule.get("calls", []) if c["attempts"]]


def _schedule_summary(schedule: dict) -> dict:
    calls = schedule.get("calls", [{}])
    models = calls[0].get("models", []) if calls else []
    return {
        "windows": _windows(schedule),
        "attempts": [len(c.get("attempts", [])) for c in schedule.get("calls", [])],
        "schedule": calls[0].get("attempts", []) if calls else [],
        "models": list(dict.fromkeys(models)),
    }


def summarise_2a(profile: Profile, results: dict) -> dict:
    out: dict = {"crashes": crashes(results, "2a")}
    out["unpatched"] = _schedule_summary(results.get("2a-sched-unpatched", {}))
    out["unpatched"]["w"] = median(out["unpatched"]["windows"])
    if profile.outage_real_defaults:
        out["patched"] = _schedule_summary(results.get("2a-sched-patched", {}))
        out["patched"]["w"] = median(out["patched"]["windows"])
        out["patched"]["method"] = "measured at the patched defaults"
    else:
        sched = results.get("2a-sched-patched-short", {})
        short = _schedule_summary(sched)
        # gaps between attempts k and k+1 for the capped part tell the jitter actually seen
        ratios = []
        for call in sched.get("calls", []):
            times = call["attempts"][: QUICK_RETRIES + 1]
            for k in range(3, len(times) - 1):
                ratios.append((times[k + 1] - times[k]) / backoff(k))
        jitter = median(ratios) if ratios else MEAN_JITTER
        models = max(len(short["models"]), 1)
        extra = sum(backoff(k) for k in range(QUICK_RETRIES, DEFAULT_RETRIES)) * jitter * models
        out["patched"] = {
            **short,
            "w": median(short["windows"]) + extra if short["windows"] else float("nan"),
            "method": f"extrapolated from LITELLM_NUM_RETRIES={QUICK_RETRIES} (+{extra:.1f} s for retries {QUICK_RETRIES + 1}-{DEFAULT_RETRIES} at jitter {jitter:.2f}, {models} model(s))",
        }
    out["outages"] = {
        name[len("2a-outage-"):]: {"width": r.get("width"), "outcome": r.get("outcome"), "seconds": r.get("seconds")}
        for name, r in results.items()
        if name.startswith("2a-outage-")
    }
    return out


def rows_2a(s: dict) -> list[Row]:
    u, p = s["unpatched"]["w"], s["patched"]["w"]
    models = s["patched"].get("models") or ["?"]
    confirmed: dict[str, list[str]] = {}
    for key, value in s["outages"].items():
        variant = key.rsplit("-", 1)[0]
        confirmed.setdefault(variant, []).append(f"{value['width']:g} s {'kept' if value['outcome'] == 'rubric' else 'lost'}")
    note = "; ".join(f"{label}: {', '.join(items)}" for label, items in confirmed.items())
    return [
        Row(
            "2a",
            f"longest connection-refused outage a rubric call survives (patched at its defaults; models tried: {', '.join(models)})",
            fmt_s(u),
            fmt_s(p),
            f"{p / u:.1f}x",
            f"expected ~{outage_ridden_out(UNPATCHED_RETRIES) * MEAN_JITTER:.0f} s vs ~{outage_ridden_out(DEFAULT_RETRIES) * MEAN_JITTER * len(models):.0f} s",
            "-",
        ),
        Row("2a", f"real outages of W seconds ({note})", "-", "-", "-", "-", "-"),
    ]


def summarise_2b(results: dict, patched_models: int = 1) -> dict:
    out: dict = {"crashes": crashes(results, "2b")}
    for name, r in results.items():
        if not name.startswith("2b-") or "crash" in r:
            continue
        _, _, variant, drop = name.split("-")
        outcomes = r["outcomes"]
        lat = r["latencies"]
        p = int(drop) / 100
        attempts = UNPATCHED_RETRIES + 1 if variant == "unpatched" else patched_models * (DEFAULT_RETRIES + 1)
        out[f"{variant}-{drop}"] = {
            "n": len(outcomes),
            "yield": sum(1 for o in outcomes if o == "rubric") / len(outcomes),
            "expected": (1 - p**attempts) * 0.95,
            "p50": percentile(lat, 50),
            "p95": percentile(lat, 95),
            "max": max(lat),
            "wall": r["wall"],
            "attempts": r["attempts"],
            "behaviours": r["attempts_by_behaviour"],
            "raised": sum(1 for o in outcomes if o == "raised"),
        }
    out["patched_attempts"] = patched_models * (DEFAULT_RETRIES + 1)
    return out


def rows_2b(s: dict) -> list[Row]:
    rows = []
    for drop in ("30", "60"):
        u, p = s.get(f"unpatched-{drop}"), s.get(f"patched-{drop}")
        if not u or not p:
            continue
        rows.append(
            Row(
                "2b",
                f"{u['n']} rubric generations, {drop}% of attempts dropped, 5% of answers empty: rubrics returned (expected {u['expected']:.1%} / {p['expected']:.1%})",
                f"{u['yield']:.1%}",
                f"{p['yield']:.1%}",
                f"{(p['yield'] - u['yield']) * 100:+.1f} pt",
                "-",
                "-",
            )
        )
        rows.append(
            Row(
                "2b",
                f"same ({drop}%), latency per generation p50 / p95",
                f"{fmt_s(u['p50'])} / {fmt_s(u['p95'])}",
                f"{fmt_s(p['p50'])} / {fmt_s(p['p95'])}",
                f"{p['p95'] / u['p95']:.2f}x (p95)",
                "-",
                "-",
            )
        )
    return rows


FAILURE_CASES = (
    "blackhole-patched",
    "refused-patched",
    "refused-unpatched",
    "drop-blip-patched",
    "drop-blip-unpatched",
    "refused-blip-patched",
    "refused-blip-unpatched",
    "deadproxy-unpatched",
    "deadproxy-patched",
)


def summarise_2c(profile: Profile, results: dict) -> dict:
    out: dict = {"crashes": crashes(results, "2c")}
    projections = []
    for timeout in profile.blackhole_timeouts:
        r = results.get(f"2c-blackhole-unpatched-T{timeout:g}", {})
        if "seconds" not in r:
            continue
        attempts = len(r["attempts"])
        projected = r["seconds"] + attempts * (600 - timeout)
        projections.append({"timeout": timeout, "seconds": r["seconds"], "attempts": attempts, "projected": projected, "outcome": r["outcome"]})
    out["blackhole_unpatched"] = projections
    if len(projections) >= 2:
        a, b = projections[0], projections[-1]
        out["blackhole_slope"] = (b["seconds"] - a["seconds"]) / (b["timeout"] - a["timeout"])
    for key in FAILURE_CASES:
        r = results.get(f"2c-{key}", {})
        out[key] = {
            "seconds": r.get("seconds"),
            "outcome": r.get("outcome"),
            "attempts": r.get("attempts"),
            "error": (r.get("error") or "").splitlines()[:4],
        }
    out["precheck_timeout"] = profile.precheck_timeout
    out["blip"] = profile.precheck_timeout * BLIP_SHARE
    return out


def _outcome(case: dict) -> str:
    seconds = case["seconds"]
    if seconds is None:
        return f"no result ({case['outcome']})"
    words = {"raised": "raised", "none": "returned None", "rubric": "returned a rubric"}
    return f"{words.get(case['outcome'], case['outcome'])} after {fmt_s(seconds)}"


def rows_2c(s: dict) -> list[Row]:
    rows = []
    limit = s["precheck_timeout"] + 1
    proj = s["blackhole_unpatched"]
    timeout_note = f"LITELLM_PRECHECK_TIMEOUT={s['precheck_timeout']:g}"

    def raised_in_time(case: dict) -> tuple[float, str]:
        seconds = case["seconds"] if case["outcome"] == "raised" and case["seconds"] is not None else float("nan")
        return seconds, "met" if seconds == seconds and seconds <= limit else "MISSED"

    p = s["blackhole-patched"]
    seconds, status = raised_in_time(p)
    if proj:
        last = proj[-1]
        baseline = f"{last['projected'] / 60:.0f} min projected ({fmt_s(last['seconds'])} at timeout {last['timeout']:g} s)"
        ratio = f"{last['projected'] / seconds:.0f}x faster" if seconds == seconds else "n/a"
    else:
        baseline, ratio = "n/a", "n/a"
    rows.append(Row("2c", f"blackholed endpoint: time to a clear failure, {timeout_note}", baseline, _outcome(p), ratio, f"<= {limit:g} s", status))
    u, p = s["refused-unpatched"], s["refused-patched"]
    seconds, status = raised_in_time(p)
    rows.append(
        Row(
            "2c",
            f"endpoint refusing connections throughout: time to a clear failure (the precheck retries within {timeout_note})",
            _outcome(u),
            _outcome(p),
            "-",
            f"<= {limit:g} s",
            status,
        )
    )
    u, p = s["drop-blip-unpatched"], s["drop-blip-patched"]
    rows.append(
        Row(
            "2c",
            f"every connection reset for the first {s['blip']:g} s (transient), then answers: the first generation (the precheck retries drops)",
            _outcome(u),
            _outcome(p),
            "-",
            "a rubric",
            "met" if p["outcome"] == "rubric" else "MISSED",
        )
    )
    u, p = s["refused-blip-unpatched"], s["refused-blip-patched"]
    rows.append(
        Row(
            "2c",
            f"connections refused for the first {s['blip']:g} s (an endpoint restarting), then answers: the first generation (the precheck takes a refusal as definitive)",
            _outcome(u),
            _outcome(p),
            "-",
            "-",
            "-",
        )
    )
    u, p = s["deadproxy-unpatched"], s["deadproxy-patched"]
    if u["seconds"] is not None and p["seconds"] is not None:
        seconds, status = raised_in_time(p)
        rows.append(
            Row(
                "2c",
                "dead proxy (closed port): time to a clear failure (no timeout involved: measured = worst case)",
                _outcome(u),
                _outcome(p),
                f"{u['seconds'] / p['seconds']:.0f}x faster",
                f"<= {limit:g} s",
                status,
            )
        )
    return rows


# ----------------------------------------------------------------------------- entry


def run(profile: Profile, scratch: Scratch, checkouts: dict, extra_jobs: dict[str, dict] | None = None) -> dict:
    """2a-2c (and ``extra_jobs``, run with 2a and 2c: they wait on backoffs too); the raw results included."""
    from llmfix.proxy import closed_port

    folder = scratch.root / "faults"
    t = time.perf_counter()
    jobs_a = {**jobs_2a(profile, checkouts), **jobs_2c(profile, checkouts, f"http://127.0.0.1:{closed_port()}"), **(extra_jobs or {})}
    jobs_b = jobs_2b(profile, checkouts)
    if profile.name == "quick":  # one phase: 2b's CPU load then overlaps the timed waits of 2a/2c
        log(f"2a+2b+2c{'+6a' if extra_jobs else ''} together (quick profile)")
        results = run_children({**jobs_a, **jobs_b}, folder)
        phases = {"all fault scenarios": time.perf_counter() - t}
        zygotes = {"all fault scenarios": results.pop("_zygote")}
    else:
        log(f"2a+2c{'+6a' if extra_jobs else ''}: outage and failure scenarios (parallel forks of one process)")
        phase_a = run_children(jobs_a, folder)
        ta = time.perf_counter() - t
        log(f"2a+2c took {ta:.0f} s; 2b: rubric yield")
        t = time.perf_counter()
        phase_b = run_children(jobs_b, folder)
        phases = {"2a+2c" + ("+6a" if extra_jobs else ""): ta, "2b": time.perf_counter() - t}
        zygotes = {"2a+2c": phase_a.pop("_zygote"), "2b": phase_b.pop("_zygote")}
        results = {**phase_a, **phase_b}
    (folder / "all.json").write_text(json.dumps(results))
    a = summarise_2a(profile, results)
    return {
        "2a": a,
        "2b": summarise_2b(results, max(len(a["patched"].get("models") or []), 1)),
        "2c": summarise_2c(profile, results),
        "phase_seconds": phases,
        "zygotes": zygotes,
        "raw": results,
    }
