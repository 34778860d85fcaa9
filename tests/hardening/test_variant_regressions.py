"""Variants hypothesis once broke llmfix with, kept as plain tests (regressions/cases.json).

Each case is a whole drifted file and the fixture it was drawn from; it must pass
the same properties as any variant (variant_checks.check), revert included. ``found`` says
what it once broke; ``exercises`` what it still puts to the test.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support import CATALOG, FIXTURES
from variant_checks import check, plan

HERE = Path(__file__).resolve().parent / "regressions"
CASES = json.loads((HERE / "cases.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("case", CASES, ids=[c["file"] for c in CASES])
def test_regression(case):
    root = FIXTURES / case["fixture"]
    path = root / CATALOG[case["fixture"]]["files"][case["kind"]]
    original = path.read_bytes().decode("utf-8")
    expected = {n: o.status for n, o in plan(path, root, original).outcomes.items()}
    source = (HERE / case["file"]).read_bytes().decode("utf-8")
    check(path, root, source, expected, CATALOG[case["fixture"]]["generator"])
