"""Before/after harness for one transform: run it, compare, run it again."""

from __future__ import annotations

import textwrap

import pytest

from harness import RUNTIME_MARK, WIDE, isort_clean, mark_runtime, run_transform, undefined_names
from llmfix.codemods import ALREADY_PRESENT, ANCHOR_MISSING, NOT_APPLICABLE


@pytest.fixture
def check_transform():
    """Assert one before/after pair (``after`` None: no change), then the generic properties.

    ``__RUNTIME__`` in ``after`` stands for the runtime support block. Every pair also
    checks that the result compiles, reads no name the input did not already leave
    undefined, keeps ruff's isort rule happy when the input did, and that a second run
    changes nothing and reports already-present or not-applicable.
    """

    def check(transform_class, before: str, after: str | None, status: str, siblings=None, line_length=None, **options):
        before = textwrap.dedent(before)
        expected = before if after is None else textwrap.dedent(after)
        new, outcome = run_transform(transform_class, before, siblings=siblings, line_length=line_length, **options)
        assert outcome.status == status, outcome.reason
        assert mark_runtime(new) == expected
        assert (RUNTIME_MARK in expected) == (mark_runtime(new) != new), "the runtime block is there exactly when the pair shows it"
        if status == ANCHOR_MISSING:
            assert new == before
            return outcome
        compile(new, "<patched>", "exec", dont_inherit=True)
        assert undefined_names(new) <= undefined_names(before), "the patch reads names nothing defines"
        length = line_length or WIDE.line_length
        if new != before and isort_clean(before, length):
            assert isort_clean(new, length), "the new imports are not where isort puts them"
        again, second = run_transform(transform_class, new, siblings=siblings, line_length=line_length, **options)
        assert again == new, "a second run changed the code"
        assert second.status in (ALREADY_PRESENT, NOT_APPLICABLE), second.reason
        return outcome

    return check
