"""Each transform as a libcst ``VisitorBasedCodemodCommand``, built on first access (``libcst.codemod`` is slow to
import). Alone, a transform sees one file: one whose new code needs the support module while it is missing is skipped."""

from __future__ import annotations

import argparse
import dataclasses
import functools
from pathlib import Path
from typing import Any

import libcst as cst
from libcst.codemod import CodemodContext, SkipFile, VisitorBasedCodemodCommand

from llmfix.codemods import support
from llmfix.codemods.context import FileContext
from llmfix.codemods.edits import Edits, apply_edits
from llmfix.codemods.settings import Settings
from llmfix.codemods.style import Style
from llmfix.codemods.transform import ANCHOR_MISSING, Transform


def _dotted_name(path: Path) -> str | None:
    """How the checkout imports ``path``: from the parent of its topmost ``open_instruct`` folder."""
    parts = path.absolute().with_suffix("").parts
    return ".".join(parts[parts.index("open_instruct") :]) if "open_instruct" in parts else None


@functools.cache
def command_for(transform: type[Transform]) -> type:
    """The ``VisitorBasedCodemodCommand`` subclass that runs ``transform``."""
    class Command(VisitorBasedCodemodCommand):
        DESCRIPTION = transform.description()

        def __init__(self, context: CodemodContext, **kwargs: Any) -> None:
            super().__init__(context)
            flags = {k: v for k, v in kwargs.items() if v not in (None, [], ())}
            self.settings = dataclasses.replace(Settings.build(flags=flags), only=(transform.NAME,), skip=())
            self.outcome = None

        @staticmethod
        def add_args(arg_parser: argparse.ArgumentParser) -> None:
            for option in transform.OPTIONS:
                extra: dict[str, Any] = {"action": "append"} if option.multiple else {}
                arg_parser.add_argument(option.flag, dest=option.name, metavar=option.metavar, help=option.help, **extra)

        def transform_module_impl(self, tree: cst.Module) -> cst.Module:
            filename = self.context.filename
            style = Style.for_file(tree, Path(filename)) if filename else Style.for_module(tree)
            file = FileContext(tree, style, _dotted_name(Path(filename)) if filename else None)
            edits = Edits()
            self.outcome = transform(self.settings).plan(file, edits)
            if self.outcome.status == ANCHOR_MISSING:
                raise SkipFile(f"{transform.NAME}: {self.outcome.reason}")
            beside = Path(filename).with_name(support.FILE_NAME) if filename else None
            if edits.support and (beside is None or not beside.is_file()):
                raise SkipFile(f"{transform.NAME}: its code calls {support.FILE_NAME}, which is not beside the file; `llmfix apply` writes both")
            return apply_edits(file, [edits])

    Command.__name__ = Command.__qualname__ = transform.__name__.replace("Transform", "Command")
    Command.__module__ = transform.__module__
    return Command

