"""The record travels with the patch: small, relative, committable, readable by a clone.

And a malformed record is one clear line (exit 2), never an internal error.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from llmfix import workflow
from support import CATALOG, FIXTURES, copy_fixture, invoke, run_cli, snapshot, target_files

GIT_ENV = {"GIT_CONFIG_NOSYSTEM": "1", "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.invalid"}
FIXTURE = "drtulu-canonical"


def git(repo: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["git", "-c", "core.autocrlf=false", *args], cwd=repo, capture_output=True, text=True, check=check, timeout=60,
        env={**os.environ, **GIT_ENV, "HOME": str(repo.parent)},
    )


def record_folder(root: Path) -> Path:
    return root / CATALOG[FIXTURE]["root_subdir"] / ".llmfix"


def test_the_record_is_hashes_and_hunks_with_relative_paths(tmp_path):
    root = copy_fixture(FIXTURE, tmp_path)
    files = target_files(FIXTURE, root)
    assert invoke("apply", root).exit_code == 0
    raw = (record_folder(root) / "state.json").read_text(encoding="utf-8")
    data = json.loads(raw)
    assert data["version"] == 2
    assert sorted(data["files"]) == [
        "open_instruct/search_rewards/utils/rubric_utils.py",
        "open_instruct/search_rewards/utils/run_utils.py",
    ]
    assert str(tmp_path) not in raw
    for records in data["files"].values():
        (record,) = records
        assert len(record["original"]) == 64 and len(record["patched"]) == 64
        assert all(line[0] in " -+" for hunk in record["hunks"] for line in hunk["lines"])
    # small: llmfix's hunks (its lines, three of context), never copies of the files
    hunk_bytes = sum(len(line) for records in data["files"].values() for hunk in records[0]["hunks"] for line in hunk["lines"])
    assert len(raw) < hunk_bytes * 1.3 + 4096
    originals = [FIXTURES / FIXTURE / p.relative_to(root) for p in files]
    upstream = [line for p in originals for line in p.read_text(encoding="utf-8").splitlines() if len(line.strip()) > 20]
    recorded = {line[1:].rstrip("\n") for records in data["files"].values() for hunk in records[0]["hunks"] for line in hunk["lines"]}
    hunks = [hunk for records in data["files"].values() for hunk in records[0]["hunks"]]
    removed = sum(1 for hunk in hunks for line in hunk["lines"] if line[0] == "-")
    # only context (three lines each side) and the lines llmfix replaced, not the files
    assert len([line for line in upstream if line in recorded]) <= 6 * len(hunks) + removed < len(upstream) / 2
    assert "def _format_responses" not in raw  # a function llmfix never touches


def test_a_teammates_clone_of_the_patched_repo_can_revert(tmp_path):
    repo = copy_fixture(FIXTURE, tmp_path)
    originals = {p.relative_to(repo): p.read_bytes() for p in target_files(FIXTURE, repo)}
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "upstream")
    assert invoke("apply", repo).exit_code == 0
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "llmfix apply")
    assert git(repo, "status", "--porcelain").stdout == ""
    assert "rl/open-instruct/.llmfix/state.json" in git(repo, "ls-files").stdout
    clone = tmp_path / "teammate"
    git(tmp_path, "clone", "-q", str(repo), str(clone))
    result = run_cli("revert", clone / "rl" / "open-instruct")
    assert result.returncode == 0, result.stderr
    assert {rel: (clone / rel).read_bytes() for rel in originals} == originals
    git(clone, "add", "-A")
    assert git(clone, "diff", "--cached", "--stat", "HEAD~1").stdout == ""  # back to upstream, record gone too


@pytest.mark.parametrize("form", ["root", "checkout", "file"])
def test_revert_works_through_every_path_form(tmp_path, form):
    root = copy_fixture(FIXTURE, tmp_path)
    files = target_files(FIXTURE, root)
    originals = {p: p.read_bytes() for p in files}
    assert invoke("apply", root).exit_code == 0  # applied at the DR Tulu root
    checkout = root / CATALOG[FIXTURE]["root_subdir"]
    paths = {"root": [root], "checkout": [checkout], "file": files}[form]
    result = invoke("revert", *paths)
    assert result.exit_code == 0, result.stderr
    assert "nothing to revert" not in result.stdout
    assert {p: p.read_bytes() for p in files} == originals


def test_a_record_written_by_llmfix_0_1_still_reverts(tmp_path):
    """Version 1: whole texts, at the folder the user named, paths relative to it."""
    root = copy_fixture("upstream-mid2025", tmp_path)
    files = target_files("upstream-mid2025", root)
    originals = {p: p.read_text(encoding="utf-8") for p in files}
    from llmfix.config import CommandSettings as Options

    plans = workflow.plan_paths([root], Options())
    files_v1 = {p.target.relpath: [{"original": p.original, "patched": p.patched}] for p in plans if p.changed}
    for plan in plans:
        plan.target.path.write_text(plan.patched, encoding="utf-8")
    (root / ".llmfix").mkdir()
    (root / ".llmfix" / ".gitignore").write_text("*\n")
    (root / ".llmfix" / "state.json").write_text(json.dumps({"version": 1, "files": files_v1}), encoding="utf-8")
    result = invoke("revert", root)
    assert result.exit_code == 0, result.stderr
    assert {p: p.read_text(encoding="utf-8") for p in files} == originals


MALFORMED = {
    "files-null": {"version": 2, "files": None},
    "files-a-list": {"version": 2, "files": []},
    "records-not-a-list": {"version": 2, "files": {"open_instruct/rubrics/run_utils.py": {"original": "x"}}},
    "record-wrong-types": {"version": 2, "files": {"open_instruct/rubrics/run_utils.py": [{"original": 1, "patched": None, "hunks": "no"}]}},
    "hunk-wrong-types": {"version": 2, "files": {"open_instruct/rubrics/run_utils.py": [{"original": "0" * 64, "patched": "1" * 64, "hunks": [{"old_line": "1", "new_line": 1, "lines": [3]}]}]}},
    "unknown-version": {"version": 99, "files": {}},
    "version-a-string": {"version": "2", "files": {}},
    "not-an-object": [1, 2, 3],
}


@pytest.mark.parametrize("case", [*MALFORMED, "deeply-nested", "not-json", "not-utf8"])
@pytest.mark.parametrize("command", ["apply", "revert"])
def test_a_malformed_record_is_one_line(tmp_path, case, command):
    root = copy_fixture("upstream-main-split", tmp_path)
    (root / ".llmfix").mkdir()
    state = root / ".llmfix" / "state.json"
    if case == "deeply-nested":
        state.write_text("[" * 100_000 + "]" * 100_000)
    elif case == "not-json":
        state.write_text("{version: 2")
    elif case == "not-utf8":
        state.write_bytes(b'{"version": 2, "files": {"\xff": []}}')
    else:
        state.write_text(json.dumps(MALFORMED[case]))
    before = snapshot(root)
    result = run_cli(command, root)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "internal error" not in lines[0], result.stderr
    assert "unreadable llmfix state" in lines[0] and "(move it away to start over)" in lines[0]
    assert snapshot(root) == before


def test_a_file_exactly_as_llmfix_wrote_it_always_reverts(tmp_path):
    """git checkout -- . then apply again: two records, one of them undone by git; revert still works."""
    repo = copy_fixture("upstream-main-split", tmp_path)
    files = target_files("upstream-main-split", repo)
    originals = {p: p.read_bytes() for p in files}
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "upstream")
    assert invoke("apply", repo).exit_code == 0
    git(repo, "checkout", "--", "open_instruct")
    assert invoke("apply", repo).exit_code == 0
    result = invoke("revert", repo)
    assert result.exit_code == 0, result.stderr
    assert {p: p.read_bytes() for p in files} == originals
    # and with a record that no apply since has cleaned up (written by hand, as an older llmfix left it)
    assert invoke("apply", repo).exit_code == 0
    state = repo / ".llmfix" / "state.json"
    data = json.loads(state.read_text())
    for records in data["files"].values():
        records.insert(0, dict(records[0]))  # a stale duplicate, as two racing applies left it
    state.write_text(json.dumps(data))
    result = invoke("revert", repo)
    assert result.exit_code == 0, result.stderr
    assert {p: p.read_bytes() for p in files} == originals


def test_a_record_llmfix_0_1_left_at_the_dr_tulu_root_reverts_through_any_path_form(tmp_path):
    """llmfix 0.1 kept its record at the folder the user named (here the DR Tulu root)."""
    from llmfix.config import CommandSettings as Options

    root = copy_fixture(FIXTURE, tmp_path)
    files = target_files(FIXTURE, root)
    originals = {p: p.read_bytes() for p in files}
    plans = workflow.plan_paths([root], Options())
    (root / ".llmfix").mkdir()
    (root / ".llmfix" / ".gitignore").write_text("*\n")
    v1 = {p.target.relpath: [{"original": p.original, "patched": p.patched}] for p in plans if p.changed}
    (root / ".llmfix" / "state.json").write_text(json.dumps({"version": 1, "files": v1}), encoding="utf-8")
    for plan in plans:
        plan.target.path.write_text(plan.patched, encoding="utf-8")
    result = invoke("revert", root)
    assert result.exit_code == 0, result.stderr
    assert {p: p.read_bytes() for p in files} == originals
    assert not (root / ".llmfix").exists()  # the old record is used up, its folder gone


def test_a_line_upstream_also_has_is_not_llmfixs_to_rewrap(tmp_path):
    """llmfix adds run_litellm()'s timeout line; run_litellm_async() has the same lines, wrapped its own way (tabs).

    Found by the CLI variants: ``check`` after ``apply`` took upstream's copy for llmfix's
    own line and asked to re-wrap it. A line the file holds more often than llmfix wrote it
    is not llmfix's.
    """
    regressions = Path(__file__).parent / "regressions"
    root = tmp_path / "checkout"
    for kind in ("run_utils", "rubric_utils"):
        path = root / CATALOG[FIXTURE]["files"][kind]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes((regressions / f"{FIXTURE}__checkout__tabs-shared-timeout-line.{kind}.py").read_bytes())
    assert invoke("apply", root).exit_code == 0
    patched = {p: p.read_bytes() for p in root.rglob("*.py")}
    assert invoke("check", root).exit_code == 0
    assert invoke("apply", root).exit_code == 0
    assert {p: p.read_bytes() for p in root.rglob("*.py")} == patched
