"""llmfix diff --markdown: behaviour changes first, one section per transform, its diff folded, counts that add up."""

from __future__ import annotations

import re
import subprocess
from collections import Counter

import pytest

from llmfix.codemods import TRANSFORM_NAMES, registry
from llmfix.diffing import per_transform_counts, unified_diff
from llmfix.markdown import fence_for, what, why
from llmfix.config import CommandSettings as Options  # planning.Options became config.CommandSettings
from llmfix.workflow import plan_paths
from support import CATALOG, PATCHABLE, copy_fixture, invoke, target_files

DIFF_BLOCK = re.compile(r"<details>\n<summary>(\w+) diff \(\+(\d+) -(\d+)\)</summary>\n\n(`{3,})diff\n(.*?)\n\4\n\n</details>", re.S)
BEHAVIOUR = "### Behaviour changes to review"


@pytest.mark.parametrize("name", PATCHABLE)
def test_sections_counts_and_diffs_reproduce_apply(name, tmp_path):
    root = copy_fixture(name, tmp_path)
    plans = plan_paths([root], Options())
    result = invoke("diff", root, "--markdown")
    assert result.exit_code == 0, result.stderr
    text = result.stdout_bytes.decode("utf-8")  # CRLF lines keep their \r (Result.stdout drops it)
    blocks = DIFF_BLOCK.findall(text)
    changed = [n for n in TRANSFORM_NAMES if any(n in p.steps for p in plans)]
    assert [b[0] for b in blocks] == changed  # one section per transform that changes something, in order
    for transform_name, added, removed, _, _ in blocks:
        counts = [c for p in plans for c in per_transform_counts(p) if c.name == transform_name]
        assert (int(added), int(removed)) == (sum(c.added for c in counts), sum(c.removed for c in counts))
        transform = registry.get(transform_name)
        section = text.split(f"### {transform_name}\n", 1)[1]
        assert f"**What:** {what(transform)}" in section
        assert why(transform) and f"**Why:** {why(transform)}" in section
        assert f"| [{transform_name}](#{transform_name}) | {transform.SUMMARY.replace('|', chr(92) + '|')} |" in text
    # the folded diffs, applied in order with git, give exactly what apply writes
    for index, (transform_name, _, _, _, body) in enumerate(blocks):
        patch = tmp_path / f"{index}-{transform_name}.diff"
        patch.write_text(body + "\n", encoding="utf-8", newline="")
        done = subprocess.run(["git", "apply", "--whitespace=nowarn", str(patch)], cwd=root, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
    assert {p.target.path: p.target.path.read_bytes() for p in plans} == {p.target.path: p.patched.encode("utf-8") for p in plans}


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
    changes = [(p.target.relpath, n, c) for p in plans for n, o in p.outcomes.items() for c in o.changes]
    assert changes, "every patchable fixture changes some behaviour"
    headings = re.findall(r"^### .*$", text, re.M)
    assert headings[0] == BEHAVIOUR
    section = text.split(BEHAVIOUR, 1)[1].split("\n| transform |", 1)[0]
    bullets = [line for line in section.splitlines() if line.startswith("- ")]
    assert bullets[: len(changes)] == [f"- `{path}` ({transform}): {change.text}" for path, transform, change in changes]
    restored = {variable for _, _, change in changes for variable, _ in change.restore}
    exported = re.search(r"^export (.*)$", section, re.M)
    if restored:
        assert exported is not None
        assert {assignment.split("=", 1)[0] for assignment in exported.group(1).split()} == restored
    else:
        assert exported is None


def test_tests_pinning_an_old_default_are_named(tmp_path):
    """upstream main's own test asserts the num_retries default the patch changes."""
    root = copy_fixture("upstream-main-split", tmp_path)
    text = invoke("diff", root, "--markdown").stdout
    section = text.split(BEHAVIOUR, 1)[1].split("\n| transform |", 1)[0]
    pinned = re.findall(r"^- `([^`:]+)::(\w+(?:::\w+)?)` \(line (\d+)\): `(\w+) == (.+)`$", section, re.M)
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
    assert "### Already in place" in text
    assert re.search(r"^- `[^`]*run_utils\.py` timeout: .*run_litellm\(\) reads LITELLM_DEFAULT_TIMEOUT", text, re.M)
    assert "### timeout" not in text and "### retries" in text


def test_nothing_to_change(tmp_path):
    root = copy_fixture("drtulu-canonical", tmp_path)
    assert invoke("apply", root).exit_code == 0
    text = invoke("diff", root, "--markdown").stdout
    assert "Nothing to change" in text and "<details>" not in text
    assert BEHAVIOUR not in text
    assert "### Already in place" in text


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
    assert files == [CATALOG[name]["files"]["run_utils"]]
    assert stat.stdout.rstrip().splitlines()[-1].startswith(" 1 file(s) changed")
    per_transform = [line.split()[0] for line in stat.stdout.splitlines() if line.startswith("     ")]
    plans = plan_paths([root], Options())
    assert per_transform == [n for n in TRANSFORM_NAMES if any(n in p.steps for p in plans)]


def test_a_diff_holding_backticks_gets_a_longer_fence():
    assert fence_for("plain") == "```"
    assert fence_for('x = "```json"') == "````"
    assert fence_for("a ````` b") == "``````"


def test_markdown_writes_nothing(tmp_path):
    root = copy_fixture("drtulu-bare-except", tmp_path)
    before = {p: p.read_bytes() for p in target_files("drtulu-bare-except", root)}
    assert invoke("diff", root, "--markdown").exit_code == 0
    assert {p: p.read_bytes() for p in before} == before
