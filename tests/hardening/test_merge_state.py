"""A merge in progress is a normal state; code llmfix can't parse safely is one line.

Real git: a checkout committed, patched and committed, then an upstream branch
merged with ``--no-commit`` (a clean merge) or with a conflict left in a target.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from support import GIT_ENV, copy_fixture, invoke, run_cli, snapshot, target_files

from llmfix import workflow
from llmfix.errors import BadInput

FIXTURE = "upstream-main-split"


def git(repo: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["git", "-c", "core.autocrlf=false", *args], cwd=repo, capture_output=True, text=True, check=check, timeout=60,
        env={**os.environ, **GIT_ENV, "HOME": str(repo.parent)},
    )


@pytest.fixture
def repo(tmp_path):
    root = copy_fixture(FIXTURE, tmp_path)
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "upstream")
    return root


def upstream_edit(repo: Path, path: Path, old: str, new: str) -> None:
    """Upstream changes ``old`` to ``new`` in ``path`` on its own branch."""
    git(repo, "checkout", "-q", "-b", "upstream")
    path.write_text(path.read_text(encoding="utf-8").replace(old, new, 1), encoding="utf-8")
    git(repo, "commit", "-q", "-am", "upstream change")
    git(repo, "checkout", "-q", "main")


def test_apply_mid_merge_takes_upstreams_merged_changes_as_they_are(repo):
    run_utils = target_files(FIXTURE, repo)[0]
    upstream_edit(repo, run_utils, '"""', '"""Upstream edited this docstring. ', )
    merge = git(repo, "merge", "--no-commit", "--no-ff", "upstream")
    assert merge.returncode == 0 and (repo / ".git" / "MERGE_HEAD").exists()
    result = invoke("apply", repo)
    assert result.exit_code == 0, result.stderr
    assert "commit or stash" not in result.stderr
    assert invoke("check", repo).exit_code == 0
    assert "Upstream edited this docstring." in run_utils.read_text(encoding="utf-8")


def test_an_unstaged_edit_mid_merge_is_named_without_suggesting_a_stash(repo):
    run_utils = target_files(FIXTURE, repo)[0]
    upstream_edit(repo, run_utils, '"""', '"""Upstream edited this docstring. ')
    git(repo, "merge", "--no-commit", "--no-ff", "upstream")
    run_utils.write_text(run_utils.read_text(encoding="utf-8") + "\n# mine\n", encoding="utf-8")
    result = invoke("apply", repo)
    assert result.exit_code == 2
    assert "not staged for the merge" in result.stderr and "git add" in result.stderr
    assert "stash" not in result.stderr


def conflicted(repo: Path) -> tuple[Path, int]:
    """A merge stopped on a conflict in run_utils.py; returns it and the line of its ``<<<<<<<``."""
    run_utils = target_files(FIXTURE, repo)[0]
    text = run_utils.read_text(encoding="utf-8")
    first = text.splitlines()[0]
    upstream_edit(repo, run_utils, first, first + "  # upstream")
    run_utils.write_text(text.replace(first, first + "  # ours", 1), encoding="utf-8")
    git(repo, "commit", "-q", "-am", "ours")
    assert git(repo, "merge", "upstream", check=False).returncode != 0
    lines = run_utils.read_text(encoding="utf-8").splitlines()
    return run_utils, next(n for n, line in enumerate(lines, start=1) if line.startswith("<<<<<<< "))


@pytest.mark.parametrize("command", ["apply", "check", "diff"])
def test_a_conflicted_target_is_named_with_the_line_of_its_conflict(repo, command):
    run_utils, line = conflicted(repo)
    before = snapshot(repo)
    result = run_cli(command, repo)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert f"run_utils.py: unresolved merge conflict at line {line} (run `git mergetool` or edit, then re-run)" in lines[0]
    assert "rubric_utils.py" not in lines[0]
    assert snapshot(repo) == before


def test_a_target_git_still_lists_as_unmerged_is_named(repo):
    run_utils, _ = conflicted(repo)
    text = run_utils.read_text(encoding="utf-8")
    ours, theirs = text.split("<<<<<<< ", 1)[0], text.split(">>>>>>> ", 1)[1].split("\n", 1)[1]
    resolved = ours + text.split("<<<<<<< ", 1)[1].split("\n", 1)[1].split("=======\n", 1)[0] + theirs
    run_utils.write_text(resolved, encoding="utf-8")  # markers gone, but not `git add`ed
    result = run_cli("apply", repo)
    assert result.returncode == 2
    assert "run_utils.py: unresolved merge conflict (git lists it as unmerged" in result.stderr
    git(repo, "add", "--", str(run_utils))
    assert run_cli("apply", repo).returncode == 0


@pytest.mark.parametrize(
    "code",
    [
        "TOTAL = " + " + ".join(["1"] * 600) + "\n",
        "TOTAL = " + "(" * 2000 + "1" + ")" * 2000 + "\n",
        "TOTAL = " + " + ".join(["1"] * 12000) + "\n",
        "TOTAL = [" * 3000 + "]" * 3000 + "\n",
        "TOTAL = x" + ".y" * 5000 + "\n",
        "TOTAL = " + " ".join(['"a"'] * 3000) + "\n",  # flat in CPython's tree, nested in libcst's
        "TOTAL = x" + " and x" * 3000 + "\n",
    ],
    ids=["600-plus-terms", "2000-nested-parens", "12000-plus-terms", "3000-nested-lists", "5000-attributes", "3000-joined-strings", "3000-and-terms"],
)
@pytest.mark.parametrize("command", ["apply", "check", "revert"])
def test_very_deep_code_is_one_line_never_a_crash(tmp_path, code, command):
    root = copy_fixture(FIXTURE, tmp_path)
    run_utils = target_files(FIXTURE, root)[0]
    run_utils.write_text(run_utils.read_text(encoding="utf-8") + "\n" + code, encoding="utf-8")
    before = snapshot(root)
    result = run_cli(command, root)
    assert result.returncode == 2, (result.returncode, result.stderr[-300:])  # a segfault is -11
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "RecursionError" not in lines[0] and "internal error" not in lines[0], result.stderr[-500:]
    assert "run_utils.py" in lines[0] and "nested" in lines[0]
    assert snapshot(root) == before


@pytest.mark.parametrize("paths", [[""], ["  "], ["", "."]])
def test_an_empty_path_is_bad_input(tmp_path, monkeypatch, paths):
    copy_fixture(FIXTURE, tmp_path)
    monkeypatch.chdir(tmp_path)  # an empty PATH must not mean "every checkout under here"
    before = snapshot(tmp_path)
    calls = (lambda: workflow.apply(paths, workflow_options()), lambda: workflow.revert_files(paths), lambda: workflow.plan_paths(paths, workflow_options()))
    for call in calls:
        with pytest.raises(BadInput, match="empty PATH"):
            call()
    assert snapshot(tmp_path) == before


def workflow_options():
    from llmfix.config import CommandSettings

    return CommandSettings()
