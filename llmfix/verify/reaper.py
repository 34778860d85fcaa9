"""Clean up after verify on every exit path, even a SIGKILL of verify.

A watcher (this file, run as a script) reads from a pipe what verify started (``group PGID
STARTTIME``, ``folder PATH``) and cleaned up (``forget-group``, ``forget-folder``); when the pipe
closes it kills the groups and the processes naming a folder and removes the folders.
Standard library only.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from typing import IO

PR_SET_PDEATHSIG = 1


def die_with_parent(signum: int = signal.SIGKILL, parent: int | None = None) -> None:
    """Ask Linux to send ``signum`` to this process when its parent exits (no-op elsewhere); exit at once
    when ``parent`` is already gone (it died before the request took effect)."""
    if sys.platform.startswith("linux"):
        try:
            import ctypes  # Linux only

            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, int(signum), 0, 0, 0)
        except (OSError, AttributeError):
            pass
    if parent is not None and os.getppid() != parent:
        os._exit(1)


def start_time(pid: int) -> str | None:
    """The process's start time (field 22 of /proc/PID/stat), to tell a reused pid apart; None when unknown."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as handle:
            stat = handle.read()
    except OSError:
        return None
    return stat.rsplit(")", 1)[-1].split()[19]


class Reaper:
    """verify's side: start the watcher and tell it what to clean up."""

    def __init__(self) -> None:
        self._process = subprocess.Popen(
            [sys.executable, "-I", "-S", os.path.abspath(__file__), "--parent", str(os.getpid())],
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )
        self._pipe: IO[bytes] | None = self._process.stdin

    def _send(self, *words: object) -> None:
        if self._pipe is None:
            return
        try:
            self._pipe.write((" ".join(str(w) for w in words) + "\n").encode())
            self._pipe.flush()
        except (BrokenPipeError, ValueError):
            self._pipe = None

    def watch_group(self, pgid: int) -> None:
        self._send("group", pgid, start_time(pgid) or "-")

    def forget_group(self, pgid: int) -> None:
        self._send("forget-group", pgid)

    def watch_folder(self, path: str) -> None:
        self._send("folder", os.path.abspath(path))

    def forget_folder(self, path: str) -> None:
        self._send("forget-folder", os.path.abspath(path))

    def close(self) -> None:
        """Let the watcher finish (it cleans up whatever is still registered) and wait for it."""
        if self._pipe is not None:
            try:
                self._pipe.close()
            except OSError:
                pass
            self._pipe = None
        try:
            self._process.wait(10)
        except subprocess.TimeoutExpired:
            pass


# ----------------------------------------------------------------------------- the watcher process


def _processes_naming(folders: list[str]) -> list[int]:
    """Pids (other than ours) whose command line mentions one of ``folders`` (Linux /proc)."""
    found = []
    try:
        entries = os.listdir("/proc")
    except OSError:
        return []
    for entry in entries:
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as handle:
                command = handle.read().decode(errors="replace").replace("\0", " ")
        except OSError:
            continue
        if any(folder in command for folder in folders):
            found.append(int(entry))
    return found


def _kill_group(pgid: int, started: str) -> None:
    leader = start_time(pgid)
    if leader is not None and started != "-" and leader != started:
        return  # the pid now belongs to another process
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def clean(groups: dict[int, str], folders: list[str]) -> None:
    """Kill the registered groups and the processes naming a folder, then remove the folders."""
    for pgid, started in groups.items():
        _kill_group(pgid, started)
    for _ in range(20):
        pids = _processes_naming(folders) if folders else []
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        if not pids:
            break
        time.sleep(0.05)
    for folder in folders:
        for _ in range(5):
            shutil.rmtree(folder, ignore_errors=True)
            if not os.path.exists(folder):
                break
            time.sleep(0.05)


def main() -> int:
    """``reaper.py --parent PID``: read registrations from stdin until it closes, then clean up."""
    for signum in (signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, signal.SIG_IGN)  # a Ctrl-C for verify is verify's to handle
    groups: dict[int, str] = {}
    folders: list[str] = []

    def on_term(signum: int, frame: object) -> None:
        clean(groups, folders)
        os._exit(0)

    signal.signal(signal.SIGTERM, on_term)
    for line in sys.stdin.buffer:
        words = line.decode(errors="replace").split(" ", 1)
        command, argument = words[0].strip(), (words[1].strip() if len(words) > 1 else "")
        if command == "group":
            pgid, _, started = argument.partition(" ")
            groups[int(pgid)] = started or "-"
        elif command == "forget-group":
            groups.pop(int(argument), None)
        elif command == "folder" and argument not in folders:
            folders.append(argument)
        elif command == "forget-folder" and argument in folders:
            folders.remove(argument)
    clean(groups, folders)
    return 0


if __name__ == "__main__":
    sys.exit(main())
