"""The benchmark runner's own machinery: what it reads from llmfix's output, how it counts,
times and reports. Speed figures and goals are never checked here (they live in bench/)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench import footprint, report, run_all  # noqa: E402
from bench.common import GOALS, Goal, Scratch, apply_report, old_behaviour, pinned_tests  # noqa: E402
from bench.generate import batch  # noqa: E402
from bench.profile_apply import StepTimers  # noqa: E402
from bench.speed import checkout_pairs  # noqa: E402


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
    assert {"1a", "1c", "3", "6b"} <= set(GOALS)


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

def test_footprint_agrees_with_git_and_finds_the_runtime_block(scratch):
    measured = footprint.measure("drtulu-canonical", scratch)
    files = measured["files"]
    assert len(files) == 2 and all(f["agree"] for f in files.values()), files
    run_utils = next(f for path, f in files.items() if path.endswith("run_utils.py"))
    block = run_utils["block"]
    assert block["definitions"] > 0 and 0 < sum(block["lines_per_module"].values()) <= block["lines"] <= run_utils["llmfix"]["added"]
    assert footprint.runtime_block("def f():\n    return 1\n") is None
    (row,) = footprint.rows({"drtulu-canonical": measured})
    assert row.status == "met" and f"block {block['lines']} lines" in row.llmfix


def test_stat_lines_are_read_per_file_and_per_transform():
    text = (
        " a/run_utils.py | +12 -3, 2 hunks, 3 upstream line(s) touched\n"
        "     retries    +2 -1\n"
        "     health     +10 -2\n"
        " a/rubric_utils.py | +1 -0, 1 hunk, 0 upstream line(s) touched\n"
        " 2 file(s) changed, 13 insertion(s)(+), 3 deletion(s)(-)\n"
    )
    parsed = footprint.parse_stat(text)
    assert parsed["a/run_utils.py"]["transforms"] == {"retries": (2, 1), "health": (10, 2)}
    assert (parsed["a/rubric_utils.py"]["added"], parsed["a/rubric_utils.py"]["hunks"]) == (1, 1)


def test_the_batch_pairs_both_files_in_every_checkout(scratch):
    generated = batch(scratch.root / "batch", 8)
    assert len(generated["files"]) == 8
    assert checkout_pairs(scratch.root / "batch") == {"checkouts": 4, "with_both_files": 4}


class _Base:
    def plan(self):
        return "base"


class _Child(_Base):
    pass


def test_step_timers_count_nested_steps_once_and_restore_everything(monkeypatch):
    import types

    from bench import profile_apply

    clock = [0.0]
    monkeypatch.setattr(profile_apply.time, "perf_counter", lambda: clock[0])
    module = types.SimpleNamespace()

    def inner():
        clock[0] += 2.0

    def outer():
        clock[0] += 1.0
        module.inner()

    module.inner, module.outer = inner, outer
    timers = StepTimers()
    timers.wrap(module, "inner", "inner")
    timers.wrap(module, "outer", "outer")
    timers.wrap(_Child, "plan", "child plan")
    timers.wrap(module, "missing", "never")
    module.outer()
    assert _Child().plan() == "base"
    assert timers.calls == {"inner": 1, "outer": 1, "child plan": 1}
    assert (timers.seconds["outer"], timers.seconds["inner"]) == (1.0, 2.0)
    assert len(timers.missing) == 1 and timers.missing[0].endswith(".missing")
    timers.restore()
    assert module.inner is inner and module.outer is outer and "plan" not in _Child.__dict__


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
    assert "| 5 | no-helpers: footprint |" in capsys.readouterr().out
