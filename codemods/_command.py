"""Each transform as a libcst ``VisitorBasedCodemodCommand``, for ``python -m libcst.tool codemod``.

llmfix itself calls the transforms directly (one parse per file, and no import
of ``libcst.codemod``, which costs most of a second). The command classes are
built on first access, from each module's ``__getattr__``::

    python -m libcst.tool codemod retries.RetriesCommand path/to/run_utils.py
"""

from __future__ import annotations

import argparse
from typing import Any

import libcst as cst
from libcst.codemod import CodemodContext, SkipFile, VisitorBasedCodemodCommand
from llmfix.codemods._base import ANCHOR_MISSING, PlannedTransform

_COMMANDS: dict[type, type] = {}


def command_for(transform: type[PlannedTransform], options: dict[str, dict[str, Any]] | None = None) -> type:
    """The ``VisitorBasedCodemodCommand`` subclass that runs ``transform``.

    ``options`` maps each constructor keyword to ``argparse`` settings for
    ``libcst.tool``'s command line.
    """
    if transform in _COMMANDS:
        return _COMMANDS[transform]
    settings = options or {}

    class Command(VisitorBasedCodemodCommand):
        DESCRIPTION = transform.DESCRIPTION

        def __init__(self, context: CodemodContext, **kwargs: Any) -> None:
            super().__init__(context)
            self.transform = transform(**{k: v for k, v in kwargs.items() if v is not None})
            self.outcome = None

        @staticmethod
        def add_args(arg_parser: argparse.ArgumentParser) -> None:
            for keyword, argparse_options in settings.items():
                arg_parser.add_argument(f"--{keyword}", dest=keyword, **argparse_options)

        def transform_module_impl(self, tree: cst.Module) -> cst.Module:
            tree, self.outcome = self.transform.apply(tree)
            if self.outcome.status == ANCHOR_MISSING:
                raise SkipFile(f"{transform.NAME}: {self.outcome.reason}")
            return tree

    Command.__name__ = Command.__qualname__ = transform.__name__.replace("Transform", "Command")
    Command.__module__ = transform.__module__
    _COMMANDS[transform] = Command
    return Command
