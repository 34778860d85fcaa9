"""Write new code the way the target file already reads.

:class:`Style` combines what the repo's settings say (line length, quote style,
isort sections: :mod:`.config`) with what the file itself shows (its indentation,
newline, dominant quote, and its logger). :mod:`.imports` places imports in their
isort section; :mod:`.wrap` splits a generated line the way black and ruff would.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import libcst as cst

from llmfix.codemods.analysis.tree import module_walk, per_module
from llmfix.codemods.style.config import RepoStyle, repo_style

LOGGER_FACTORIES = ("getLogger", "get_logger", "setup_logger")


@dataclass(frozen=True)
class Style:
    repo: RepoStyle
    quote: str  # '"' or "'"
    indent: str
    newline: str
    logger: str | None  # the module's own logger, e.g. LOGGER or logger

    @property
    def line_length(self) -> int:
        return self.repo.line_length

    @classmethod
    def for_module(cls, module: cst.Module, repo: RepoStyle | None = None) -> Style:
        repo = repo or RepoStyle()
        quote = {"double": '"', "single": "'"}.get(repo.quote_style or "", "") or dominant_quote(module)
        return cls(repo, quote, module.default_indent, module.default_newline, module_logger(module))

    @classmethod
    def for_file(cls, module: cst.Module, path: Path) -> Style:
        return cls.for_module(module, repo_style(path.parent.resolve()))


@per_module
def dominant_quote(module: cst.Module) -> str:
    """The quote most of the file's one-line strings use (double on a tie)."""
    double = single = 0
    for node in module_walk(module).order:
        if type(node) is cst.SimpleString and node.quote in ('"', "'"):  # type(): an ABC's isinstance is slow
            if node.quote == '"':
                double += 1
            else:
                single += 1
    return "'" if single > double else '"'


def module_logger(module: cst.Module) -> str | None:
    """The module-level name bound to ``logging.getLogger(...)`` / ``*.setup_logger(__name__)``."""
    for statement in module.body:
        if not isinstance(statement, cst.SimpleStatementLine):
            continue
        for small in statement.body:
            if (
                isinstance(small, (cst.Assign, cst.AnnAssign))
                and isinstance(small.value, cst.Call)
                and _callee(small.value) in LOGGER_FACTORIES
            ):
                target = small.targets[0].target if isinstance(small, cst.Assign) else small.target
                if isinstance(target, cst.Name):
                    return target.value
    return None


def _callee(call: cst.Call) -> str | None:
    if isinstance(call.func, cst.Name):
        return call.func.value
    if isinstance(call.func, cst.Attribute):
        return call.func.attr.value
    return None
