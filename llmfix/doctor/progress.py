"""A short progress line on stderr while the doctor is quiet (terminals only, never with --json).

The doctor's network steps and live probe take seconds. Once nothing has been printed for
``after`` seconds, one line says what it is doing (``llmfix doctor: live probe: importing
litellm… 3 s``), rewritten in place as the step changes, and erased before the report."""

from __future__ import annotations

import threading
import time
from typing import TextIO

from llmfix.doctor.redact import redact_url

AFTER = 1.0
TICK = 0.25


class Progress:
    """Call with what the doctor is doing now; ``close()`` erases the line. Thread-safe enough:
    the step is one string, replaced whole."""

    def __init__(self, stream: TextIO, after: float = AFTER) -> None:
        self.stream = stream
        self.after = after
        self._step = "starting"
        self._shown = ""
        self._started = time.monotonic()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="doctor-progress", daemon=True)

    def start(self) -> Progress:
        self._thread.start()
        return self

    def __call__(self, step: str) -> None:
        self._step = redact_url(step)

    def _line(self) -> str:
        return f"llmfix doctor: {self._step}… {time.monotonic() - self._started:.0f} s"

    def _run(self) -> None:
        while not self._stop.wait(TICK):
            if time.monotonic() - self._started < self.after:
                continue
            line = self._line()
            if line != self._shown:
                self._write(f"\r\x1b[K{line}")
                self._shown = line

    def _write(self, text: str) -> None:
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):  # a closed terminal must not break the run
            self._stop.set()

    def close(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(1.0)
        if self._shown:
            self._write("\r\x1b[K")
            self._shown = ""


def quiet(_step: str) -> None:
    """The progress callback when nothing is shown."""
