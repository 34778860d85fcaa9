"""``llmfix diff --markdown``: a PR-ready summary of what apply would change.

First what a reviewer must know: every behaviour change, per helper, in plain words;
the environment that restores the old behaviour (for a test suite, or to back out);
the repo's own tests that pin a default the patch changes. Then one section per
transform that changes something: what it does and why (from its declaration), the
files with their counts, and its diff folded in a ``<details>`` block. Each
transform's diff is taken against the text the previous transforms left, so the
blocks applied in order give apply's result. Fixes already in place come last.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

from llmfix.codemods import registry
from llmfix.codemods.transform import ALREADY_PRESENT, Change, Transform
from llmfix.diffing import LineCount, count_lines, unified_diff
from llmfix.pinned import PinnedTest, pinned_tests
from llmfix.planning import FilePlan

TITLE = "llmfix: LiteLLM calls that survive a bad network"


def _markdown_text(rst: str) -> str:
    """One docstring paragraph as markdown: joined lines, ``code`` as `code`."""
    return " ".join(rst.split()).replace("``", "`")


def _blocks(text: str) -> list[str]:
    return [b for b in re.split(r"\n\s*\n", text) if b.strip()]


def why(transform: type[Transform]) -> str:
    """The ``Why:`` paragraph of a transform's documentation (without the label).

    A paragraph ending in ``::`` keeps its literal block, as a code block.
    """
    blocks = _blocks(transform.documentation())
    for index, block in enumerate(blocks):
        if block.startswith("Why:"):
            text = _markdown_text(block[len("Why:"):])
            if text.endswith("::") and index + 1 < len(blocks):
                literal = blocks[index + 1]
                indent = min(len(line) - len(line.lstrip()) for line in literal.splitlines() if line.strip())
                literal = "\n".join(line[indent:] for line in literal.splitlines())
                fence = fence_for(literal)
                return f"{text[:-1]}\n\n{fence}\n{literal}\n{fence}"
            return text
    return ""


def what(transform: type[Transform]) -> str:
    """The transform's description, without its leading ``name:``."""
    description = _markdown_text(transform.description())
    prefix = f"{transform.NAME}:"
    return description[len(prefix):].strip() if description.startswith(prefix) else description


def fence_for(text: str) -> str:
    """A backtick fence longer than any run of backticks inside ``text``."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    return "`" * max(3, longest + 1)


def _count(diff_text: str) -> tuple[int, int, int]:
    counts: list[LineCount] = count_lines(diff_text)
    return sum(c.added for c in counts), sum(c.removed for c in counts), sum(c.hunks for c in counts)


def behaviour_changes(plans: Sequence[FilePlan]) -> list[tuple[FilePlan, str, Change]]:
    """(file, transform, change) for every behaviour change, in file then transform order."""
    return [(plan, name, change) for plan in plans for name, outcome in plan.outcomes.items() for change in outcome.changes]


def restoring_environment(changes: Sequence[Change]) -> dict[str, str]:
    """The environment that brings the old behaviour back: per variable, the old value most helpers had."""
    values: dict[str, Counter[str]] = {}
    for change in changes:
        for name, value in change.restore:
            values.setdefault(name, Counter())[value] += 1
    return {name: counts.most_common(1)[0][0] for name, counts in values.items()}


def restoring_exceptions(changes: Sequence[Change], env: dict[str, str]) -> list[str]:
    """The behaviour changes whose old value the environment can't give back (one variable serves every helper)."""
    return [f"{change.text.split(':', 1)[0]} had {name}={value}" for change in changes for name, value in change.restore if env.get(name) != value]


def pinned(plans: Sequence[FilePlan]) -> list[PinnedTest]:
    """The checkouts' own tests that pin a default the patch changes."""
    found: list[PinnedTest] = []
    for root in sorted({p.target.root for p in plans}):
        old = {c.key: c.old for plan, _, c in behaviour_changes(plans) if plan.target.root == root and c.key and c.old is not None}
        found += pinned_tests(root, old)
    return found


