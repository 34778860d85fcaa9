"""Every transform's own before/after examples (its EXAMPLES), run like llmfix runs them.

Each example runs its transform alone on one file, then again on the result: the
second run must change nothing. The runtime support block a transform adds stands
as ``__RUNTIME__`` in the example; it is checked separately (tests/runtime).
"""

from __future__ import annotations

import re

import libcst as cst
import pytest

from harness import mark_runtime
from llmfix.codemods import registry
from llmfix.codemods.context import CheckoutFacts, FileContext
from llmfix.codemods.edits import Edits, apply_edits
from llmfix.codemods import runtime_block
from llmfix.codemods.settings import Settings
from llmfix.codemods.style import Style
from llmfix.codemods.style.config import RepoStyle
from llmfix.codemods.transform import ALREADY_PRESENT, ANCHOR_MISSING, NOT_APPLICABLE, Example

EXAMPLES = [(t, e) for t in registry.transforms() for e in t.EXAMPLES]
UPSTREAM = RepoStyle(line_length=119, line_length_source="examples")


def run(transform, example: Example, source: str):
    settings = Settings.build(flags={**example.options, "only": [transform.NAME]})
    facts = CheckoutFacts()
    for module, names in example.siblings.items():
        facts.publish(module, set(names))
    module = cst.parse_module(source)
    file = FileContext(module, Style.for_module(module, UPSTREAM), dotted_name="example", checkout=facts)
    edits = Edits()
    outcome = transform(settings).plan(file, edits)
    return apply_edits(file, [edits]).code if outcome.status != ANCHOR_MISSING else source, outcome


def with_runtime(transform, text: str) -> str:
    """``text`` with a ``__RUNTIME__`` line replaced by the transform's runtime support block."""
    if "__RUNTIME__\n" not in text:
        return text
    module = cst.parse_module(re.sub(r"\n*__RUNTIME__\n", "\n", text))
    file = FileContext(module, Style.for_module(module, UPSTREAM))
    return runtime_block.place(file, module, transform.RUNTIME, []).code


@pytest.mark.parametrize(("transform", "example"), EXAMPLES, ids=[f"{t.NAME}: {e.title}" for t, e in EXAMPLES])
def test_example(transform, example: Example) -> None:
    before = with_runtime(transform, example.before)
    patched, outcome = run(transform, example, before)
    assert outcome.status == example.status, outcome.reason
    expected = example.before if example.after is None else example.after
    assert mark_runtime(patched) == expected
    compile(patched, "<example>", "exec")
    again, second = run(transform, example, patched)
    assert again == patched, "a second run changed the code"
    assert second.status in (ALREADY_PRESENT, NOT_APPLICABLE), second.reason


def test_every_transform_has_examples() -> None:
    for transform in registry.transforms():
        statuses = {e.status for e in transform.EXAMPLES}
        assert "applied" in statuses and ALREADY_PRESENT in statuses, f"{transform.NAME} needs an applied and a no-op example"
