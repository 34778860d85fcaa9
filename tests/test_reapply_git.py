"""Re-applying after an upstream merge, with the real git binary.

The user commits an older checkout, applies llmfix and commits, then merges an
upstream branch that rewrites (and maybe moves) the files to a newer family,
resolving conflicts in upstream's favour. A second apply patches the new code,
leaves what is still patched alone, and every fix ends up present exactly once.
"""

from __future__ import annotations

import ast
import shutil
import subprocess
from pathlib import Path

import pytest

from support import CATALOG, FIXTURES, invoke

GIT_ENV = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.invalid"}


def git(repo: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    import os

    return subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=check, env={**os.environ, **GIT_ENV}, timeout=60)


def checkout_files(name: str) -> dict[str, bytes]:
    root = FIXTURES / name / CATALOG[name]["root_subdir"]
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file() and p.suffix in (".py", ".sh")}


def write_tree(repo: Path, files: dict[str, bytes]) -> None:
    for rel, data in files.items():
        path = repo / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def resolve_in_upstreams_favour(repo: Path) -> None:
    for line in git(repo, "status", "--porcelain").stdout.splitlines():
        state, path = line[:2], line[3:]
        if state in ("UD", "DU", "DD") or (state[1] == "D" and state[0] == "U"):
            git(repo, "rm", "-q", "--", path, check=False)
        elif "U" in state or state == "AA":
            git(repo, "checkout", "--theirs", "--", path)
            git(repo, "add", "--", path)
    git(repo, "commit", "-q", "--no-edit", "-m", "merge upstream")


@pytest.mark.parametrize(
    ("older", "newer"),
    [
        ("upstream-autumn2025-defaults", "upstream-autumn2025-lazy"),  # same paths, new family
        ("upstream-autumn2025-lazy", "upstream-main-split"),  # files move to open_instruct/rubrics/
        ("upstream-mid2025", "upstream-main-guarded"),
    ],
)
def test_apply_after_upstream_merge(tmp_path, older, newer):
    repo = tmp_path / "checkout"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "core.autocrlf", "false")
    write_tree(repo, checkout_files(older))
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "upstream, older")

    git(repo, "checkout", "-q", "-b", "upstream")
    old_files = checkout_files(older)
    new_files = checkout_files(newer)
    for rel in old_files.keys() - new_files.keys():
        git(repo, "rm", "-q", "--", rel)
    write_tree(repo, new_files)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "upstream, newer")

    git(repo, "checkout", "-q", "main")
    assert invoke("apply", repo).exit_code == 0
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "apply llmfix")
    assert git(repo, "status", "--porcelain").stdout == ""  # .llmfix/ ignores itself

    merge = git(repo, "merge", "-q", "-X", "theirs", "--no-edit", "upstream", check=False)
    if merge.returncode != 0:
        resolve_in_upstreams_favour(repo)

    second = invoke("apply", repo)
    assert second.exit_code == 0, second.stderr
    assert invoke("check", repo).exit_code == 0

    run_utils = (repo / CATALOG[newer]["files"]["run_utils"].removeprefix(CATALOG[newer]["root_subdir"] + "/")).read_text(encoding="utf-8")
    rubric = (repo / CATALOG[newer]["files"]["rubric_utils"].removeprefix(CATALOG[newer]["root_subdir"] + "/")).read_text(encoding="utf-8")
    assert run_utils.count("def _fallback_models_from_env(") == 1
    assert run_utils.count("async def ensure_litellm_connection(") == 1
    assert run_utils.count("class LiteLLMConnectionError") == 1
    assert rubric.count("await ensure_litellm_connection(") == 1
    imported = [a.name for n in ast.walk(ast.parse(rubric)) if isinstance(n, ast.ImportFrom) for a in n.names]
    assert imported.count("ensure_litellm_connection") == 1
    # one env-driven default per defaults site, never two lines for one key
    for key in ("num_retries", "fallbacks", "timeout"):
        for line in run_utils.splitlines():
            assert line.count(f'["{key}"] =') <= 1
    compile(run_utils, "run_utils.py", "exec")
    compile(rubric, "rubric_utils.py", "exec")
