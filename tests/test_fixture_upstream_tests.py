"""Upstream's own unit tests, shipped inside the fixtures, before and after the patch.

Each fixture's ``upstream_tests`` run as upstream runs them, ``python -m pytest FILES``
from the checkout root, unchanged and offline (no proxy, no OPENAI_*/LITELLM_* variables,
litellm's bundled model-cost map), three times: on the pristine checkout (all pass), on
the patched one (all pass except the tests that pin a default the patch changes, and
those are exactly the ones ``apply`` names), and on the patched one with the ``old
behaviour:`` variables apply prints (all pass again).

Why this is cheap now. Every file holds a ``TestDeadEndpoint`` class: real calls, no
mocks, to a closed port on 127.0.0.1. A refused connection fails in milliseconds, but
the openai SDK sleeps between its retries (0.5 s, 1 s, 2 s ... capped at 8 s): about 14 s
per call with upstream's 5 retries and about 50 s with the patch's 10, so one patched
file took 2 to 3 minutes, and each test file paid for its own interpreter and its own
``import litellm`` (about 4 s of CPU). Here every fixture's files, in every checkout state,
run in turn in one interpreter (which forgets the checkout's modules between runs), and
the SDK's back-off delays are set to zero before pytest starts (``openai._base_client``'s INITIAL_RETRY_DELAY and
MAX_RETRY_DELAY): every attempt is still made, over real sockets, and every assertion is
upstream's; only the waiting between attempts is gone. The tests are not edited.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass
from pathlib import Path

import pytest
from support import CATALOG, PATCHABLE, SUMMARY, snapshot

NAMES = [name for name in sorted(CATALOG) if CATALOG[name]["upstream_tests"]]
STATES = ("pristine", "patched", "old-behaviour")

DRIVER = r"""
import json, os, sys, time

import openai._base_client as sdk

# The SDK still makes every retry, over a real socket; it just no longer sleeps between them.
sdk.INITIAL_RETRY_DELAY = 0.0
sdk.MAX_RETRY_DELAY = 0.0

import litellm  # once for every run of this interpreter
import pytest

CALLBACK_LISTS = {n: list(v) for n, v in vars(litellm).items() if "callback" in n and isinstance(v, list)}
codes = {}
for job in json.loads(sys.argv[1]):
    root, saved_path, saved_env = job["root"], list(sys.path), dict(os.environ)
    os.environ.update(job["env"])
    os.chdir(root)
    print(f"\n=== {job['key']} ===", flush=True)
    started = time.monotonic()
    try:
        code = int(pytest.main([*job["files"], "-q", "-p", "no:cacheprovider", "--junitxml=" + job["report"]]))
    finally:
        # the next run starts as a fresh interpreter would (but for litellm, already imported)
        os.environ.clear()
        os.environ.update(saved_env)
        sys.path[:] = saved_path
        for name, module in list(sys.modules.items()):
            if name.split(".")[0] == "open_instruct" or (getattr(module, "__file__", None) or "").startswith(root + os.sep):
                del sys.modules[name]
        for name, items in CALLBACK_LISTS.items():
            getattr(litellm, name)[:] = items
        litellm.in_memory_llm_clients_cache.flush_cache()
    codes[job["key"]] = [code, time.monotonic() - started]
print("\n=== codes " + json.dumps(codes), flush=True)
"""


@dataclass
class Run:
    returncode: int
    output: str
    outcomes: dict[str, str]  # test id (path::Class::name) -> passed / failed / error / skipped
    seconds: float


def _offline_env(extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy") and not k.startswith(("OPENAI_", "PYTEST_", "LITELLM_"))}
    env.pop("PYTHONPATH", None)
    env.update(LITELLM_LOCAL_MODEL_COST_MAP="True", PYTHONDONTWRITEBYTECODE="1", **extra)
    return env


def old_behaviour(apply_stdout: str) -> dict[str, str]:
    """The variables of apply's ``old behaviour:`` line (the assignments before its parenthesis)."""
    (line,) = [line for line in apply_stdout.splitlines() if line.strip().startswith("old behaviour:")]
    variables = {}
    for word in shlex.split(line.split("old behaviour:", 1)[1]):
        if not re.fullmatch(r"[A-Z][A-Z0-9_]*=.*", word):
            break
        name, value = word.split("=", 1)
        variables[name] = value
    assert variables, line
    return variables


def pinned_by_apply(apply_stdout: str) -> set[str]:
    """The test ids apply names under "tests that pin a default the patch changes"."""
    lines = apply_stdout.splitlines()
    starts = [n for n, line in enumerate(lines) if line.startswith("tests that pin a default")]
    if not starts:
        return set()
    named = []
    for line in lines[starts[0] + 1 :]:
        if not line.startswith("  "):
            break
        named.append(line.strip().split(" (line ", 1)[0])
    return set(named)


