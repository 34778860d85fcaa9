"""A verify killed mid-run leaves nothing behind: no process (checked in /proc), no temporary folder.

Each run gets a TMPDIR of its own, so "nothing behind" is exact: no process whose command
line names that folder (the verify child and its forks, tinyproxy) and nothing left in it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PROC = Path("/proc")

pytestmark = pytest.mark.skipif(not PROC.is_dir() or not sys.platform.startswith("linux"), reason="checks /proc")


def processes_naming(*needles: str) -> list[tuple[int, str]]:
    found = []
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().decode(errors="replace").replace("\0", " ")
            state = (entry / "stat").read_text().rsplit(")", 1)[-1].split()[0]
        except OSError:
            continue
        if state != "Z" and all(needle in command for needle in needles):
            found.append((int(entry.name), command))
    return found


def wait_for(condition, seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out after {seconds}s waiting for {what}")


SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGKILL)


@pytest.fixture(scope="module")
def killed(tmp_path_factory, hand_checkout) -> dict:
    """One verify per signal, all started at once; each killed mid-run (tinyproxy up, the cases forked) with its signal.
    And one more, started with them, left to finish (``"finished"``)."""
    runs = {}
    for signum in SIGNALS:
        temp = tmp_path_factory.mktemp(f"tmp-{signal.Signals(signum).name}")
        env = {**os.environ, "TMPDIR": str(temp)}
        command = [sys.executable, "-m", "llmfix", "verify", str(hand_checkout("drtulu", "patched")), "--scenario", "hang,proxy"]
        runs[signum] = (subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True), temp)
    temp = tmp_path_factory.mktemp("tmp-finished")  # and one left to finish, meanwhile
    command = [sys.executable, "-m", "llmfix", "verify", str(hand_checkout("drtulu", "patched")), "--scenario", "9b,8b"]
    finished = subprocess.Popen(command, cwd=REPO, env={**os.environ, "TMPDIR": str(temp)}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    done = {}
    try:
        for signum, (verify, temp) in list(runs.items()):
            wait_for(lambda temp=temp: processes_naming(str(temp), "tinyproxy"), 90, "tinyproxy")
            wait_for(lambda temp=temp: list(temp.glob("llmfix-verify-*/case-*.log")), 90, "the cases to start")
            assert processes_naming(str(temp), "child.py")
            os.kill(verify.pid, signum)
        for signum, (verify, temp) in runs.items():
            done[signum] = (verify, verify.communicate(timeout=60)[1], temp)
        output = finished.communicate(timeout=240)[0]
        done["finished"] = (subprocess.CompletedProcess(command, finished.returncode, output), temp)
    finally:
        for verify, _ in [*runs.values(), (finished, None)]:
            if verify.poll() is None:
                verify.kill()
                verify.wait()
    return done


@pytest.mark.parametrize("signum", SIGNALS, ids=lambda s: signal.Signals(s).name)
def test_a_killed_verify_leaves_no_process_and_no_folder(killed, signum):
    verify, stderr, temp = killed[signum]
    if signum == signal.SIGKILL:
        assert verify.returncode == -signal.SIGKILL
    else:
        assert verify.returncode == 2 and b"Traceback" not in stderr, stderr.decode(errors="replace")
    wait_for(lambda: not processes_naming(str(temp)), 20, f"no process naming {temp} (left: {processes_naming(str(temp))})")
    wait_for(lambda: not any(temp.iterdir()), 20, f"an empty {temp} (left: {sorted(p.name for p in temp.iterdir())})")
    wait_for(lambda: not processes_naming("reaper.py", f"--parent {verify.pid}"), 20, "the reaper to finish")


def test_a_finished_verify_leaves_no_process_and_no_folder(killed):
    done, temp = killed["finished"]
    assert done.returncode == 0, done.stdout.decode(errors="replace")
    assert not processes_naming(str(temp)) and not any(temp.iterdir())
