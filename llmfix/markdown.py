"""``llmfix diff --markdown``: the pull request description a maintainer reads.

Per function, what changes in behaviour; the callers a changed default reaches; the environment
that restores the old behaviour; the repo's tests that pin a changed default; the test plan. No diff.
"""

from __future__ import annotations

from collections.abc import Sequence

from llmfix.callers import callers
from llmfix.codemods import support
from llmfix.codemods.transform import ALREADY_PRESENT, Change
from llmfix.diffing import plan_count
from llmfix.planning import FilePlan, dotted_module_name
from llmfix.record import Record
from llmfix.report import behaviour_changes, old_behaviour, pinned

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


def _function(change: Change) -> str:
    return change.text.split(":", 1)[0]


def _files_table(plans: Sequence[FilePlan]) -> list[str]:
    rows = ["| file | change |", "|---|---|"]
    for plan in plans:
        if not plan.changed:
            continue
        count = plan_count(plan)
        if not plan.exists:
            rows.append(
                f"| `{plan.target.relpath}` | new, {count.added} lines: llmfix's support module, written whole"
                " (`llmfix apply` keeps it current, `llmfix revert` removes it) |"
            )
        else:
            rows.append(f"| `{plan.target.relpath}` | +{count.added} -{count.removed} |")
    for checkout, root in sorted({(p.target.checkout, p.target.root) for p in plans}):
        record = Record(checkout).path.relative_to(root).as_posix()
        rows.append(f"| `{record}` | what `llmfix revert` needs: the defaults the patch replaced |")
    return rows


def _per_function(plans: Sequence[FilePlan]) -> list[str]:
    grouped: dict[tuple[str, str], list[str]] = {}
    for plan, _, change in behaviour_changes(plans):
        grouped.setdefault((plan.target.path.name, _function(change)), []).append(change.text.split(":", 1)[1].strip())
    return [f"- `{function}` ({name}): {'; '.join(texts)}" for (name, function), texts in grouped.items()]


def _callers(plans: Sequence[FilePlan]) -> list[str]:
    lines = []
    for plan in plans:
        if plan.support or plan.target.path.name != "run_utils.py":
            continue
        changed = {_function(c).rstrip("()") for o in plan.outcomes.values() for c in o.changes}
        module = dotted_module_name(plan.target.path) or plan.target.path.stem
        found = callers(plan.target.checkout, module, changed, plan.target.path)
        by_helper: dict[str, list[str]] = {}
        for caller in found:
            by_helper.setdefault(caller.helper, []).append(str(caller))
        lines += [f"- `{helper}()`: {', '.join(places)}" for helper, places in sorted(by_helper.items())]
    return lines


def render_markdown(plans: Sequence[FilePlan]) -> str:
    changed = [p for p in plans if p.changed]
    lines = [f"## {TITLE}", ""]
    if not changed:
        lines.append(f"Nothing to change: every selected fix is already in place ({len(plans)} file(s) checked).")
        return "\n".join(lines) + "\n"
    lines += [INTRO, "", *_files_table(plans)]
    per_function = _per_function(plans)
    if per_function:
        lines += ["", "### What changes, per function", "", *per_function]
    reached = _callers(plans)
    if reached:
        lines += ["", "### Callers the new defaults reach", "", *reached]
    lines += _old_behaviour(plans)
    lines += _test_plan(plans)
    present = [f"{plan.target.path.name} {name}" for plan in plans for name, o in plan.outcomes.items() if o.status == ALREADY_PRESENT]
    if present:
        lines += ["", f"Already in place, unchanged: {', '.join(present)}."]
    return "\n".join(lines) + "\n"


def _old_behaviour(plans: Sequence[FilePlan]) -> list[str]:
    assignments, exceptions = old_behaviour([c for _, _, c in behaviour_changes(plans)])
    if not assignments:
        return []
    lines = ["", "### The old behaviour", "", "For a test run, or to back out without reverting:", "", "```sh", f"export {assignments}", "```"]
    return lines + [f"- {text}" for text in exceptions]


def _test_plan(plans: Sequence[FilePlan]) -> list[str]:
    tests = pinned(plans)
    lines = ["", "### Test plan", "", "- [ ] `llmfix check` in CI: every fix stays in place", VERIFY_ITEM]
    if tests:
        lines.append("- [ ] the repo's tests that pin a changed default pass with the old-behaviour variables:")
        lines += [f"  - `{t.path}::{t.test}` (line {t.line}): `{t.key} == {t.value!r}`" for t in tests]
    return lines
