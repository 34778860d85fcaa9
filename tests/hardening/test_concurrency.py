"""Edits made while apply runs are never overwritten; one llmfix at a time per checkout.

Each test runs llmfix as a real process stopped at one exact step of its write
(:mod:`paused`) and acts there with another real process: an editor saving the
file (write to a temp file, rename over, as editors do), an in-place writer, a
second llmfix. No sleep decides the outcome.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from paused import PausedLlmfix
from support import RECORD, copy_fixture, run_cli, snapshot, support_module, target_files

from llmfix.config import CommandSettings as Options  # planning.Options became config.CommandSettings
from llmfix.workflow import plan_paths

FIXTURE = "drtulu-canonical"
WAIT = 0.5  # seconds a second llmfix waits for the lock here (LLMFIX_LOCK_WAIT; 5 by default)
SHORT_WAIT = {**os.environ, "LLMFIX_LOCK_WAIT": str(WAIT)}
EDITOR = textwrap.dedent('''
    import os, sys
    path, text = sys.argv[1], sys.argv[2]
    temp = path + ".editor-swp"
    with open(temp, "w", encoding="utf-8") as f:
        f.write(open(path, encoding="utf-8").read() + text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(temp, path)
''')


def editor_save(path: Path, appended: str) -> None:
    """A real process saves ``path`` the way editors do: a new file renamed over the old."""
    subprocess.run([sys.executable, "-c", EDITOR, str(path), appended], check=True, timeout=60)


@pytest.fixture
def checkout(tmp_path):
    root = copy_fixture(FIXTURE, tmp_path)
    run_utils, rubric, *_ = target_files(FIXTURE, root)  # the catalog lists the judge file too
    return root, run_utils, rubric


def assert_one_record(root: Path) -> None:
    """llmfix's record after the applies: one line of JSON, notes for each target file once, the support module's digest."""
    checkout = root / "rl" / "open-instruct"
    raw = (checkout / RECORD).read_bytes()
    assert raw.count(b"\n") == 1 and raw.endswith(b"\n"), raw  # one record, written whole, never two appended
    record = json.loads(raw.decode("utf-8"))
    assert record["version"] == 1
    assert sorted(record["notes"]) == sorted(p.relative_to(checkout).as_posix() for p in target_files(FIXTURE, root))
    assert record["support"] == hashlib.sha256(support_module(FIXTURE, root).read_bytes()).hexdigest()


def assert_refused_and_untouched(result, before: dict, root: Path) -> None:
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "changed while llmfix was working" in lines[0], result.stderr
    assert snapshot(root) == before
    assert not list(root.rglob("*.llmfix-tmp"))


def test_a_save_before_the_swap_is_never_overwritten(checkout, tmp_path):
    root, run_utils, rubric = checkout
    original_run_utils = run_utils.read_bytes()
    child = PausedLlmfix(tmp_path / "child", ["apply", str(root)], "swap_in:2")  # run_utils swapped, rubric_utils next
    assert child.wait_paused()
    editor_save(rubric, "\n# saved by the editor while llmfix ran\n")
    saved = {p: p.read_bytes() for p in (run_utils, rubric)}
    result = child.resume()
    assert result.returncode == 2 and "rubric_utils.py changed while llmfix was working" in result.stderr, result.stderr
    assert rubric.read_bytes().endswith(b"# saved by the editor while llmfix ran\n")
    assert rubric.read_bytes() == saved[rubric]
    assert run_utils.read_bytes() == original_run_utils, "run_utils.py was not put back"
    assert not (root / "rl" / "open-instruct" / ".llmfix").exists()
    assert not list(root.rglob("*.llmfix-tmp"))


def test_a_save_during_the_swap_itself_is_put_back(checkout, tmp_path):
    """The editor's rename lands after llmfix's re-check and before its exchange."""
    root, run_utils, rubric = checkout
    child = PausedLlmfix(tmp_path / "child", ["apply", str(root)], "exchange:1")
    assert child.wait_paused()
    editor_save(run_utils, "\n# saved in the very last moment\n")
    saved = run_utils.read_bytes()
    before = snapshot(root)
    result = child.resume()
    assert result.returncode == 2, result.stderr
    assert "run_utils.py changed while llmfix was working" in result.stderr
    assert run_utils.read_bytes() == saved
    after = snapshot(root)
    def ours(name: str) -> bool:
        return ".llmfix/" in name or name.endswith(".llmfix-tmp")

    assert {k: v for k, v in after.items() if not ours(k)} == {k: v for k, v in before.items() if not ours(k)}
    assert not list(root.rglob("*.llmfix-tmp"))


def test_a_file_read_while_an_in_place_writer_was_half_done_is_not_written(checkout, tmp_path):
    """llmfix planned from a file missing its last functions; the writer finishes before the swap."""
    root, run_utils, rubric = checkout
    full = run_utils.read_bytes()
    # the functions after the helpers (rubric_utils.py imports none of them, so the half file plans)
    cut = full.index(b"\nasync def run_litellm_batch_async")
    run_utils.write_bytes(full[:cut] + b"\n")  # the writer truncated the file and wrote its first part
    child = PausedLlmfix(tmp_path / "child", ["apply", str(root)], "swap_in:1")
    assert child.wait_paused()
    with open(run_utils, "r+b") as f:  # the same writer, in place, finishes its write
        f.seek(0)
        f.write(full)
        f.truncate()
    result = child.resume()
    assert result.returncode == 2 and "run_utils.py changed while llmfix was working" in result.stderr, result.stderr
    assert run_utils.read_bytes() == full  # every function is there


SAVER = textwrap.dedent('''
    import os, sys, time
    path, stop = sys.argv[1], sys.argv[2]
    n = 0
    while not os.path.exists(stop):
        n += 1
        text = open(path, encoding="utf-8").read().split("\\n# save ")[0].rstrip("\\n") + f"\\n\\n# save {n}\\n"
        temp = path + ".editor-swp"
        with open(temp, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(temp, path)
        time.sleep(0.003)  # an eager editor, not a busy loop
    print(n)
''')


def test_saves_racing_applies_are_never_lost(tmp_path):
    """An editor saving over and over while apply runs: its last save always survives."""
    outcomes = set()
    for round_ in range(6):
        root = copy_fixture(FIXTURE, tmp_path / f"round-{round_}")
        run_utils = target_files(FIXTURE, root)[0]
        stop = tmp_path / f"stop-{round_}"
        saver = subprocess.Popen([sys.executable, "-c", SAVER, str(run_utils), str(stop)], stdout=subprocess.PIPE, text=True)
        applied = run_cli("apply", root)
        stop.write_text("stop")
        last = int(saver.communicate(timeout=60)[0])
        final = run_utils.read_text(encoding="utf-8")
        assert final.endswith(f"\n# save {last}\n"), f"round {round_}: save {last} was lost (apply: {applied.returncode} {applied.stderr})"
        assert applied.returncode in (0, 2), applied.stderr
        if applied.returncode == 2:
            assert "changed while llmfix was working" in applied.stderr, applied.stderr
        outcomes.add(applied.returncode)
        assert not list(root.rglob("*.llmfix-tmp"))


def test_a_second_llmfix_waits_or_says_another_is_running(checkout, tmp_path):
    root, run_utils, rubric = checkout
    originals = {p: p.read_bytes() for p in (run_utils, rubric)}
    first = PausedLlmfix(tmp_path / "first", ["apply", str(root)], "swap_in:1")
    assert first.wait_paused()
    started = time.monotonic()
    second = run_cli("apply", root, env=SHORT_WAIT)  # the first holds the lock for longer than the second waits
    assert time.monotonic() - started >= WAIT
    assert second.returncode == 2
    assert second.stderr.strip().splitlines() == [second.stderr.strip()]
    assert "another llmfix is working on this checkout" in second.stderr
    done = first.resume()
    assert done.returncode == 0, done.stderr
    third = run_cli("apply", root)
    assert third.returncode == 0 and "nothing to do" in third.stdout
    assert_one_record(root)
    reverted = run_cli("revert", root)
    assert reverted.returncode == 0, reverted.stderr
    assert {p: p.read_bytes() for p in originals} == originals
    assert not support_module(FIXTURE, root).exists()  # the support module apply created goes with the revert


def test_concurrent_applies_leave_one_record_and_revert_works(tmp_path):
    for round_ in range(4):
        root = copy_fixture(FIXTURE, tmp_path / f"round-{round_}")
        originals = {p: p.read_bytes() for p in target_files(FIXTURE, root)}
        runs = [
            subprocess.Popen([sys.executable, "-m", "llmfix", "apply", str(root)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)
        ]
        results = [(r.wait(timeout=120), r.communicate()) for r in runs]
        codes = sorted(code for code, _ in results)
        assert codes in ([0, 0], [0, 2]), results
        assert_one_record(root)
        reverted = run_cli("revert", root)
        assert reverted.returncode == 0, reverted.stderr
        assert {p: p.read_bytes() for p in originals} == originals
        assert not support_module(FIXTURE, root).exists()  # the support module apply created goes with the revert


def test_a_killed_llmfix_never_leaves_a_lock_behind(checkout, tmp_path):
    root, run_utils, rubric = checkout
    child = PausedLlmfix(tmp_path / "child", ["apply", str(root)], "exchange:2")
    assert child.wait_paused()
    child.kill()
    again = run_cli("apply", root)
    assert again.returncode == 0, again.stderr
    assert run_cli("check", root).returncode == 0


def test_a_lock_held_by_another_process_is_waited_for_then_refused(checkout):
    root, *_ = checkout
    holder = os.open(root / "rl" / "open-instruct", os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(holder, fcntl.LOCK_EX)
        before = snapshot(root)
        started = time.monotonic()
        result = run_cli("revert", root, env=SHORT_WAIT)
        assert time.monotonic() - started >= WAIT
        assert result.returncode == 2 and "another llmfix is working" in result.stderr
        assert snapshot(root) == before
        refused = run_cli("apply", root, env={**os.environ, "LLMFIX_LOCK_WAIT": "nan"})
        assert refused.returncode == 2 and refused.stderr.count("\n") == 1 and "LLMFIX_LOCK_WAIT='nan'" in refused.stderr, refused.stderr
        assert snapshot(root) == before
    finally:
        os.close(holder)
    assert run_cli("apply", root).returncode == 0


def test_expected_patch_is_what_lands(checkout):
    """Sanity for the tests above: an undisturbed run writes exactly the planned text."""
    root, run_utils, rubric = checkout
    expected = {p.target.path: p.patched.encode("utf-8") for p in plan_paths([root], Options())}
    assert run_cli("apply", root).returncode == 0
    assert {p: p.read_bytes() for p in expected} == expected
