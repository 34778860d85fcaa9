"""A real ``llmfix`` process that stops at one step of its write until the test lets it go (or kills it).

The child imports ``llmfix.writing`` and wraps one of its steps: ``swap_in:N``
stops before the Nth file is re-checked and swapped in, ``exchange:N`` just
before the Nth atomic exchange (after the re-check). There it writes a marker
file and waits for a "go" file, so the test can act at exactly that moment
with another real process (an editor saving, a second llmfix, ``mv``).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from support import REPO

CHILD = '''
import os, sys, time, runpy
import llmfix.writing as writing

step, nth = os.environ["LLMFIX_TEST_PAUSE_AT"].split(":")
nth = int(nth)
marker, go = os.environ["LLMFIX_TEST_MARKER"], os.environ["LLMFIX_TEST_GO"]
real = getattr(writing, {"swap_in": "_swap_in", "exchange": "exchange"}[step])
count = {"n": 0}


def hooked(*args, **kwargs):
    count["n"] += 1
    if count["n"] == nth:
        with open(marker, "w") as f:
            f.write(str(os.getpid()))
        while not os.path.exists(go):
            time.sleep(0.005)
    return real(*args, **kwargs)


setattr(writing, {"swap_in": "_swap_in", "exchange": "exchange"}[step], hooked)
sys.argv[0] = "llmfix"
runpy.run_module("llmfix", run_name="__main__", alter_sys=True)
'''


class PausedLlmfix:
    def __init__(self, workdir: Path, args: list[str], pause_at: str) -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        self.marker, self.go = workdir / "paused", workdir / "go"
        hook = workdir / "llmfix_paused_child.py"
        hook.write_text(CHILD, encoding="utf-8")
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join([str(workdir), str(REPO)]),
            "LLMFIX_TEST_PAUSE_AT": pause_at,
            "LLMFIX_TEST_MARKER": str(self.marker),
            "LLMFIX_TEST_GO": str(self.go),
        }
        self.process = subprocess.Popen(
            [sys.executable, "-c", "import llmfix_paused_child", *args],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )

    def wait_paused(self, timeout: float = 60) -> bool:
        """True once the child stopped at its step; False when it ended without reaching it."""
        deadline = time.monotonic() + timeout
        while not self.marker.exists():
            if self.process.poll() is not None:
                return False
            if time.monotonic() > deadline:
                raise TimeoutError("the llmfix child never reached its pause")
            time.sleep(0.005)
        return True

    def resume(self, timeout: float = 60) -> subprocess.CompletedProcess:
        self.go.write_text("go", encoding="utf-8")
        return self.finish(timeout)

    def finish(self, timeout: float = 60) -> subprocess.CompletedProcess:
        out, err = self.process.communicate(timeout=timeout)
        return subprocess.CompletedProcess(self.process.args, self.process.returncode, out, err)

    def kill(self) -> None:
        self.process.kill()  # SIGKILL: nothing of llmfix's runs after this
        self.process.communicate(timeout=30)
