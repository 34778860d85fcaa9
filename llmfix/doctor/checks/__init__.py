"""The doctor's checks. Each takes what it needs and returns a list of findings."""

from __future__ import annotations

import subprocess
import time
from typing import Mapping


class Started:
    """A child process started early (it runs while the other checks do), collected by a deadline;
    ``error`` is why it could not start."""

    def __init__(self, argv: list[str], env: Mapping[str, str], timeout: float) -> None:
        self.timeout, self.error, self._started = timeout, None, time.monotonic()
        self._proc: subprocess.Popen[str] | None = None
        try:
            self._proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                          text=True, env=dict(env))
        except OSError as exc:
            self.error: OSError | None = exc

    def collect(self) -> tuple[int, str, str] | None:
        """(exit code, stdout, stderr), or None when it did not finish in time (it is killed)."""
        assert self._proc is not None, "collect() of a process that did not start"
        try:
            out, err = self._proc.communicate(timeout=max(self.timeout - (time.monotonic() - self._started), 0.1))
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.communicate()
            return None
        return self._proc.returncode, out, err
