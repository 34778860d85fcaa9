"""llmfix diff --markdown: behaviour changes first, one section per transform, its diff folded, counts that add up."""

from __future__ import annotations

import os
import re
import subprocess
from collections import Counter

import pytest
from support import CATALOG, GIT_ENV, PATCHABLE, copy_fixture, invoke, support_module, target_files

from llmfix.codemods import TRANSFORM_NAMES
from llmfix.config import CommandSettings as Options  # planning.Options became config.CommandSettings
from llmfix.diffing import unified_diff
from llmfix.workflow import plan_paths

ROW = re.compile(r"^\| `([^`]+)` \| \+(\d+) -(\d+) \|$", re.M)
NEW_ROW = re.compile(r"^\| `([^`]+)` \| new, (\d+) lines: llmfix's support module", re.M)
RECORD_ROW = re.compile(r"^\| `([^`]+)` \| what `llmfix revert` needs", re.M)
BEHAVIOUR = "### What changes, per function"


def git(root, *args: str) -> str:
    env = {**os.environ, **GIT_ENV, "HOME": str(root.parent)}
    return subprocess.run(["git", "-c", "core.autocrlf=false", *args], cwd=root, capture_output=True, text=True, check=True, timeout=60, env=env).stdout


@pytest.mark.parametrize("name", PATCHABLE)
def test_the_files_table_counts_what_apply_writes(name, tmp_path):
    """The PR description shows no diff (the files tab does): its table's counts are git's for what apply writes."""
    root = copy_fixture(name, tmp_path)
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "upstream")
    plans = plan_paths([root], Options())
    result = invoke("diff", root, "--markdown")
    assert result.exit_code == 0, result.stderr
    text = result.stdout_bytes.decode("utf-8")
    changed = [p for p in plans if p.changed]
    rows, new = ROW.findall(text), NEW_ROW.findall(text)
    assert [r[0] for r in rows] == [p.target.relpath for p in changed if p.exists]  # every changed file once, in order
    assert [n[0] for n in new] == [p.target.relpath for p in changed if not p.exists]  # the support module apply creates
    assert len(new) == 1 and RECORD_ROW.search(text)
    applied = invoke("apply", root)
    assert applied.exit_code == 0, applied.stderr
    assert {p.target.path: p.target.path.read_bytes() for p in plans} == {p.target.path: p.patched.encode("utf-8") for p in plans}
    numstat = {}
    for line in git(root, "diff", "--numstat").splitlines():
        added, removed, path = line.split("\t")
        numstat[root / path] = (added, removed)
    by_relpath = {p.target.relpath: p for p in changed}
    assert {by_relpath[path].target.path: (added, removed) for path, added, removed in rows} == numstat
    for path, lines in new:
        assert len(by_relpath[path].target.path.read_bytes().splitlines()) == int(lines)
    (record,) = RECORD_ROW.findall(text)
    assert (root / record).is_file()


@pytest.mark.parametrize("name", PATCHABLE)
def test_no_section_shows_an_upstream_line_removed_that_apply_keeps(name, tmp_path):
    """Each transform's folded diff shows what it changes; an upstream line the end result keeps is not one."""
    root = copy_fixture(name, tmp_path)
    shown = []
    for plan in plan_paths([root], Options()):
        original, final = Counter(plan.original.splitlines()), Counter(plan.patched.splitlines())
        for transform, before, after in plan.step_texts():
            diff = unified_diff(plan.target.relpath, before, after)
            removed = [line[1:] for line in diff.splitlines() if line.startswith("-") and not line.startswith("---")]
            kept = [line for line in removed if line.strip() and original[line] and final[line] >= original[line]]
            shown += [f"{plan.target.relpath} {transform}: -{line}" for line in kept]
    assert not shown, "\n".join(shown[:5])


