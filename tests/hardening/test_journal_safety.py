"""The journal and the record are input, not truth.

A crafted ``.llmfix/pending.json`` or ``record.json`` (committed in a repo, left
in a clone) must never make llmfix create, replace or delete a file outside the
checkout's target files (and the support module and record llmfix writes), and a
``.llmfix`` that is not a plain folder of plain files is refused. Each case: one line on stderr, exit 2, nothing touched
(inside the checkout or outside it).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from support import copy_fixture, run_cli, snapshot, target_files

FIXTURE = "upstream-main-split"  # checkout root == fixture root


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def world(tmp_path):
    root = copy_fixture(FIXTURE, tmp_path / "repo")
    outside = tmp_path / "site-packages"
    outside.mkdir()
    (outside / "victim.py").write_text("important = True\n", encoding="utf-8")
    return root, outside


def everything(root: Path, outside: Path) -> dict[str, bytes]:
    return {**{f"repo/{k}": v for k, v in snapshot(root).items()}, **{f"out/{k}": v for k, v in snapshot(outside).items()}}


def assert_refused(result, before, root, outside, words: str) -> None:
    assert result.returncode == 2, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr
    assert words in lines[0], lines[0]
    assert everything(root, outside) == before


def write_journal(root: Path, data: dict) -> None:
    folder = root / ".llmfix"
    folder.mkdir(exist_ok=True)
    (folder / "pending.json").write_text(json.dumps(data), encoding="utf-8")


@pytest.mark.parametrize("command", ["apply", "revert"])
def test_an_old_style_journal_naming_a_file_outside_is_refused(world, command):
    """The .pth attack: the journal names site-packages, a planted temp file holds the payload (a version llmfix never wrote)."""
    root, outside = world
    payload = b"import os; os.system('touch PWNED')\n"
    evil = outside / "evil.pth"
    (outside / ".evil.pth.llmfix-tmp").write_bytes(payload)
    write_journal(root, {"version": 1, "writes": [{"path": str(evil), "temp": str(outside / ".evil.pth.llmfix-tmp"), "old": None, "new": sha(payload)}]})
    before = everything(root, outside)
    assert_refused(run_cli(command, root), before, root, outside, "unknown journal version 1")
    assert not evil.exists()


@pytest.mark.parametrize(
    "path",
    ["../site-packages/victim.py", "/etc/hostname", "open_instruct/../../site-packages/victim.py", "setup.py", "open_instruct/rubrics/__init__.py"],
)
def test_a_journal_naming_anything_but_a_target_is_refused(world, path):
    root, outside = world
    victim = outside / "victim.py"
    run = "0123456789ab"
    write_journal(root, {"version": 2, "command": "apply", "run": run, "writes": [{"path": path, "old": sha(victim.read_bytes()), "new": None}]})
    before = everything(root, outside)
    assert_refused(run_cli("apply", root), before, root, outside, "not a file llmfix writes")
    assert victim.read_text() == "important = True\n"


def test_a_journal_with_a_crafted_run_id_is_refused(world):
    root, outside = world
    target = target_files(FIXTURE, root)[0]
    write_journal(
        root, {"version": 2, "command": "apply", "run": "../../x", "writes": [{"path": target.relative_to(root).as_posix(), "old": None, "new": None}]}
    )
    before = everything(root, outside)
    assert_refused(run_cli("apply", root), before, root, outside, "bad run id")


def test_a_valid_journal_only_ever_deletes_its_own_temp_names(world):
    """A journal about the real targets whose temp files are not there changes nothing but itself."""
    root, _ = world
    target = target_files(FIXTURE, root)[0]
    data = target.read_bytes()
    write_journal(
        root,
        {"version": 2, "command": "apply", "run": "00112233", "writes": [{"path": target.relative_to(root).as_posix(), "old": sha(data), "new": sha(b"x")}]},
    )
    result = run_cli("apply", root, "--dry-run")
    assert result.returncode == 0
    result = run_cli("check", root)
    assert result.returncode == 1
    applied = run_cli("apply", root)
    assert applied.returncode == 0, applied.stderr
    assert not (root / ".llmfix" / "pending.json").exists()


@pytest.mark.parametrize("shape", ["file", "symlink-out", "symlinked-gitignore", "symlinked-record", "symlinked-journal"])
def test_a_record_folder_that_is_not_a_plain_folder_is_refused(world, shape):
    root, outside = world
    folder = root / ".llmfix"
    if shape == "file":
        folder.write_text("not a folder\n")
    elif shape == "symlink-out":
        folder.symlink_to(outside, target_is_directory=True)
    else:
        folder.mkdir()
        name = {"symlinked-gitignore": ".gitignore", "symlinked-record": "record.json", "symlinked-journal": "pending.json"}[shape]
        (folder / name).symlink_to(outside / "victim.py")
    before = everything(root, outside)
    for command in ("apply", "revert"):
        result = run_cli(command, root)
        assert_refused(result, before, root, outside, "move it away")


@pytest.mark.parametrize("name", ["/etc/x.py", "../site-packages/victim.py", "open_instruct/../../x.py", "", "a\\b.py"])
def test_a_record_naming_a_path_outside_is_unreadable(world, name):
    root, outside = world
    (root / ".llmfix").mkdir()
    record = {"version": 1, "about": "what `llmfix revert` needs", "support": None, "notes": {name: {"retries": {"run_litellm": [5, "2f752755"]}}}}
    (root / ".llmfix" / "record.json").write_text(json.dumps(record), encoding="utf-8")
    before = everything(root, outside)
    for command in ("apply", "revert"):
        assert_refused(run_cli(command, root), before, root, outside, "llmfix's record is unreadable")


def test_no_absolute_path_is_written_anywhere(world):
    root, _ = world
    assert run_cli("apply", root).returncode == 0
    for path in (root / ".llmfix").iterdir():
        assert str(root.parent) not in path.read_text(encoding="utf-8"), path.name


@pytest.mark.parametrize("command", ["apply", "revert"])
@pytest.mark.parametrize(
    "entry",
    [
        pytest.param({"old": "current", "new": None}, id="delete-the-target"),
        pytest.param({"old": None, "new": "current"}, id="undo-a-creation-of-the-target"),
        pytest.param({"old": None, "new": None}, id="neither"),
    ],
)
def test_a_journal_asking_to_delete_a_target_is_refused(world, command, entry):
    """llmfix never creates nor deletes a target file, so a journal saying it did is not llmfix's."""
    root, outside = world
    target = target_files(FIXTURE, root)[0]
    current = sha(target.read_bytes())
    writes = [{"path": target.relative_to(root).as_posix(), **{k: current if v == "current" else v for k, v in entry.items()}}]
    write_journal(root, {"version": 2, "command": "apply", "run": "00112233", "writes": writes})
    before = everything(root, outside)
    line = assert_refused_any(run_cli(command, root), before, root, outside)
    assert "never" in line and target.name in line, line
    assert target.exists()


