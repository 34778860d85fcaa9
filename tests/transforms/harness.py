"""Run one transform on a source string, the way llmfix does (one parse)."""

from __future__ import annotations

import libcst as cst


def run_transform(transform_class, source: str, **options):
    """(new source, outcome) after one run of the transform on ``source``."""
    tree, outcome = transform_class(**options).apply(cst.parse_module(source))
    return tree.code, outcome
