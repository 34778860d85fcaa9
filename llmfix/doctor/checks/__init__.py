"""The doctor's checks; each returns a list of findings. Here: the child process two of them start early, so it runs
while the others do."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Mapping

from llmfix.doctor.redact import redact_url


class Started:
    """A child process started now and collected by a deadline."""

    def __init__(self, argv: list[str], env: Mapping[str, str], timeout: float) -> None:
        self.timeout, self.error, self.name, self._started = timeout, "", argv[0], time.monotonic()
        try:
            self._proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=dict(env))
        except OSError as exc:
            self.error = f"cannot run {argv[0]}: {exc.strerror or exc}"

    def collect(self) -> tuple[int, str, str] | str:
        """(exit code, stdout, stderr), or why there is none (it could not start, or did not finish: killed)."""
        if self.error:
            return self.error
        try:
            out, err = self._proc.communicate(timeout=max(self.timeout - (time.monotonic() - self._started), 0.1))
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.communicate()
            return f"{self.name} gave no answer within {self.timeout:g} s"
        return self._proc.returncode, out, err


def last_words(code: int, err: str) -> str:
    """``exit N``, with the last line the process wrote on stderr (redacted, then cut)."""
    said = [line.strip() for line in err.splitlines() if line.strip()]
    return f"exit {code}" + (f": {redact_url(said[-1])[:200]}" if said else "")
