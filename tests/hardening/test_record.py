"""The record travels with the patch: small, relative, committable, readable by a clone.

And a malformed record is one clear line (exit 2), never an internal error.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from pathlib import Path

import pytest
from support import CATALOG, FIXTURES, GIT_ENV, copy_fixture, invoke, run_cli, snapshot, support_module, target_files

from llmfix import workflow

FIXTURE = "drtulu-canonical"


def git(repo: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["git", "-c", "core.autocrlf=false", *args], cwd=repo, capture_output=True, text=True, check=check, timeout=60,
        env={**os.environ, **GIT_ENV, "HOME": str(repo.parent)},
    )


def record_folder(root: Path) -> Path:
    return root / CATALOG[FIXTURE]["root_subdir"] / ".llmfix"


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in (*_strings(k), *_strings(v))]
    if isinstance(value, list):
        return [s for item in value for s in _strings(item)]
    return []


def test_the_record_is_notes_with_relative_paths(tmp_path):
    """One line: the support module's digest and, per target file, the literals the patch replaced; never code or copies."""
    root = copy_fixture(FIXTURE, tmp_path)
    files = target_files(FIXTURE, root)
    assert invoke("apply", root).exit_code == 0
    raw = (record_folder(root) / "record.json").read_text(encoding="utf-8")
    assert raw.endswith("\n") and raw.count("\n") == 1
    data = json.loads(raw)
    assert data["version"] == 1
    assert sorted(data["notes"]) == [
        "open_instruct/ground_truth_utils.py",
        "open_instruct/search_rewards/utils/rubric_utils.py",
        "open_instruct/search_rewards/utils/run_utils.py",
    ]
    assert data["support"] == hashlib.sha256(support_module(FIXTURE, root).read_bytes()).hexdigest()
    assert str(tmp_path) not in raw
    # small: literals and short digests, never copies of the files
    assert len(raw) < 4096
    assert all(len(text) <= 200 for text in _strings(data["notes"]))
    originals = [FIXTURES / FIXTURE / p.relative_to(root) for p in files]
    upstream = {line.strip() for p in originals for line in p.read_text(encoding="utf-8").splitlines() if len(line.strip()) > 20}
    assert not [line for line in upstream if line in raw]
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
    tracked = git(repo, "ls-files").stdout
    assert "rl/open-instruct/.llmfix/record.json" in tracked
    assert support_module(FIXTURE, repo).relative_to(repo).as_posix() in tracked  # committed with the patch too
    clone = tmp_path / "teammate"
    git(tmp_path, "clone", "-q", str(repo), str(clone))
    result = run_cli("revert", clone / "rl" / "open-instruct")
    assert result.returncode == 0, result.stderr
    assert {rel: (clone / rel).read_bytes() for rel in originals} == originals
    git(clone, "add", "-A")
    assert git(clone, "diff", "--cached", "--stat", "HEAD~1").stdout == ""  # back to upstream, support module and record gone too


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


def _former_record(root: Path, plans) -> None:
    """What the earlier, never released llmfix left: ``.llmfix/state.json`` with whole texts."""
    (root / ".llmfix").mkdir()
    (root / ".llmfix" / ".gitignore").write_text("*\n")
    files_v1 = {p.target.relpath: [{"original": p.original, "patched": p.patched}] for p in plans if p.changed}
    (root / ".llmfix" / "state.json").write_text(json.dumps({"version": 1, "files": files_v1}), encoding="utf-8")


@pytest.mark.parametrize("command", ["revert", "apply"])
def test_a_record_of_the_earlier_llmfix_is_refused_with_one_line_and_nothing_changes(tmp_path, command):
    """The redesign reads no ``state.json`` (its llmfix was never released): it says so and touches nothing.

    It used to revert such a record; now the one line tells the user to revert with the llmfix that wrote it.
    """
    root = copy_fixture("upstream-mid2025", tmp_path)
    from llmfix.config import CommandSettings as Options

    plans = workflow.plan_paths([root], Options())
    for plan in plans:
        plan.target.path.write_text(plan.patched, encoding="utf-8")
    _former_record(root, plans)
    before = snapshot(root)
    result = run_cli(command, root)
    assert result.returncode == 2, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    assert ".llmfix/state.json: this checkout was patched by an earlier llmfix; revert it with the llmfix that wrote it" in lines[0]
    assert snapshot(root) == before


