"""Helpers shared by the CLI-level tests: fixture copies and in-process CLI runs."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner, Result

from llmfix.cli import main

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "fixtures"
PATCHES = REPO / "patches"
CATALOG: dict[str, dict] = json.loads((FIXTURES / "catalog.json").read_text(encoding="utf-8"))
ALL_FIXTURES = sorted(CATALOG)
PATCHABLE = sorted(name for name, entry in CATALOG.items() if entry["helpers"])


def copy_fixture(name: str, destination: Path) -> Path:
    """A private copy of a fixture checkout (tests never touch fixtures/ itself)."""
    target = destination / name
    shutil.copytree(FIXTURES / name, target, symlinks=True)
    return target


def invoke(*args: str) -> Result:
    """Run ``llmfix ARGS`` in-process; stdout and stderr are kept apart."""
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def run_cli(*args: str, cwd: Path | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run ``python -m llmfix ARGS`` as a real process."""
    return subprocess.run(
        [sys.executable, "-m", "llmfix", *map(str, args)], capture_output=True, text=True, cwd=cwd, env=env, timeout=120
    )


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` and its bytes (to prove nothing changed)."""
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def target_files(name: str, root: Path) -> list[Path]:
    return [root / rel for rel in CATALOG[name]["files"].values()]


def exception_chain(exc: BaseException | None) -> list[BaseException]:
    """``exc`` and everything reachable through ``__cause__``/``__context__``."""
    chain: list[BaseException] = []
    while exc is not None and all(exc is not seen for seen in chain):
        chain.append(exc)
        exc = exc.__cause__ or exc.__context__
    return chain
