"""The doctor reports the packages of the training job's Python (``--python PATH``), never
llmfix's own virtualenv; without ``--python`` it says plainly that it could not look."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from doctor_support import by_check, cli_env, closed_url, make_env

from llmfix.doctor.command import doctor_command
from llmfix.doctor.findings import FAIL, OK, WARN
from llmfix.doctor.runner import run_doctor


def _venv(root: Path, packages: dict[str, str]) -> Path:
    """A bare virtualenv (no pip) holding fake distributions ``name -> version``."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root)], check=True, timeout=120)
    (site,) = root.glob("lib/python*/site-packages")
    for name, version in packages.items():
        (site / name).mkdir()
        (site / name / "__init__.py").write_text("")
        info = site / f"{name}-{version}.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    return root / "bin" / "python"


@pytest.fixture(scope="module")
def job_pythons(tmp_path_factory):
    root = tmp_path_factory.mktemp("jobs")
    return {"full": _venv(root / "full", {"litellm": "9.9.9", "tenacity": "8.2.3"}), "bare": _venv(root / "bare", {})}


def litellm_findings(args: list[str]) -> list[dict]:
    result = CliRunner().invoke(doctor_command, ["--offline", "--json", *args], env=cli_env(make_env(closed_url())))
    assert result.exit_code in (0, 1), result.output
    return [f for f in json.loads(result.stdout)["findings"] if f["check"] == "litellm"]


def test_without_python_it_says_it_could_not_look():
    findings = litellm_findings([])
    text = json.dumps(findings)
    assert "tenacity is not installed" not in text and "tenacity is installed" not in text
    assert " installed" not in " ".join(f["summary"] for f in findings if f.get("cause") != "cost-map-remote")
    (unknown,) = [f for f in findings if f.get("cause") == "training-env-unknown"]
    assert unknown["status"] == WARN
    assert "could not examine the training" in unknown["summary"] and "--python" in unknown["fix"]


def test_the_job_pythons_packages_are_reported(job_pythons):
    findings = litellm_findings(["--python", str(job_pythons["full"])])
    summaries = [f["summary"] for f in findings]
    assert any("litellm 9.9.9" in s and str(job_pythons["full"]) in s for s in summaries), summaries
    assert any(f["status"] == OK and "tenacity 8.2.3" in f["summary"] for f in findings), summaries
    assert not any(f.get("cause") == "training-env-unknown" for f in findings)


def test_a_job_python_without_litellm_or_tenacity(job_pythons):
    report = run_doctor(env=make_env(closed_url()), offline=True, python=str(job_pythons["bare"]))
    causes = {f.cause: f for f in by_check(report.findings, "litellm")}
    assert causes["litellm-missing"].status == FAIL and str(job_pythons["bare"]) in causes["litellm-missing"].fix
    assert causes["tenacity-missing"].status == WARN and "-m pip install tenacity" in causes["tenacity-missing"].fix


def test_a_python_that_does_not_run(tmp_path):
    broken = tmp_path / "python"
    broken.write_text("#!/bin/sh\necho 'no such module' >&2\nexit 3\n")
    broken.chmod(0o755)
    report = run_doctor(env=make_env(closed_url()), offline=True, python=str(broken))
    (f,) = [f for f in by_check(report.findings, "litellm") if f.cause == "training-env-unknown"]
    assert f.status == WARN and "exit 3" in f.summary


def test_a_missing_python_is_bad_input(tmp_path):
    result = CliRunner().invoke(doctor_command, ["--offline", "--python", str(tmp_path / "nope")], env=cli_env(make_env(closed_url())))
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "--python" in result.output
