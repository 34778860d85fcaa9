"""A real tinyproxy on 127.0.0.1 for tests, ``llmfix verify`` and the benchmarks.

``with Tinyproxy() as proxy:`` runs the system binary in the foreground on a free port with a
generated config, until the block ends; ``proxy.url`` is ``http://127.0.0.1:PORT`` and
``proxy.log_text()`` its log (kept after it stops). ``closed_port()`` is a loopback port with
nothing listening: a "dead proxy".
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

__all__ = ["ProxyUnavailable", "Tinyproxy", "closed_port", "tinyproxy_path"]

INSTALL_HINT = "tinyproxy not found; install it with `apt-get install tinyproxy`"
_FALLBACK_DIRS = ("/usr/bin", "/usr/sbin")
_HOST = "127.0.0.1"
_READY_MARK = "Accepting connections"  # tinyproxy binds its port before it is ready: a TERM before this kills it mid-startup
_START_ATTEMPTS = 3


class ProxyUnavailable(RuntimeError):
    """tinyproxy is missing or would not start."""


def tinyproxy_path() -> str | None:
    """The tinyproxy binary: from PATH, else /usr/bin or /usr/sbin; None when absent."""
    candidates = [Path(directory) / "tinyproxy" for directory in _FALLBACK_DIRS]
    return shutil.which("tinyproxy") or next((str(c) for c in candidates if c.is_file() and os.access(c, os.X_OK)), None)


def closed_port() -> int:
    """A loopback TCP port with nothing listening (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((_HOST, 0))
        return int(sock.getsockname()[1])


class Tinyproxy:
    """A tinyproxy process on 127.0.0.1 at a free port; a context manager (``ProxyUnavailable`` if it can't start).
    ``folder`` holds its config and log while it runs."""

    def __init__(self, startup_timeout: float = 5.0) -> None:
        self.startup_timeout, self.port = startup_timeout, 0
        self.folder: Path | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._final_log = ""

    @property
    def url(self) -> str:
        return f"http://{_HOST}:{self.port}"

    def log_text(self) -> str:
        """Everything tinyproxy has logged so far (after ``stop()``: its final log)."""
        try:
            return (self.folder / "tinyproxy.log").read_text(errors="replace") if self.folder else self._final_log
        except FileNotFoundError:
            return ""

    def __enter__(self) -> Tinyproxy:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def start(self) -> None:
        """Start tinyproxy on a free port and wait until it serves; one that exits at once (its port taken meanwhile) is retried."""
        binary = tinyproxy_path()
        if binary is None:
            raise ProxyUnavailable(INSTALL_HINT)
        if self._process is not None:
            raise RuntimeError("Tinyproxy already started")
        for _ in range(_START_ATTEMPTS):
            try:
                exited = self._launch(binary)
            except BaseException:
                self.stop()
                raise
            if exited is None:
                return
            self.stop()
        raise ProxyUnavailable(exited)

    def _launch(self, binary: str) -> str | None:
        """Start one tinyproxy and wait until it serves (None), or exits (why, in words)."""
        self.folder = folder = Path(tempfile.mkdtemp(prefix="llmfix-tinyproxy-"))
        self.port = closed_port()
        config = [f"Port {self.port}", f"Listen {_HOST}", "Timeout 600", f'LogFile "{folder / "tinyproxy.log"}"', "LogLevel Info",
                  f'PidFile "{folder / "tinyproxy.pid"}"', "MaxClients 512", f"Allow {_HOST}", "DisableViaHeader Yes", ""]
        (folder / "tinyproxy.conf").write_text("\n".join(config))
        with open(folder / "stderr.txt", "wb") as stderr:
            self._process = subprocess.Popen([binary, "-d", "-c", str(folder / "tinyproxy.conf")], stdin=subprocess.DEVNULL,
                                             stdout=subprocess.DEVNULL, stderr=stderr, start_new_session=True)
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                return f"tinyproxy exited with {self._process.returncode}: {self._diagnostics()}"
            with contextlib.suppress(OSError):  # serving once it says so and a connection is accepted
                if _READY_MARK in self.log_text():
                    socket.create_connection((_HOST, self.port), timeout=0.2).close()
                    return None
            time.sleep(0.02)
        raise ProxyUnavailable(f"tinyproxy did not start on port {self.port} within {self.startup_timeout}s: {self._diagnostics()}")

    def _diagnostics(self) -> str:
        """The last lines of stderr and the log, for error messages."""
        tail = ((self.folder / "stderr.txt").read_text(errors="replace") + self.log_text()).strip().splitlines()[-5:]  # type: ignore[operator]
        return " | ".join(tail) or "(no output)"

    def stop(self) -> None:
        """Terminate tinyproxy (kill after 3 s) and remove its folder."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(3)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self.folder is not None:
            self._final_log = self.log_text()
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = None
