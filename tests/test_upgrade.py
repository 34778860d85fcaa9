"""A checkout patched by the first llmfix (its support spread through run_utils.py, its record
at the folder the user named, version 1 with whole texts) is upgraded by apply in one run.

tests/upgrade/round1-drtulu-canonical is fixtures/drtulu-canonical as the first llmfix left it.
"""

from __future__ import annotations

import ast
import shutil
from collections import Counter
from pathlib import Path

from support import CATALOG, FIXTURES, invoke

ROUND1 = Path(__file__).parent / "upgrade" / "round1-drtulu-canonical"
NAME = "drtulu-canonical"


def _copy(tmp_path: Path) -> Path:
    root = tmp_path / NAME
    shutil.copytree(ROUND1, root, symlinks=True)
    return root


def _targets(root: Path) -> list[Path]:
    return [root / rel for rel in CATALOG[NAME]["files"].values()]


def test_apply_upgrades_the_first_llmfixs_patch_in_one_run(tmp_path):
    root = _copy(tmp_path)
    first = invoke("apply", root)
    assert first.exit_code == 0, first.stderr
    assert "from an earlier llmfix replaced" in first.stdout
    upgraded = {p: p.read_bytes() for p in _targets(root)}
    assert invoke("check", root).exit_code == 0  # converged: nothing left for a second run
    assert invoke("apply", root).exit_code == 0
    assert {p: p.read_bytes() for p in _targets(root)} == upgraded
    for path in _targets(root):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        defined = Counter(node.name for node in tree.body if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)))
        assert [name for name, count in defined.items() if count > 1] == [], path.name


def test_revert_after_the_upgrade_gives_back_upstreams_files(tmp_path):
    root = _copy(tmp_path)
    assert invoke("apply", root).exit_code == 0
    assert invoke("revert", root).exit_code == 0
    for rel in CATALOG[NAME]["files"].values():
        assert (root / rel).read_bytes() == (FIXTURES / NAME / rel).read_bytes(), rel
