"""Upstream's own unit tests, shipped inside the fixtures, pass on the unpatched checkouts.

Each file listed in a catalog entry's ``upstream_tests`` runs as upstream runs it:
``python -m pytest FILE`` from the checkout root, here on a temp copy, offline (no
proxy, no OPENAI_* variables, litellm's bundled model-cost map). Every file holds a
dead-endpoint test (a closed port on 127.0.0.1, no mocks); its duration is what grows
when a patch raises retries, so the JUnit report is kept and checked for it. All
files start at once: most of their time is spent waiting on SDK retry back-offs.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
CATALOG: dict = json.loads((FIXTURES / "catalog.json").read_text(encoding="utf-8"))
CASES = [(name, rel) for name in sorted(CATALOG) for rel in CATALOG[name]["upstream_tests"]]


def _offline_env() -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.lower().endswith("_proxy") and not k.startswith(("OPENAI_", "PYTEST_", "LITELLM_"))
    }
    env.pop("PYTHONPATH", None)
    env["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
    return env


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], tuple[subprocess.CompletedProcess, Path]]:
    env = _offline_env()
    started = {}
    for name, rel in CASES:
        copy = tmp_path_factory.mktemp("upstream-tests") / name
        shutil.copytree(FIXTURES / name, copy)
        root = copy / CATALOG[name]["root_subdir"]
        report = copy.parent / "junit.xml"
        process = subprocess.Popen(
            [sys.executable, "-m", "pytest", rel, "-q", "-p", "no:cacheprovider", f"--junitxml={report}"],
            cwd=root,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        started[(name, rel)] = (process, report)
    finished = {}
    for key, (process, report) in started.items():
        stdout, _ = process.communicate(timeout=600)
        finished[key] = (subprocess.CompletedProcess(process.args, process.returncode, stdout), report)
    return finished


@pytest.mark.parametrize(("name", "rel"), CASES, ids=[f"{n}:{Path(r).name}" for n, r in CASES])
def test_upstream_test_file_passes_offline(runs, name, rel):
    result, report = runs[(name, rel)]
    assert result.returncode == 0, result.stdout
    cases = ElementTree.parse(report).getroot().iter("testcase")
    outcomes = {
        f"{case.get('classname')}.{case.get('name')}": [child.tag for child in case if child.tag in ("failure", "error", "skipped")]
        for case in cases
    }
    assert outcomes and all(not bad for bad in outcomes.values()), outcomes
    dead_endpoint = [case for case in outcomes if ".TestDeadEndpoint." in case]
    assert dead_endpoint, sorted(outcomes)
