"""The benchmark runner's own machinery: what it reads from llmfix's output, how it counts,
times and reports. Speed figures and goals are never checked here (they live in bench/)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench import footprint, report, run_all  # noqa: E402  (bench/ imports only after the sys.path line above)
from bench.common import GOALS, Goal, Scratch, apply_report, old_behaviour, pinned_tests  # noqa: E402  (bench/ imports only after the sys.path line above)
from bench.generate import batch  # noqa: E402  (bench/ imports only after the sys.path line above)
from bench.speed import checkout_pairs  # noqa: E402  (bench/ imports only after the sys.path line above)


@pytest.fixture
def scratch():
    folder = Scratch()
    yield folder
    folder.cleanup()


def test_goals_compare_the_way_they_read():
    at_most, at_least = Goal("max", 1.3, "<= 1.3x"), Goal("min", 0.7, ">= 0.7x")
    assert (at_most.status(1.3), at_most.status(1.31)) == ("met", "MISSED")
    assert (at_least.status(0.7), at_least.status(0.69)) == ("met", "MISSED")
    assert at_most.status(float("nan")) == at_least.status(float("nan")) == "MISSED"
    assert {"1a", "1c", "1c-rss", "5-total", "6b"} <= set(GOALS)


def test_apply_report_gives_the_old_behaviour_and_the_pinned_tests(scratch):
    copy = scratch.copy_fixture("upstream-main-split")
    text = apply_report(copy)
    old = old_behaviour(text)
    assert "LITELLM_NUM_RETRIES" in old and old["LITELLM_NUM_RETRIES"].isdigit()
    assert any("test_wrapper_applies_existing_defaults" in line and "num_retries" in line for line in pinned_tests(text))
    assert old_behaviour("patched 2 file(s)") == {} and pinned_tests("patched 2 file(s)") == []


def test_old_behaviour_reads_quoted_values():
    assert old_behaviour("  old behaviour: LITELLM_NUM_RETRIES=5 LITELLM_FALLBACK_MODELS='' X='a,b'") == {
        "LITELLM_NUM_RETRIES": "5",
        "LITELLM_FALLBACK_MODELS": "",
        "X": "a,b",
    }


def test_old_behaviour_stops_at_the_note_on_helpers_it_cannot_restore():
    line = "  old behaviour: LITELLM_NUM_RETRIES=5 LITELLM_PRECHECK=0 (run_chatopenai() had LITELLM_NUM_RETRIES=2)"
    assert old_behaviour(line) == {"LITELLM_NUM_RETRIES": "5", "LITELLM_PRECHECK": "0"}


def test_footprint_counts_git_numstat_per_group(scratch):
    measured = footprint.measure("drtulu-canonical", scratch)
    groups, total = measured["groups"], measured["total"]
    assert groups["support"]["files"] and groups["support"]["added"] > 0, groups
    assert groups["upstream"]["added"] > 0 and len(groups["upstream"]["files"]) == 2, groups
    assert total["added"] == sum(added for added, _ in measured["files"].values())
    assert total["added"] == sum(g["added"] for g in groups.values())
    assert 0 < measured["record_bytes"] < 2048
    (row,) = footprint.rows({"drtulu-canonical": measured})
    assert f"whole +{total['added']}" in row.llmfix and row.status in ("met", "MISSED")


def test_the_batch_pairs_both_files_in_every_checkout(scratch):
    generated = batch(scratch.root / "batch", 8)
    assert len(generated["files"]) == 8
    assert checkout_pairs(scratch.root / "batch") == {"checkouts": 4, "with_both_files": 4}


def test_a_saved_run_renders_to_the_same_report(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(report, "RESULTS", tmp_path)
    assert run_all.main(["--quick", "--only", "5", "--no-profile"]) == 0
    (written,) = tmp_path.glob("*.md")
    first = written.read_text(encoding="utf-8")
    saved = json.loads(written.with_suffix(".json").read_text(encoding="utf-8"))
    assert set(saved["results"]) == {"5"} and "| 5 | drtulu-canonical" in first
    written.unlink()
    assert report.render(written.with_suffix(".json")) == 0
    assert written.read_text(encoding="utf-8") == first
    assert "| 5 | drtulu-canonical: lines added" in capsys.readouterr().out
