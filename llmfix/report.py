"""What llmfix prints of a plan list: apply's and check's outcomes (a scannable table, or JSON), and diff's
views of it (the unified diff, ``--stat``, ``--json``, and ``--markdown``: the pull request description).

Each transform states its behaviour changes (:class:`~llmfix.codemods.transform.Change`): what changes
for a function, and the environment that brings the old behaviour back; apply's text and the pull
request description both tell them, with the callers a changed default reaches and the tests pinning it.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence

from llmfix import diffing
from llmfix.codemods import support
from llmfix.codemods.transform import ALREADY_PRESENT, APPLIED, Change
from llmfix.planning import EDITED, SUPPORT, FilePlan, dotted_module_name
from llmfix.reach import PinnedTest, callers, pinned_tests
from llmfix.record import Record

PENDING = "pending"  # the JSON status of a fix that was not written (check, --dry-run)
FIGURES = ("added", "removed", "hunks")
TITLE = "llmfix: LiteLLM calls that survive a bad network"
INTRO = (
    "The LiteLLM calls through which RL training gets its reward (rubric generation, rubric and LLM judging) "
    "now retry longer, can fall back to other models, time out per attempt, turn empty answers into a "
    "warning, check the endpoint before the first request and count their outcomes, so that an outage "
    "stops training loudly instead of silently degrading the reward. The support code lives in its own "
    f"module, `{support.FILE_NAME}`; the upstream files get one import and small edits."
)
VERIFY_ITEM = (
    "- [ ] `llmfix verify`: each patched function against a fault-injecting endpoint (refused, reset, hanging, "
    "5xx/429, empty answers, a dead primary with a fallback, a dead proxy, an outage the alarm must stop); "
    "it fails on the unpatched code"
)


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


def to_text(command: str, plans: Sequence[FilePlan], verbose: bool = False, dry_run: bool = False, quiet: bool = False) -> str:
    """One block per file, one line per transform, apply's reviewer notes; then a summary line (alone when ``quiet``)."""
    applied = "would apply" if dry_run else "applied" if command == "apply" else PENDING
    lines = []
    counts: Counter[str] = Counter()
    for plan in plans:
        lines.append(plan.target.relpath)
        for name, outcome in plan.outcomes.items():
            counts[outcome.status] += not plan.support and name != SUPPORT  # the support module is not a fix
            if verbose or outcome.status in (APPLIED, ALREADY_PRESENT, EDITED):
                lines.append(f"  {name:<10} {applied if outcome.status == APPLIED else outcome.status:<16} {outcome.reason}")
    if quiet:
        return summary(command, plans, counts, dry_run)
    if command == "apply":
        lines += _reviewer_notes(plans)
    return "\n".join([*lines, summary(command, plans, counts, dry_run)])


def _reviewer_notes(plans: Sequence[FilePlan]) -> list[str]:
    """The behaviour changes, the environment that restores them, and the tests that pin old defaults."""
    changes = behaviour_changes(plans)
    if not changes:
        return []
    lines = ["behaviour changes (`llmfix diff --markdown` lists them for the PR):"]
    lines += [f"  {plan.target.relpath}: {change.text}" for plan, change in changes]
    assignments, exceptions = old_behaviour([c for _, c in changes])
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


def behaviour_changes(plans: Sequence[FilePlan]) -> list[tuple[FilePlan, Change]]:
    """(file, change) for every behaviour change, in file then transform order."""
    return [(plan, change) for plan in plans for outcome in plan.outcomes.values() for change in outcome.changes]


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
        f"{_function(change)} had {name}={value}, which no single {name} restores together with the others"
        for change in changes
        for name, value in change.restore
        if env.get(name) != value
    ]
    return assignments, exceptions


def pinned(plans: Sequence[FilePlan]) -> list[PinnedTest]:
    """The checkouts' own tests that pin a default the patch changes."""
    found: list[PinnedTest] = []
    for root in sorted({p.target.root for p in plans}):
        old = {c.key: c.old for plan, c in behaviour_changes(plans) if plan.target.root == root and c.key and c.old is not None}
        found += pinned_tests(root, old)
    return found


def _count(plan: FilePlan) -> tuple[int, int, int]:
    return diffing.count(plan.original, plan.patched)


def _file_diff(plan: FilePlan) -> str:
    return diffing.unified_diff(plan.target.relpath, plan.original, plan.patched, created=not plan.exists, deleted=plan.delete)


def diff_view(plans: Sequence[FilePlan], view: str) -> str:
    """``llmfix diff``'s text of ``plans``: ``diff`` (git's format), ``stat``, ``json`` or ``md`` (the PR description)."""
    if view == "md":
        return _markdown(plans)
    if view == "stat":
        return _stat(plans)
    if view == "json":
        files = [{**p.to_json(), **dict(zip(FIGURES, _count(p))), "diff": _file_diff(p)} for p in plans]
        return json.dumps({"command": "diff", "changed": any(p.changed for p in plans), "files": files}, indent=2) + "\n"
    return "".join(_file_diff(p) for p in plans)


