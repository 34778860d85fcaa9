"""``llmfix diff --markdown``: a PR-ready summary of what apply would change.

One section per transform that changes something: what it does (its summary
and description) and why (the ``Why:`` paragraph of its module), the files and
added/removed lines, and its diff in a collapsible ``<details>`` block. Each
transform's diff is taken against the text the previous transforms left
(``FilePlan.step_texts``), so the blocks applied in order give apply's result.
Fixes already in place are listed after the sections.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Sequence

from llmfix.codemods import ALREADY_PRESENT, TRANSFORMS
from llmfix.diffing import LineCount, count_lines, unified_diff
from llmfix.planning import FilePlan

TITLE = "llmfix: LiteLLM calls that survive a bad network"


def _blocks(text: str | None) -> list[str]:
    return [b for b in re.split(r"\n\s*\n", inspect.cleandoc(text or "")) if b.strip()]


def _markdown_text(rst: str) -> str:
    """One docstring paragraph as markdown: joined lines, ``code`` as `code`."""
    return " ".join(rst.split()).replace("``", "`")


def why(transform: type) -> str:
    """The ``Why:`` paragraph of a transform's module docstring (without the label).

    A paragraph ending in ``::`` keeps its literal block, as a code block.
    """
    module = inspect.getmodule(transform)
    blocks = _blocks(getattr(module, "__doc__", ""))
    for index, block in enumerate(blocks):
        if block.startswith("Why:"):
            text = _markdown_text(block[len("Why:"):])
            if text.endswith("::") and index + 1 < len(blocks):
                literal = inspect.cleandoc(blocks[index + 1])
                fence = fence_for(literal)
                return f"{text[:-1]}\n\n{fence}\n{literal}\n{fence}"
            return text
    return ""


def what(transform: type) -> str:
    """The transform's description, without its leading ``name:``."""
    description = _markdown_text(str(getattr(transform, "DESCRIPTION", "")))
    prefix = f"{transform.NAME}:"
    return description[len(prefix):].strip() if description.startswith(prefix) else description


def fence_for(text: str) -> str:
    """A backtick fence longer than any run of backticks inside ``text``."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    return "`" * max(3, longest + 1)


def _count(diff_text: str) -> tuple[int, int]:
    counts: list[LineCount] = count_lines(diff_text)
    return sum(c.added for c in counts), sum(c.removed for c in counts)


def render_markdown(plans: Sequence[FilePlan]) -> str:
    by_name = {t.NAME: t for t in TRANSFORMS}
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
        total_added, total_removed = _count("".join(unified_diff(p.target.relpath, p.original, p.patched) for p in changed))
        lines += [
            f"`llmfix diff` would change {len(changed)} file(s) (+{total_added} -{total_removed}) "
            f"with {len(sections)} transform(s). Re-run `llmfix check` in CI to keep the fixes in place.",
            "",
            "| transform | what it does | files | lines |",
            "|---|---|---|---|",
        ]
        for name in (t.NAME for t in TRANSFORMS if t.NAME in sections):
            added, removed = _count("".join(diff for _, diff in sections[name]))
            files = ", ".join(f"`{plan.target.relpath}`" for plan, _ in sections[name])
            summary = by_name[name].SUMMARY.replace("|", "\\|")
            lines.append(f"| [{name}](#{name}) | {summary} | {files} | +{added} -{removed} |")
        for name in (t.NAME for t in TRANSFORMS if t.NAME in sections):
            lines += _section(by_name[name], sections[name])
    if present:
        lines += ["", "### Already in place", ""]
        lines += [f"- `{path}` {name}: {reason}" for path, name, reason in present]
    return "\n".join(lines) + "\n"


def _section(transform: type, diffs: list[tuple[FilePlan, str]]) -> list[str]:
    body = "".join(diff for _, diff in diffs)
    added, removed = _count(body)
    files = ", ".join(f"`{plan.target.relpath}` (+{a} -{r})" for plan, diff in diffs for a, r in [_count(diff)])
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
