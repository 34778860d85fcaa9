"""The training job's Python (``--python PATH``): which litellm and tenacity it has.

llmfix usually runs from its own virtualenv, which says nothing about the job's packages,
so the doctor asks the job's interpreter itself (``PATH -c "import importlib.metadata ..."``);
it imports neither package, only looks them up."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from typing import Mapping

from llmfix.doctor.redact import redact_url

TIMEOUT = 15.0
PACKAGES = ("litellm", "tenacity")
SCRIPT = """\
import importlib.util, json, sys
try:
    from importlib.metadata import version
except ImportError:
    version = None
def look(name):
    try:
        found = importlib.util.find_spec(name) is not None
    except Exception:
        found = False
    try:
        return [found, version(name) if version else None]
    except Exception:
        return [found, None]
print(json.dumps({"python": sys.version.split()[0], "packages": {n: look(n) for n in PACKAGES}}))
""".replace("PACKAGES", repr(PACKAGES))


@dataclass
class JobPython:
    """What the job's interpreter said, or why it could not be asked (``error``)."""

    path: str
    python_version: str = ""
    packages: dict[str, tuple[bool, str | None]] = field(default_factory=dict)  # name -> (importable, version)
    error: str = ""

    def has(self, name: str) -> bool:
        found, version = self.packages.get(name, (False, None))
        return found or version is not None

    def version(self, name: str) -> str | None:
        return self.packages.get(name, (False, None))[1]


def resolve(python: str) -> str | None:
    """The interpreter's path: as given when it is an executable file, else looked up on PATH."""
    if os.sep in python:
        return python if os.path.isfile(python) and os.access(python, os.X_OK) else None
    return shutil.which(python)


class JobPythonCheck:
    """Started early (the interpreter starts while the other checks run); collected with ``result()``."""

    def __init__(self, python: str, env: Mapping[str, str], timeout: float = TIMEOUT) -> None:
        self.python = python
        self.env = dict(env)
        self.timeout = timeout
        self._proc: subprocess.Popen[str] | None = None
        self._error = ""
        self._started = 0.0

    def start(self) -> JobPythonCheck:
        self._started = time.monotonic()
        try:
            self._proc = subprocess.Popen([self.python, "-c", SCRIPT], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                          stderr=subprocess.PIPE, text=True, env=self.env)
        except OSError as exc:
            self._error = f"cannot run {self.python}: {exc.strerror or exc}"
        return self

    def result(self) -> JobPython:
        if self._proc is None:
            return JobPython(self.python, error=self._error or "not started")
        try:
            out, err = self._proc.communicate(timeout=max(self.timeout - (time.monotonic() - self._started), 0.1))
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.communicate()
            return JobPython(self.python, error=f"{self.python} gave no answer within {self.timeout:g} s")
        return parse(self.python, self._proc.returncode, out, err)


def parse(python: str, code: int, out: str, err: str) -> JobPython:
    try:
        data = json.loads(out.strip().splitlines()[-1]) if out.strip() else None
    except ValueError:
        data = None
    if code != 0 or not isinstance(data, dict) or not isinstance(data.get("packages"), dict):
        said = [line.strip() for line in err.strip().splitlines() if line.strip()]
        return JobPython(python, error=f"{python} -c ... failed (exit {code})" + (f": {redact_url(said[-1])[:200]}" if said else ""))
    packages = {str(n): (bool(v[0]), v[1] if isinstance(v[1], str) else None)
                for n, v in data["packages"].items() if isinstance(v, list) and len(v) == 2}
    return JobPython(python, str(data.get("python", "")), packages)