ABOUT = "what `llmfix revert` needs to undo `llmfix apply` here; commit it with the patch"
RUN_UTILS = "open_instruct/rubrics/run_utils.py"
MALFORMED = {
    "notes-null": {"version": 1, "about": ABOUT, "support": None, "notes": None},
    "notes-a-list": {"version": 1, "about": ABOUT, "support": None, "notes": []},
    "notes-not-grouped": {"version": 1, "about": ABOUT, "support": None, "notes": {RUN_UTILS: {"retries": 5}}},
    "note-wrong-types": {"version": 1, "about": ABOUT, "support": None, "notes": {RUN_UTILS: {"retries": {"run_litellm": {"old": 5}}}}},
    "support-not-a-digest": {"version": 1, "about": ABOUT, "support": "abc", "notes": {}},
    "unknown-version": {"version": 99, "about": ABOUT, "support": None, "notes": {}},
    "version-a-string": {"version": "1", "about": ABOUT, "support": None, "notes": {}},
    "not-an-object": [1, 2, 3],
}


@pytest.mark.parametrize("case", [*MALFORMED, "deeply-nested", "not-json", "not-utf8"])
@pytest.mark.parametrize("command", ["apply", "revert"])
def test_a_malformed_record_is_one_line(tmp_path, case, command):
    root = copy_fixture("upstream-main-split", tmp_path)
    (root / ".llmfix").mkdir()
    record = root / ".llmfix" / "record.json"
    if case == "deeply-nested":
        record.write_text("[" * 100_000 + "]" * 100_000)
    elif case == "not-json":
        record.write_text("{version: 1")
    elif case == "not-utf8":
        record.write_bytes(b'{"version": 1, "support": null, "notes": {"\xff": {}}}')
    else:
        record.write_text(json.dumps(MALFORMED[case]))
    before = snapshot(root)
    result = run_cli(command, root)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "internal error" not in lines[0], result.stderr
    assert "llmfix's record is unreadable" in lines[0] and "move it away to start over" in lines[0]
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
    # and with a record not as llmfix wrote it (rewritten by hand or a merge tool: indented, keys reordered)
    assert invoke("apply", repo).exit_code == 0
    record = repo / ".llmfix" / "record.json"
    data = json.loads(record.read_text())
    record.write_text(json.dumps(dict(reversed(list(data.items()))), indent=2, sort_keys=True))
    result = invoke("revert", repo)
    assert result.exit_code == 0, result.stderr
    assert {p: p.read_bytes() for p in files} == originals


@pytest.mark.parametrize("form", ["root", "checkout", "file"])
def test_a_record_of_the_earlier_llmfix_at_the_dr_tulu_root_is_refused_through_any_path_form(tmp_path, form):
    """The earlier llmfix kept its record at the folder the user named (here the DR Tulu root): refused, nothing changes."""
    from llmfix.config import CommandSettings as Options

    root = copy_fixture(FIXTURE, tmp_path)
    files = target_files(FIXTURE, root)
    plans = workflow.plan_paths([root], Options())
    for plan in plans:
        plan.target.path.write_text(plan.patched, encoding="utf-8")
    _former_record(root, plans)
    before = snapshot(root)
    checkout = root / CATALOG[FIXTURE]["root_subdir"]
    paths = {"root": [root], "checkout": [checkout], "file": files}[form]
    result = invoke("revert", *paths)
    assert result.exit_code == 2
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "patched by an earlier llmfix" in result.stderr
    assert snapshot(root) == before


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
