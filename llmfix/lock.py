"""One llmfix at a time per checkout: an exclusive ``flock`` on the checkout folder itself.

Held from the recovery of an interrupted write to the last rename; nothing is created for it and
it dies with the process, so a killed run never blocks the next. A second run waits up to
:data:`LOCK_WAIT` seconds (``LLMFIX_LOCK_WAIT`` sets another), then exits 2 saying another llmfix is working there.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

from llmfix.errors import BadInput, LlmfixError

LOCK_WAIT = 5.0
POLL = 0.05


class Busy(LlmfixError):
    """Another llmfix holds the checkout's lock."""


def lock_wait() -> float:
    """``LLMFIX_LOCK_WAIT`` seconds when set (a number >= 0), else :data:`LOCK_WAIT`."""
    raw = os.environ.get("LLMFIX_LOCK_WAIT") or str(LOCK_WAIT)
    with contextlib.suppress(ValueError):
        if 0 <= float(raw) < float("inf"):  # a NaN fails this too
            return float(raw)
    raise BadInput(f"LLMFIX_LOCK_WAIT={raw!r}: expected a number of seconds, 0 or more")


@contextlib.contextmanager
def checkout_locks(checkouts: Iterable[Path]) -> Iterator[None]:
    """Every checkout's lock, taken in a fixed order (so two runs never wait on each other)."""
    with contextlib.ExitStack() as stack:
        wait = lock_wait()
        for checkout in sorted(set(checkouts)):
            fd = os.open(checkout, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
            stack.callback(os.close, fd)  # closing it releases the lock
            deadline = time.monotonic() + wait
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise Busy(f"{checkout}: another llmfix is working on this checkout; run this again when it has finished") from None
                    time.sleep(POLL)
        yield
