"""The scenario units themselves: the registry, the fixes they name, and, per unit, proof on real runs.

Everything here is derived from ``scenarios.units()``: a new scenario module is picked up
(and held to the same rules) without editing this file.
"""

from __future__ import annotations

import pkgutil
from pathlib import Path

import pytest
from verify_support import GROUPS, MUTANTS, RUNS, SHAPES, analyse, group_of

from llmfix.codemods import TRANSFORM_NAMES
from llmfix.verify import report, scenarios
from llmfix.verify.scenarios import BASICS

UNITS = scenarios.units()
RUNS_THAT_LACK_FIXES = [f"{shape}/unpatched" for shape in SHAPES] + [f"mutant/{mutant.name}" for mutant in MUTANTS]
PROVEN_BY = {"healthy": "mutant/wrong-text", "transient": "mutant/no-retries", "rate-limit": "mutant/no-retries"}  # else the unpatched shapes
JUDGE_CASE_UNITS = {"healthy", "transient", "persistent-500", "rate-limit", "fallback", "hang", "proxy", "health-healthy"}


def test_every_module_holds_units_each_with_a_unique_number_and_name():
    modules = {info.name for info in pkgutil.iter_modules(scenarios.__path__)}
    assert {unit.build.__module__.rsplit(".", 1)[1] for unit in UNITS} == modules
    assert len({u.NUMBER for u in UNITS}) == len({u.NAME for u in UNITS}) == len(UNITS) == 15
    assert [u.NUMBER for u in UNITS] == list(range(1, 16))
    assert all(unit.SUMMARY and unit.NAME == unit.NAME.strip().lower() for unit in UNITS)


def test_units_name_their_fixes_by_the_transforms_declarations():
    for unit in UNITS:
        assert set(unit.FIXES) <= set(TRANSFORM_NAMES), (unit.NAME, unit.FIXES, TRANSFORM_NAMES)
    proven = {fix for unit in UNITS for fix in unit.FIXES}
    assert set(TRANSFORM_NAMES) <= proven, f"no scenario proves {sorted(set(TRANSFORM_NAMES) - proven)}"


def test_the_reports_fix_order_is_the_transforms_order():
    assert scenarios.fix_order() == (*TRANSFORM_NAMES, BASICS)
    assert report.missing_fixes.__module__ == "llmfix.verify.report"  # the order has no hand-written copy there
    assert not hasattr(report, "FIX_ORDER")


@pytest.mark.parametrize("unit", UNITS, ids=[u.NAME for u in UNITS])
def test_cases_carry_the_units_number_and_name(unit):
    checkout = analyse(Path(__file__).resolve().parents[2] / "fixtures" / "drtulu-canonical")
    cases = scenarios.Scenario(unit, scenarios.Settings(), checkout).cases
    assert cases
    assert all(case.scenario == unit.NAME and case.id.startswith(str(unit.NUMBER)) for case in cases)
    assert len({case.id for case in cases}) == len(cases)
    for case in cases:
        assert len({step.label for step in case.steps}) == len(case.steps), case.id


def test_judge_cases_are_built_where_they_mean_something(hand_checkout):
    checkout = analyse(hand_checkout("judge", "patched"))
    built = {s.NAME: [c.id for c in s.cases if c.is_judge] for s in scenarios.build(scenarios.Settings(), checkout)}
    assert {name for name, ids in built.items() if ids} == JUDGE_CASE_UNITS
    assert built["persistent-500"] == ["3j", "3k"]
    without = analyse(Path(__file__).resolve().parents[2] / "fixtures" / "upstream-main-guarded")  # its judge awaits the raw helper
    assert not any(c.is_judge for s in scenarios.build(scenarios.Settings(), without) for c in s.cases)  # no judge, no judge case


@pytest.mark.parametrize("unit", UNITS, ids=[u.NAME for u in UNITS])
@pytest.mark.parametrize("shape", [pytest.param(shape, marks=group_of(f"{shape}/patched"), id=shape) for shape in SHAPES])
def test_every_case_of_the_unit_passes_on_the_patched_shape(verify_runs, unit, shape):
    outcomes = [o for o in verify_runs[f"{shape}/patched"].outcomes if o.case.scenario == unit.NAME]
    assert outcomes
    assert all(o.status in ("pass", "skip") for o in outcomes), [(o.case.id, o.problems) for o in outcomes if o.status == "fail"]
    assert shape == "judge" or all(o.status == "pass" for o in outcomes)  # the judge checkout has no helper: the others are skipped


@pytest.mark.parametrize("unit", [pytest.param(unit, marks=group_of(PROVEN_BY.get(unit.NAME, "drtulu/unpatched")), id=unit.NAME) for unit in UNITS])
def test_the_unit_fails_naming_its_fix_when_the_fix_is_missing(verify_runs, unit):
    """Some run lacking a fix (an unpatched shape, or a mutant where the shapes lack nothing the unit shows) fails this unit,
    naming the unit's own fix."""
    group = RUNS[PROVEN_BY.get(unit.NAME, "drtulu/unpatched")].group
    named = set()
    for key in (key for key in RUNS_THAT_LACK_FIXES if RUNS[key].group == group):
        for outcome in verify_runs[key].outcomes:
            if outcome.case.scenario == unit.NAME:
                named |= {fix for fix, _ in outcome.problems}
    assert (unit.FIXES[0] if unit.FIXES else BASICS) in named, (unit.NAME, named)  # its main fix, basics for a baseline


@pytest.mark.parametrize("group", [pytest.param(group, marks=pytest.mark.xdist_group(f"verify-{group}")) for group in GROUPS])
def test_every_unit_names_only_its_own_fixes(verify_runs, group):
    units = {unit.NAME: unit for unit in UNITS}
    for key in (key for key, run in RUNS.items() if run.group == group):
        for outcome in verify_runs[key].outcomes:
            allowed = set(units[outcome.case.scenario].FIXES) | {BASICS}
            assert {fix for fix, _ in outcome.problems} <= allowed, (key, outcome.case.id, outcome.problems)


def test_the_docs_table_has_a_row_for_every_unit():
    """docs/verify-and-doctor.md's scenario table: a row per unit, by number (or its case ids) and name."""
    docs = (Path(__file__).resolve().parents[2] / "docs" / "verify-and-doctor.md").read_text(encoding="utf-8")
    rows = [line for line in docs.splitlines() if line.startswith("| ") and line.count("|") == 5]
    for unit in UNITS:
        assert any(row.split("|")[2].strip() == unit.NAME and row.split("|")[1].strip().startswith(str(unit.NUMBER)) for row in rows), unit.NAME
