"""Profiles for the goals a run missed: where apply's time (1a, 1c) and memory (3) go.

Each profile runs bench/profile_apply.py in a fresh process (so its imports and caches
are apply's own) on a copy of the input the goal was measured on, or on a sample of the
batch generated the same way (profiling the whole batch would take many minutes).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from bench.common import BENCH, CANONICAL, Profile, Row, Scratch, log
from bench.generate import batch

NEAR_1A = 1.2  # 1a is profiled from this ratio on, met or not: it sits near its goal on this machine


def profile_script(mode: str, folder: Path) -> dict:
    done = subprocess.run([sys.executable, str(BENCH / "profile_apply.py"), mode, str(folder)], capture_output=True, text=True, timeout=1200)
    if done.returncode != 0:
        return {"error": done.stderr.strip()[-800:]}
    return json.loads(done.stdout)


def profile_misses(results: dict, rows: list[Row], scratch: Scratch, profile: Profile) -> dict:
    missed = {r.bench for r in rows if r.status == "MISSED"}
    if "1a" in results and results["1a"]["ratio_apply_floor"] >= NEAR_1A:
        missed.add("1a")
    out: dict = {}
    if "1a" in missed:
        log("profile 1a: apply on the fixture (steps, imports)")
        copy = scratch.copy_fixture(CANONICAL, "profile-1a")
        out["1a"] = {"stages": profile_script("stages", copy), "imports": profile_script("imports", copy)}
    if "1c" in missed and "1c" in results:
        log(f"profile 1c: apply on {profile.sample_1c} files of the batch (steps, cProfile)")
        sample = scratch.root / "profile-1c"
        batch(sample, min(profile.sample_1c, results["1c"]["files"]))
        out["1c"] = {"stages": profile_script("stages", sample)}
    if "3" in missed:
        log(f"profile 3: what planning keeps per file ({profile.sample_3} files under tracemalloc)")
        sample = scratch.root / "profile-3"
        batch(sample, profile.sample_3)
        out["3"] = {"memory": profile_script("memory", sample)}
    return out