def test_an_old_style_journal_undoing_a_target_creation_is_refused(world):
    root, outside = world
    target = target_files(FIXTURE, root)[0]
    temp = target.with_name(f".{target.name}.llmfix-tmp")
    temp.write_bytes(b"planted\n")
    write_journal(root, {"version": 1, "writes": [{"path": str(target), "temp": str(temp), "old": None, "new": sha(target.read_bytes())}]})
    before = everything(root, outside)
    line = assert_refused_any(run_cli("revert", root), before, root, outside)
    assert "unknown journal version 1" in line, line
    assert target.exists()


def journal_record_removal(root, old: bytes) -> None:
    """The journal a revert killed mid-group leaves when it was removing a record whose bytes were ``old``."""
    write_journal(root, {"version": 2, "command": "revert", "run": "00112233", "writes": [{"path": ".llmfix/record.json", "old": sha(old), "new": None}]})


def test_the_record_removal_llmfix_journals_is_still_finished(world):
    """A revert that emptied the record journals its removal; after a kill that removal is finished."""
    root, _ = world
    assert run_cli("apply", root).returncode == 0
    record = root / ".llmfix" / "record.json"
    journal_record_removal(root, record.read_bytes())
    result = run_cli("apply", root, "--dry-run")
    assert result.returncode == 0
    assert record.exists()  # a dry run finishes nothing
    result = run_cli("apply", root)
    assert result.returncode == 0, result.stderr
    assert not (root / ".llmfix" / "pending.json").exists()
    assert not record.exists()  # the journalled removal was finished (and the already patched files need no new record)


def test_a_record_removal_over_a_changed_record_deletes_nothing(world):
    root, _ = world
    assert run_cli("apply", root).returncode == 0
    record = root / ".llmfix" / "record.json"
    journal_record_removal(root, b"something else")
    kept = record.read_bytes()
    assert run_cli("apply", root).returncode == 0
    assert record.read_bytes() == kept


def assert_refused_any(result, before, root, outside) -> str:
    assert result.returncode == 2, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr
    assert everything(root, outside) == before
    return lines[0]


def test_a_group_write_never_overwrites_a_pending_journal(world):
    """The merge driver writes its group without apply's recovery: a killed run's journal stays for recovery to finish."""
    from llmfix import merging, record
    from llmfix.errors import WriteFailed

    root, outside = world
    assert run_cli("apply", root).returncode == 0
    path = root / ".llmfix" / "record.json"
    journal_record_removal(root, path.read_bytes())
    before = everything(root, outside)
    known = record.load(root)
    known.forget(next(iter(known.notes)))
    with pytest.raises(WriteFailed, match="interrupted llmfix write is pending"):
        merging.save(root, known)
    assert everything(root, outside) == before  # the journal and every file as they were
    assert run_cli("apply", root).returncode == 0  # recovery still finishes it
    assert not (root / ".llmfix" / "pending.json").exists()
