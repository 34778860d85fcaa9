"""Fixture checkouts for the verify tests: copied, optionally patched, never edited in place.

``checkout_copy(name, patched)`` copies ``fixtures/<name>`` into a session temp folder and,
when asked, runs ``python -m llmfix apply`` on the copy. verify only reads a checkout, so
copies are shared by every test of the session.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "fixtures"
CATALOG = json.loads((FIXTURES / "catalog.json").read_text(encoding="utf-8"))
WITH_HELPERS = [name for name, entry in CATALOG.items() if entry["helpers"]]


@pytest.fixture(scope="session")
def checkout_copy(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str, bool], Path]:
    made: dict[tuple[str, bool], Path] = {}
    base = tmp_path_factory.mktemp("verify-checkouts")
    # patch every fixture up front, all at once (one `llmfix apply` process each)
    applying = []
    for name in WITH_HELPERS:
        destination = base / "patched" / name
        shutil.copytree(FIXTURES / name, destination)
        command = [sys.executable, "-m", "llmfix", "apply", str(destination)]
        applying.append((command, subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)))
        made[(name, True)] = destination
    for command, process in applying:
        output = process.communicate()[0].decode(errors="replace")
        assert process.returncode == 0, f"{' '.join(command)} failed: {output}"

    def make(name: str, patched: bool) -> Path:
        key = (name, patched)
        if key not in made:
            destination = base / ("patched" if patched else "unpatched") / name
            shutil.copytree(FIXTURES / name, destination)
            if patched:
                subprocess.run([sys.executable, "-m", "llmfix", "apply", str(destination)], check=True, capture_output=True, cwd=REPO)
            made[key] = destination
        return made[key]

    return make
