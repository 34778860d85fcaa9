"""Run one transform on a source string, the way llmfix does (one parse, edits applied together)."""

from __future__ import annotations

import libcst as cst

from llmfix.codemods.context import CheckoutFacts, FileContext
from llmfix.codemods.edits import Edits, apply_edits
from llmfix.codemods.settings import Settings
from llmfix.codemods.style import Style
from llmfix.codemods.style.config import RepoStyle
from llmfix.codemods.transform import ANCHOR_MISSING

# the line length of upstream open-instruct: generated lines in these tests stay on one line
WIDE = RepoStyle(line_length=200, line_length_source="tests")


def run_transform(transform_class, source: str, siblings: dict | None = None, line_length: int | None = None, **options):
    """(new source, outcome) after one run of the transform on ``source``."""
    settings = Settings.build(flags={**{k: v for k, v in options.items()}, "only": [transform_class.NAME]})
    facts = CheckoutFacts()
    for module, names in (siblings or {}).items():
        facts.publish(module, set(names))
    module = cst.parse_module(source)
    repo = WIDE if line_length is None else RepoStyle(line_length=line_length)
    file = FileContext(module, Style.for_module(module, repo), dotted_name="target", checkout=facts)
    edits = Edits()
    outcome = transform_class(settings).plan(file, edits)
    if outcome.status == ANCHOR_MISSING:
        return source, outcome
    return apply_edits(file, [edits]).code, outcome
