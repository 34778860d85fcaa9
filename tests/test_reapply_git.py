"""Re-applying after an upstream merge, with the real git binary.

The user commits an older checkout, applies llmfix and commits, then merges an
upstream branch that rewrites (and maybe moves) the files to a newer family,
resolving conflicts in upstream's favour. A second apply patches the new code,
leaves what is still patched alone, and every fix ends up present exactly once.
"""

from __future__ import annotations

import ast
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


def _merged_upstream_edit(tmp_path: Path, name: str, which: str) -> tuple[Path, dict[str, bytes]]:
    """Apply, commit, then merge an upstream change to a line llmfix rewrote in ``which``, upstream winning."""
    from llmfix import linediff
    from llmfix.planning import Options
    from llmfix.workflow import plan_paths

    repo = tmp_path / "checkout"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "core.autocrlf", "false")
    files = checkout_files(name)
    write_tree(repo, files)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "upstream")
    (plan,) = [p for p in plan_paths([repo], Options()) if p.target.path.name == which]
    old_lines = plan.original.splitlines(keepends=True)
    codes = linediff.opcodes(old_lines, plan.patched.splitlines(keepends=True))
    # a line llmfix rewrites (not an import), else one between two of its insertions, else the line right
    # after one: no fuzz finds the hunk once upstream edits it
    rewritten = [c[1] for c in codes if c[0] == "replace" and not old_lines[c[1]].startswith(("from ", "import "))]
    interior = [c[1] for c, _ in zip(codes[1:], codes[2:]) if c[0] == "equal" and c[2] - c[1] <= 3 and old_lines[c[1]].strip()]
    after_insertion = [c[1] for p, c in zip(codes, codes[1:]) if p[0] == "insert" and c[0] == "equal" and old_lines[c[1]].strip()]
    i1 = (rewritten or interior or after_insertion)[0]
    line = old_lines[i1].rstrip("\n")
    git(repo, "checkout", "-q", "-b", "upstream")
    edited = old_lines[:i1] + [line + "  # changed upstream\n"] + old_lines[i1 + 1 :]
    plan.target.path.write_text("".join(edited), encoding="utf-8")
    git(repo, "commit", "-q", "-am", "upstream changes a line llmfix rewrites")
    git(repo, "checkout", "-q", "main")
    assert invoke("apply", repo).exit_code == 0
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "apply llmfix")
    if git(repo, "merge", "-q", "-X", "theirs", "--no-edit", "upstream", check=False).returncode != 0:
        resolve_in_upstreams_favour(repo)
    assert "# changed upstream" in plan.target.path.read_text(encoding="utf-8")
    return repo, {rel: (repo / rel).read_bytes() for rel in files}


def test_revert_after_a_merge_names_each_hunk_and_how_to_take_upstreams_version(tmp_path):
    repo, before = _merged_upstream_edit(tmp_path, "upstream-main-split", "run_utils.py")
    result = invoke("revert", repo)
    assert result.exit_code == 1  # some files reverted, one left as it is
    assert "open_instruct/rubrics/run_utils.py: can't revert hunk @@" in result.stderr
    assert f"git -C {repo.resolve()} checkout HEAD^2 -- open_instruct/rubrics/run_utils.py" in result.stderr
    assert "1 file(s) left as they are" in result.stdout
    assert (repo / "open_instruct/rubrics/run_utils.py").read_bytes() == before["open_instruct/rubrics/run_utils.py"]


def test_a_partial_revert_after_a_merge_reverts_the_files_it_can(tmp_path):
    from llmfix.workflow import revert_files

    repo, before = _merged_upstream_edit(tmp_path, "upstream-main-split", "run_utils.py")
    report = revert_files([repo], partial=True)
    assert [t.path.name for t in report.reverted] == ["rubric_utils.py"]
    assert [b.target.path.name for b in report.blocked] == ["run_utils.py"]
    rubric = repo / "open_instruct/rubrics/rubric_utils.py"
    assert rubric.read_bytes() == checkout_files("upstream-main-split")["open_instruct/rubrics/rubric_utils.py"]
    assert (repo / "open_instruct/rubrics/run_utils.py").read_bytes() == before["open_instruct/rubrics/run_utils.py"]
    again = revert_files([repo], partial=True)  # the blocked file's record is kept for later
    assert [b.target.path.name for b in again.blocked] == ["run_utils.py"] and not again.reverted


def test_a_file_another_patched_file_imports_from_is_held_back(tmp_path):
    """rubric_utils.py can't be reverted and imports ensure_litellm_connection: run_utils.py stays patched too."""
    from llmfix.workflow import revert_files

    repo, before = _merged_upstream_edit(tmp_path, "upstream-main-split", "rubric_utils.py")
    report = revert_files([repo], partial=True)
    assert report.reverted == []
    reasons = {b.target.path.name: " ".join(p.reason for p in b.problems) for b in report.blocked}
    assert "ensure_litellm_connection" in reasons["run_utils.py"] and "which stays patched, imports" in reasons["run_utils.py"]
    assert {rel: (repo / rel).read_bytes() for rel in before} == before
