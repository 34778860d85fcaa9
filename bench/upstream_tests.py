"""Family 4: upstream's own unit tests before and after the patch.

The fixtures carry copies of upstream's tests for the two files (catalog.json
``upstream_tests``). Each file runs as tests/test_fixture_upstream_tests.py runs it:
``python -m pytest FILE -q -p no:cacheprovider --junitxml=...`` from the checkout root,
offline (no proxy, OPENAI_*, PYTEST_* or LITELLM_* variables, no PYTHONPATH, litellm's
bundled cost map), on three copies:

- unpatched: the fixture as it is;
- patched: after ``llmfix apply``;
- patched + old behaviour: the same, with the variables apply's report prints for the
  old behaviour (``old behaviour: LITELLM_NUM_RETRIES=... LITELLM_PRECHECK=0``). The report
  also names the tests that pin a default the patch changes and says they pass so.

Where the machine can make one, every run is in a network namespace with only loopback
(``unshare -n``), so no test (nor the patched code under test) can reach past 127.0.0.1.
The files of one variant start at once (most of their time is SDK backoff sleeps); the
variants run one after another; the wall time is per file, from start to exit. Goal: every
test passes before and after the patch.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
import xml.etree.ElementTree as ElementTree
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bench.common import (
    CATALOG,
    Profile,
    Row,
    Scratch,
    apply_report,
    fmt_s,
    log,
    loopback_only,
    offline_env,
    old_behaviour,
    pinned_tests,
)

VARIANTS = ("unpatched", "patched", "old")
LABELS = {"unpatched": "unpatched", "patched": "patched", "old": "patched + old-behaviour variables"}


def cases(fixtures: tuple[str, ...] | None = None) -> list[tuple[str, str]]:
    """(fixture, test file) for every upstream test file the fixtures carry (of ``fixtures`` only, when given)."""
    return [(name, rel) for name in sorted(CATALOG) if fixtures is None or name in fixtures for rel in CATALOG[name].get("upstream_tests", [])]


def _copies(scratch: Scratch, chosen: list[tuple[str, str]]) -> dict:
    """Per fixture with upstream tests: a copy per variant, apply's report and its old-behaviour variables."""
    found = {}
    for name in sorted({name for name, _ in chosen}):
        unpatched = scratch.copy_fixture(name, f"4-{name}-unpatched")
        patched = scratch.copy_fixture(name, f"4-{name}-patched")
        report = apply_report(patched)
        old = scratch.root / f"4-{name}-old"
        shutil.copytree(patched, old, symlinks=True)
        found[name] = {
            "copies": {"unpatched": unpatched, "patched": patched, "old": old},
            "old_behaviour": old_behaviour(report),
            "pinned": pinned_tests(report),
        }
    return found


def _junit(report: Path) -> dict:
    """Counts, failing tests (with the first line of each failure) and the slowest test, from a JUnit report."""
    if not report.exists():
        return {"passed": 0, "failed": 0, "errors": 0, "skipped": 0, "failing": [], "slowest": None, "tests": 0}
    counts = {"passed": 0, "failed": 0, "errors": 0, "skipped": 0}
    failing, slowest = [], None
    for case in ElementTree.parse(report).getroot().iter("testcase"):
        name = f"{case.get('classname', '').rsplit('.', 1)[-1]}::{case.get('name')}"
        seconds = float(case.get("time") or 0)
        if slowest is None or seconds > slowest[1]:
            slowest = (name, seconds)
        tags = {child.tag: child for child in case}
        if "failure" in tags or "error" in tags:
            kind = "failed" if "failure" in tags else "errors"
            counts[kind] += 1
            message = (tags.get("failure", tags.get("error")).get("message") or "").strip().splitlines()
            failing.append({"test": name, "kind": kind, "seconds": seconds, "message": message[0][:240] if message else ""})
        elif "skipped" in tags:
            counts["skipped"] += 1
        else:
            counts["passed"] += 1
    return {**counts, "tests": sum(counts.values()), "failing": failing, "slowest": slowest}


