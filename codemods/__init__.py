"""llmfix's transforms, one per module, in the order llmfix runs them.

Each is a libcst ``VisitorBasedCodemodCommand``, so it also runs on its own::

    python -m libcst.tool codemod retries.RetriesCommand path/to/run_utils.py

(with ``modules: [codemods]`` in ``.libcst.codemod.yaml``).
"""

from __future__ import annotations

from codemods._base import ALREADY_PRESENT, ANCHOR_MISSING, APPLIED, NOT_APPLICABLE, Outcome, PlannedCodemod
from codemods.fallbacks import FallbacksCommand
from codemods.guards import GuardsCommand
from codemods.precheck import PrecheckCommand
from codemods.retries import RetriesCommand
from codemods.timeout import TimeoutCommand

TRANSFORMS: tuple[type[PlannedCodemod], ...] = (
    RetriesCommand,
    FallbacksCommand,
    TimeoutCommand,
    GuardsCommand,
    PrecheckCommand,
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
    "PlannedCodemod",
]
