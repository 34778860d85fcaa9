"""Family 6: no silent degradation (6a the rubric alarm, 6b the decorator's cost, 6c the judge).

6a. The patched rubric generator (``@litellm_utils.track_calls(raise_on_degraded=True)``), with
LITELLM_MAX_FAILURE_RATE=0.2, raises LiteLLMDegradedError once more than that share of its
last LITELLM_FAILURE_WINDOW (100) generations failed or came back empty. Each scenario (a
fork of bench/fault_child.py: real litellm against MockLLM on 127.0.0.1) answers ``healthy``
generations first, then drops each attempt with probability 0.9 (a seeded plan) and counts
the generations, and the seconds from the outage's start, until the generator raises; the
unpatched generator never raises: it is reported with how many generations returned None.

6c. The same for the LLM judge: ``LMJudgeVerifier.async_call`` (the fixture's, or the one
bench/judge_module.py writes) with the judge endpoint down 90% of the time. Patched (the
``judge`` transform: timeout, fallbacks, ``track_calls(raise_on_degraded=True)``, no
num_retries inside its hand retry loop) the alarm fires on judge failures; unpatched, every
failed judge call scores 0.0 to the end. Also: requests per judge call to a dead endpoint
(every connection reset): the hand loop's 3 attempts x the SDK's 3 requests, before and after.

6b. bench/health_overhead.py: the decorator's cost per call (its LiteLLM callback included) against a mocked LiteLLM call.
"""

from __future__ import annotations

import json
import subprocess
import sys

from bench.common import BENCH, GOALS, Profile, Row, clean_env, fmt_s, goal_row, log

RATE = "0.2"  # LITELLM_MAX_FAILURE_RATE
DOWN = 0.9  # share of attempts dropped during the outage
CONCURRENCY = 32
DEAD_CALLS = 3  # 6c: judge calls, one after another, against an endpoint that resets every connection


def jobs(profile: Profile, checkouts: dict) -> dict[str, dict]:
    """The 6a and 6c scenarios (run by bench/faults.py's zygote, next to 2a and 2c)."""

    def job(variant: str, judge: bool) -> dict:
        checkout = checkouts[variant]
        return {
            **checkout,
            "judge": checkout["judge_file"] if judge else None,
            "kind": "degradation",
            "drop": DOWN,
            "seed": 606,
            "healthy": profile.health_healthy,
            "outage": profile.judge_calls if judge else profile.health_outage,
            "concurrency": CONCURRENCY,
            "deadline": profile.health_limit,
            "limit": profile.health_limit + 120,
            "env": {"LITELLM_MAX_FAILURE_RATE": RATE} if variant == "patched" else {},
        }

    found = {}
    for variant in ("unpatched", "patched"):
        found[f"6a-{variant}"] = job(variant, judge=False)
        found[f"6c-{variant}"] = job(variant, judge=True)
        found[f"6c-dead-{variant}"] = {
            **checkouts[variant],
            "judge": checkouts[variant]["judge_file"],
            "kind": "failure",
            "fault": "drop",
            "calls": DEAD_CALLS,
            "env": {},
            "limit": 200,
        }
    return found


def _degradation(r: dict) -> dict:
    finished = r["finished"]
    counts = {o: sum(1 for f in finished if f["outcome"] == o) for o in sorted({f["outcome"] for f in finished})}
    upto = finished[: r["alarm_after"]] if r["alarm_after"] else finished
    bad = sum(n for o, n in counts.items() if o not in ("rubric", "scored"))
    return {
        "env": r["scenario"]["env"],
        "healthy": r["healthy"],
        "finished": len(finished),
        "counts": counts,
        "failed_before_alarm": sum(1 for f in upto if f["outcome"] in ("none", "zero")),
        "failed_share": bad / len(finished) if finished else float("nan"),
        **{k: r[k] for k in ("alarm_after", "alarm_seconds", "alarm_error", "seconds", "hit_deadline", "launched")},
    }


def summarise(raw: dict[str, dict]) -> dict:
    out: dict = {"rate": RATE, "down": DOWN, "scenarios": {}, "crashes": []}
    for name, r in raw.items():
        if not name.startswith(("6a-", "6c-")):
            continue
        if "crash" in r:
            out["crashes"].append(f"{name}: {r['crash'][:300]}")
        elif name.startswith("6c-dead-"):
            out["scenarios"][name] = {"calls": r["calls"], "requests": [c["requests"] for c in r["calls"]], "seconds": [c["seconds"] for c in r["calls"]]}
        else:
            out["scenarios"][name] = _degradation(r)
    return out


def _alarm(s: dict | None, failed: str) -> str:
    if s is None:
        return "no result"
    if s["alarm_after"]:
        return f"LiteLLMDegradedError after {s['alarm_after']} calls, {fmt_s(s['alarm_seconds'])} ({s['failed_before_alarm']} {failed} before)"
    bad = s["counts"].get("none", 0) + s["counts"].get("zero", 0)
    stop = f"stopped at the {fmt_s(s['seconds'])} limit" if s["hit_deadline"] else f"all {s['launched']} done in {fmt_s(s['seconds'])}"
    return f"never raised: {bad} of {s['finished']} {failed} ({stop})"


def rows_6(r: dict) -> list[Row]:
    sc = r["scenarios"]
    rows = []
    for key, what, failed in (("6a", "rubric generations", "returned None"), ("6c", "LLM judge calls (LMJudgeVerifier.async_call)", "scored 0.0")):
        u, p = sc.get(f"{key}-unpatched"), sc.get(f"{key}-patched")
        measure = f"{what}: {DOWN:.0%} of attempts dropped from mid-run, LITELLM_MAX_FAILURE_RATE={RATE} (patched): calls until the alarm"
        share = f"{p['failed_share']:.0%} of calls failed" if p else "-"
        rows.append(Row(key, measure, _alarm(u, failed), _alarm(p, failed), share, "-", "-"))
    u, p = sc.get("6c-dead-unpatched"), sc.get("6c-dead-patched")
    if u and p:
        text = lambda s: f"{'/'.join(map(str, s['requests']))} requests, {fmt_s(sum(s['seconds']) / len(s['seconds']))} per call"  # noqa: E731
        rows.append(
            Row(
                "6c",
                "judge endpoint resetting every connection: requests per judge call (hand loop 3 attempts x SDK 3 requests = 9)",
                text(u),
                text(p),
                "-",
                "-",
                "-",
            )
        )
    rows += [Row(k[:2], f"CRASH {k}", "-", "-", "-", "-", "-") for k in r["crashes"]]
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
        measure = (
            f"`@litellm_utils.track_calls` per call, {label} vs a mocked `litellm` call (CPU time, median of {r['rounds']} paired rounds "
            f"of {r['calls']} calls); of it, LiteLLM calling the health callback {h['callbacks'] * 1e6:+.1f} us, "
            f"the decorator around an instant function {h['decorator'] * 1e6:+.1f} us"
        )
        rows.append(goal_row("6b", "6b", measure, f"{h['mocked_call'] * 1e6:.0f} us", f"{h['cost'] * 1e6:+.1f} us", f"{h['ratio']:.2%}", h["ratio"]))
    return rows
