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
from verify_support import processes_naming

REPO = Path(__file__).resolve().parents[2]
PROC = Path("/proc")

pytestmark = pytest.mark.skipif(not PROC.is_dir() or not sys.platform.startswith("linux"), reason="checks /proc")


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
    (A finished one: test_verify_command.py.)"""
    runs = {}
    for signum in SIGNALS:
        temp = tmp_path_factory.mktemp(f"tmp-{signal.Signals(signum).name}")
        env = {**os.environ, "TMPDIR": str(temp)}
        command = [sys.executable, "-m", "llmfix", "verify", str(hand_checkout("drtulu", "patched")), "--scenario", "hang,proxy"]
        runs[signum] = (subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True), temp)
    done = {}
    try:
        for signum, (verify, temp) in list(runs.items()):
            wait_for(lambda temp=temp: processes_naming(str(temp), "tinyproxy"), 90, "tinyproxy")
            wait_for(lambda temp=temp: list(temp.glob("llmfix-verify-*/case-*.log")), 90, "the cases to start")
            assert processes_naming(str(temp), "child.py")
            os.kill(verify.pid, signum)
        for signum, (verify, temp) in runs.items():
            done[signum] = (verify, verify.communicate(timeout=60)[1], temp)
    finally:
        for verify, _ in runs.values():
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
