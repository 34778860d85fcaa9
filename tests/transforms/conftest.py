"""Before/after harness for one transform: run it, compare, run it again."""

from __future__ import annotations

import textwrap

import pytest

from llmfix.codemods import ANCHOR_MISSING
from harness import run_transform


@pytest.fixture
def check_transform():
    """Assert one before/after pair, and that a second run changes nothing."""

    def check(command_class, before: str, after: str | None, status: str, **options):
        before = textwrap.dedent(before)
        expected = before if after is None else textwrap.dedent(after)
        new, outcome = run_transform(command_class, before, **options)
        assert outcome.status == status, outcome.reason
        assert new == expected
        compile(new, "<patched>", "exec")
        if status != ANCHOR_MISSING:
            again, second = run_transform(command_class, new, **options)
            assert again == new, "a second run changed the code"
            assert second.status in ("already-present", "not-applicable"), second.reason
        return outcome

    return check
