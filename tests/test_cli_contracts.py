"""The usual CLI contracts: --json everywhere, dry runs that say "would", exit codes CI can trust."""

from __future__ import annotations

import json
import subprocess
import sys

from support import copy_fixture, invoke, snapshot, target_files

NAME = "upstream-main-split"


def test_every_file_command_speaks_json(tmp_path):
    root = copy_fixture(NAME, tmp_path)
    for args in (["list"], ["diff", root], ["check", root], ["apply", root, "--dry-run"], ["apply", root], ["revert", root, "--dry-run"], ["revert", root]):
        result = invoke(*args, "--json")
        payload = json.loads(result.stdout)
        assert payload["command"] == args[0], args
        assert result.exit_code in (0, 1)


def test_dry_runs_say_would_never_did(tmp_path):
    root = copy_fixture(NAME, tmp_path)
    before = snapshot(root)
    text = invoke("apply", root, "--dry-run").stdout
    assert "would apply" in text and "would patch" in text and " applied " not in text
    statuses = {o["status"] for f in json.loads(invoke("apply", root, "--dry-run", "--json").stdout)["files"] for o in f["transforms"].values()}
    assert "applied" not in statuses and "pending" in statuses
    assert snapshot(root) == before
    assert invoke("apply", root).exit_code == 0
    patched = snapshot(root)
    revert = invoke("revert", root, "--dry-run")
    assert revert.exit_code == 0 and "would revert 2 file(s)" in revert.stdout
    assert snapshot(root) == patched


def test_diff_exit_code_is_one_while_changes_are_pending(tmp_path):
    root = copy_fixture(NAME, tmp_path)
    assert invoke("diff", root, "--exit-code").exit_code == 1
    assert invoke("diff", root).exit_code == 0
    assert invoke("apply", root).exit_code == 0
    quiet = invoke("diff", root, "--exit-code")
    assert quiet.exit_code == 0 and quiet.stdout == ""


def test_stat_lists_only_the_files_that_change(tmp_path):
    root = copy_fixture(NAME, tmp_path)
    run_utils, rubric_utils = target_files(NAME, root)
    assert invoke("apply", root, "--only", "guards").exit_code == 0
    stat = invoke("diff", root, "--stat").stdout
    assert "run_utils.py |" in stat and "rubric_utils.py |" in stat  # retries etc. still pending in run_utils, precheck in rubric
    assert invoke("apply", root).exit_code == 0
    text = rubric_utils.read_text(encoding="utf-8")
    rubric_utils.write_text(text.replace("    await ensure_litellm_connection(model_name)\n", "", 1), encoding="utf-8")
    result = invoke("diff", root, "--stat")
    assert result.exit_code == 0, result.stderr
    stat = result.stdout
    assert "rubric_utils.py |" in stat and "run_utils.py |" not in stat.replace("rubric_utils.py", "")
    assert "1 file(s) changed" in stat


def test_the_libcst_recipe_works_from_the_users_own_checkout(tmp_path):
    """No .libcst.codemod.yaml of ours: the README's `python -m libcst.tool codemod -x ...` line runs as written."""
    root = copy_fixture(NAME, tmp_path)
    run_utils = target_files(NAME, root)[0]
    command = [sys.executable, "-m", "libcst.tool", "codemod", "--no-format", "-x", "llmfix.codemods.retries.RetriesCommand", "--retries", "12", str(run_utils)]
    done = subprocess.run(command, cwd=root, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert '"LITELLM_NUM_RETRIES", "12"' in run_utils.read_text(encoding="utf-8")
