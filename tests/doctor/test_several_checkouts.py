"""A folder holding several checkouts (two copies of a DR Tulu checkout side by side): the
doctor handles each on its own, as `llmfix check` accepts such a folder: one checkout verdict
per copy, naming only its own files, and each copy's launcher under its own name."""

from __future__ import annotations

import json
import shutil

from click.testing import CliRunner
from doctor_support import REPO, cli_env, closed_url, make_env

from llmfix.doctor.command import doctor_command
from llmfix.doctor.findings import WARN


def two_copies(tmp_path):
    for name in ("a", "b"):
        shutil.copytree(REPO / "fixtures" / "drtulu-canonical", tmp_path / name)
    # b's launcher differs: it sets the generation model too.
    launcher = tmp_path / "b" / "train_dr_tulu.sh"
    launcher.write_text(launcher.read_text().replace("export RUBRIC_JUDGE_MODEL=gpt-4.1-mini",
                                                     "export RUBRIC_JUDGE_MODEL=gpt-4.1-mini\nexport RUBRIC_GENERATION_MODEL=gpt-4.1-mini"))
    return tmp_path


def test_each_checkout_on_its_own(tmp_path):
    top = two_copies(tmp_path)
    result = CliRunner().invoke(doctor_command, [str(top), "--offline", "--json"], env=cli_env(make_env(closed_url())))
    assert result.exit_code in (0, 1), result.output
    findings = json.loads(result.stdout)["findings"]

    checkouts = {f["source"]: f for f in findings if f["check"] == "checkout"}
    assert set(checkouts) == {"a", "b"}, [f["summary"] for f in findings if f["check"] == "checkout"]
    for name, f in checkouts.items():
        other = "b" if name == "a" else "a"
        assert (f["status"], f["cause"]) == (WARN, "checkout-unpatched"), f
        assert f"{top / name} is not patched" in f["summary"]
        assert f["detail"] and all(f" in {other}/" not in line for line in f["detail"]), f["detail"]

    sources = {f["source"] for f in findings}
    assert {"a/train_dr_tulu.sh", "b/train_dr_tulu.sh"} <= sources, sources
    only_judge = {f["source"] for f in findings if f.get("cause") == "generation-model-default"}
    assert only_judge == {"a/train_dr_tulu.sh"}  # b's launcher sets both models