def _outcomes(report: Path, files: list[str]) -> dict[str, str]:
    outcomes = {}
    for case in ElementTree.parse(report).getroot().iter("testcase"):
        classname, name = case.get("classname", ""), case.get("name", "")
        test_id = f"{classname}::{name}"
        for rel in files:
            dotted = rel.removesuffix(".py").replace("/", ".")
            if classname == dotted:
                test_id = f"{rel}::{name}"
            elif classname.startswith(dotted + "."):
                test_id = f"{rel}::{classname[len(dotted) + 1 :]}::{name}"
        bad = [child.tag for child in case if child.tag in ("failure", "error", "skipped")]
        outcomes[test_id] = {"failure": "failed", "error": "error", "skipped": "skipped"}.get(bad[0], bad[0]) if bad else "passed"
    return outcomes


@pytest.fixture(scope="module")
def runs(checkouts, tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], Run]:
    """Every (fixture, state) run, in turn in one interpreter (litellm imported once)."""
    reports = tmp_path_factory.mktemp("junit")
    jobs = []
    for name in NAMES:
        patched = checkouts.patched(name)
        for state in STATES:
            copy = checkouts.pristine(name) if state == "pristine" else patched.copy
            jobs.append(
                {
                    "key": f"{name}/{state}",
                    "root": str((copy / CATALOG[name]["root_subdir"]).resolve()),
                    "files": CATALOG[name]["upstream_tests"],
                    "env": old_behaviour(patched.stdout) if state == "old-behaviour" else {},
                    "report": str(reports / f"{name}-{state}.xml"),
                }
            )
    process = subprocess.run(
        [sys.executable, "-c", DRIVER, json.dumps(jobs)],
        cwd=reports,
        env=_offline_env({}),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=900,
        check=False,
    )
    output = process.stdout
    codes = json.loads(output.rsplit("=== codes ", 1)[1]) if "=== codes " in output else {}
    sections = dict(re.findall(r"^=== ([a-z0-9-]+/[a-z-]+) ===\n(.*?)(?=^=== )", output, re.M | re.S))
    finished: dict[tuple[str, str], Run] = {}
    for job in jobs:
        report = Path(job["report"])
        outcomes = _outcomes(report, job["files"]) if report.exists() else {}
        code, seconds = codes.get(job["key"], (process.returncode or -1, 0.0))
        name, state = job["key"].split("/")
        finished[(name, state)] = Run(code, sections.get(job["key"], output), outcomes, seconds)
    SUMMARY["upstream tests: seconds per fixture (all states, one interpreter)"] = [
        f"{name}: {sum(finished[(name, state)].seconds for state in STATES):.1f}" for name in NAMES
    ]
    return finished


@pytest.mark.parametrize("name", NAMES)
def test_upstream_tests_pass_on_the_pristine_checkout(runs, name):
    run = runs[(name, "pristine")]
    assert run.returncode == 0, run.output[-3000:]
    assert run.outcomes and set(run.outcomes.values()) == {"passed"}, run.outcomes
    assert any("::TestDeadEndpoint::" in test for test in run.outcomes), sorted(run.outcomes)


@pytest.mark.parametrize("name", NAMES)
def test_after_the_patch_only_the_tests_apply_names_fail(runs, checkouts, name):
    before, after = runs[(name, "pristine")], runs[(name, "patched")]
    assert set(after.outcomes) == set(before.outcomes), "the patched checkout collects other tests"
    failing = {test for test, outcome in after.outcomes.items() if outcome != "passed"}
    assert failing == pinned_by_apply(checkouts.patched(name).stdout), after.output[-3000:]


@pytest.mark.parametrize("name", NAMES)
def test_with_the_old_behaviour_variables_every_test_passes(runs, name):
    run = runs[(name, "old-behaviour")]
    assert run.returncode == 0, run.output[-3000:]
    assert set(run.outcomes.values()) == {"passed"}, run.outcomes


@pytest.mark.parametrize("name", PATCHABLE)
def test_nothing_apply_writes_detects_pytest(checkouts, name):
    """The patched code behaves the same under a test runner as in training: no PYTEST_CURRENT_TEST anywhere."""
    pristine, patched = snapshot(checkouts.pristine(name)), snapshot(checkouts.patched(name).copy)
    written = [path for path, data in patched.items() if pristine.get(path) != data]
    assert written
    assert [path for path in written if b"PYTEST_CURRENT_TEST" in patched[path]] == []
