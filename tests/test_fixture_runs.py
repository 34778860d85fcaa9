"""The fixture code runs, pristine and patched: every helper, generator and judge, against
MockLLM over real HTTP.

One interpreter drives all checkouts (litellm is imported once), forgetting each
checkout's modules before the next; each patchable fixture is driven twice, as it is and
after ``llmfix apply`` (its connection check on, as in training), and must answer the same. ``OPENAI_API_BASE`` (and ``OPENAI_BASE_URL``, for
the openai-SDK fork) point at a MockLLM on 127.0.0.1 that answers by model name:
helpers get ``pong``, the generation model a rubric object, the judge model a score of 2.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from support import CATALOG, FIXTURES, PATCHABLE

NAMES = sorted(CATALOG)
RUBRICS = {"positive_rubrics": [{"title": "t", "description": "d"}], "negative_rubrics": []}

DRIVER = r"""
import asyncio, importlib, inspect, json, os, sys
from llmfix.mockllm import MockLLM

jobs, rubrics = json.loads(sys.argv[1]), sys.argv[2]
reports = {}
with MockLLM() as server:
    os.environ["OPENAI_API_BASE"] = os.environ["OPENAI_BASE_URL"] = server.base_url
    os.environ["OPENAI_API_KEY"] = "sk-test"
    server.set_content("gpt-4.1", rubrics)  # the generation model (default and G-old literal)
    server.set_content("judge-model", '{"score": 2}')  # LiteLLM strips the openai/ prefix
    server.set_content("openai/judge-model", '{"score": 2}')  # the plain openai SDK does not
    for job in jobs:
        sys.path.insert(0, job["root"])
        run_utils = importlib.import_module(job["run_utils"])
        rubric_utils = importlib.import_module(job["rubric_utils"])
        sys.path.remove(job["root"])
        report = {"chat": run_utils.run_chatopenai("gpt-4.1-mini", "You answer.", "ping")}
        for helper in job["helpers"]:
            function = getattr(run_utils, helper)
            if helper == "run_chatopenai":
                continue
            if inspect.iscoroutinefunction(function):
                result = asyncio.run(function("gpt-4.1-mini", user_prompt="ping"))
                report[helper] = result if isinstance(result, str) else result.choices[0].message.content
            else:
                report[helper] = function("gpt-4.1-mini", "ping")
        if job["generator"]:
            report["generator"] = asyncio.run(getattr(rubric_utils, job["generator"])("q", ["a", "b"]))
        report["judge"] = rubric_utils._score_property("a response", "q", "a property", model_name="openai/judge-model")
        if hasattr(rubric_utils, "_score_property_async"):
            report["judge_async"] = asyncio.run(
                rubric_utils._score_property_async("a response", "q", "a property", model_name="openai/judge-model")
            )
        reports[job["name"]] = report
        for module in [m for m in sys.modules if m.split(".")[0] == "open_instruct"]:
            del sys.modules[module]
print(json.dumps(reports))
"""


def _module(name: str, kind: str) -> str:
    root = (FIXTURES / name / CATALOG[name]["root_subdir"]).resolve()
    rel = (FIXTURES / name / CATALOG[name]["files"][kind]).resolve().relative_to(root)
    return ".".join(rel.with_suffix("").parts)


def _job(name: str, copy: Path | None = None) -> dict:
    return {
        "name": name if copy is None else f"patched:{name}",
        "root": str(((copy or FIXTURES / name) / CATALOG[name]["root_subdir"]).resolve()),
        "run_utils": _module(name, "run_utils"),
        "rubric_utils": _module(name, "rubric_utils"),
        "helpers": CATALOG[name]["helpers"],
        "generator": CATALOG[name]["generator"],
    }


@pytest.fixture(scope="module")
def reports(checkouts) -> dict[str, dict]:
    jobs = [_job(name) for name in NAMES] + [_job(name, checkouts.patched(name).copy) for name in PATCHABLE]
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy") and not k.startswith("OPENAI_")}
    env.update(LITELLM_LOCAL_MODEL_COST_MAP="True", PYTHONDONTWRITEBYTECODE="1", no_proxy="127.0.0.1,localhost")
    result = subprocess.run(
        [sys.executable, "-c", DRIVER, json.dumps(jobs), json.dumps(RUBRICS)],
        cwd=FIXTURES,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("name", NAMES + [f"patched:{name}" for name in PATCHABLE])
def test_helpers_generator_and_judges_run(reports, name):
    report = reports[name]
    name = name.removeprefix("patched:")
    entry = CATALOG[name]
    assert report["chat"] == "pong"
    for helper in entry["helpers"]:
        if helper != "run_chatopenai":
            assert report[helper] == "pong", helper
    if entry["generator"]:
        assert report["generator"] == RUBRICS
    assert report["judge"] == 1.0
    assert report.get("judge_async", 1.0) == 1.0