def shell_assignments(env: dict[str, str]) -> str:
    return " ".join(f"{name}={value!r}" if (not value or " " in value or "," in value) else f"{name}={value}" for name, value in env.items())


def render_markdown(plans: Sequence[FilePlan]) -> str:
    transforms = registry.transforms()
    by_name = {t.NAME: t for t in transforms}
    sections: dict[str, list[tuple[FilePlan, str]]] = {}
    for plan in plans:
        for name, before, after in plan.step_texts():
            diff = unified_diff(plan.target.relpath, before, after)
            if diff:
                sections.setdefault(name, []).append((plan, diff))
    present = [
        (plan.target.relpath, name, outcome.reason)
        for plan in plans
        for name, outcome in plan.outcomes.items()
        if outcome.status == ALREADY_PRESENT
    ]
    lines = [f"## {TITLE}", ""]
    changed = [p for p in plans if p.changed]
    if not changed:
        lines.append(f"Nothing to change: every selected fix is already in place ({len(plans)} file(s) checked).")
    else:
        total = _count("".join(unified_diff(p.target.relpath, p.original, p.patched) for p in changed))
        lines += [
            f"`llmfix diff` would change {len(changed)} file(s) (+{total[0]} -{total[1]} in {total[2]} hunk(s); "
            f"{total[1]} upstream line(s) touched) with {len(sections)} transform(s). "
            "Re-run `llmfix check` in CI to keep the fixes in place.",
        ]
        lines += _behaviour_section(plans)
        lines += ["", "| transform | what it does | files | lines |", "|---|---|---|---|"]
        for name in (t.NAME for t in transforms if t.NAME in sections):
            added, removed, _ = _count("".join(diff for _, diff in sections[name]))
            files = ", ".join(f"`{plan.target.relpath}`" for plan, _ in sections[name])
            summary = by_name[name].SUMMARY.replace("|", "\\|")
            lines.append(f"| [{name}](#{name}) | {summary} | {files} | +{added} -{removed} |")
        for name in (t.NAME for t in transforms if t.NAME in sections):
            lines += _section(by_name[name], sections[name])
    if present:
        lines += ["", "### Already in place", ""]
        lines += [f"- `{path}` {name}: {reason}" for path, name, reason in present]
    return "\n".join(lines) + "\n"


def _behaviour_section(plans: Sequence[FilePlan]) -> list[str]:
    changes = behaviour_changes(plans)
    if not changes:
        return []
    lines = ["", "### Behaviour changes to review", ""]
    for plan, name, change in changes:
        lines.append(f"- `{plan.target.relpath}` ({name}): {change.text}")
    env = restoring_environment([c for _, _, c in changes])
    if env:
        lines += ["", "The old behaviour, for a test run or to back out without reverting:", "", "```sh", f"export {shell_assignments(env)}", "```"]
        exceptions = restoring_exceptions([c for _, _, c in changes], env)
        if exceptions:
            lines += ["", f"(one variable serves every helper: {'; '.join(exceptions)})"]
    tests = pinned(plans)
    if tests:
        lines += ["", "Tests in this repo that pin a default the patch changes (they pass with the variables above):", ""]
        lines += [f"- `{t.path}::{t.test}` (line {t.line}): `{t.key} == {t.value!r}`" for t in tests]
    return lines


def _section(transform: type[Transform], diffs: list[tuple[FilePlan, str]]) -> list[str]:
    body = "".join(diff for _, diff in diffs)
    added, removed, _ = _count(body)
    files = ", ".join(f"`{plan.target.relpath}` (+{a} -{r})" for plan, diff in diffs for a, r, _ in [_count(diff)])
    fence = fence_for(body)
    lines = ["", f"### {transform.NAME}", "", f"**What:** {what(transform)}"]
    reason = why(transform)
    if reason:
        lines += ["", f"**Why:** {reason}"]
    lines += [
        "",
        f"**Files:** {files}",
        "",
        "<details>",
        f"<summary>{transform.NAME} diff (+{added} -{removed})</summary>",
        "",
        f"{fence}diff",
        body.rstrip("\n"),
        fence,
        "",
        "</details>",
    ]
    return lines
