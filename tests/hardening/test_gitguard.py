"""The dirty-tree guard, with the real git binary on a temporary repository."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from support import CATALOG, copy_fixture, invoke, snapshot, target_files

from llmfix import gitguard

GIT_ENV = {
    "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid",
    "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.invalid",
    "GIT_CONFIG_NOSYSTEM": "1",
}
NAME = "upstream-main-split"


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", *args], cwd=repo, capture_output=True, text=True, check=True, timeout=60,
        env={**os.environ, **GIT_ENV, "HOME": str(repo.parent)},
    )
    return done.stdout


@pytest.fixture
def repo(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))  # no user git config leaks in
    for key, value in GIT_ENV.items():
        monkeypatch.setenv(key, value)
    root = copy_fixture(NAME, tmp_path)
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "upstream")
    return root


def run_utils(root: Path) -> Path:
    return target_files(NAME, root)[0]


def rubric_utils(root: Path) -> Path:
    return target_files(NAME, root)[1]


def test_a_clean_checkout_is_patched(repo):
    result = invoke("apply", repo)
    assert result.exit_code == 0, result.stderr
    assert invoke("check", repo).exit_code == 0


def test_someone_elses_edit_is_refused_with_one_line_naming_the_file(repo):
    path = run_utils(repo)
    path.write_text(path.read_text(encoding="utf-8") + "\n\ndef mine():\n    return 1\n", encoding="utf-8")
    before = snapshot(repo)
    result = invoke("apply", repo)
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "open_instruct/rubrics/run_utils.py has uncommitted changes llmfix did not make" in lines[0]
    assert "--force" in lines[0] and "rubric_utils.py" not in lines[0]
    assert snapshot(repo) == before
    forced = invoke("apply", repo, "--force")
    assert forced.exit_code == 0, forced.stderr
    assert "def mine():" in path.read_text(encoding="utf-8")
    assert invoke("check", repo).exit_code == 0


def test_staged_edits_are_uncommitted_too(repo):
    path = rubric_utils(repo)
    path.write_text("# reviewed\n" + path.read_text(encoding="utf-8"), encoding="utf-8")
    git(repo, "add", "-A")
    result = invoke("apply", repo)
    assert result.exit_code == 2
    assert "open_instruct/rubrics/rubric_utils.py has uncommitted changes" in result.stderr


def test_llmfix_own_changes_never_trip_it(repo):
    first = invoke("apply", repo, "--only", "retries")  # a partial apply, left uncommitted
    assert first.exit_code == 0, first.stderr
    second = invoke("apply", repo, "--retries", "12")  # more transforms, other options: still llmfix's own
    assert second.exit_code == 0, second.stderr
    again = invoke("apply", repo)  # nothing to do
    assert again.exit_code == 0, again.stderr
    assert "nothing to do" in again.stdout
    assert invoke("check", repo).exit_code == 0
    diff = invoke("diff", repo)
    assert diff.exit_code == 0 and diff.stdout == ""
    reverted = invoke("revert", repo)
    assert reverted.exit_code == 0, reverted.stderr
    assert git(repo, "status", "--porcelain", "--", "open_instruct") == ""


def test_check_diff_and_revert_ignore_the_guard(repo):
    assert invoke("apply", repo).exit_code == 0
    path = run_utils(repo)
    path.write_text(path.read_text(encoding="utf-8") + "\n# mine\n", encoding="utf-8")
    assert invoke("check", repo).exit_code == 0
    assert invoke("diff", repo).exit_code == 0
    assert invoke("revert", repo).exit_code == 0
    assert path.read_text(encoding="utf-8").endswith("\n# mine\n")


def test_edits_elsewhere_do_not_matter(repo):
    (repo / "README.md").write_text("local notes\n", encoding="utf-8")
    (repo / "open_instruct" / "rubrics" / "notes.py").write_text("x = 1\n", encoding="utf-8")
    assert invoke("apply", repo).exit_code == 0


def test_an_edit_in_a_file_apply_leaves_alone_does_not_matter(tmp_path, monkeypatch):
    """no-helpers: nothing to write, so nothing to guard, even with edits."""
    monkeypatch.setenv("HOME", str(tmp_path))
    root = copy_fixture("no-helpers", tmp_path)
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "upstream")
    for path in target_files("no-helpers", root):
        path.write_text(path.read_text(encoding="utf-8") + "\n# mine\n", encoding="utf-8")
    assert invoke("apply", root).exit_code == 0


def test_an_uncommitted_checkout_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    root = copy_fixture(NAME, tmp_path)
    git(root, "init", "-q", "-b", "main")
    result = invoke("apply", root)
    assert result.exit_code == 2
    # every target file is named, in discovery order (the fixture gained ground_truth_utils.py, the LLM judge)
    named = "open_instruct/rubrics/run_utils.py, open_instruct/rubrics/rubric_utils.py, open_instruct/ground_truth_utils.py"
    assert f"llmfix: error: {named} are not committed;" in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (root / "open_instruct" / "rubrics" / "litellm_utils.py").exists()  # refused before the support module is written
    assert invoke("apply", root, "--force").exit_code == 0


def test_a_second_checkout_nested_in_a_repo_is_judged_by_its_own_files(repo):
    """The checkout root need not be the repository root (DR Tulu's rl/open-instruct)."""
    outer = repo.parent / "monorepo"
    outer.mkdir()
    git(outer, "init", "-q", "-b", "main")
    inner = copy_fixture("drtulu-canonical", outer)
    git(outer, "add", "-A")
    git(outer, "commit", "-q", "-m", "import")
    checkout = inner / CATALOG["drtulu-canonical"]["root_subdir"]
    assert invoke("apply", checkout).exit_code == 0
    path = target_files("drtulu-canonical", inner)[1]
    assert invoke("revert", checkout).exit_code == 0
    path.write_text(path.read_text(encoding="utf-8").replace("Adaptive rubrics", "Rubrics", 1), encoding="utf-8")
    result = invoke("apply", checkout)
    assert result.exit_code == 2
    assert "open_instruct/search_rewards/utils/rubric_utils.py has uncommitted changes" in result.stderr


def test_outside_git_and_without_git_the_guard_does_nothing(tmp_path, monkeypatch):
    root = copy_fixture(NAME, tmp_path)
    path = run_utils(root)
    path.write_text(path.read_text(encoding="utf-8") + "\n# mine\n", encoding="utf-8")
    assert invoke("apply", root).exit_code == 0  # not a git checkout
    repo_root = copy_fixture(NAME, tmp_path / "git")
    monkeypatch.setenv("HOME", str(tmp_path))
    git(repo_root, "init", "-q", "-b", "main")
    git(repo_root, "add", "-A")
    git(repo_root, "commit", "-q", "-m", "upstream")
    edited = run_utils(repo_root)
    edited.write_text(edited.read_text(encoding="utf-8") + "\n# mine\n", encoding="utf-8")
    monkeypatch.setattr(gitguard, "GIT", "git-is-not-installed-here")
    assert invoke("apply", repo_root).exit_code == 0


def test_it_is_cheap(repo, monkeypatch):
    calls: list[list[str]] = []
    real = subprocess.run

    def counting(args, *rest, **kwargs):
        if args and args[0] == gitguard.GIT:
            calls.append(list(args[1:3]))
        return real(args, *rest, **kwargs)

    monkeypatch.setattr(subprocess, "run", counting)
    assert invoke("apply", repo, "--dry-run").exit_code == 0
    assert calls == []  # nothing to write: no git at all
    assert invoke("apply", repo, "--only", "retries").exit_code == 0
    assert [c[0] for c in calls] == ["status"]  # clean: one status call
    calls.clear()
    assert invoke("apply", repo).exit_code == 0
    # run_utils is dirty (llmfix's own retries): status, rev-parse, one cat-file; rubric_utils is clean
    assert [c[0] for c in calls] == ["status", "rev-parse", "cat-file"]