def _run_one(command: list[str], root: Path, env: dict[str, str], report: Path) -> dict:
    """One test file: wall from start to exit, exit code, the output's tail and the JUnit figures."""
    start = time.perf_counter()
    try:
        done = subprocess.run(command, cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=900)
        code, output = done.returncode, done.stdout
    except subprocess.TimeoutExpired as expired:
        partial = expired.stdout or ""
        code, output = "timed out after 900 s", partial.decode(errors="replace") if isinstance(partial, bytes) else partial
    return {"wall": time.perf_counter() - start, "code": code, "tail": output[-1500:], **_junit(report)}


def _run_variant(variant: str, chosen: list[tuple[str, str]], copies: dict, prefix: list[str], folder: Path) -> dict[tuple[str, str], dict]:
    """Every test file of one variant, all at once."""
    jobs = {}
    for name, rel in chosen:
        entry = copies[name]
        root = entry["copies"][variant] / CATALOG[name]["root_subdir"]
        report = folder / f"{name}-{variant}-{Path(rel).stem}.xml"
        env = offline_env(**(entry["old_behaviour"] if variant == "old" else {}))
        command = [*prefix, sys.executable, "-m", "pytest", rel, "-q", "-p", "no:cacheprovider", f"--junitxml={report}"]
        jobs[(name, rel)] = (command, root, env, report)
    with ThreadPoolExecutor(len(jobs)) as pool:
        futures = {key: pool.submit(_run_one, *job) for key, job in jobs.items()}
        return {key: future.result() for key, future in futures.items()}


def run(profile: Profile, scratch: Scratch) -> dict:
    chosen = cases(profile.upstream_fixtures)
    copies = _copies(scratch, chosen)
    prefix = loopback_only()
    folder = scratch.root / "4-reports"
    folder.mkdir(parents=True, exist_ok=True)
    done = {}
    for variant in VARIANTS:
        log(f"4: {len(chosen)} upstream test file(s), {LABELS[variant]}")
        done[variant] = _run_variant(variant, chosen, copies, prefix, folder)
    results = {variant: {f"{name}:{rel}": figures for (name, rel), figures in by_case.items()} for variant, by_case in done.items()}
    return {
        "network": "loopback-only namespace (unshare -n)" if prefix else "the machine's network (unshare -n unavailable)",
        "fixtures": {name: {"old_behaviour": e["old_behaviour"], "pinned": e["pinned"]} for name, e in copies.items()},
        "variants": results,
    }


def _counts(f: dict) -> str:
    bad = f["failed"] + f["errors"]
    text = f"{f['passed']}/{f['tests']} passed" + (f", {bad} failed" if bad else "") + (f", {f['skipped']} skipped" if f["skipped"] else "")
    if f["tests"] == 0:
        text = f"no tests ran (exit {f['code']})"
    return f"{text}, {fmt_s(f['wall'])}"


def _names(f: dict) -> str:
    return ", ".join(x["test"].split("::")[-1] for x in f["failing"])


def rows(r: dict) -> list[Row]:
    out = []
    before = r["variants"]["unpatched"]
    for key in before:
        name, rel = key.split(":", 1)
        u = before[key]
        for variant in ("patched", "old"):
            p = r["variants"][variant].get(key)
            if p is None:
                continue
            failing = _names(p)
            measure = f"{name} `{rel}`, {LABELS[variant]}" + (f"; failing: {failing}" if failing else "")
            ratio = f"{p['wall'] / u['wall']:.2f}x wall" if u["wall"] else "-"
            passed = all(f["tests"] and not f["failed"] + f["errors"] for f in (u, p))
            goal = "all pass before and after" if variant == "patched" else "all pass (apply's report says so)"
            out.append(Row("4", measure, _counts(u), _counts(p), ratio, goal, "met" if passed else "MISSED"))
    return out
