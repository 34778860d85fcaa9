"""The pre-commit hooks, run by pre-commit itself on a temporary git repository.

The manifest (.pre-commit-hooks.yaml) is checked with pre-commit's own schema. Its
hooks are then run for real through a ``repo: local`` config made from the manifest
(same ids, entries, file patterns; ``language: system`` with ``llmfix`` resolved to
this interpreter), so pre-commit needs no network: no clone, no virtualenv. A dead
proxy and PIP_NO_INDEX make sure of it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from support import REPO, copy_fixture, target_files

from llmfix.config import CommandSettings as Options  # planning.Options became config.CommandSettings
from llmfix.workflow import plan_paths

NAME = "upstream-main-split"
MANIFEST = REPO / ".pre-commit-hooks.yaml"
BIN = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])  # this interpreter's tools first
PRE_COMMIT = shutil.which("pre-commit", path=BIN)


@pytest.fixture
def env(tmp_path):
    return {
        **os.environ,
        "PATH": BIN,
        "HOME": str(tmp_path),
        "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home"),
        "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid",
        "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.invalid",
        "GIT_CONFIG_NOSYSTEM": "1",
        "http_proxy": "http://127.0.0.1:9", "https_proxy": "http://127.0.0.1:9",
        "HTTP_PROXY": "http://127.0.0.1:9", "HTTPS_PROXY": "http://127.0.0.1:9",
        "PIP_NO_INDEX": "1",
        "PYTHONPATH": str(REPO),
    }


def run(args: list[str], cwd: Path, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def local_config(hook_ids: list[str]) -> str:
    """A repo: local config running the manifest's hooks with this checkout's llmfix."""
    hooks = []
    for hook in yaml.safe_load(MANIFEST.read_text(encoding="utf-8")):
        if hook["id"] not in hook_ids:
            continue
        assert hook["entry"].startswith("llmfix ")
        local = {k: v for k, v in hook.items() if k not in ("language", "description")}
        local["entry"] = f"{sys.executable} -m llmfix {hook['entry'][len('llmfix '):]}"
        local["language"] = "system"
        hooks.append(local)
    assert [h["id"] for h in hooks] == hook_ids
    return yaml.safe_dump({"repos": [{"repo": "local", "hooks": hooks}]}, sort_keys=False)


@pytest.fixture
def repo(tmp_path, env):
    root = copy_fixture(NAME, tmp_path)
    (root / "README.md").write_text("upstream checkout\n", encoding="utf-8")
    for args in (["git", "init", "-q", "-b", "main"], ["git", "add", "-A"], ["git", "commit", "-q", "-m", "upstream"]):
        assert run(args, root, env).returncode == 0
    return root


def test_the_manifest_is_valid_for_pre_commit(env, tmp_path):
    assert PRE_COMMIT, "pre-commit is not installed"
    done = run([PRE_COMMIT, "validate-manifest", str(MANIFEST)], tmp_path, env)
    assert done.returncode == 0, done.stdout + done.stderr
    ids = [h["id"] for h in yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))]
    assert ids == ["llmfix-check", "llmfix-apply"]


def test_check_fails_apply_patches_then_check_passes(repo, env):
    expected = {p.target.path: p.patched for p in plan_paths([repo], Options())}
    (repo / ".pre-commit-config.yaml").write_text(local_config(["llmfix-check", "llmfix-apply"]), encoding="utf-8")
    assert run([PRE_COMMIT, "validate-config", ".pre-commit-config.yaml"], repo, env).returncode == 0

    check = run([PRE_COMMIT, "run", "llmfix-check", "--all-files"], repo, env)
    assert check.returncode == 1, check.stdout + check.stderr
    assert "Failed" in check.stdout and "pending" in check.stdout and "exit code: 1" in check.stdout
    # check writes nothing: every target still unpatched, no support module created
    assert all(p.read_text(encoding="utf-8") != text if p.exists() else p.name == "litellm_utils.py" for p, text in expected.items())

    apply = run([PRE_COMMIT, "run", "llmfix-apply", "--all-files"], repo, env)
    assert apply.returncode == 1, apply.stdout + apply.stderr  # pre-commit fails a hook that modified files
    assert "files were modified by this hook" in apply.stdout
    assert {p: p.read_text(encoding="utf-8") for p in expected} == expected

    assert run(["git", "add", "-A"], repo, env).returncode == 0
    again = run([PRE_COMMIT, "run", "--all-files"], repo, env)
    assert again.returncode == 0, again.stdout + again.stderr
    assert again.stdout.count("Passed") == 2


def test_the_installed_hook_blocks_a_commit_until_the_fixes_are_in(repo, env):
    (repo / ".pre-commit-config.yaml").write_text(local_config(["llmfix-check"]), encoding="utf-8")
    assert run(["git", "add", ".pre-commit-config.yaml"], repo, env).returncode == 0
    installed = run([PRE_COMMIT, "install"], repo, env)
    assert installed.returncode == 0, installed.stdout + installed.stderr

    run_utils = target_files(NAME, repo)[0]
    run_utils.write_text(run_utils.read_text(encoding="utf-8") + "\n# a local note\n", encoding="utf-8")
    assert run(["git", "add", "-A"], repo, env).returncode == 0
    blocked = run(["git", "commit", "-m", "note"], repo, env)
    assert blocked.returncode != 0
    output = blocked.stdout + blocked.stderr  # git shows the hook's output on stderr
    assert "llmfix check" in output and "Failed" in output and "pending" in output

    fixed = run([sys.executable, "-m", "llmfix", "apply", str(repo), "--force", "-q"], repo, env)
    assert fixed.returncode == 0, fixed.stderr
    assert run(["git", "add", "-A"], repo, env).returncode == 0
    committed = run(["git", "commit", "-m", "note, with llmfix's fixes"], repo, env)
    assert committed.returncode == 0, committed.stdout + committed.stderr
    assert "Passed" in committed.stdout + committed.stderr


def test_files_that_are_not_helpers_pass(repo, env):
    """A namesake outside the checkout runs the hook, which checks the (patched) checkout and passes."""
    assert run([sys.executable, "-m", "llmfix", "apply", str(repo), "-q"], repo, env).returncode == 0
    (repo / ".pre-commit-config.yaml").write_text(local_config(["llmfix-check"]), encoding="utf-8")
    other = repo / "tools" / "run_utils.py"
    other.parent.mkdir()
    other.write_text("def run():\n    return 1\n", encoding="utf-8")
    assert run(["git", "add", "-A"], repo, env).returncode == 0
    done = run([PRE_COMMIT, "run", "llmfix-check", "--files", "tools/run_utils.py"], repo, env)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_apply_hook_patches_the_whole_checkout_never_one_staged_file(repo, env):
    """Only rubric_utils.py is staged: the hook still patches run_utils.py with it (no ImportError committed)."""
    (repo / ".pre-commit-config.yaml").write_text(local_config(["llmfix-apply"]), encoding="utf-8")
    run_utils, rubric_utils, *_ = target_files(NAME, repo)  # the catalog lists the judge file too
    rubric_utils.write_text(rubric_utils.read_text(encoding="utf-8") + "\n# a local note\n", encoding="utf-8")
    expected = {p.target.path: p.patched for p in plan_paths([repo], Options())}  # run_utils.py and the support module too
    assert run(["git", "add", str(rubric_utils), ".pre-commit-config.yaml"], repo, env).returncode == 0
    done = run([PRE_COMMIT, "run", "llmfix-apply"], repo, env)
    assert done.returncode == 1, done.stdout + done.stderr  # it modified files
    assert "litellm_utils." in rubric_utils.read_text(encoding="utf-8")  # the staged file calls the support module
    assert run_utils in expected and run_utils.read_text(encoding="utf-8") == expected[run_utils]
    assert {p: p.read_text(encoding="utf-8") for p in expected} == expected  # the support module it imports is there


def test_the_check_hook_says_which_command_fixes_it(repo, env):
    (repo / ".pre-commit-config.yaml").write_text(local_config(["llmfix-check"]), encoding="utf-8")
    done = run([PRE_COMMIT, "run", "llmfix-check", "--all-files"], repo, env)
    assert done.returncode == 1
    assert "`llmfix apply` on the same path(s) adds them" in done.stdout
