"""llmfix's transforms, one per module, in the order llmfix runs them.

llmfix runs the ``*Transform`` classes directly on one parse per file. Each
module also offers a libcst ``VisitorBasedCodemodCommand`` (``RetriesCommand``
and so on, built on first access), so a transform also runs on its own::

    python -m libcst.tool codemod retries.RetriesCommand path/to/run_utils.py

(with ``modules: [codemods]`` in ``.libcst.codemod.yaml``).
"""

from __future__ import annotations

from llmfix.codemods._base import (
    ALREADY_PRESENT,
    ANCHOR_MISSING,
    APPLIED,
    NOT_APPLICABLE,
    Outcome,
    PlannedTransform,
)
from llmfix.codemods.fallbacks import FallbacksTransform
from llmfix.codemods.guards import GuardsTransform
from llmfix.codemods.precheck import PrecheckTransform
from llmfix.codemods.retries import RetriesTransform
from llmfix.codemods.timeout import TimeoutTransform

TRANSFORMS: tuple[type[PlannedTransform], ...] = (
    RetriesTransform,
    FallbacksTransform,
    TimeoutTransform,
    GuardsTransform,
    PrecheckTransform,
)
TRANSFORM_NAMES = tuple(t.NAME for t in TRANSFORMS)

__all__ = [
    "ALREADY_PRESENT",
    "ANCHOR_MISSING",
    "APPLIED",
    "NOT_APPLICABLE",
    "TRANSFORMS",
    "TRANSFORM_NAMES",
    "Outcome",
    "PlannedTransform",
]
