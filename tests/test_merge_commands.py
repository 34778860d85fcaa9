"""``llmfix merge`` and ``llmfix install-merge-driver`` at the edges: refusals, the stopped merge, no record, cleanup."""

from __future__ import annotations

import json
import sys

from test_merge_chain import (
    KINDS,
    RECORD,
    conflict_hunks,
    fresh_apply,
    git,
    llmfix_process,
    make_history,
    result_files,
    target_path,
    unmerged_paths,
)

PAIR = ("upstream-autumn2025-defaults", "upstream-autumn2025-lazy")


def _head(repo) -> str:
    return git(repo, "rev-parse", "HEAD").stdout.strip()


def test_a_dirty_tree_is_refused_and_nothing_changes(tmp_path):
    history = make_history(tmp_path, *PAIR)
    repo = history.repo
    path = repo / target_path(PAIR[0], "run_utils")
    path.write_text(path.read_text(encoding="utf-8") + "# local\n", encoding="utf-8")
    before = _head(repo)
    done = llmfix_process("merge", "upstream", repo, cwd=repo)
    assert done.returncode == 2
    assert done.stderr.startswith("llmfix: error: ") and "uncommitted changes" in done.stderr and len(done.stderr.splitlines()) == 1
    assert _head(repo) == before and path.read_text(encoding="utf-8").endswith("# local\n")
    assert not (repo / ".git" / "MERGE_HEAD").exists()


def test_an_unknown_ref_is_refused(tmp_path):
    history = make_history(tmp_path, *PAIR)
    done = llmfix_process("merge", "no-such-branch", history.repo, cwd=history.repo)
    assert done.returncode == 2 and "no-such-branch: not a commit git knows here" in done.stderr
    outside = tmp_path / "outside"
    outside.mkdir()
    done = llmfix_process("merge", "main", outside, cwd=outside)
    assert done.returncode == 2 and "not inside a git work tree" in done.stderr


def test_the_users_attributes_are_kept_and_the_temporary_block_goes(tmp_path):
    history = make_history(tmp_path, *PAIR)
    attributes = history.repo / ".git" / "info" / "attributes"
    attributes.parent.mkdir(parents=True, exist_ok=True)
    attributes.write_text("*.bin binary\n", encoding="utf-8")
    done = llmfix_process("merge", "upstream", history.repo, cwd=history.repo)
    assert done.returncode == 0, done.stderr
    assert attributes.read_text(encoding="utf-8") == "*.bin binary\n"


def test_a_stopped_merge_then_apply_gives_upstream_patched_with_the_users_edit(tmp_path):
    history = make_history(tmp_path, *PAIR, user_edit=True)
    repo = history.repo
    done = llmfix_process("merge", "upstream", repo, cwd=repo)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "resolve them, `git add` them, run `llmfix apply" in done.stderr
    assert "your edits against upstream's" in done.stderr and "git's own merge" not in done.stderr
    conflicted = unmerged_paths(repo)
    assert conflicted and all(name in done.stderr for name in conflicted)
    # the user keeps upstream's lines: then the merge must end as a fresh apply of upstream
    for path in conflicted:
        git(repo, "checkout", "--theirs", "--", path)
        git(repo, "add", "--", path)
    applied = llmfix_process("apply", repo, cwd=repo)
    assert applied.returncode == 0, applied.stderr
    git(repo, "commit", "-q", "-a", "--no-edit")
    expected, got = fresh_apply(tmp_path, PAIR[1]), result_files(repo, PAIR[1])
    assert got == expected
    assert len(git(repo, "rev-list", "--parents", "-n", "1", "HEAD").stdout.split()) == 3


def test_without_a_committed_record_llmfix_is_taken_out_with_the_notes_of_the_base(tmp_path):
    history = make_history(tmp_path, *PAIR)
    repo = history.repo
    git(repo, "rm", "-q", "-r", "--cached", ".llmfix")
    git(repo, "commit", "-q", "-m", "no record")
    for name in (RECORD, ".llmfix/.gitignore"):
        (repo / name).unlink()
    done = llmfix_process("merge", "upstream", repo, cwd=repo)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "llmfix took its change out of " in done.stdout
    assert conflict_hunks(repo) == []
    expected, got = fresh_apply(tmp_path, PAIR[1]), result_files(repo, PAIR[1])
    assert {p: d for p, d in got.items() if not p.startswith(".llmfix")} == {p: d for p, d in expected.items() if not p.startswith(".llmfix")}


def test_install_is_idempotent_and_leaves_a_foreign_hook_alone(tmp_path):
    history = make_history(tmp_path, *PAIR)
    repo = history.repo
    hook = repo / ".git" / "hooks" / "post-merge"
    hook.parent.mkdir(parents=True, exist_ok=True)
    hook.write_text("#!/bin/sh\necho mine\n", encoding="utf-8")
    first = llmfix_process("install-merge-driver", repo, cwd=repo)
    assert first.returncode == 0, first.stderr
    assert "left alone" in first.stdout and hook.read_text(encoding="utf-8") == "#!/bin/sh\necho mine\n"
    attributes = (repo / ".gitattributes").read_text(encoding="utf-8")
    assert attributes == "**/run_utils.py merge=llmfix\n**/rubric_utils.py merge=llmfix\n**/open_instruct/ground_truth_utils.py merge=llmfix\n"
    config = git(repo, "config", "--get", "merge.llmfix.driver").stdout
    assert "llmfix merge-file %O %A %B %L %P" in config and sys.executable not in config
    second = llmfix_process("install-merge-driver", repo, cwd=repo)
    assert second.returncode == 0 and "already set up" in second.stdout
    assert (repo / ".gitattributes").read_text(encoding="utf-8") == attributes


def test_a_teammate_without_the_driver_config_merges_as_git_would(tmp_path):
    """The committed .gitattributes alone (no driver in the config) leaves git's own merge in charge."""
    history = make_history(tmp_path, *PAIR)
    repo = history.repo
    (repo / ".gitattributes").write_text("**/run_utils.py merge=llmfix\n**/rubric_utils.py merge=llmfix\n", encoding="utf-8")
    git(repo, "add", ".gitattributes")
    git(repo, "commit", "-q", "-m", "attributes")
    done = git(repo, "merge", "--no-edit", "upstream", check=False)
    assert done.returncode == 1 and conflict_hunks(repo)


def test_the_driver_leaves_the_record_true_of_the_work_tree_on_conflicts(tmp_path):
    history = make_history(tmp_path, *PAIR, user_edit=True)
    repo = history.repo
    assert llmfix_process("install-merge-driver", repo, cwd=repo).returncode == 0
    git(repo, "add", ".gitattributes")
    git(repo, "commit", "-q", "-m", "driver")
    done = git(repo, "merge", "--no-edit", "upstream", check=False)
    assert done.returncode == 1
    known = json.loads((repo / RECORD).read_text(encoding="utf-8")) if (repo / RECORD).exists() else {"notes": {}}
    for path in unmerged_paths(repo):
        assert path not in known["notes"], "a conflicted file holds none of llmfix's lines: no note may claim it"
    for kind in KINDS:
        path = target_path(PAIR[1], kind)
        git(repo, "checkout", "--theirs", "--", path)
        git(repo, "add", "--", path)
    assert llmfix_process("apply", repo, cwd=repo).returncode == 0
    git(repo, "commit", "-q", "-a", "--no-edit")
    assert result_files(repo, PAIR[1]) == fresh_apply(tmp_path, PAIR[1])
    reverted = llmfix_process("revert", repo, cwd=repo)
    assert reverted.returncode == 0, reverted.stderr