def _stat(plans: Sequence[FilePlan]) -> str:
    """Per changed file its lines and hunks, then per transform; then the totals."""
    rows, totals = [], [0, 0]
    changed = [p for p in plans if p.changed]
    for plan in changed:
        added, removed, hunks = _count(plan)
        totals = [totals[0] + added, totals[1] + removed]
        if not plan.exists or plan.delete:
            what = "removed (llmfix's old copy)" if plan.delete else "a new file (the support the patched code calls)"
            rows.append(f" {plan.target.relpath} | +{added} -{removed}, {what}")
            continue
        rows.append(f" {plan.target.relpath} | +{added} -{removed}, {hunks} hunk{'s' if hunks != 1 else ''}, {removed} upstream line(s) touched")
        steps = [(name, *diffing.count(before, after)) for name, before, after in plan.step_texts()]
        rows.extend(f"     {name:<10} +{added} -{removed}" for name, added, removed, _ in steps)
    rows.append(f" {len(changed)} file(s) changed, {totals[0]} insertion(s)(+), {totals[1]} deletion(s)(-)")
    return "\n".join(rows) + "\n"


def _function(change: Change) -> str:
    return change.text.split(":", 1)[0]


def _section(title: str, lines: list[str]) -> list[str]:
    return ["", f"### {title}", "", *lines] if lines else []


def _markdown(plans: Sequence[FilePlan]) -> str:
    """The pull request description: per function what changes in behaviour, the callers a changed default reaches,
    the environment that restores the old behaviour, the repo's tests that pin a changed default, the test plan."""
    lines = [f"## {TITLE}", ""]
    if not any(p.changed for p in plans):
        lines.append(f"Nothing to change: every selected fix is already in place ({len(plans)} file(s) checked).")
        return "\n".join(lines) + "\n"
    lines += [INTRO, "", *_files_table(plans)]
    grouped: dict[tuple[str, str], list[str]] = {}
    for plan, change in behaviour_changes(plans):
        grouped.setdefault((plan.target.path.name, _function(change)), []).append(change.text.split(":", 1)[1].strip())
    lines += _section("What changes, per function", [f"- `{f}` ({name}): {'; '.join(texts)}" for (name, f), texts in grouped.items()])
    lines += _section("Callers the new defaults reach", _callers(plans))
    assignments, exceptions = old_behaviour([c for _, c in behaviour_changes(plans)])
    restore = ["For a test run, or to back out without reverting:", "", "```sh", f"export {assignments}", "```"]
    lines += _section("The old behaviour", [*restore, *(f"- {text}" for text in exceptions)] if assignments else [])
    lines += _section("Test plan", ["- [ ] `llmfix check` in CI: every fix stays in place", VERIFY_ITEM, *_pinned_items(plans)])
    present = [f"{plan.target.path.name} {name}" for plan in plans for name, o in plan.outcomes.items() if o.status == ALREADY_PRESENT]
    if present:
        lines += ["", f"Already in place, unchanged: {', '.join(present)}."]
    return "\n".join(lines) + "\n"


def _files_table(plans: Sequence[FilePlan]) -> list[str]:
    rows = ["| file | change |", "|---|---|"]
    for plan in (p for p in plans if p.changed):
        added, removed, _ = _count(plan)
        if not plan.exists:
            rows.append(
                f"| `{plan.target.relpath}` | new, {added} lines: llmfix's support module, written whole"
                " (`llmfix apply` keeps it current, `llmfix revert` removes it) |"
            )
        else:
            rows.append(f"| `{plan.target.relpath}` | +{added} -{removed} |")
    for checkout, root in sorted({(p.target.checkout, p.target.root) for p in plans}):
        record = Record(checkout).path.relative_to(root).as_posix()
        rows.append(f"| `{record}` | what `llmfix revert` needs: the defaults the patch replaced |")
    return rows


def _callers(plans: Sequence[FilePlan]) -> list[str]:
    lines = []
    for plan in plans:
        if plan.support or plan.target.path.name != "run_utils.py":
            continue
        changed = {_function(c).rstrip("()") for o in plan.outcomes.values() for c in o.changes}
        module = dotted_module_name(plan.target.path) or plan.target.path.stem
        by_helper: dict[str, list[str]] = {}
        for caller in callers(plan.target.checkout, module, changed, plan.target.path):
            by_helper.setdefault(caller.helper, []).append(str(caller))
        lines += [f"- `{helper}()`: {', '.join(places)}" for helper, places in sorted(by_helper.items())]
    return lines


def _pinned_items(plans: Sequence[FilePlan]) -> list[str]:
    tests = pinned(plans)
    items = [f"  - `{t.path}::{t.test}` (line {t.line}): `{t.key} == {t.value!r}`" for t in tests]
    return ["- [ ] the repo's tests that pin a changed default pass with the old-behaviour variables:", *items] if tests else []
