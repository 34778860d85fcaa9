"""Every transform's declared EXAMPLES, through the same check as the tables (what ``llmfix explain`` shows).

An example is "a before/after pair for one transform run alone", at upstream's line length
(119), as a module of ``open_instruct.rubrics``: exactly what harness.run_transform does.
"""

from __future__ import annotations

import pytest
from harness import check

from llmfix.codemods import registry
from llmfix.codemods.transform import APPLIED, Example

KNOWN_WRONG: dict[tuple[str, str], str] = {}  # (transform, title): why the declared example is not what the transform does


def _params():
    for transform in registry.transforms():
        for example in transform.EXAMPLES:
            why = KNOWN_WRONG.get((transform.NAME, example.title))
            marks = [pytest.mark.xfail(strict=True, reason=why)] if why else []
            yield pytest.param(transform, example, id=f"{transform.NAME}: {example.title}", marks=marks)


@pytest.mark.parametrize(("transform", "example"), list(_params()))
def test_example(transform, example: Example) -> None:
    check(transform, example.before, example.after, example.status, **example.options)


def test_every_transform_has_an_applied_and_a_no_op_example() -> None:
    for transform in registry.transforms():
        statuses = {e.status for e in transform.EXAMPLES}
        assert APPLIED in statuses and statuses - {APPLIED}, f"{transform.NAME} needs an applied and a no-op example"


def test_the_known_wrong_examples_still_exist() -> None:
    declared = {(t.NAME, e.title) for t in registry.transforms() for e in t.EXAMPLES}
    assert set(KNOWN_WRONG) <= declared, "an example listed as known wrong was renamed or removed: update KNOWN_WRONG"
