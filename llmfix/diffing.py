"""Git-style unified diffs of planned changes, and their line counts.

Paths are ``a/<relpath>`` / ``b/<relpath>`` relative to the checkout root, so
``git apply`` accepts the output from that root. CRLF lines keep their ``\\r``
and a missing final newline is marked as git marks it. The hunks are
:mod:`llmfix.linediff`'s (Myers, as git): the same added/removed counts as
``git diff``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from unidiff import PatchSet

from llmfix import linediff
from llmfix.planning import FilePlan


def unified_diff(relpath: str, old: str, new: str, context: int = 3, created: bool = False, deleted: bool = False) -> str:
    """One file's diff in git's format (empty when nothing changes); ``created``: a new file, ``deleted``: a removed one."""
    if old == new and not deleted:
        return ""
    hunks = linediff.hunks(linediff.split_lines(old), linediff.split_lines(new), context)
    if created:
        return f"diff --git a/{relpath} b/{relpath}\nnew file mode 100644\n--- /dev/null\n+++ b/{relpath}\n" + linediff.render(hunks)
    if deleted:
        return f"diff --git a/{relpath} b/{relpath}\ndeleted file mode 100644\n--- a/{relpath}\n+++ /dev/null\n" + linediff.render(hunks)
    return f"diff --git a/{relpath} b/{relpath}\n--- a/{relpath}\n+++ b/{relpath}\n" + linediff.render(hunks)


def file_diff(plan: FilePlan) -> str:
    return unified_diff(plan.target.relpath, plan.original, plan.patched, created=not plan.exists, deleted=plan.delete)


def plan_diff(plans: Sequence[FilePlan]) -> str:
    return "".join(file_diff(p) for p in plans)


@dataclass(frozen=True)
class LineCount:
    name: str
    added: int
    removed: int
    hunks: int = 0


def count_lines(diff_text: str) -> list[LineCount]:
    """Added/removed lines and hunks per file of a diff, read back with unidiff."""
    if not diff_text:
        return []
    return [LineCount(f.path, f.added, f.removed, len(f)) for f in PatchSet(diff_text)]


def per_transform_counts(plan: FilePlan) -> list[LineCount]:
    """Added/removed lines each transform contributes to one file."""
    counts = []
    for name, before, after in plan.step_texts():
        (count,) = count_lines(unified_diff(plan.target.relpath, before, after)) or [LineCount("", 0, 0)]
        counts.append(LineCount(name, count.added, count.removed))
    return counts


def render_stat(plans: Sequence[FilePlan]) -> str:
    """A ``--stat`` summary: per file, then per transform."""
    rows = []
    total_added = total_removed = 0
    for plan in plans:
        if not plan.changed:
            continue
        (count,) = count_lines(file_diff(plan))
        total_added += count.added
        total_removed += count.removed
        hunks = f"{count.hunks} hunk{'s' if count.hunks != 1 else ''}"
        if not plan.exists or plan.delete:
            what = "removed (llmfix's old copy)" if plan.delete else "a new file (the support the patched code calls)"
            rows.append(f" {plan.target.relpath} | +{count.added} -{count.removed}, {what}")
            continue
        rows.append(f" {plan.target.relpath} | +{count.added} -{count.removed}, {hunks}, {count.removed} upstream line(s) touched")
        rows.extend(f"     {c.name:<10} +{c.added} -{c.removed}" for c in per_transform_counts(plan))
    changed = sum(1 for p in plans if p.changed)
    rows.append(f" {changed} file(s) changed, {total_added} insertion(s)(+), {total_removed} deletion(s)(-)")
    return "\n".join(rows) + "\n"


def file_json(plan: FilePlan) -> dict:
    """One file of ``diff --json``: its diff, counts and outcomes."""
    diff = file_diff(plan)
    (count,) = count_lines(diff) or [LineCount(plan.target.relpath, 0, 0)]
    return {**plan.to_json(), "added": count.added, "removed": count.removed, "hunks": count.hunks, "diff": diff}
