"""The behaviour changes of a plan, as apply's report and the PR description both tell them.

Each transform states its behaviour changes (:class:`~llmfix.codemods.transform.Change`):
what changes for a function, and the environment that brings the old behaviour back.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from llmfix.codemods.transform import Change
from llmfix.pinned import PinnedTest, pinned_tests
from llmfix.planning import FilePlan


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
    """Per function whose old value the environment can't give back (one variable serves every helper): what it had."""
    return [
        f"{change.text.split(':', 1)[0]} had {name}={value}, which no single {name} restores together with the others"
        for change in changes
        for name, value in change.restore
        if env.get(name) != value
    ]


def pinned(plans: Sequence[FilePlan]) -> list[PinnedTest]:
    """The checkouts' own tests that pin a default the patch changes."""
    found: list[PinnedTest] = []
    for root in sorted({p.target.root for p in plans}):
        old = {c.key: c.old for plan, _, c in behaviour_changes(plans) if plan.target.root == root and c.key and c.old is not None}
        found += pinned_tests(root, old)
    return found


def shell_assignments(env: dict[str, str]) -> str:
    return " ".join(f"{name}={value!r}" if (not value or " " in value or "," in value) else f"{name}={value}" for name, value in env.items())


