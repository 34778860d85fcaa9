"""Launcher parsing: the sample scripts, and agreement with bash itself on what gets exported."""

from __future__ import annotations

import random
import shutil
import subprocess
from pathlib import Path

import pytest
from doctor_support import LAUNCHERS

from llmfix.doctor.launchers import (
    Launcher,
    find_launchers,
    flag_enabled,
    parse_launcher,
    parse_source,
)
from llmfix.doctor.runner import run_doctor


def parse(text: str, env: dict[str, str] | None = None) -> Launcher:
    return parse_source(text, Launcher(Path("t.sh")), env or {})


def test_train_dr_tulu_sample():
    launcher = parse_launcher(LAUNCHERS / "train_dr_tulu.sh", {})
    exports = {n: a.value for n, a in launcher.exports().items()}
    assert exports["https_proxy"] == "http://proxy.corp.example:3128"  # $http_proxy expanded
    assert exports["OPENAI_API_BASE"] == "https://openrouter.ai/api/v1"
    assert exports["OPENAI_API_KEY"].startswith("sk-or-v1-")
    assert exports["RUBRIC_JUDGE_MODEL"] == "gpt-4.1-mini"  # trailing comment dropped
    assert "MODEL_PATH" not in exports  # a shell variable, not exported
    assert launcher.flag == ("true", 21)


def test_tricky_sample():
    launcher = parse_launcher(LAUNCHERS / "tricky.sh", {"HTTPS_PROXY": "http://from-shell:1"})
    a = launcher.assignments
    assert "commented.out" not in a["OPENAI_BASE_URL"].value
    assert a["OPENAI_BASE_URL"].value == "http://127.0.0.1:8000/v1"
    assert a["RUBRIC_GENERATION_MODEL"].value == "openai/gpt-4.1-mini"  # ${JUDGE:-gpt-4.1-mini}
    assert a["OPENAI_API_KEY"].value == "sk-local-key-123456789"  # line continuation
    assert not a["OPENROUTER_API_KEY"].exported
    assert a["LITELLM_NUM_RETRIES"].exported and a["LITELLM_NUM_RETRIES"].value == "7"
    assert a["SSL_CERT_FILE"].exported  # set -a
    assert a["HF_TOKEN"].unresolved
    assert "NOT_AN_EXPORT" not in a  # inside an echo string
    assert a["LITELLM_PRECHECK_TIMEOUT"].scope == "command"
    assert launcher.unset == {"HTTPS_PROXY"}
    assert launcher.flag == ("false", 19)
    assert [x.name for x in launcher.unexported()] == ["OPENROUTER_API_KEY"]
    assert "HTTPS_PROXY" not in launcher.overlay({"HTTPS_PROXY": "http://from-shell:1"})


def test_flag_spellings():
    assert parse("python x.py --apply_adaptive_rubric_reward\n").flag == ("(no value: true)", 1)
    assert parse("python x.py --apply_adaptive_rubric_reward=True --x 1\n").flag == ("True", 1)
    assert flag_enabled("True") is True and flag_enabled("false") is False and flag_enabled("$X") is None


def test_find_launchers_only_at_root(tmp_path):
    (tmp_path / "a.sh").write_text("export A=1\n")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.sh").write_text("export B=1\n")
    assert [p.name for p in find_launchers(tmp_path)] == ["a.sh"]


# ----------------------------------------------------------------------------- against bash

PIECES = [
    "export OPENAI_API_BASE=http://a.example/v1",
    'export OPENAI_API_BASE="http://b.example/v1"  # comment',
    "OPENAI_API_KEY='sk-single $NOT_EXPANDED'",
    "export OPENAI_API_KEY",
    'export RUBRIC_JUDGE_MODEL="${JUDGE:-gpt-4.1-mini}"',
    "export RUBRIC_GENERATION_MODEL=${RUBRIC_JUDGE_MODEL}",
    "LITELLM_NUM_RETRIES=3",
    "set -a",
    "set +a",
    "export http_proxy=http://p.example:3128 https_proxy=$http_proxy",
    "unset http_proxy",
    "export no_proxy=localhost,\\\n127.0.0.1",
    "LITELLM_DEFAULT_TIMEOUT=60; export LITELLM_DEFAULT_TIMEOUT",
    "# export LITELLM_FALLBACK_MODELS=nope",
    "export LITELLM_FALLBACK_MODELS='[{\"model\": \"openai/x\", \"api_base\": \"http://f/v1\"}]'",
    "export OPENAI_BASE_URL=http://c.example/v1 && true",
    "SSL_CERT_FILE=/tmp/ca.pem",
    'export OPENROUTER_API_KEY="sk-or-v1-""joined"',
    "export LITELLM_PRECHECK=warn; unset LITELLM_PRECHECK",
    "OPENAI_API_KEY+=-suffix",
]
START_ENV = {"JUDGE": "", "HOME": "/root", "OPENAI_API_KEY": "sk-from-shell", "PATH": "/usr/bin:/bin"}


def bash_exports(script: str) -> dict[str, str]:
    out = subprocess.run(
        ["bash", "-c", f"{script}\nenv -0"], env=START_ENV, capture_output=True, text=True, timeout=10, check=True
    ).stdout
    pairs = (item.split("=", 1) for item in out.split("\0") if "=" in item)
    return {k: v for k, v in pairs}


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash not installed")
def test_agrees_with_bash_on_generated_scripts():
    rnd = random.Random(4)

    def interesting(env: dict[str, str]) -> dict[str, str]:
        return {k: v for k, v in env.items() if k not in ("PWD", "SHLVL", "_", "OLDPWD")}

    for _ in range(60):
        script = "\n".join(rnd.sample(PIECES, rnd.randint(3, 9)))
        truth = interesting(bash_exports(script))
        ours = interesting(parse(script, START_ENV).overlay(START_ENV))
        assert ours == truth, script


def test_launcher_findings_offline(tmp_path):
    for name in ("train_dr_tulu.sh", "tricky.sh", "no_rubrics.sh"):
        shutil.copy(LAUNCHERS / name, tmp_path / name)
    report = run_doctor(tmp_path, env={"LITELLM_LOCAL_MODEL_COST_MAP": "True"}, offline=True)
    sources = {f.source for f in report.findings}
    assert {"train_dr_tulu.sh", "tricky.sh", "no_rubrics.sh"} <= sources
    tulu = [f for f in report.findings if f.source == "train_dr_tulu.sh"]
    causes = {f.cause for f in tulu}
    assert "generation-model-default" in causes  # only RUBRIC_JUDGE_MODEL exported
    assert "model-spelling" in causes  # bare gpt-4.1-mini on an OpenRouter base
    flag = next(f for f in tulu if f.check == "launcher" and f.status == "OK")
    assert "--apply_adaptive_rubric_reward true" in flag.summary
    unexported = [f for f in report.findings if f.cause == "launcher-unexported"]
    assert unexported and unexported[0].source == "tricky.sh"
    text = " ".join(str(f.to_json()) for f in report.findings)
    assert "0000000000000000" not in text and "not-exported-000" not in text  # keys redacted
