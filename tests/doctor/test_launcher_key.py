"""A key the launcher exports is not "not set": the training job started by the launcher has it.
The doctor says so instead of ranking "OPENAI_API_KEY is not set" first, and never contradicts
its own launcher finding."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from doctor_support import by_check, cli_env, closed_url, make_env

from llmfix.doctor.command import doctor_command
from llmfix.doctor.findings import FAIL, OK, WARN
from llmfix.doctor.runner import run_doctor

KEY = "sk-or-v1-" + "5" * 64


def launcher(base: str, key: bool = True) -> str:
    lines = ["#!/bin/bash", f"export OPENAI_API_BASE={base}"]
    if key:
        lines.append(f'export OPENAI_API_KEY="{KEY}"')
    return "\n".join(lines + ["python open_instruct/grpo_fast.py --apply_adaptive_rubric_reward true", ""])


def shell_without_key(base: str | None = None) -> dict[str, str]:
    env = make_env(base)
    del env["OPENAI_API_KEY"]
    return env


def test_cli_offline_key_from_the_launcher(tmp_path):
    (tmp_path / "train.sh").write_text(launcher(closed_url()))
    result = CliRunner().invoke(doctor_command, [str(tmp_path), "--offline", "--json"], env=cli_env(shell_without_key()))
    assert result.exit_code == 0, result.output
    findings = json.loads(result.stdout)["findings"]
    assert not [f for f in findings if f.get("cause") == "key-missing"], findings
    (shell,) = [f for f in findings if f["check"] == "key" and f["source"] == "environment"]
    assert shell["status"] == OK
    assert "not set in this shell" in shell["summary"] and "train.sh" in shell["summary"]
    assert "training job" in shell["summary"]
    (job,) = [f for f in findings if f["check"] == "key" and f["source"] == "train.sh"]
    assert job["status"] == OK and "is set" in job["summary"]
    assert KEY not in result.output


def test_only_some_launchers_export_the_key(tmp_path):
    (tmp_path / "train.sh").write_text(launcher(closed_url()))
    (tmp_path / "eval.sh").write_text(launcher(closed_url(), key=False))
    report = run_doctor(tmp_path, env=shell_without_key(), offline=True)
    (shell,) = by_check(report.findings, "key")
    assert shell.status == WARN and "train.sh" in shell.summary and "eval.sh" in shell.summary
    (eval_key,) = by_check(report.findings, "key", "eval.sh")  # the job eval.sh starts has no key: true
    assert (eval_key.status, eval_key.cause) == (FAIL, "key-missing")
    assert not by_check(report.findings, "key", "train.sh")[0].cause


@pytest.mark.usefixtures("litellm_imported")
def test_the_live_probe_runs_with_the_launchers_key(tmp_path, mock_llm):
    """The shell has no key; the launcher gives the job one: the probe must not say 'Missing credentials'."""
    mock_llm.require_key = KEY
    (tmp_path / "train.sh").write_text(launcher(mock_llm.base_url))
    report = run_doctor(tmp_path, env=shell_without_key(mock_llm.base_url), probe_timeout=1.5)
    (probe,) = [f for f in report.findings if f.check == "live-probe"]
    assert probe.status == OK, probe.to_json()
    assert probe.source == "train.sh"
    assert not [f for f in report.findings if f.cause == "key-missing"]
    assert report.exit_code == 0, [f.to_json() for f in report.findings if f.status == FAIL]


def test_no_path_reads_the_checkout_around_the_current_folder(tmp_path, monkeypatch):
    """Like every other command, `llmfix doctor` with no PATH examines the checkout it runs in (its launcher too)."""
    import shutil

    from support import FIXTURES

    shutil.copytree(FIXTURES / "drtulu-canonical", tmp_path / "c")
    (tmp_path / "c" / "train.sh").write_text(launcher(closed_url()))
    monkeypatch.chdir(tmp_path / "c")
    result = CliRunner().invoke(doctor_command, ["--offline", "--json"], env=cli_env(shell_without_key()))
    findings = json.loads(result.stdout)["findings"]
    assert [f for f in findings if f["check"] == "key" and f["source"] == "train.sh"], findings
    assert not [f for f in findings if f.get("cause") == "key-missing"], findings
    monkeypatch.chdir(tmp_path)  # the folder above holds exactly that checkout: the same
    assert json.loads(CliRunner().invoke(doctor_command, ["--offline", "--json"], env=cli_env(shell_without_key())).stdout) != {}
