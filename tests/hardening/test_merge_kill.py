"""``llmfix merge`` killed (SIGKILL) at every phase, then ``llmfix merge --abort`` or ``llmfix merge`` again.

A real ``llmfix merge`` process stops at one step (after a journal phase is written, before
the Nth file of its group write is swapped in, inside the merge driver git runs, or just
before the journal is removed), is killed there (llmfix alone, so the git it runs goes on;
or its whole process group, git and the driver with it), and then the repository must be
one git and llmfix both accept: no merge half done, no attributes block, no lock, nothing
of the user's lost (an untracked file, their own ``info/attributes`` line, an edit made
after the kill), and ``llmfix merge`` again gives what an uninterrupted one gives.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from support import REPO, invoke
from test_merge_chain import GIT_ENV, fresh_apply, git, llmfix_process, make_history, result_files

PAIR = ("upstream-autumn2025-defaults", "upstream-autumn2025-lazy")
USER_ATTRIBUTES = "*.bin binary\n"

CHILD = r'''
import os, sys, time, runpy
import llmfix.merge_run as run
import llmfix.merging as merging
import llmfix.writing as writing

where, nth = os.environ["LLMFIX_TEST_PAUSE_AT"].rsplit(":", 1)
marker, go = os.environ["LLMFIX_TEST_MARKER"], os.environ["LLMFIX_TEST_GO"]
count = {"n": 0}


def pause():
    count["n"] += 1
    if count["n"] == int(nth):
        with open(marker, "w") as f:
            f.write(str(os.getpid()))
        while not os.path.exists(go):
            time.sleep(0.01)


if where == "driver":
    merging.DRIVER_PYTHON = os.environ["LLMFIX_TEST_SLOW_PYTHON"]
elif where == "swap_in":
    real_swap = writing._swap_in
    writing._swap_in = lambda *a, **k: (pause(), real_swap(*a, **k))[1]
elif where == "end":
    real_end = run.Journal.end
    run.Journal.end = lambda self: (pause(), real_end(self))[1]
else:
    real_phase = run.Journal.phase

    def phase(self, name, **extra):
        real_phase(self, name, **extra)
        if name == where:
            pause()

    run.Journal.phase = phase
sys.argv[0] = "llmfix"
runpy.run_module("llmfix", run_name="__main__", alter_sys=True)
'''

# where the run stops: a journal phase (Nth write of it: the git runs write two, before and after git starts),
# a file of the group write, the driver git runs, the last step
POINTS = [
    "begin:1", "attributes:1", "git-merge:1", "git-merge:2", "driver:1", "merged:1", "reapply:1",
    "swap_in:1", "swap_in:3", "commit:1", "commit:2", "commit:3", "commit:4", "end:1",
]
# Each point is killed both ways, once per recovery, alternating: every point sees both kills and
# every recovery sees both kills (pairwise), at half the cost of every pair.
KILLS = ["llmfix-killed", "group-killed"]
ABORT_CASES = [pytest.param(point, index % 2 == 1, id=f"{point}-{KILLS[index % 2]}") for index, point in enumerate(POINTS)]
AGAIN_CASES = [pytest.param(point, index % 2 == 0, id=f"{point}-{KILLS[(index + 1) % 2]}") for index, point in enumerate(POINTS)]


def _slow_python(folder: Path) -> Path:
    """An interpreter for the driver that first waits for the test (git runs the driver through it)."""
    script = folder / "slow-python"
    script.write_text(
        f'#!/bin/sh\necho $$ > "$LLMFIX_TEST_MARKER"\nwhile [ ! -e "$LLMFIX_TEST_GO" ]; do sleep 0.01; done\nexec "{sys.executable}" "$@"\n',
        encoding="utf-8",
    )
    script.chmod(0o755)
    return script


def killed_merge(tmp_path: Path, repo: Path, point: str, group: bool) -> None:
    """Run ``llmfix merge upstream`` until ``point``, kill it there (and its process group when ``group``)."""
    work = tmp_path / "child"
    work.mkdir()
    (work / "llmfix_merge_child.py").write_text(CHILD, encoding="utf-8")
    marker, go = work / "paused", work / "go"
    env = {
        **os.environ, **GIT_ENV,
        "PYTHONPATH": os.pathsep.join([str(work), str(REPO)]),
        "LLMFIX_TEST_PAUSE_AT": point, "LLMFIX_TEST_MARKER": str(marker), "LLMFIX_TEST_GO": str(go),
        "LLMFIX_TEST_SLOW_PYTHON": str(_slow_python(work)),
    }
    process = subprocess.Popen(
        [sys.executable, "-c", "import llmfix_merge_child", "merge", "upstream", str(repo)],
        cwd=repo, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
    )
    deadline = time.monotonic() + 120
    while not marker.exists():
        assert process.poll() is None, f"{point}: llmfix ended before its pause: {process.communicate()}"
        assert time.monotonic() < deadline, f"{point}: never reached"
        time.sleep(0.01)
    time.sleep(0.05)
    if group:
        os.killpg(process.pid, signal.SIGKILL)
    else:
        process.kill()
    process.communicate(timeout=30)
    go.write_text("go", encoding="utf-8")  # whatever survived the kill (git, the driver) goes on


def _prepare(tmp_path: Path):
    history = make_history(tmp_path, *PAIR)
    repo = history.repo
    attributes = repo / ".git" / "info" / "attributes"
    attributes.parent.mkdir(parents=True, exist_ok=True)
    attributes.write_text(USER_ATTRIBUTES, encoding="utf-8")
    (repo / "notes.txt").write_text("the user's untracked notes\n", encoding="utf-8")
    head = git(repo, "rev-parse", "HEAD").stdout.strip()
    tracked = {p: (repo / p).read_bytes() for p in git(repo, "ls-files", "-z").stdout.split("\0") if p}
    return repo, head, tracked


def _accepted(repo: Path) -> None:
    """A state git and llmfix both accept: nothing in progress, nothing left of llmfix merge."""
    git_dir = repo / ".git"
    for name in ("MERGE_HEAD", "index.lock", "llmfix-merge.json"):
        assert not (git_dir / name).exists(), name
    assert (git_dir / "info" / "attributes").read_text(encoding="utf-8") == USER_ATTRIBUTES
    assert git(repo, "status", "--porcelain", "--untracked-files=all").stdout == "?? notes.txt\n"
    assert (repo / "notes.txt").read_text(encoding="utf-8") == "the user's untracked notes\n"
    assert not list(repo.rglob("*.llmfix-tmp")) and not (repo / ".llmfix" / "pending.json").exists()
    assert git(repo, "fsck", "--no-progress").returncode == 0
    checked = invoke("check", repo)  # in-process: what is checked here is the repository, not the process
    assert checked.exit_code == 0, checked.stdout + checked.stderr


@pytest.mark.parametrize("point, group", ABORT_CASES)
def test_abort_after_a_kill(tmp_path, point, group):
    repo, head, tracked = _prepare(tmp_path)
    killed_merge(tmp_path, repo, point, group)
    done = llmfix_process("merge", "--abort", repo, cwd=repo)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    _accepted(repo)
    now = git(repo, "rev-parse", "HEAD").stdout.strip()
    if point == "end:1" or (point == "commit:4" and "had committed" in done.stdout):  # the merge commit was made: kept
        assert "had committed" in done.stdout
        assert git(repo, "rev-parse", "HEAD^1").stdout.strip() == head
        assert git(repo, "rev-parse", "HEAD^2").stdout.strip() == git(repo, "rev-parse", "upstream").stdout.strip()
    else:
        assert now == head, done.stdout
        assert {p: (repo / p).read_bytes() for p in tracked} == tracked


@pytest.mark.parametrize("point, group", AGAIN_CASES)
def test_merge_again_after_a_kill(tmp_path, point, group):
    repo, head, _ = _prepare(tmp_path)
    killed_merge(tmp_path, repo, point, group)
    done = llmfix_process("merge", "upstream", repo, cwd=repo)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "interrupted `llmfix merge upstream`" in done.stderr
    assert git(repo, "rev-parse", "HEAD^1").stdout.strip() == head
    assert git(repo, "rev-parse", "HEAD^2").stdout.strip() == git(repo, "rev-parse", "upstream").stdout.strip()
    assert git(repo, "status", "--porcelain", "--untracked-files=all").stdout == "?? notes.txt\n"
    assert result_files(repo, PAIR[1]) == fresh_apply(tmp_path, PAIR[1])


def test_an_edit_made_after_the_kill_is_saved_before_the_rollback(tmp_path):
    repo, head, _ = _prepare(tmp_path)
    killed_merge(tmp_path, repo, "reapply:1", group=False)
    (repo / "README.extra").write_text("written after the kill\n", encoding="utf-8")
    done = llmfix_process("merge", "--abort", repo, cwd=repo)
    assert done.returncode == 0 and "refs/llmfix/interrupted-merge" in done.stdout, done.stdout + done.stderr
    saved = git(repo, "show", "refs/llmfix/interrupted-merge:README.extra").stdout
    assert saved == "written after the kill\n"
    assert git(repo, "rev-parse", "HEAD").stdout.strip() == head


@pytest.mark.parametrize("delay", [0.2, 0.5, 0.7, 0.9, 1.1, 1.6, 2.5])
def test_a_kill_at_any_moment_is_recovered(tmp_path, delay):
    """Timed kills (the moments the report named): whatever state they hit, abort then merge gives a clean merge."""
    repo, head, _ = _prepare(tmp_path)
    process = subprocess.Popen(
        [sys.executable, "-m", "llmfix", "merge", "upstream", str(repo)], cwd=repo, env={**os.environ, **GIT_ENV},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    time.sleep(delay)
    process.kill()
    process.wait(timeout=30)
    aborted = llmfix_process("merge", "--abort", repo, cwd=repo)
    assert aborted.returncode == 0, aborted.stdout + aborted.stderr
    if git(repo, "rev-parse", "HEAD").stdout.strip() == head:
        _accepted(repo)
    done = llmfix_process("merge", "upstream", repo, cwd=repo)
    assert done.returncode == 0, done.stdout + done.stderr
    assert result_files(repo, PAIR[1]) == fresh_apply(tmp_path, PAIR[1])
