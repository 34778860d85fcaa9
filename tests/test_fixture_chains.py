"""Consecutive versions of a fixture chain evolve from each other like real history.

The catalog orders each chain (allenai upstream, DR Tulu) by date. Going from one
version to the next changes only what TARGETS.md says changed (layout moves, defaults,
lazy import, split, guards, rename, style adoption), so the code both share stays:
the same ``extract_json_from_response``, the same prompts, the same judges. Real git
must see the target files as modified or renamed, never as deleted and re-added:
that is what lets a merge of the newer version carry a patch along.
"""

from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
CATALOG: dict = json.loads((FIXTURES / "catalog.json").read_text(encoding="utf-8"))
KINDS = ("run_utils", "rubric_utils")
JUDGES = ("_score_property", "_score_property_async")
GIT_ENV = {
    "GIT_AUTHOR_NAME": "fixtures",
    "GIT_AUTHOR_EMAIL": "fixtures@example.invalid",
    "GIT_COMMITTER_NAME": "fixtures",
    "GIT_COMMITTER_EMAIL": "fixtures@example.invalid",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
}


def _chains() -> dict[str, list[str]]:
    chains: dict[str, list[str]] = {}
    for name, entry in CATALOG.items():
        chains.setdefault(entry["chain"], []).append(name)
    return chains


PAIRS = [(older, newer) for names in _chains().values() for older, newer in zip(names, names[1:])]


def _rel(name: str, kind: str) -> str:
    """Path of a target file relative to the checkout root."""
    root = CATALOG[name]["root_subdir"]
    path = CATALOG[name]["files"][kind]
    return path if root == "." else path.removeprefix(root + "/")


def _tree(name: str, kind: str) -> ast.Module:
    return ast.parse((FIXTURES / name / CATALOG[name]["files"][kind]).read_bytes())


def _function(tree: ast.Module, name: str) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
    return next((n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name == name), None)


def _body(func: ast.AST) -> str:
    """The statements of a function, without its signature."""
    return "\n".join(ast.unparse(stmt) for stmt in func.body)


def _string_constants(tree: ast.Module) -> set[str]:
    """Module-level string constants long enough to be prompts."""
    return {
        n.value.value
        for n in tree.body
        if isinstance(n, ast.Assign) and isinstance(n.value, ast.Constant) and isinstance(n.value.value, str)
        if len(n.value.value) > 40
    }


def _git(repo: Path, *args: str) -> str:
    result = subprocess.run(
        ["git", *args], cwd=repo, env={**os.environ, **GIT_ENV}, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_every_main_chain_has_history():
    chains = _chains()
    assert len(chains["upstream"]) >= 5 and len(chains["drtulu"]) >= 2


@pytest.mark.parametrize(("older", "newer"), PAIRS, ids=[f"{o}->{n}" for o, n in PAIRS])
def test_git_sees_the_target_files_evolve(tmp_path, older, newer):
    repo = tmp_path / "checkout"
    shutil.copytree(FIXTURES / older / CATALOG[older]["root_subdir"], repo)
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "config", "core.autocrlf", "false")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", older)
    for path in list(repo.iterdir()):
        if path.name != ".git":
            shutil.rmtree(path) if path.is_dir() else path.unlink()
    shutil.copytree(FIXTURES / newer / CATALOG[newer]["root_subdir"], repo, dirs_exist_ok=True)
    _git(repo, "add", "-A")
    changes = {}
    for line in _git(repo, "diff", "--cached", "-M", "--name-status").splitlines():
        status, *paths = line.split("\t")
        changes[paths[-1]] = (status, paths[0])
    for kind in KINDS:
        old, new = _rel(older, kind), _rel(newer, kind)
        status, source = changes.get(new, ("unchanged", new))
        if old == new:
            assert status in ("M", "unchanged"), (kind, status)
        else:
            assert status.startswith("R") and source == old, (kind, status, source)


@pytest.mark.parametrize(("older", "newer"), PAIRS, ids=[f"{o}->{n}" for o, n in PAIRS])
def test_shared_code_is_kept(older, newer):
    old_run, new_run = _tree(older, "run_utils"), _tree(newer, "run_utils")
    assert _body(_function(old_run, "extract_json_from_response")) == _body(_function(new_run, "extract_json_from_response"))
    old_rubric, new_rubric = _tree(older, "rubric_utils"), _tree(newer, "rubric_utils")
    assert _string_constants(old_rubric) <= _string_constants(new_rubric), "a prompt changed"
    for judge in JUDGES:
        if _function(old_rubric, judge):
            assert _function(new_rubric, judge), judge
    # helpers and the generator only appear, move or get renamed; they never vanish
    assert set(CATALOG[older]["helpers"]) - {"run_litellm_async"} <= set(CATALOG[newer]["helpers"])
    if CATALOG[older]["generator"]:
        assert CATALOG[newer]["generator"]
