"""How apply and check tell the user what happened (a scannable table, or JSON), and the behaviour changes of a plan.

Each transform states its behaviour changes (:class:`~llmfix.codemods.transform.Change`): what
changes for a function, and the environment that brings the old behaviour back; apply's report
and the PR description (:mod:`llmfix.markdown`) both tell them.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence

from llmfix.codemods import ALREADY_PRESENT, APPLIED
from llmfix.codemods.transform import Change
from llmfix.pinned import PinnedTest, pinned_tests
from llmfix.planning import SUPPORT, FilePlan

STATUS_WORDS = {
    "apply": {APPLIED: "applied"},
    "check": {APPLIED: "pending"},
}
PENDING = "pending"  # the JSON status of a fix that was not written (check, --dry-run)


def to_json(command: str, plans: Sequence[FilePlan], exit_code: int, dry_run: bool = False) -> str:
    files = [p.to_json() for p in plans]
    if command != "apply" or dry_run:
        for entry in files:
            for outcome in entry["transforms"].values():
                if outcome["status"] == APPLIED:
                    outcome["status"] = PENDING
    return json.dumps(
        {"command": command, "dry_run": dry_run, "exit_code": exit_code, "pending": any(p.pending for p in plans), "files": files},
        indent=2,
    )


def to_text(command: str, plans: Sequence[FilePlan], verbose: bool = False, dry_run: bool = False) -> str:
    """One block per file, one line per transform; then a summary line."""
    words = STATUS_WORDS.get(command, {})
    lines = []
    counts: Counter[str] = Counter()
    for plan in plans:
        lines.append(plan.target.relpath)
        for name, outcome in plan.outcomes.items():
            counts[outcome.status] += not plan.support and name != SUPPORT  # the support module is not a fix
            status = words.get(outcome.status, outcome.status)
            if dry_run and outcome.status == APPLIED:
                status = "would apply"
            if verbose or outcome.status in (APPLIED, ALREADY_PRESENT, "edited"):
                lines.append(f"  {name:<10} {status:<16} {outcome.reason}")
    if command == "apply":
        lines += _reviewer_notes(plans)
    lines.append(summary(command, plans, counts, dry_run))
    return "\n".join(lines)


def _reviewer_notes(plans: Sequence[FilePlan]) -> list[str]:
    """The behaviour changes, the environment that restores them, and the tests that pin old defaults."""
    changes = behaviour_changes(plans)
    if not changes:
        return []
    lines = ["behaviour changes (`llmfix diff --markdown` lists them for the PR):"]
    lines += [f"  {plan.target.relpath}: {change.text}" for plan, _, change in changes]
    assignments, exceptions = old_behaviour([c for _, _, c in changes])
    if assignments:
        lines.append(f"  old behaviour: {assignments}" + (f" ({'; '.join(exceptions)})" if exceptions else ""))
    tests = pinned(plans)
    if tests:
        lines.append("tests that pin a default the patch changes (they pass with the old-behaviour variables):")
        lines += [f"  {t}" for t in tests]
    return lines


def summary(command: str, plans: Sequence[FilePlan], counts: Counter[str], dry_run: bool) -> str:
    changed = sum(1 for p in plans if p.changed)
    plans = [p for p in plans if not p.support]  # the files the fixes are in
    applied, present = counts[APPLIED], counts[ALREADY_PRESENT]
    if not applied and not present:
        return f"nothing to patch: no LiteLLM call site in {len(plans)} file(s)"
    if command == "check":
        if changed:
            return f"{changed} file(s) would change: {applied} fix(es) pending, {present} already present; `llmfix apply` on the same path(s) adds them"
        return f"all fixes present ({present} already present) in {len(plans)} file(s)"
    if not changed:
        return f"nothing to do: {present} fix(es) already present in {len(plans)} file(s)"
    if dry_run:
        return f"would patch {changed} file(s): {applied} fix(es) would be applied, {present} already present"
    return f"patched {changed} file(s): {applied} fix(es) applied, {present} already present"


def behaviour_changes(plans: Sequence[FilePlan]) -> list[tuple[FilePlan, str, Change]]:
    """(file, transform, change) for every behaviour change, in file then transform order."""
    return [(plan, name, change) for plan in plans for name, outcome in plan.outcomes.items() for change in outcome.changes]


def old_behaviour(changes: Sequence[Change]) -> tuple[str, list[str]]:
    """The shell assignments that bring the old behaviour back (per variable, the old value most helpers had; "" when
    none), and per function whose old value they can't give back, what it had."""
    values: dict[str, Counter[str]] = {}
    for change in changes:
        for name, value in change.restore:
            values.setdefault(name, Counter())[value] += 1
    env = {name: counts.most_common(1)[0][0] for name, counts in values.items()}
    assignments = " ".join(f"{n}={v!r}" if (not v or " " in v or "," in v) else f"{n}={v}" for n, v in env.items())
    exceptions = [
        f"{change.text.split(':', 1)[0]} had {name}={value}, which no single {name} restores together with the others"
        for change in changes
        for name, value in change.restore
        if env.get(name) != value
    ]
    return assignments, exceptions


def pinned(plans: Sequence[FilePlan]) -> list[PinnedTest]:
    """The checkouts' own tests that pin a default the patch changes."""
    found: list[PinnedTest] = []
    for root in sorted({p.target.root for p in plans}):
        old = {c.key: c.old for plan, _, c in behaviour_changes(plans) if plan.target.root == root and c.key and c.old is not None}
        found += pinned_tests(root, old)
    return found
