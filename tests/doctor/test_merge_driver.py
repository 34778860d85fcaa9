"""`llmfix install-merge-driver` writes ``merge.llmfix.driver`` into .git/config; when the
command it names no longer runs (its interpreter or llmfix is gone, e.g. a recreated
virtualenv), `doctor PATH` says so, with the fix. The driver itself is never run."""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess
import sys

import pytest
from click.testing import CliRunner
from doctor_support import by_check, cli_env, closed_url, make_env

from llmfix.doctor.command import doctor_command
from llmfix.doctor.findings import OK, WARN
from llmfix.doctor.runner import run_doctor

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git not installed")
TAIL = "merge-file %O %A %B %L %P"


def repo(tmp_path, driver: str | None):
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / "train.sh").write_text("export RUBRIC_JUDGE_MODEL=gpt-4.1\n")
    if driver is not None:
        subprocess.run(["git", "-C", str(tmp_path), "config", "merge.llmfix.driver", driver], check=True)
    return tmp_path


def driver_findings(path, **env) -> list:
    report = run_doctor(path, env=make_env(closed_url(), **env), offline=True)
    return by_check(report.findings, "merge-driver")


def test_cli_reports_a_driver_whose_interpreter_is_gone(tmp_path):
    gone = tmp_path / "old-venv" / "bin" / "python"
    path = repo(tmp_path / "r", f"{shlex.quote(str(gone))} -m llmfix.merge_commands {TAIL}")
    result = CliRunner().invoke(doctor_command, [str(path), "--offline", "--json"], env=cli_env(make_env(closed_url())))
    assert result.exit_code in (0, 1), result.output
    (f,) = [f for f in json.loads(result.stdout)["findings"] if f["check"] == "merge-driver"]
    assert f["status"] == WARN and f["cause"] == "merge-driver-broken"
    assert str(gone) in f["summary"]
    assert "llmfix install-merge-driver" in f["fix"] and "again" in f["fix"]


def test_a_working_driver_is_ok(tmp_path):
    path = repo(tmp_path, f"{shlex.quote(sys.executable)} -m llmfix.merge_commands {TAIL}")
    (f,) = driver_findings(path, PYTHONPATH=":".join(sys.path))
    assert f.status == OK, f.to_json()


def test_a_recreated_virtualenv_without_llmfix(tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    path = repo(tmp_path / "r", f"{shlex.quote(str(venv / 'bin' / 'python'))} -m llmfix.merge_commands {TAIL}")
    (f,) = driver_findings(path)
    assert f.status == WARN and "llmfix" in f.summary and "install-merge-driver" in f.fix


def test_llmfix_on_path(tmp_path):
    path = repo(tmp_path / "r", f"llmfix {TAIL}")
    (f,) = driver_findings(path, PATH=str(tmp_path / "empty-bin"))
    assert f.status == WARN and "not on PATH" in f.summary
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "llmfix").write_text("#!/bin/sh\nexit 0\n")
    (bin_dir / "llmfix").chmod(0o755)
    (f,) = driver_findings(path, PATH=str(bin_dir))
    assert f.status == OK


def test_no_driver_no_finding(tmp_path):
    assert driver_findings(repo(tmp_path, None)) == []
