"""revert: byte-identical round trip, hunk-wise undo after other edits, clear refusal."""

from __future__ import annotations

import stat

import pytest

from support import PATCHABLE, copy_fixture, invoke, snapshot, target_files


@pytest.mark.parametrize("name", PATCHABLE)
def test_apply_then_revert_restores_every_byte(name, tmp_path):
    root = copy_fixture(name, tmp_path)
    files = target_files(name, root)
    originals = {p: p.read_bytes() for p in files}
    assert invoke("apply", root).exit_code == 0
    assert any(p.read_bytes() != originals[p] for p in files)
    result = invoke("revert", root)
    assert result.exit_code == 0, result.stderr
    assert {p: p.read_bytes() for p in files} == originals
    assert invoke("check", root).exit_code == 1
    # nothing left to revert; state keeps no record
    assert "nothing to revert" in invoke("revert", root).stdout


def test_revert_after_other_edits_undoes_only_llmfix_hunks(tmp_path):
    root = copy_fixture("drtulu-canonical", tmp_path)
    run_utils = target_files("drtulu-canonical", root)[0]
    original = run_utils.read_text(encoding="utf-8")
    assert invoke("apply", root).exit_code == 0
    edited = run_utils.read_text(encoding="utf-8") + "\n\ndef added_by_the_user():\n    return 42\n"
    edited = edited.replace('"""LLM call helpers', '"""Edited docstring. LLM call helpers', 1)
    run_utils.write_text(edited, encoding="utf-8")
    assert invoke("revert", root).exit_code == 0
    expected = original + "\n\ndef added_by_the_user():\n    return 42\n"
    expected = expected.replace('"""LLM call helpers', '"""Edited docstring. LLM call helpers', 1)
    assert run_utils.read_text(encoding="utf-8") == expected


def test_revert_refuses_when_a_hunk_was_edited_and_writes_nothing(tmp_path):
    root = copy_fixture("drtulu-canonical", tmp_path)
    run_utils, rubric = target_files("drtulu-canonical", root)
    assert invoke("apply", root).exit_code == 0
    text = run_utils.read_text(encoding="utf-8")
    run_utils.write_text(text.replace('"LITELLM_NUM_RETRIES", "10"', '"LITELLM_NUM_RETRIES", "7"'), encoding="utf-8")
    before = snapshot(root)
    result = invoke("revert", root)
    assert result.exit_code == 1  # rubric_utils reverted, run_utils left as it is
    assert "can't revert hunk @@" in result.stderr and "run_utils.py" in result.stderr
    assert "def run_litellm" in result.stderr  # the hunk names the function it sits in
    after = snapshot(root)
    relative = run_utils.relative_to(root).as_posix()
    assert after[relative] == before[relative]
    assert "ensure_litellm_connection" not in rubric.read_text(encoding="utf-8")


def test_reapply_after_revert_and_file_mode_is_kept(tmp_path):
    root = copy_fixture("upstream-mid2025", tmp_path)
    run_utils = target_files("upstream-mid2025", root)[0]
    run_utils.chmod(0o755)
    assert invoke("apply", root).exit_code == 0
    assert stat.S_IMODE(run_utils.stat().st_mode) == 0o755
    assert invoke("revert", root).exit_code == 0
    assert invoke("apply", root).exit_code == 0
    assert invoke("check", root).exit_code == 0
    assert stat.S_IMODE(run_utils.stat().st_mode) == 0o755


def test_the_record_folder_is_committable_and_says_what_it_is(tmp_path):
    root = copy_fixture("upstream-mid2025", tmp_path)
    assert invoke("apply", root).exit_code == 0
    ignored = (root / ".llmfix" / ".gitignore").read_text().splitlines()
    assert "*" not in ignored and "/pending.json" in ignored  # only the transient journal is hidden
    assert "llmfix revert" in (root / ".llmfix" / "README.md").read_text()
    assert invoke("revert", root).exit_code == 0
    assert not (root / ".llmfix").exists()  # nothing left once nothing is recorded


def test_a_pasted_copy_of_llmfix_lines_makes_the_hunk_ambiguous_and_nothing_is_reverted(tmp_path):
    """Reverting the copy instead of llmfix's own lines would leave calls to a deleted helper (NameError)."""
    import json

    root = copy_fixture("drtulu-canonical", tmp_path)
    run_utils = target_files("drtulu-canonical", root)[0]
    assert invoke("apply", root).exit_code == 0
    from llmfix.discovery import discover

    record = json.loads((discover([run_utils])[0].checkout / ".llmfix" / "state.json").read_text(encoding="utf-8"))
    (entry,) = [v for k, v in record["files"].items() if k.endswith("run_utils.py")]
    hunk = entry[-1]["hunks"][-1]  # llmfix's last hunk: its new side, context included
    block = "".join(line[1:] for line in hunk["lines"] if not line.startswith("-"))
    text = run_utils.read_text(encoding="utf-8")
    assert text.count(block) == 1
    run_utils.write_text(text + "\n" + block, encoding="utf-8")  # pasted again at the end of the file
    before = snapshot(root)
    result = invoke("revert", root)
    assert result.exit_code in (1, 2)
    assert "appear 2 times" in result.stderr and "can't tell which it wrote" in result.stderr
    relative = run_utils.relative_to(root).as_posix()
    assert snapshot(root)[relative] == before[relative]


def test_revert_after_edits_to_a_large_file(tmp_path):
    """20,000 lines, edited after apply: every hunk still found, the user's lines kept."""
    root = copy_fixture("upstream-main-split", tmp_path)
    run_utils = target_files("upstream-main-split", root)[0]
    filler = "".join(f"\n\ndef generated_{n}(x):\n    if x:\n        return x\n    return None\n" for n in range(3300))
    original = run_utils.read_text(encoding="utf-8") + filler
    run_utils.write_text(original, encoding="utf-8")
    assert invoke("apply", root).exit_code == 0
    edited = run_utils.read_text(encoding="utf-8").replace("def generated_1000(x):", "def generated_1000(x):  # edited", 1)
    run_utils.write_text(edited, encoding="utf-8")
    assert len(edited.splitlines()) > 20_000
    result = invoke("revert", root)
    assert result.exit_code == 0, result.stderr
    assert run_utils.read_text(encoding="utf-8") == original.replace("def generated_1000(x):", "def generated_1000(x):  # edited", 1)


def test_an_edited_context_line_still_reverts(tmp_path):
    """A line right next to llmfix's hunk was edited: the hunk is found with less context."""
    root = copy_fixture("drtulu-canonical", tmp_path)
    run_utils = target_files("drtulu-canonical", root)[0]
    original = run_utils.read_text(encoding="utf-8")
    assert invoke("apply", root).exit_code == 0
    patched = run_utils.read_text(encoding="utf-8")
    line_before = "from openai import AzureOpenAI"  # the context line just above llmfix's first hunk
    assert patched.index(line_before) < patched.index("def _fallback_models_from_env(") and line_before in original
    run_utils.write_text(patched.replace(line_before, line_before + "  # reviewed", 1), encoding="utf-8")
    result = invoke("revert", root)
    assert result.exit_code == 0, result.stderr
    assert run_utils.read_text(encoding="utf-8") == original.replace(line_before, line_before + "  # reviewed", 1)
