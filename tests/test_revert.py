"""revert: structural, byte-exact, and honest about what it can't undo.

(The byte-exact round trip of every fixture is in test_apply_fixtures.py.) Here: the
user's own edits survive a revert; a default llmfix's record does not know is reported,
never guessed; an edited support module is kept; the record folder is meant to be
committed and says what it is.
"""

from __future__ import annotations

import json
import shutil
import stat

import pytest
from support import RECORD, checkout_root, copy_fixture, invoke, snapshot, support_module, target_file

NAME = "drtulu-canonical"


@pytest.fixture
def patched(checkouts, tmp_path):
    """A private copy of the shared patched checkout, and the pristine files."""
    root = tmp_path / NAME
    shutil.copytree(checkouts.patched(NAME).copy, root, symlinks=True)
    return root, snapshot(checkouts.pristine(NAME))


def relative(root, path) -> str:
    return path.relative_to(root).as_posix()


def test_the_users_own_edits_survive_a_revert(patched):
    root, pristine = patched
    run_utils = target_file(NAME, root, "run_utils")
    line_before = "from openai import AzureOpenAI"  # the line right above the support import
    text = run_utils.read_text(encoding="utf-8")
    assert f"{line_before}\n\nfrom open_instruct import logger_utils\nfrom open_instruct.search_rewards.utils import litellm_utils\n" in text
    edit = {line_before: line_before + "  # reviewed", '"""Helpers for calling': '"""Edited docstring. Helpers for calling'}
    for old, new in edit.items():
        text = text.replace(old, new, 1)
    run_utils.write_text(text + "\n\ndef added_by_the_user():\n    return 42\n", encoding="utf-8")
    result = invoke("revert", root)
    assert result.exit_code == 0, result.stderr
    expected = pristine[relative(root, run_utils)].decode("utf-8")
    for old, new in edit.items():
        assert old in expected
        expected = expected.replace(old, new, 1)
    assert run_utils.read_text(encoding="utf-8") == expected + "\n\ndef added_by_the_user():\n    return 42\n"
    assert not support_module(NAME, root).exists() and not (checkout_root(NAME, root) / ".llmfix").exists()


def test_a_default_the_record_does_not_know_is_reported_not_guessed(patched):
    root, _ = patched
    (checkout_root(NAME, root) / RECORD).unlink()  # e.g. a clone where .llmfix/ was never committed
    run_utils = target_file(NAME, root, "run_utils")
    before = run_utils.read_bytes()
    result = invoke("revert", root)
    assert result.exit_code == 1  # some files reverted, run_utils.py left as it is
    assert "run_utils.py: can't revert: run_litellm(): llmfix's record does not say what the num_retries default was before" in result.stderr
    assert "left as they are" in result.stdout
    assert run_utils.read_bytes() == before
    assert support_module(NAME, root).exists()  # run_utils.py still calls it


def test_without_the_record_every_file_said_reverted_is_upstreams(patched):
    """The `resp = None` llmfix binds before the generator's try is llmfix's only by the record: without it, revert says so."""
    root, pristine = patched
    (checkout_root(NAME, root) / RECORD).unlink()
    result = invoke("revert", root)
    assert "rubric_utils.py: can't revert: generate_instance_wise_adaptive_rubrics(): llmfix's record does not say whether `resp = None`" in result.stderr
    reverted = [line.split(": reverted")[0] for line in result.stdout.splitlines() if line.endswith(": reverted")]
    assert reverted
    after = snapshot(root)
    assert {path: after[path] for path in reverted} == {path: pristine[path] for path in reverted}


def test_revert_then_apply_again_and_the_file_mode_is_kept(tmp_path):
    name = "upstream-mid2025"
    root = copy_fixture(name, tmp_path)
    run_utils = target_file(name, root, "run_utils")
    run_utils.chmod(0o755)
    assert invoke("apply", root).exit_code == 0
    patched = snapshot(root)
    assert stat.S_IMODE(run_utils.stat().st_mode) == 0o755
    assert invoke("revert", root).exit_code == 0
    assert "nothing to revert" in invoke("revert", root).stdout
    assert invoke("apply", root).exit_code == 0
    assert snapshot(root) == patched and invoke("check", root).exit_code == 0
    assert stat.S_IMODE(run_utils.stat().st_mode) == 0o755


def test_an_edited_support_module_is_kept(patched):
    root, pristine = patched
    module = support_module(NAME, root)
    module.write_text(module.read_text(encoding="utf-8") + "# mine\n", encoding="utf-8")
    edited = module.read_bytes()
    assert "edited since llmfix wrote it" in invoke("check", root).stdout
    result = invoke("revert", root)
    assert result.exit_code == 0, result.stderr
    assert module.read_bytes() == edited
    assert {p: d for p, d in snapshot(root).items() if p != relative(root, module)} == pristine


def test_revert_says_it_keeps_an_edited_support_module(patched):
    root, _ = patched
    module = support_module(NAME, root)
    module.write_text(module.read_text(encoding="utf-8") + "# mine\n", encoding="utf-8")
    result = invoke("revert", root)
    assert "litellm_utils.py" in result.stdout + result.stderr and "kept" in result.stdout + result.stderr


def test_the_record_folder_is_committed_with_the_patch_and_says_what_it_is(patched):
    root, _ = patched
    folder = checkout_root(NAME, root) / ".llmfix"
    assert sorted(p.name for p in folder.iterdir()) == [".gitignore", "record.json"]
    ignored = [line for line in (folder / ".gitignore").read_text(encoding="utf-8").splitlines() if line and not line.startswith("#")]
    assert "*" not in ignored and not any("record" in line for line in ignored)  # only llmfix's transient files
    about = json.loads((folder / "record.json").read_text(encoding="utf-8"))["about"]
    assert "llmfix revert" in about and "commit" in about
