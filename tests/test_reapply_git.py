"""Re-applying after an upstream merge, with the real git binary.

The user commits an older checkout, applies llmfix and commits, then merges an
upstream branch that rewrites (and maybe moves) the files to a newer family,
resolving conflicts in upstream's favour. A second apply patches the new code,
leaves what is still patched alone, and every fix ends up present exactly once.
"""

from __future__ import annotations

import ast
import itertools
import subprocess
from pathlib import Path

import pytest
from support import CATALOG, FIXTURES, invoke

from llmfix.codemods import support

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
        if state == "AU":  # added by us in a folder upstream renamed (llmfix's support module): git moved it
            git(repo, "add", "--", path)
        elif state in ("UD", "DU", "DD") or (state[1] == "D" and state[0] == "U"):
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

    run_utils_path = repo / CATALOG[newer]["files"]["run_utils"].removeprefix(CATALOG[newer]["root_subdir"] + "/")
    run_utils = run_utils_path.read_text(encoding="utf-8")
    rubric = (repo / CATALOG[newer]["files"]["rubric_utils"].removeprefix(CATALOG[newer]["root_subdir"] + "/")).read_text(encoding="utf-8")
    assert run_utils_path.with_name("litellm_utils.py").read_text(encoding="utf-8") == support.text()
    assert rubric.count("await litellm_utils.ensure_connection(") == 1
    for text in (run_utils, rubric):
        imported = [a.name for n in ast.walk(ast.parse(text)) if isinstance(n, ast.ImportFrom) for a in n.names]
        assert imported.count("litellm_utils") == 1
    # one env-driven default per defaults site, never two lines for one key
    for key in ("num_retries", "fallbacks", "timeout"):
        for line in run_utils.splitlines():
            assert line.count(f'["{key}"] =') <= 1
    compile(run_utils, "run_utils.py", "exec")
    compile(rubric, "rubric_utils.py", "exec")


def _merged_upstream_edit(tmp_path: Path, name: str, which: str) -> tuple[Path, dict[str, bytes]]:
    """Apply, commit, then merge an upstream change to a line llmfix rewrote in ``which``, upstream winning."""
    from llmfix import diffing
    from llmfix.config import CommandSettings
    from llmfix.workflow import plan_paths

    repo = tmp_path / "checkout"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "core.autocrlf", "false")
    files = checkout_files(name)
    write_tree(repo, files)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "upstream")
    (plan,) = [p for p in plan_paths([repo], CommandSettings()) if p.target.path.name == which]
    old_lines = plan.original.splitlines(keepends=True)
    codes = diffing.opcodes(old_lines, plan.patched.splitlines(keepends=True))
    # a line llmfix rewrites (not an import), else one between two of its insertions, else the line right
    # after one: no fuzz finds the hunk once upstream edits it
    rewritten = [c[1] for c in codes if c[0] == "replace" and not old_lines[c[1]].startswith(("from ", "import "))]
    interior = [c[1] for c, _ in itertools.pairwise(codes[1:]) if c[0] == "equal" and c[2] - c[1] <= 3 and old_lines[c[1]].strip()]
    after_insertion = [c[1] for p, c in itertools.pairwise(codes) if p[0] == "insert" and c[0] == "equal" and old_lines[c[1]].strip()]
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


@pytest.mark.parametrize("which", ["run_utils.py", "rubric_utils.py"])
def test_revert_after_a_merge_gives_upstreams_merged_code_back(tmp_path, which):
    """Upstream changed a line llmfix rewrote and won the merge: revert takes out the rest of llmfix's change by structure."""
    repo, _ = _merged_upstream_edit(tmp_path, "upstream-main-split", which)
    result = invoke("revert", repo)
    assert result.exit_code == 0, result.stderr
    for rel in ("open_instruct/rubrics/run_utils.py", "open_instruct/rubrics/rubric_utils.py"):
        assert (repo / rel).read_text(encoding="utf-8") == git(repo, "show", f"upstream:{rel}").stdout, rel
    assert not (repo / "open_instruct/rubrics/litellm_utils.py").exists()
