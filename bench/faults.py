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

from bench.common import (
    BENCH,
    CANONICAL,
    CATALOG,
    Profile,
    Row,
    Scratch,
    clean_env,
    fmt_s,
    llmfix_command,
    log,
    median,
    percentile,
)

CHILD = BENCH / "fault_child.py"
BACKOFF_CAP = 8.0
MEAN_JITTER = 0.875  # 1 - 0.25 * E[random()]
UNPATCHED_RETRIES = 5  # the fixture's hard-coded num_retries
PATCHED_RETRIES = 10  # LITELLM_NUM_RETRIES default after llmfix apply


def nominal_backoff(k: int) -> float:
    return min(0.5 * 2**k, BACKOFF_CAP)


def prepare(scratch: Scratch) -> dict:
    """The unpatched and the patched checkout, and how to import them."""
    entry = CATALOG[CANONICAL]
    sub = entry["root_subdir"]
    files = {kind: Path(rel).relative_to(sub).as_posix() for kind, rel in entry["files"].items()}
    unpatched = scratch.copy_fixture(CANONICAL, "2-unpatched")
    patched = scratch.copy_fixture(CANONICAL, "2-patched")
    done = subprocess.run([*llmfix_command(), "apply", "-q", str(patched)], capture_output=True, text=True, env=clean_env())
    if done.returncode != 0:
        raise RuntimeError(f"llmfix apply failed: {done.stderr}")
    base = {"files": files, "generator": entry["generator"]}
    return {
        "unpatched": {**base, "root": str(unpatched / sub)},
        "patched": {**base, "root": str(patched / sub)},
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


def _crashes(results: dict[str, dict]) -> list[str]:
    return [f"{name}: {r['crash']}" for name, r in results.items() if "crash" in r and not name.startswith("_")]


# ----------------------------------------------------------------------------- job lists


def jobs_2a(profile: Profile, checkouts: dict) -> dict[str, dict]:
    calls = profile.outage_calls
    jobs = {"2a-sched-unpatched": {**checkouts["unpatched"], "kind": "schedule", "calls": calls, "env": {}, "limit": 200}}

    def outage(variant: str, width: float, env: dict) -> dict:
        return {**checkouts[variant], "kind": "outage", "width": width, "env": env, "limit": width + 150}

    jobs["2a-outage-unpatched-8"] = outage("unpatched", 8, {})
    jobs["2a-outage-unpatched-20"] = outage("unpatched", 20, {})
    if profile.outage_real_defaults:
        jobs["2a-sched-patched"] = {**checkouts["patched"], "kind": "schedule", "calls": calls, "env": {}, "limit": 250}
        jobs["2a-sched-patched-nofb"] = {
            **checkouts["patched"], "kind": "schedule", "calls": calls, "env": {"LITELLM_FALLBACK_MODELS": ""}, "limit": 200
        }
        jobs["2a-outage-patched-70"] = outage("patched", 70, {})
        jobs["2a-outage-patched-125"] = outage("patched", 125, {})
        jobs["2a-outage-patched-nofb-35"] = outage("patched", 35, {"LITELLM_FALLBACK_MODELS": ""})
        jobs["2a-outage-patched-nofb-65"] = outage("patched", 65, {"LITELLM_FALLBACK_MODELS": ""})
    else:
        jobs["2a-sched-patched-r6"] = {
            **checkouts["patched"],
            "kind": "schedule",
            "calls": calls,
            "env": {"LITELLM_NUM_RETRIES": "6", "LITELLM_FALLBACK_MODELS": ""},
            "limit": 120,
        }
    return jobs


def jobs_2c(profile: Profile, checkouts: dict, dead_proxy: str) -> dict[str, dict]:
    jobs = {}
    for timeout in profile.blackhole_timeouts:
        jobs[f"2c-blackhole-unpatched-T{timeout:g}"] = {
            **checkouts["unpatched"], "kind": "failure", "fault": "blackhole", "env": {"LITELLM_DEFAULT_TIMEOUT": str(timeout)}, "limit": 200
        }
    precheck = {"LITELLM_PRECHECK_TIMEOUT": str(profile.precheck_timeout)}
    jobs["2c-blackhole-patched"] = {**checkouts["patched"], "kind": "failure", "fault": "blackhole", "env": precheck, "limit": 200}
    jobs["2c-blackhole-patched-nofb"] = {
        **checkouts["patched"], "kind": "failure", "fault": "blackhole", "env": {**precheck, "LITELLM_FALLBACK_MODELS": ""}, "limit": 200
    }
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


def summarise_2a(profile: Profile, results: dict) -> dict:
    out: dict = {"crashes": _crashes({k: v for k, v in results.items() if k.startswith("2a")})}
    sched_u = results.get("2a-sched-unpatched", {})
    out["unpatched"] = {"windows": _windows(sched_u), "attempts": [len(c["attempts"]) for c in sched_u.get("calls", [])]}
    out["unpatched"]["w"] = median(out["unpatched"]["windows"])
    out["unpatched"]["schedule"] = sched_u.get("calls", [{}])[0].get("attempts", [])
    if profile.outage_real_defaults:
        for key, name in (("patched", "2a-sched-patched"), ("patched_nofb", "2a-sched-patched-nofb")):
            sched = results.get(name, {})
            out[key] = {
                "windows": _windows(sched),
                "attempts": [len(c["attempts"]) for c in sched.get("calls", [])],
                "schedule": sched.get("calls", [{}])[0].get("attempts", []),
                "models": sched.get("calls", [{}])[0].get("models", []),
                "method": "measured at the real defaults",
            }
            out[key]["w"] = median(out[key]["windows"])
    else:
        sched = results.get("2a-sched-patched-r6", {})
        windows = _windows(sched)
        # gaps between attempts k and k+1 for the capped part tell the jitter actually seen
        ratios = []
        for call in sched.get("calls", []):
            times = call["attempts"]
            for k in range(3, len(times) - 1):
                ratios.append((times[k + 1] - times[k]) / nominal_backoff(k))
        jitter = median(ratios) if ratios else MEAN_JITTER
        extra = sum(nominal_backoff(k) for k in range(6, PATCHED_RETRIES)) * jitter
        primary = median(windows) + extra if windows else float("nan")
        out["patched_nofb"] = {"windows": windows, "w": primary, "method": f"extrapolated from LITELLM_NUM_RETRIES=6 (+{extra:.1f} s for retries 7-10 at jitter {jitter:.2f})"}
        out["patched"] = {"w": 2 * primary, "method": "extrapolated: primary budget twice (default fallback gpt-4.1-mini, same endpoint)"}
    out["outages"] = {
        name[len("2a-outage-"):]: {"width": r.get("width"), "outcome": r.get("outcome"), "seconds": r.get("seconds")}
        for name, r in results.items()
        if name.startswith("2a-outage-")
    }
    return out


def rows_2a(s: dict) -> list[Row]:
    u, p, n = s["unpatched"]["w"], s["patched"]["w"], s["patched_nofb"]["w"]
    confirmed: dict[str, list[str]] = {}
    for v in _labelled(s["outages"]):
        confirmed.setdefault(v["variant_label"], []).append(f"{v['width']:g} s {'kept' if v['outcome'] == 'rubric' else 'lost'}")
    note = "; ".join(f"{label}: {', '.join(items)}" for label, items in confirmed.items())
    return [
        Row("2a", "longest connection-refused outage a rubric call survives (patched: default fallback, same endpoint)", fmt_s(u), fmt_s(p), f"{p / u:.1f}x", "expected ~14 s vs ~60 s", "-"),
        Row("2a", "same, patched with LITELLM_FALLBACK_MODELS='' (its own retry budget only)", fmt_s(u), fmt_s(n), f"{n / u:.1f}x", "expected ~14 s vs ~60 s", "-"),
        Row("2a", f"real outages of W seconds ({note})", "-", "-", "-", "-", "-"),
    ]


def _labelled(outages: dict) -> list[dict]:
    rows = []
    for key, value in outages.items():
        variant = key.rsplit("-", 1)[0]
        label = {"unpatched": "unpatched", "patched": "patched", "patched-nofb": "patched/no-fb"}.get(variant, variant)
        rows.append({**value, "variant_label": label})
    return rows


def summarise_2b(results: dict) -> dict:
    out: dict = {"crashes": _crashes({k: v for k, v in results.items() if k.startswith("2b")})}
    for name, r in results.items():
        if not name.startswith("2b-") or "crash" in r:
            continue
        _, _, variant, drop = name.split("-")
        outcomes = r["outcomes"]
        lat = r["latencies"]
        p = int(drop) / 100
        attempts = UNPATCHED_RETRIES + 1 if variant == "unpatched" else 2 * (PATCHED_RETRIES + 1)
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


def summarise_2c(profile: Profile, results: dict) -> dict:
    out: dict = {"crashes": _crashes({k: v for k, v in results.items() if k.startswith("2c")})}
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
    for key in ("blackhole-patched", "blackhole-patched-nofb", "deadproxy-unpatched", "deadproxy-patched"):
        r = results.get(f"2c-{key}", {})
        out[key] = {
            "seconds": r.get("seconds"),
            "outcome": r.get("outcome"),
            "attempts": r.get("attempts"),
            "error": (r.get("error") or "").splitlines()[:4],
        }
    out["precheck_timeout"] = profile.precheck_timeout
    return out


def rows_2c(s: dict) -> list[Row]:
    rows = []
    limit = s["precheck_timeout"] + 1
    proj = s["blackhole_unpatched"]
    if proj:
        first = proj[-1]
        baseline = f"{first['projected'] / 60:.0f} min projected ({fmt_s(first['seconds'])} at timeout {first['timeout']:g} s)"
    else:
        baseline = "n/a"
    for key, label in (("blackhole-patched", "patched: default fallback"), ("blackhole-patched-nofb", "patched: LITELLM_FALLBACK_MODELS=''")):
        p = s[key]
        secs = p["seconds"] if p["outcome"] == "raised" else float("nan")
        ratio = f"{proj[-1]['projected'] / secs:.0f}x faster" if proj and secs == secs else "n/a"
        rows.append(
            Row(
                "2c",
                f"blackholed endpoint: time to a clear failure ({label}), LITELLM_PRECHECK_TIMEOUT={s['precheck_timeout']:g}",
                baseline,
                fmt_s(secs) if secs == secs else f"no raise ({p['outcome']})",
                ratio,
                f"<= {limit:g} s",
                "met" if secs == secs and secs <= limit else "MISSED",
            )
        )
    u, p = s["deadproxy-unpatched"], s["deadproxy-patched"]
    if u["seconds"] is not None and p["seconds"] is not None:
        rows.append(
            Row(
                "2c",
                "dead proxy (closed port): time to a clear failure (no timeout involved: measured = worst case)",
                fmt_s(u["seconds"]),
                fmt_s(p["seconds"]) if p["outcome"] == "raised" else f"no raise ({p['outcome']})",
                f"{u['seconds'] / p['seconds']:.0f}x faster",
                f"<= {limit:g} s",
                "met" if p["outcome"] == "raised" and p["seconds"] <= limit else "MISSED",
            )
        )
    return rows


# ----------------------------------------------------------------------------- entry


def run(profile: Profile, scratch: Scratch) -> dict:
    from llmfix.proxy import closed_port

    checkouts = prepare(scratch)
    folder = scratch.root / "faults"
    t = time.perf_counter()
    jobs_a = {**jobs_2a(profile, checkouts), **jobs_2c(profile, checkouts, f"http://127.0.0.1:{closed_port()}")}
    jobs_b = jobs_2b(profile, checkouts)
    if profile.name == "quick":  # one phase: 2b's CPU load then overlaps the timed waits of 2a/2c
        log("2a+2b+2c together (quick profile)")
        results = run_children({**jobs_a, **jobs_b}, folder)
        phases = {"2a+2b+2c": time.perf_counter() - t}
        zygotes = {"2a+2b+2c": results.pop("_zygote")}
    else:
        log("2a+2c: outage and failure scenarios (parallel forks of one process)")
        phase_a = run_children(jobs_a, folder)
        ta = time.perf_counter() - t
        log(f"2a+2c took {ta:.0f} s; 2b: rubric yield")
        t = time.perf_counter()
        phase_b = run_children(jobs_b, folder)
        phases = {"2a+2c": ta, "2b": time.perf_counter() - t}
        zygotes = {"2a+2c": phase_a.pop("_zygote"), "2b": phase_b.pop("_zygote")}
        results = {**phase_a, **phase_b}
    (folder / "all.json").write_text(json.dumps(results))
    return {
        "2a": summarise_2a(profile, results),
        "2b": summarise_2b(results),
        "2c": summarise_2c(profile, results),
        "phase_seconds": phases,
        "zygotes": zygotes,
        "raw": results,
    }
