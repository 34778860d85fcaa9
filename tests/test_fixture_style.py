"""The fixtures' own style settings hold, checked with the real ruff and black binaries.

A checkout the catalog marks ``clean`` passes its repository's checks as it is:
upstream's ruff config (``ruff check`` and ``ruff format --check``, read from the
checkout's pyproject.toml), or DR Tulu's Makefile (black at 119 columns, isort with
the black profile, here ruff's isort rules with the same settings). A checkout marked
not clean fails them, so the mark is a fact too. The tools run once per checkout on a
shared temp copy (``support.style_report``, also the "before" of test_patched_style).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from support import CATALOG, FIXTURES, style_report

STYLED = sorted(n for n in CATALOG if CATALOG[n]["style"]["tool"] is not None)


def _run(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


@pytest.fixture
def copy_env(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "BLACK_CACHE_DIR": str(tmp_path / "black-cache"), "PYTHONDONTWRITEBYTECODE": "1"}


@pytest.mark.parametrize("name", STYLED)
def test_style_mark_is_true(name, checkouts):
    """Clean: the checkout's linter (for DR Tulu: isort's rules) and formatter accept every file; not clean: they don't."""
    report = style_report(name, checkouts.pristine(name))  # the same run test_patched_style compares against
    rules = {rule for _, rule in report.findings}
    if CATALOG[name]["style"]["tool"] == "black":
        rules = {rule for rule in rules if rule.startswith("I")}  # flake8 is not part of the mark
    problems = {"lint": sorted(rules), "format": sorted(report.unformatted or ())}
    if CATALOG[name]["style"]["clean"]:
        assert problems == {"lint": [], "format": []}
    else:
        assert problems["lint"] or problems["format"], f"{name} is marked not clean but passes"


@pytest.mark.parametrize("name", [n for n in STYLED if CATALOG[n]["style"]["tool"] == "ruff"])
def test_ruff_reads_the_checkouts_own_config(name, tmp_path, copy_env):
    copy = tmp_path / name
    shutil.copytree(FIXTURES / name, copy)
    target = copy / CATALOG[name]["files"]["run_utils"]
    result = _run("ruff", "check", "--no-cache", "--show-settings", str(target), cwd=copy, env=copy_env)
    assert result.returncode == 0, result.stderr
    assert f'Settings path: "{copy / CATALOG[name]["style"]["config"]}"' in result.stdout
    assert "linter.line_length = 119" in result.stdout
    assert "formatter.magic_trailing_comma = ignore" in result.stdout
