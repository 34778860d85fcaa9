"""Clean up after verify on every exit path, even its SIGKILL: a watcher (this file, as a script) reads the process groups
and folders verify started from a pipe; when the pipe closes it kills them (and processes naming a folder) and removes the folders."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time

PR_SET_PDEATHSIG = 1


def die_with_parent(signum: int = signal.SIGKILL, parent: int | None = None) -> None:
    """Ask Linux to send ``signum`` to this process when its parent exits (no-op elsewhere); exit at once
    when ``parent`` is already gone (it died before the request took effect)."""
    if sys.platform.startswith("linux"):
        import ctypes  # Linux only

        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, int(signum), 0, 0, 0)
    if parent is not None and os.getppid() != parent:
        os._exit(1)


def start_time(pid: int) -> str | None:
    """The process's start time (field 22 of /proc/PID/stat), to tell a reused pid apart; None when unknown."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as handle:
            return handle.read().rsplit(")", 1)[-1].split()[19]
    except OSError:
        return None


class Reaper:
    """verify's side: start the watcher and tell it what to clean up."""

    def __init__(self) -> None:
        self._process = subprocess.Popen([sys.executable, "-I", "-S", os.path.abspath(__file__), "--parent", str(os.getpid())],
                                         stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)

    def _send(self, *words: object) -> None:
        with contextlib.suppress(BrokenPipeError, ValueError):
            self._process.stdin.write((" ".join(str(w) for w in words) + "\n").encode())  # type: ignore[union-attr]
            self._process.stdin.flush()  # type: ignore[union-attr]

    def watch_group(self, pgid: int) -> None:
        self._send("group", pgid, start_time(pgid) or "-")

    def watch_folder(self, path: str) -> None:
        self._send("folder", os.path.abspath(path))

    def close(self) -> None:
        """Let the watcher finish (it cleans up whatever is still there) and wait for it."""
        with contextlib.suppress(OSError, subprocess.TimeoutExpired):
            self._process.stdin.close()  # type: ignore[union-attr]
            self._process.wait(10)


# ----------------------------------------------------------------------------- the watcher process


def _processes_naming(folders: list[str]) -> list[int]:
    """Pids (other than ours) whose command line mentions one of ``folders`` (Linux /proc)."""
    found = []
    for entry in os.listdir("/proc") if os.path.isdir("/proc") else []:
        try:
            if entry.isdigit() and int(entry) != os.getpid():
                with open(f"/proc/{entry}/cmdline", "rb") as handle:
                    command = handle.read().decode(errors="replace").replace("\0", " ")
                found += [int(entry)] if any(folder in command for folder in folders) else []
        except OSError:
            continue
    return found


def clean(groups: dict[int, str], folders: list[str]) -> None:
    """Kill the registered groups and the processes naming a folder, then remove the folders."""
    for pgid, started in groups.items():
        leader = start_time(pgid)
        if leader is None or started == "-" or leader == started:  # else the pid now belongs to another process
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pgid, signal.SIGKILL)
    for _ in range(20):
        pids = _processes_naming(folders) if folders else []
        for pid in pids:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
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
        command, _, argument = line.decode(errors="replace").strip().partition(" ")
        if command == "group":
            pgid, _, started = argument.partition(" ")
            groups[int(pgid)] = started or "-"
        elif command == "folder" and argument not in folders:
            folders.append(argument)
    clean(groups, folders)
    return 0


if __name__ == "__main__":
    sys.exit(main())
