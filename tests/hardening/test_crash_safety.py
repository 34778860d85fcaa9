"""Crash safety: a failure or a kill at any point of a write leaves every file whole.

An apply writes, as one group: the three target files of the fixture, the support
module it creates beside run_utils.py (``litellm_utils.py``) and llmfix's record
(``.llmfix/record.json``, one line of JSON), after making the ``.llmfix`` folder.
In-process, the writer's system calls are made to fail (no space left mid-write, a
permission error creating a temp file, a rename or link that fails between two files,
an fsync error). In a real child process, ``llmfix apply`` is stopped at every
write, fsync, rename and link in turn (a hook pauses it there, half-way through a
write when it is one) and SIGKILLed. Afterwards each file is byte for byte its
original or its fully patched text (the support module absent or whole), never
truncated or mixed; after a re-run no temp file is left, every fix is present, and
``revert`` restores the originals (and takes the support module and the record away).
"""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from support import RECORD, REPO, copy_fixture, invoke, snapshot, support_module, target_files

from llmfix import workflow, writing
from llmfix.config import CommandSettings as Options  # planning.Options became config.CommandSettings
from llmfix.workflow import plan_paths
from llmfix.writing import TEMP_SUFFIX

FIXTURE = "drtulu-canonical"
SERVER = '''
import json, os, sys, time

# One interpreter imports llmfix once, then forks a fresh child per case: each child is a real
# process running ``llmfix apply`` that pauses at its Nth write, fsync, rename, link or exchange.
_state = {"n": 0, "count": 0, "marker": None}


def _pause():
    with open(_state["marker"], "w") as f:
        f.write(str(os.getpid()))
    while True:  # the test SIGKILLs us here
        time.sleep(1)


def _event():
    """Count one event; pause at the Nth (0: never, just count)."""
    if _state["marker"] is None:
        return False
    _state["count"] += 1
    return _state["count"] == _state["n"]


def _wrap(name):
    real = getattr(os, name)

    def hooked(*args):
        if _event():
            if name == "write" and len(args[1]) > 1:  # half the bytes reach the disk first
                real(args[0], bytes(args[1][: len(args[1]) // 2]))
                os.fsync(args[0])
            _pause()
        return real(*args)

    setattr(os, name, hooked)


for _name in ("write", "fsync", "replace", "link", "rename"):
    _wrap(_name)

import llmfix.writing as _writing
from llmfix.cli import run

_real_exchange = _writing.exchange


def _exchange(*args):
    if _event():
        _pause()
    return _real_exchange(*args)


_writing.exchange = _exchange

for line in sys.stdin:
    n, root, marker, log = json.loads(line)
    pid = os.fork()
    if pid == 0:
        code = 3
        try:
            sys.stdin.close()
            with open(os.devnull, "wb") as null, open(log, "wb") as err:
                os.dup2(null.fileno(), 1)
                os.dup2(err.fileno(), 2)
            _state.update(n=n, count=0, marker=marker)
            sys.argv = ["llmfix", "apply", root]
            try:
                run()
                code = 0
            except SystemExit as exit:
                code = exit.code if isinstance(exit.code, int) else 1
            sys.stderr.write(f"EVENTS {_state['count']}\\n")
        finally:
            sys.stderr.flush()
            os._exit(code)
    print(pid, flush=True)
    print(os.waitpid(pid, 0)[1], flush=True)
'''


def planned(root: Path) -> tuple[dict[Path, bytes | None], dict[Path, bytes]]:
    """Every file apply writes but the record: its bytes now (None: absent) and what apply makes of it."""
    expected = {p.target.path: p.patched.encode("utf-8") for p in plan_paths([root], Options())}
    targets, support = target_files(FIXTURE, root), support_module(FIXTURE, root)
    assert sorted(expected) == sorted([*targets, support]), "apply no longer writes the three targets and the support module"
    assert not support.exists()
    return {p: read(p) for p in expected}, expected


def read(path: Path) -> bytes | None:
    return path.read_bytes() if path.exists() else None


@pytest.fixture
def checkout(tmp_path):
    root = copy_fixture(FIXTURE, tmp_path)
    originals, expected = planned(root)
    return root, originals, expected


def files(root: Path) -> dict[str, bytes]:
    """Every file of the checkout."""
    return snapshot(root)


