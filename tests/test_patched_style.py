"""A patched checkout passes its own repo's style checks: no new lint finding, format-clean stays clean.

Each fixture is checked before and after ``llmfix apply`` with the real tools and the
checkout's own settings (see ``support.style_report``): upstream's ruff config (``ruff
check`` and ``ruff format --check``); DR Tulu's Makefile (black at 119 for py310, isort's
black profile and flake8's rules, both through ruff's rules at their settings); for a
checkout without settings, a ruff config like upstream's. Each tool runs once per
checkout state on all its Python files together, the new support module included, and
the results are cached by content for the session (tests/test_fixture_style.py checks
the same pristine copies).

The property, per file the patch touches or adds: no (file, rule) finding that was not
there before (for the new ``litellm_utils.py``: none at all), and every file the
formatter accepted before it still accepts (the new module: accepted).
"""

from __future__ import annotations

import pytest
from support import CATALOG, PATCHABLE, python_files, snapshot, style_report, support_module


def _relative(name: str, path) -> str:
    root = CATALOG[name]["root_subdir"]
    rel = path.as_posix().removeprefix("./")
    return rel if root == "." else rel.removeprefix(root + "/")


@pytest.mark.parametrize("name", PATCHABLE)
def test_patch_adds_no_finding_and_keeps_format_clean_files_clean(checkouts, name):
    pristine, patched = checkouts.pristine(name), checkouts.patched(name)
    before, after = style_report(name, pristine), style_report(name, patched.copy)
    module = _relative(name, support_module(name, patched.copy).relative_to(patched.copy))
    old, new = snapshot(pristine), snapshot(patched.copy)
    touched = {_relative(name, _path(p)) for p in new if p.endswith(".py") and old.get(p) != new[p]}
    assert module in touched and set(touched) <= set(python_files(patched.root))

    added = {key: count - before.findings[key] for key, count in after.findings.items() if key[0] in touched and count > before.findings[key]}
    assert added == {}, f"{name}: findings the patch adds, (file, rule): count: {added}"
    if after.unformatted is not None:
        was_clean = {path for path in touched if path in before.files and path not in before.unformatted}
        assert not (was_clean | {module}) & after.unformatted, f"{name}: formatter would now change {sorted((was_clean | {module}) & after.unformatted)}"


def _path(text: str):
    from pathlib import PurePosixPath

    return PurePosixPath(text)
