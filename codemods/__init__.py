"""llmfix's transforms: one per module, each declared once (see :mod:`.transform`); each also runs alone as a libcst
codemod (``python -m libcst.tool codemod -x llmfix.codemods.retries.RetriesCommand path/to/run_utils.py``)."""

from __future__ import annotations

from llmfix.codemods import registry
from llmfix.codemods.transform import ALREADY_PRESENT, ANCHOR_MISSING, APPLIED, NOT_APPLICABLE, Example, Option, Outcome, Transform

__all__ = ["ALREADY_PRESENT", "ANCHOR_MISSING", "APPLIED", "NOT_APPLICABLE", "Example", "Option", "Outcome", "Transform", "TRANSFORM_NAMES"]


def __getattr__(name: str):
    if name == "TRANSFORM_NAMES":
        return registry.names()
    raise AttributeError(name)