def record_dir(root: Path) -> Path:
    """Where llmfix keeps its record for the fixture: the folder holding open_instruct/."""
    return root / "rl" / "open-instruct" / ".llmfix"


def temp_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob(f"*{TEMP_SUFFIX}"))


def assert_record_whole(root: Path) -> None:
    """llmfix's record is absent or one whole line of JSON, never torn."""
    record = root / "rl" / "open-instruct" / RECORD
    assert record_dir(root) == record.parent
    if record.exists():
        raw = record.read_bytes()
        assert raw.endswith(b"\n") and raw.count(b"\n") == 1, raw[-200:]
        assert json.loads(raw.decode("utf-8"))["version"] == 1


def assert_each_file_whole(root: Path, originals: dict, expected: dict) -> dict[Path, str]:
    """Each file apply writes is wholly original (the support module: absent) or wholly patched."""
    states = {}
    for path, old in originals.items():
        data = read(path)
        what = "absent" if data is None else f"{len(data)} bytes"
        assert data in (old, expected[path]), f"{path.name} is neither original nor patched ({what})"
        states[path] = "original" if data == old else "patched"
    assert_record_whole(root)
    return states


def assert_rerun_finishes(root: Path, originals: dict, expected: dict) -> None:
    result = invoke("apply", root)
    assert result.exit_code == 0, result.stderr
    assert {p: read(p) for p in originals} == expected
    assert temp_files(root) == []
    assert (root / "rl" / "open-instruct" / RECORD).is_file()
    assert_record_whole(root)
    assert invoke("check", root).exit_code == 0
    reverted = invoke("revert", root)
    assert reverted.exit_code == 0, reverted.stderr
    assert {p: read(p) for p in originals} == originals, "revert after the re-run did not restore the originals"
    assert not record_dir(root).exists(), "revert left llmfix's record folder behind"
    assert temp_files(root) == []


# --------------------------------------------------------------------------
# in-process: system calls that fail
# --------------------------------------------------------------------------


