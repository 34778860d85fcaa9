"""A patched checkout passes its own repo's style checks: no new lint finding, format-clean stays clean.

Each fixture is patched on a temp copy and checked, before and after, with the real
tools and the checkout's own settings: upstream's ruff config (``ruff check`` and
``ruff format --check``), DR Tulu's Makefile (black at 119 and isort's black profile,
here ruff's isort rules), and, for a checkout without settings, a ruff config like
upstream's. Findings are counted per file and rule: none may appear that wasn't there.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from support import CATALOG, FIXTURES, PATCHABLE, invoke

UPSTREAM_LIKE = [
    "--line-length", "119",
    "--target-version", "py310",
    "--select", "F,E,W,I,SIM,UP,B,PLC0415",
    "--ignore", "B905,E501",
    "--config", 'lint.isort.known-first-party = ["open_instruct", "mason"]',
    "--config", "lint.isort.case-sensitive = false",
    "--config", "lint.isort.split-on-trailing-comma = false",
]
ISORT_PROFILE_BLACK = ["--select", "I", "--line-length", "88", "--config", 'lint.isort.known-first-party = ["open_instruct"]']


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "BLACK_CACHE_DIR": str(cwd / ".black-cache"), "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run([sys.executable, "-m", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


def _targets(name: str, copy: Path) -> list[str]:
    return [str(copy / rel) for rel in CATALOG[name]["files"].values() if (copy / rel).exists()]


def _findings(args: list[str], cwd: Path, files: list[str]) -> Counter:
    result = _run(["ruff", "check", "--no-cache", "--output-format", "json", *args, *files], cwd)
    assert result.returncode in (0, 1), result.stderr
    return Counter((Path(f["filename"]).name, f["code"]) for f in json.loads(result.stdout or "[]"))


def _lint(name: str, copy: Path) -> Counter:
    style = CATALOG[name]["style"]
    root = copy / CATALOG[name]["root_subdir"]
    files = _targets(name, copy)
    if style["tool"] == "ruff":
        return _findings([], root, files)
    if style["tool"] == "black":
        return _findings(["--isolated", *ISORT_PROFILE_BLACK], root, files)
    return _findings(["--isolated", *UPSTREAM_LIKE], root, files)


def _formatted(name: str, copy: Path) -> bool | None:
    """Whether the checkout's own formatter is satisfied; None when it has none."""
    style = CATALOG[name]["style"]
    root = copy / CATALOG[name]["root_subdir"]
    files = _targets(name, copy)
    if style["tool"] == "ruff":
        return _run(["ruff", "format", "--no-cache", "--check", *files], root).returncode == 0
    if style["tool"] == "black":
        return _run(["black", "--check", "--line-length", "119", "--target-version", "py310", *files], root).returncode == 0
    return None


@pytest.mark.parametrize("name", PATCHABLE)
def test_patch_adds_no_finding_and_keeps_format_clean(name, tmp_path):
    copy = tmp_path / name
    shutil.copytree(FIXTURES / name, copy)
    lint_before, format_before = _lint(name, copy), _formatted(name, copy)
    assert invoke("apply", copy).exit_code == 0
    lint_after, format_after = _lint(name, copy), _formatted(name, copy)
    new = {key: count - lint_before[key] for key, count in lint_after.items() if count > lint_before[key]}
    assert new == {}, f"new findings (file, rule): {new}"
    if format_before:
        assert format_after, f"{name} was format-clean and is not after the patch"
