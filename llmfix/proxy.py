"""Run a real tinyproxy on 127.0.0.1 for tests, ``llmfix verify`` and the benchmarks.

``Tinyproxy`` starts the system binary in the foreground with a generated config in a
temporary directory, waits until its port accepts connections and stops it on exit::

    with Tinyproxy() as proxy:
        os.environ["https_proxy"] = proxy.url     # http://127.0.0.1:PORT
        ...
        assert "CONNECT" in proxy.log_text()

``closed_port()`` gives a loopback port with nothing listening: a "dead proxy".
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import BinaryIO

__all__ = ["ProxyUnavailable", "Tinyproxy", "closed_port", "tinyproxy_path"]

INSTALL_HINT = "tinyproxy not found; install it with `apt-get install tinyproxy`"
_FALLBACK_DIRS = ("/usr/bin", "/usr/sbin")
_HOST = "127.0.0.1"
_READY_MARK = "Accepting connections"
_START_ATTEMPTS = 3


class ProxyUnavailable(RuntimeError):
    """tinyproxy is missing or would not start."""


class _ExitedEarly(ProxyUnavailable):
    """tinyproxy died during startup (e.g. its port was taken meanwhile)."""


def tinyproxy_path() -> str | None:
    """The tinyproxy binary: from PATH, else /usr/bin or /usr/sbin; None when absent."""
    found = shutil.which("tinyproxy")
    if found:
        return found
    for directory in _FALLBACK_DIRS:
        candidate = Path(directory) / "tinyproxy"
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    return None


def closed_port() -> int:
    """A loopback TCP port with nothing listening (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((_HOST, 0))
        return int(sock.getsockname()[1])


def _accepts(port: int) -> bool:
    """Whether something accepts TCP connections on 127.0.0.1:port."""
    try:
        socket.create_connection((_HOST, port), timeout=0.2).close()
    except OSError:
        return False
    return True


def _free_port() -> int:
    """A port for tinyproxy to listen on (tinyproxy has no "port 0")."""
    return closed_port()


def _config(port: int, log_file: Path, pid_file: Path) -> str:
    """A minimal tinyproxy.conf: loopback only, CONNECT to any port, no upstream."""
    return "\n".join(
        [
            f"Port {port}",
            f"Listen {_HOST}",
            "Timeout 600",
            f'LogFile "{log_file}"',
            "LogLevel Info",
            f'PidFile "{pid_file}"',
            "MaxClients 512",
            f"Allow {_HOST}",
            "DisableViaHeader Yes",
            "",
        ]
    )


class Tinyproxy:
    """A tinyproxy process on 127.0.0.1 at a free port; a context manager.

    Attributes: ``url`` ("http://127.0.0.1:PORT"), ``port``, ``log_text()``.
    Raises ``ProxyUnavailable`` when the binary is missing or does not come up.
    """

    def __init__(self, startup_timeout: float = 5.0) -> None:
        self.startup_timeout = startup_timeout
        self.port = 0
        self._binary = tinyproxy_path()
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._stderr: BinaryIO | None = None
        self._final_log = ""

    @property
    def url(self) -> str:
        """The proxy URL for ``http_proxy``/``https_proxy``."""
        return f"http://{_HOST}:{self.port}"

    @property
    def log_path(self) -> Path:
        """tinyproxy's log file."""
        if self._tmp is None:
            raise RuntimeError("Tinyproxy is not running")
        return Path(self._tmp.name) / "tinyproxy.log"

    def log_text(self) -> str:
        """Everything tinyproxy has logged so far (after ``stop()``: its final log)."""
        if self._tmp is None:
            return self._final_log
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def __enter__(self) -> Tinyproxy:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def start(self) -> None:
        """Launch ``tinyproxy -d -c conf`` on a free port and wait until it serves.

        The port is picked before tinyproxy binds it, so another process can take it
        in between; a tinyproxy that exits during startup is retried on a new port.
        """
        if self._binary is None:
            raise ProxyUnavailable(INSTALL_HINT)
        if self._process is not None:
            raise RuntimeError("Tinyproxy already started")
        for attempt in range(_START_ATTEMPTS):
            try:
                self._launch(self._binary)
                self._wait_ready()
                return
            except _ExitedEarly as exc:
                self.stop()
                if attempt == _START_ATTEMPTS - 1:
                    raise ProxyUnavailable(str(exc)) from None
            except BaseException:
                self.stop()
                raise

    def _launch(self, binary: str) -> None:
        """Write a config for a fresh free port into a new temp dir and start the process."""
        self._tmp = tempfile.TemporaryDirectory(prefix="llmfix-tinyproxy-")
        tmp = Path(self._tmp.name)
        self.port = _free_port()
        conf = tmp / "tinyproxy.conf"
        conf.write_text(_config(self.port, tmp / "tinyproxy.log", tmp / "tinyproxy.pid"))
        self._stderr = (tmp / "stderr.txt").open("wb")
        self._process = subprocess.Popen(
            [binary, "-d", "-c", str(conf)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=self._stderr,
            start_new_session=True,
        )

    def _wait_ready(self) -> None:
        """Wait until tinyproxy's main loop runs and its port accepts, or fail with the log tail.

        tinyproxy binds its port before it finishes starting up, so an accepting port
        alone is not enough: a SIGTERM before "Accepting connections" is logged kills it
        mid-startup without a clean log.
        """
        assert self._process is not None
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise _ExitedEarly(f"tinyproxy exited with {self._process.returncode}: {self._diagnostics()}")
            if _READY_MARK in self.log_text() and _accepts(self.port):
                return
            time.sleep(0.02)
        raise ProxyUnavailable(
            f"tinyproxy did not start on port {self.port} within {self.startup_timeout}s: {self._diagnostics()}"
        )

    def _diagnostics(self) -> str:
        """The last lines of stderr and the log, for error messages."""
        assert self._tmp is not None
        stderr = (Path(self._tmp.name) / "stderr.txt").read_text(errors="replace")
        tail = (stderr + self.log_text()).strip().splitlines()[-5:]
        return " | ".join(tail) or "(no output)"

    def stop(self) -> None:
        """Terminate tinyproxy (kill after 3 s) and remove the temp dir."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(3)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None
        if self._tmp is not None:
            self._final_log = self.log_text()
            self._tmp.cleanup()
            self._tmp = None
