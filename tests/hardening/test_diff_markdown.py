"""llmfix diff --markdown: one section per transform, its diff folded, counts that add up."""

from __future__ import annotations

import re
import subprocess

import pytest

from llmfix.codemods import TRANSFORMS
from llmfix.diffing import per_transform_counts
from llmfix.markdown import fence_for, what, why
from llmfix.planning import Options
from llmfix.workflow import plan_paths
from support import PATCHABLE, copy_fixture, invoke, target_files

DIFF_BLOCK = re.compile(r"<details>\n<summary>(\w+) diff \(\+(\d+) -(\d+)\)</summary>\n\n(`{3,})diff\n(.*?)\n\4\n\n</details>", re.S)


@pytest.mark.parametrize("name", PATCHABLE)
def test_sections_counts_and_diffs_reproduce_apply(name, tmp_path):
    root = copy_fixture(name, tmp_path)
    plans = plan_paths([root], Options())
    result = invoke("diff", root, "--markdown")
    assert result.exit_code == 0, result.stderr
    text = result.stdout_bytes.decode("utf-8")  # CRLF lines keep their \r (Result.stdout drops it)
    blocks = DIFF_BLOCK.findall(text)
    changed = [t.NAME for t in TRANSFORMS if any(n == t.NAME for p in plans for n, _ in p.steps)]
    assert [b[0] for b in blocks] == changed  # one section per transform that changes something, in order
    for transform_name, added, removed, _, _ in blocks:
        counts = [c for p in plans for c in per_transform_counts(p) if c.name == transform_name]
        assert (int(added), int(removed)) == (sum(c.added for c in counts), sum(c.removed for c in counts))
        transform = next(t for t in TRANSFORMS if t.NAME == transform_name)
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


def test_fixes_already_in_place_are_listed(tmp_path):
    root = copy_fixture("upstream-autumn2025-defaults", tmp_path)
    text = invoke("diff", root, "--markdown").stdout
    assert "### Already in place" in text
    assert "timeout: run_litellm() reads LITELLM_DEFAULT_TIMEOUT" in text
    assert "### timeout" not in text


def test_nothing_to_change(tmp_path):
    root = copy_fixture("drtulu-canonical", tmp_path)
    assert invoke("apply", root).exit_code == 0
    text = invoke("diff", root, "--markdown").stdout
    assert "Nothing to change" in text and "<details>" not in text
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


def test_a_diff_holding_backticks_gets_a_longer_fence():
    assert fence_for("plain") == "```"
    assert fence_for('x = "```json"') == "````"
    assert fence_for("a ````` b") == "``````"


def test_markdown_writes_nothing(tmp_path):
    root = copy_fixture("drtulu-bare-except", tmp_path)
    before = {p: p.read_bytes() for p in target_files("drtulu-bare-except", root)}
    assert invoke("diff", root, "--markdown").exit_code == 0
    assert {p: p.read_bytes() for p in before} == before