def failing(monkeypatch, name: str, nth: int, error: int, when=lambda *args: True):
    real = getattr(os, name)
    calls = {"n": 0}

    def fake(*args, **kwargs):
        if when(*args):
            calls["n"] += 1
            if calls["n"] == nth:
                if name == "write" and len(args[1]) > 1:
                    real(args[0], bytes(args[1][: len(args[1]) // 2]))
                raise OSError(error, os.strerror(error), str(args[0]) if name != "write" else None)
        return real(*args, **kwargs)

    monkeypatch.setattr(os, name, fake)
    return calls


def _is_temp(path, *args) -> bool:
    return str(path).endswith(TEMP_SUFFIX)


def failing_swap(monkeypatch, nth: int, error: int):
    """Make the nth swap of a file into place fail (an exchange, a rename or the link of a new file)."""
    calls = {"n": 0}

    def wrap(module, name):
        real = getattr(module, name)

        def fake(src, dst, *args, **kwargs):
            if str(src).endswith(TEMP_SUFFIX) and "pending.json" not in str(dst) and not str(dst).endswith(".gitignore"):
                calls["n"] += 1
                if calls["n"] == nth:
                    raise OSError(error, os.strerror(error), str(dst))
            return real(src, dst, *args, **kwargs)

        monkeypatch.setattr(module, name, fake)

    wrap(writing, "exchange")
    wrap(os, "replace")
    wrap(os, "link")
    return calls


@pytest.mark.parametrize(
    ("name", "nth", "error", "when"),
    # the order of an apply's writes: the record folder's .gitignore, the
    # temp files of run_utils.py, rubric_utils.py, ground_truth_utils.py, the new support module and the record,
    # then the journal; then the swaps: the three targets exchanged, the support module and the record linked in
    [
        pytest.param("write", 1, errno.ENOSPC, None, id="disk-full-creating-the-record-folder"),
        pytest.param("write", 2, errno.ENOSPC, None, id="disk-full-writing-the-first-file"),
        pytest.param("write", 3, errno.ENOSPC, None, id="disk-full-writing-the-second-file"),
        pytest.param("write", 4, errno.ENOSPC, None, id="disk-full-writing-the-third-file"),
        pytest.param("write", 5, errno.ENOSPC, None, id="disk-full-writing-the-support-module"),
        pytest.param("write", 6, errno.ENOSPC, None, id="disk-full-writing-the-record"),
        pytest.param("write", 7, errno.ENOSPC, None, id="disk-full-writing-the-journal"),
        pytest.param("open", 3, errno.EACCES, _is_temp, id="permission-denied-creating-the-second-temp"),
        pytest.param("open", 5, errno.EACCES, _is_temp, id="permission-denied-creating-the-support-module-temp"),
        pytest.param("fsync", 3, errno.EIO, None, id="fsync-error-on-the-second-file"),
        pytest.param("fsync", 5, errno.EIO, None, id="fsync-error-on-the-support-module"),
        pytest.param("swap", 1, errno.EACCES, None, id="rename-of-the-first-file-fails"),
        pytest.param("swap", 2, errno.EACCES, None, id="rename-fails-between-two-files"),
        pytest.param("swap", 4, errno.EACCES, None, id="creating-the-support-module-fails-after-the-targets"),
        pytest.param("swap", 5, errno.EXDEV, None, id="linking-the-record-fails-after-every-file"),
    ],
)
def test_a_failing_write_changes_nothing_and_a_rerun_finishes(checkout, monkeypatch, name, nth, error, when):
    root, originals, expected = checkout
    before = files(root)
    if name == "swap":
        calls = failing_swap(monkeypatch, nth, error)
    else:
        calls = failing(monkeypatch, name, nth, error, when or (lambda *args: True))
    result = invoke("apply", root)
    monkeypatch.undo()
    assert calls["n"] >= nth, "the failure was never injected"
    assert result.exit_code == 2
    assert len(result.stderr.strip().splitlines()) == 1 and "nothing was changed" in result.stderr, result.stderr
    assert files(root) == before, "a failed apply changed files (or left the support module or llmfix's folder behind)"
    assert not support_module(FIXTURE, root).exists() and not record_dir(root).exists()
    assert temp_files(root) == []
    assert_rerun_finishes(root, originals, expected)


def test_a_failure_while_putting_a_file_back_still_leaves_each_file_whole(checkout, monkeypatch):
    """The second swap fails, then putting the first file back fails too."""
    root, originals, expected = checkout
    real_exchange = writing.exchange
    state = {"swaps": 0}

    def exchange(src, dst):
        state["swaps"] += 1
        if state["swaps"] >= 2:  # the second file's swap, then the first one's swap back
            raise OSError(errno.EACCES, os.strerror(errno.EACCES), str(dst))
        return real_exchange(src, dst)

    monkeypatch.setattr(writing, "exchange", exchange)
    result = invoke("apply", root)
    monkeypatch.undo()
    assert state["swaps"] >= 3
    assert result.exit_code == 2
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "run the same command again to finish" in result.stderr
    assert_each_file_whole(root, originals, expected)
    assert_rerun_finishes(root, originals, expected)  # the journal completes the group, no temp file left


# --------------------------------------------------------------------------
# a real process, SIGKILLed at every write, fsync and rename
# --------------------------------------------------------------------------


class ForkServer:
    """A real interpreter with llmfix imported once; :meth:`start` forks a child running ``llmfix apply``."""

    def __init__(self, workdir: Path) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", SERVER], cwd=workdir, env={**os.environ, "PYTHONPATH": str(REPO)},
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )

    def start(self, root: Path, pause_at: int, marker: Path, log: Path) -> int:
        """The pid of a child applying to ``root`` that pauses at event ``pause_at`` (0: runs to the end)."""
        self.process.stdin.write(json.dumps([pause_at, str(root), str(marker), str(log)]) + "\n")
        self.process.stdin.flush()
        return int(self.process.stdout.readline())

    def status(self) -> int:
        """The wait status of the last child (once it ended)."""
        return int(self.process.stdout.readline())

    def close(self) -> None:
        self.process.stdin.close()
        try:
            self.process.wait(timeout=60)
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait(timeout=30)
            self.process.stdout.close()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # the server reaps its child as soon as it ends
    except ProcessLookupError:
        return False
    return True


def test_sigkill_at_every_write_fsync_and_rename_leaves_whole_files(tmp_path):
    server = ForkServer(tmp_path)
    try:
        scratch, log = copy_fixture(FIXTURE, tmp_path / "count"), tmp_path / "count.log"
        server.start(scratch, 0, tmp_path / "never", log)  # a whole apply, counting its events
        assert server.status() == 0, log.read_text()
        events = int(log.read_text().split("EVENTS")[-1].split()[0])
        assert events >= 15  # five files (three targets, the support module, the record): write, fsync, swap each
        first = copy_fixture(FIXTURE, tmp_path / "kill-1")
        planned_originals, planned_expected = planned(first)  # the same bytes in every copy: planned once
        seen = set()
        for k in range(1, events + 1):
            case = tmp_path / f"kill-{k}"
            root = first if k == 1 else copy_fixture(FIXTURE, case)
            originals = {root / p.relative_to(first): data for p, data in planned_originals.items()}
            expected = {root / p.relative_to(first): data for p, data in planned_expected.items()}
            marker, log = case / "paused", case / "stderr"
            pid = server.start(root, k, marker, log)
            deadline = time.monotonic() + 60
            while not marker.exists() and _alive(pid) and time.monotonic() < deadline:
                time.sleep(0.005)
            reached = marker.exists()
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)  # no cleanup of any kind runs
            status = server.status()
            assert reached, f"the child never reached event {k}: {log.read_text()[-500:]}"
            assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL, status
            states = assert_each_file_whole(root, originals, expected)
            seen.add(tuple(sorted(states.values())))
            assert_rerun_finishes(root, originals, expected)
    finally:
        server.close()
    # the kills landed both before and after the renames, and between them
    assert ("original",) * 4 in seen and ("patched",) * 4 in seen
    assert any(len(set(states)) == 2 for states in seen)


# --------------------------------------------------------------------------
# the journal: Ctrl-C between the renames, and a file edited before the re-run
# --------------------------------------------------------------------------


def _interrupt_second_rename(monkeypatch):
    """Ctrl-C just as the second target file is swapped in."""
    real = writing.exchange
    calls = {"n": 0}

    def exchange(src, dst):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt
        return real(src, dst)

    monkeypatch.setattr(writing, "exchange", exchange)


def test_ctrl_c_between_the_renames_is_finished_by_the_next_run(checkout, monkeypatch):
    root, originals, expected = checkout
    _interrupt_second_rename(monkeypatch)
    with pytest.raises(KeyboardInterrupt):
        workflow.apply([root], Options())
    monkeypatch.undo()
    states = assert_each_file_whole(root, originals, expected)
    # the kill landed between the first two files: run_utils.py in, the rest (the support module too) not yet
    assert [p.name for p, state in states.items() if state == "patched"] == ["run_utils.py"]
    assert (record_dir(root) / "pending.json").exists() and temp_files(root)
    assert_rerun_finishes(root, originals, expected)
    assert not (record_dir(root) / "pending.json").exists()


def test_a_file_edited_after_the_kill_is_not_overwritten(checkout, monkeypatch):
    root, originals, expected = checkout
    _interrupt_second_rename(monkeypatch)
    with pytest.raises(KeyboardInterrupt):
        workflow.apply([root], Options())
    monkeypatch.undo()
    pending = [p for p in target_files(FIXTURE, root) if p.read_bytes() == originals[p]]
    assert [p.name for p in pending] == ["rubric_utils.py", "ground_truth_utils.py"]
    edited = pending[0].read_bytes() + b"\n# edited after the crash\n"
    pending[0].write_bytes(edited)
    from llmfix.workflow import finish_interrupted_writes

    finish_interrupted_writes([root])
    assert pending[0].read_bytes() == edited  # the user's text wins over the stale temp file
    del originals[pending[0]]
    assert_each_file_whole(root, originals, expected)  # every other file whole
    assert temp_files(root) == [] and not (record_dir(root) / "pending.json").exists()


# --------------------------------------------------------------------------
# recovery wherever the checkout is, and revert after an interrupted apply
# --------------------------------------------------------------------------


def _killed_between_the_swaps(root: Path, tmp_path: Path) -> None:
    from paused import PausedLlmfix

    child = PausedLlmfix(tmp_path / "child", ["apply", str(root)], "exchange:2")  # run_utils in, rubric_utils next
    assert child.wait_paused()
    child.kill()


def test_a_checkout_moved_after_a_kill_is_recovered_where_it_is(checkout, tmp_path):
    root, originals, expected = checkout
    _killed_between_the_swaps(root, tmp_path)
    states = assert_each_file_whole(root, originals, expected)
    assert [p.name for p, state in states.items() if state == "patched"] == ["run_utils.py"]
    moved = tmp_path / "moved" / root.name
    moved.parent.mkdir()
    root.rename(moved)
    relocate = lambda files: {moved / p.relative_to(root): data for p, data in files.items()}  # noqa: E731
    originals, expected = relocate(originals), relocate(expected)
    result = invoke("apply", moved)
    assert result.exit_code == 0, result.stderr
    assert {p: read(p) for p in originals} == expected
    reverted = invoke("revert", moved)
    assert reverted.exit_code == 0, reverted.stderr
    assert {p: read(p) for p in originals} == originals
    assert temp_files(moved) == []


@pytest.mark.parametrize("git_checkout", [False, True], ids=["as-left", "after-git-checkout"])
def test_revert_after_an_interrupted_apply_puts_back_the_originals_and_writes_no_patch(checkout, tmp_path, git_checkout):
    root, originals, expected = checkout
    env = {
        **os.environ,
        "GIT_CONFIG_NOSYSTEM": "1",
        "HOME": str(tmp_path),
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@x.invalid",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@x.invalid",
    }
    subprocess.run(["git", "init", "-q"], cwd=root, check=True, env=env)
    subprocess.run(["git", "add", "-A"], cwd=root, check=True, env=env)
    subprocess.run(["git", "commit", "-q", "-m", "upstream"], cwd=root, check=True, env=env)
    _killed_between_the_swaps(root, tmp_path)
    if git_checkout:
        subprocess.run(["git", "checkout", "--", "rl"], cwd=root, check=True, env=env)
    result = invoke("revert", root)
    assert result.exit_code == 0, result.stderr
    assert {p: read(p) for p in originals} == originals  # the support module never made it in: still absent
    assert temp_files(root) == [] and not (record_dir(root) / "pending.json").exists()
    assert invoke("check", root).exit_code == 1  # nothing was patched on the way


# --------------------------------------------------------------------------
# the support module: created by an interrupted apply, removed by an interrupted revert
# --------------------------------------------------------------------------


def test_revert_after_an_apply_killed_once_the_support_module_was_created_removes_it(checkout, tmp_path):
    """Killed before the record is linked in: every target and the support module are new; revert undoes it all."""
    from paused import PausedLlmfix

    root, originals, expected = checkout
    child = PausedLlmfix(tmp_path / "child", ["apply", str(root)], "swap_in:5")  # three targets and the support module in
    assert child.wait_paused()
    child.kill()
    assert set(assert_each_file_whole(root, originals, expected).values()) == {"patched"}
    assert not (record_dir(root) / "record.json").exists()
    result = invoke("revert", root)
    assert result.exit_code == 0, result.stderr
    assert {p: read(p) for p in originals} == originals  # the support module the killed run created is gone
    assert temp_files(root) == [] and not (record_dir(root) / "pending.json").exists()
    assert not (record_dir(root) / "record.json").exists()  # (an empty .llmfix/ with its .gitignore may stay)


def test_a_revert_killed_before_the_support_module_went_is_finished_by_the_next_run(checkout, tmp_path):
    from paused import PausedLlmfix

    root, originals, expected = checkout
    assert invoke("apply", root).exit_code == 0
    child = PausedLlmfix(tmp_path / "child", ["revert", str(root)], "swap_in:2")  # run_utils back, the rest not yet
    assert child.wait_paused()
    child.kill()
    reverted = {p: expected[p] for p in originals}  # the revert's "old" bytes are apply's "new"
    states = assert_each_file_whole(root, reverted, originals)
    assert [p.name for p, state in states.items() if state == "patched"] == ["run_utils.py"]  # here: reverted
    assert support_module(FIXTURE, root).exists() and (record_dir(root) / "pending.json").exists()
    result = invoke("revert", root)
    assert result.exit_code == 0, result.stderr
    assert {p: read(p) for p in originals} == originals
    assert temp_files(root) == [] and not (record_dir(root) / "pending.json").exists()
    assert not (record_dir(root) / "record.json").exists()  # (an empty .llmfix/ with its .gitignore may stay)
