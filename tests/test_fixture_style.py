"""The fixtures' own style settings hold, checked with the real ruff and black binaries.

A checkout the catalog marks ``clean`` passes its repository's checks as it is:
upstream's ruff config (``ruff check`` and ``ruff format --check``, read from the
checkout's pyproject.toml), or DR Tulu's Makefile (black at 119 columns, isort with
the black profile, here ruff's isort rules with the same settings). A checkout marked
not clean fails them, so the mark is a fact too. Every run works on a temp copy.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
CATALOG: dict = json.loads((FIXTURES / "catalog.json").read_text(encoding="utf-8"))
STYLED = sorted(n for n in CATALOG if CATALOG[n]["style"]["tool"] is not None)

# `isort --profile black`: black-compatible wrapping at isort's own 88 columns.
ISORT_PROFILE_BLACK = ["--line-length", "88", "--config", 'lint.isort.known-first-party = ["open_instruct"]']


def _run(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


def _checks(name: str, copy: Path, env: dict[str, str]) -> dict[str, subprocess.CompletedProcess]:
    """Each check of the checkout's own style, run on the copy."""
    style = CATALOG[name]["style"]
    root = copy / CATALOG[name]["root_subdir"]
    if style["tool"] == "ruff":
        return {
            "ruff check": _run("ruff", "check", "--no-cache", ".", cwd=root, env=env),
            "ruff format --check": _run("ruff", "format", "--no-cache", "--check", ".", cwd=root, env=env),
        }
    return {
        "black --check": _run(
            "black", "--check", "--line-length", "119", "--target-version", "py310", "open_instruct", cwd=root, env=env
        ),
        "isort (profile black)": _run(
            "ruff", "check", "--isolated", "--no-cache", "--select", "I", *ISORT_PROFILE_BLACK, "open_instruct", cwd=root, env=env
        ),
    }


@pytest.fixture
def copy_env(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "BLACK_CACHE_DIR": str(tmp_path / "black-cache"), "PYTHONDONTWRITEBYTECODE": "1"}


@pytest.mark.parametrize("name", STYLED)
def test_style_mark_is_true(name, tmp_path, copy_env):
    copy = tmp_path / name
    shutil.copytree(FIXTURES / name, copy)
    results = _checks(name, copy, copy_env)
    failures = {check: r.stdout + r.stderr for check, r in results.items() if r.returncode != 0}
    if CATALOG[name]["style"]["clean"]:
        assert failures == {}
    else:
        assert failures, f"{name} is marked not clean but passes {sorted(results)}"
        assert all(r.returncode in (0, 1) for r in results.values()), failures  # 1 = findings, not a crash


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
