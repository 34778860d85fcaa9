"""Family 6: no silent degradation (6a the alarm under an outage, 6b the decorator's cost).

6a. The patched rubric generator counts its outcomes and, with LITELLM_MAX_FAILURE_RATE
set, raises LiteLLMDegradedError once more than that share of its last
LITELLM_FAILURE_WINDOW generations failed or came back empty. Each scenario (one fork of
bench/fault_child.py, real litellm against MockLLM on 127.0.0.1) answers ``healthy``
generations first, then drops each attempt with probability p (a seeded MockLLM plan,
as in 2b) and counts how many generations, and how many seconds from the start of the
outage, pass until the generator raises; the unpatched generator never raises, so it is
reported with how many of its generations returned None meanwhile. Variants: the patched
defaults (10 retries absorb most drops), and the patched code with the variables
``llmfix apply`` prints for the old behaviour (its retries as before the patch).

6b. bench/health_overhead.py: the decorator's cost per call against a mocked LiteLLM call.
"""

from __future__ import annotations

import json
import subprocess
import sys

from bench.common import BENCH, GOALS, Profile, Row, clean_env, fmt_s, log

RATE = "0.2"  # LITELLM_MAX_FAILURE_RATE
WINDOWS = (100, 20)  # LITELLM_FAILURE_WINDOW: the default, and a smaller one
CONCURRENCY = 32


def jobs(profile: Profile, checkouts: dict) -> dict[str, dict]:
    """The 6a scenarios (run by bench/faults.py's zygote, next to 2a and 2c)."""
    old = checkouts.get("old_behaviour", {})

    def job(variant: str, drop: float, env: dict[str, str]) -> dict:
        return {
            **checkouts[variant],
            "kind": "degradation",
            "drop": drop,
            "seed": 606,
            "healthy": profile.health_healthy,
            "outage": profile.health_outage,
            "concurrency": CONCURRENCY,
            "deadline": profile.health_limit,
            "env": env,
            "limit": profile.health_limit + 120,
        }

    found = {"6a-unpatched-60": job("unpatched", 0.6, {})}
    for window in WINDOWS:
        alarm = {"LITELLM_MAX_FAILURE_RATE": RATE, "LITELLM_FAILURE_WINDOW": str(window)}
        found[f"6a-patched-60-w{window}"] = job("patched", 0.6, alarm)
        if old:
            found[f"6a-patched-old-60-w{window}"] = job("patched", 0.6, {**alarm, **old})
    if profile.health_harsh:
        alarm = {"LITELLM_MAX_FAILURE_RATE": RATE, "LITELLM_FAILURE_WINDOW": str(WINDOWS[0])}
        found["6a-patched-90-w100"] = job("patched", 0.9, alarm)
        found["6a-unpatched-90"] = job("unpatched", 0.9, {})
    return found


def summarise_6a(raw: dict[str, dict], old: dict[str, str]) -> dict:
    out: dict = {"old_behaviour": old, "rate": RATE, "scenarios": {}, "crashes": []}
    for name, r in raw.items():
        if not name.startswith("6a-"):
            continue
        if "crash" in r:
            out["crashes"].append(f"{name}: {r['crash']}")
            continue
        finished = r["finished"]
        counts = {o: sum(1 for f in finished if f["outcome"] == o) for o in ("rubric", "none", "raised", "degraded")}
        upto = finished[: r["degraded_after"]] if r["degraded_after"] else finished
        out["scenarios"][name] = {
            "env": r["scenario"]["env"],
            "drop": r["scenario"]["drop"],
            "healthy": r["healthy"],
            "finished": len(finished),
            "counts": counts,
            "none_before_alarm": sum(1 for f in upto if f["outcome"] == "none"),
            "failed_share": (counts["none"] + counts["raised"] + counts["degraded"]) / len(finished) if finished else float("nan"),
            "degraded_after": r["degraded_after"],
            "degraded_seconds": r["degraded_seconds"],
            "degraded_error": r["degraded_error"],
            "seconds": r["seconds"],
            "hit_deadline": r["hit_deadline"],
            "launched": r["launched"],
        }
    return out


def _alarm(s: dict) -> str:
    if s["degraded_after"]:
        return f"raised after {s['degraded_after']} generations, {fmt_s(s['degraded_seconds'])} ({s['none_before_alarm']} None before)"
    stop = f"stopped at the {fmt_s(s['seconds'])} limit" if s["hit_deadline"] else f"all {s['launched']} done in {fmt_s(s['seconds'])}"
    return f"never raised: {s['counts']['none']} of {s['finished']} returned None ({stop})"


def rows_6a(r: dict) -> list[Row]:
    rows = []
    scenarios = r["scenarios"]
    old = " ".join(f"{k}={v}" for k, v in r["old_behaviour"].items()) or "none printed"
    for drop in (60, 90):
        unpatched = scenarios.get(f"6a-unpatched-{drop}")
        for window in WINDOWS:
            for key, label in ((f"6a-patched-{drop}-w{window}", "patched defaults"), (f"6a-patched-old-{drop}-w{window}", f"patched + old behaviour ({old})")):
                s = scenarios.get(key)
                if s is None:
                    continue
                rows.append(
                    Row(
                        "6a",
                        f"{drop}% of attempts dropped from mid-run, LITELLM_MAX_FAILURE_RATE={r['rate']} LITELLM_FAILURE_WINDOW={window}, {label}: "
                        "generations and seconds (from the outage's start) until LiteLLMDegradedError",
                        _alarm(unpatched) if unpatched else "-",
                        _alarm(s),
                        f"{s['failed_share']:.0%} failed",
                        "-",
                        "-",
                    )
                )
    return rows


def overhead(profile: Profile) -> dict:
    """bench/health_overhead.py --json (its own process: it imports litellm)."""
    log("6b: the health decorator's cost per call")
    done = subprocess.run(
        [sys.executable, str(BENCH / "health_overhead.py"), "--json", *(["--quick"] if profile.overhead_quick else [])],
        capture_output=True,
        text=True,
        env=clean_env(),
        timeout=900,
    )
    if done.returncode != 0:
        return {"error": done.stderr.strip()[-500:]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def rows_6b(r: dict) -> list[Row]:
    if "error" in r:
        return [Row("6b", f"health decorator cost: the benchmark failed ({r['error'][-120:]})", "-", "-", "-", GOALS["6b"].text, "MISSED")]
    rows = []
    for label, h in r["helpers"].items():
        rows.append(
            Row(
                "6b",
                f"`@_litellm_tracked` per call, {label} (decorator alone vs a mocked `litellm` call)",
                f"{h['mocked_call'] * 1e6:.0f} us",
                f"+{h['decorator'] * 1e6:.1f} us",
                f"{h['ratio']:.2%}",
                GOALS["6b"].text,
                GOALS["6b"].status(h["ratio"]),
            )
        )
    return rows