@pytest.mark.parametrize("name", PATCHABLE)
def test_behaviour_changes_come_first_and_name_every_change(name, tmp_path):
    root = copy_fixture(name, tmp_path)
    plans = plan_paths([root], Options())
    text = invoke("diff", root, "--markdown").stdout
    changes = [(p.target.path.name, c) for p in plans for o in p.outcomes.values() for c in o.changes]
    assert changes, "every patchable fixture changes some behaviour"
    headings = re.findall(r"^### .*$", text, re.M)
    assert headings[0] == BEHAVIOUR
    section = text.split(BEHAVIOUR, 1)[1].split("\n### ", 1)[0]
    bullets = [line for line in section.splitlines() if line.startswith("- ")]
    per_function: dict[str, list[str]] = {}  # one bullet per function, its changes in file then transform order
    for file, change in changes:
        function, what_changes = change.text.split(":", 1)
        per_function.setdefault(f"- `{function}` ({file}): ", []).append(what_changes.strip())
    assert bullets == [head + "; ".join(texts) for head, texts in per_function.items()]
    restored = {variable for _, change in changes for variable, _ in change.restore}
    exported = re.search(r"^export (.*)$", text, re.M)
    if restored:
        assert exported is not None and "### The old behaviour" in text
        assert {assignment.split("=", 1)[0] for assignment in exported.group(1).split()} == restored
    else:
        assert exported is None


def test_tests_pinning_an_old_default_are_named(tmp_path):
    """upstream main's own test asserts the num_retries default the patch changes."""
    root = copy_fixture("upstream-main-split", tmp_path)
    text = invoke("diff", root, "--markdown").stdout
    section = text.split("### Test plan", 1)[1]
    pinned = re.findall(r"^  - `([^`:]+)::(\w+(?:::\w+)?)` \(line (\d+)\): `(\w+) == (.+)`$", section, re.M)
    assert pinned, section
    (test_file,) = CATALOG["upstream-main-split"]["upstream_tests"]
    for path, _, line, key, value in pinned:
        assert path == test_file
        pinned_line = (root / path).read_text(encoding="utf-8").splitlines()[int(line) - 1]
        assert key in pinned_line and value in pinned_line


def test_fixes_already_in_place_are_listed(tmp_path):
    root = copy_fixture("upstream-autumn2025-defaults", tmp_path)
    assert invoke("apply", root, "--only", "timeout").exit_code == 0
    text = invoke("diff", root, "--markdown").stdout
    assert re.search(r"^Already in place, unchanged: (.*, )?run_utils\.py timeout(, .*)?\.$", text, re.M), text
    changes = text.split(BEHAVIOUR, 1)[1].split("\n### ", 1)[0]
    assert "times out" not in changes and "retries by default" in changes  # only what is still to change


def test_nothing_to_change(tmp_path):
    root = copy_fixture("drtulu-canonical", tmp_path)
    assert invoke("apply", root).exit_code == 0
    text = invoke("diff", root, "--markdown").stdout
    assert "Nothing to change: every selected fix is already in place" in text and "<details>" not in text
    assert BEHAVIOUR not in text and "| file | change |" not in text


def test_output_folder_and_stat_unchanged(tmp_path):
    root = copy_fixture("upstream-mid2025", tmp_path)
    out = tmp_path / "out"
    result = invoke("diff", root, "--markdown", "--output", out)
    assert result.exit_code == 0
    assert (out / "upstream-mid2025.md").read_text(encoding="utf-8") == invoke("diff", root, "--markdown").stdout
    stat = invoke("diff", root, "--stat")
    assert stat.exit_code == 0 and "insertion(s)(+)" in stat.stdout
    both = invoke("diff", root, "--stat", "--markdown")
    assert both.exit_code == 2 and len(both.stderr.strip().splitlines()) == 1


def test_stat_lists_only_the_changed_files(tmp_path):
    """upstream June 2025 has no rubric generator: its rubric_utils.py is checked and left alone."""
    name = "upstream-jun2025"
    root = copy_fixture(name, tmp_path)
    stat = invoke("diff", root, "--stat")
    assert stat.exit_code == 0, stat.stderr
    files = [line.split(" | ")[0].strip() for line in stat.stdout.splitlines() if " | " in line]
    assert files == [CATALOG[name]["files"]["run_utils"], support_module(name, root).relative_to(root).as_posix()]  # and the new support module
    assert stat.stdout.rstrip().splitlines()[-1].startswith(" 2 file(s) changed")
    per_transform = [line.split()[0] for line in stat.stdout.splitlines() if line.startswith("     ")]
    plans = plan_paths([root], Options())
    assert per_transform == [n for n in TRANSFORM_NAMES if any(n in p.steps for p in plans)]


def test_markdown_writes_nothing(tmp_path):
    root = copy_fixture("drtulu-bare-except", tmp_path)
    before = {p: p.read_bytes() for p in target_files("drtulu-bare-except", root)}
    assert invoke("diff", root, "--markdown").exit_code == 0
    assert {p: p.read_bytes() for p in before} == before
