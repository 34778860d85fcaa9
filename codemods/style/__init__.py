"""Write new code the way the target file already reads: the repo's settings (:mod:`.config`) combined with what the
file shows (indentation, newline, quotes, logger, and, without settings, its line length)."""

from __future__ import annotations

import bisect
import io
import re
from dataclasses import dataclass
from pathlib import Path

import libcst as cst

from llmfix.codemods.analysis.nodes import callee_name
from llmfix.codemods.analysis.tree import module_walk, per_module
from llmfix.codemods.style.config import DEFAULT_LINE_LENGTH, RepoStyle, repo_style

LOGGER_FACTORIES = ("getLogger", "get_logger", "setup_logger")
WIDEST_SHOWN = 119  # the most a file's own lines can set: upstream open-instruct's line-length
_SCAN = re.compile(  # what the line length reads: strings (skipped whole), comments, brackets, commas, lambdas
    r"""[rRbBuUfF]{0,2}(?:'''(?:\\[\s\S]|[^\\])*?'''|\"\"\"(?:\\[\s\S]|[^\\])*?\"\"\"|'(?:\\[\s\S]|[^'\\\n])*'|"(?:\\[\s\S]|[^"\\\n])*")"""
    r"|(?P<comment>#[^\n]*)|(?P<open>[(\[{])|(?P<close>[)\]}])|(?P<comma>,)|(?P<colon>:)|(?P<lambda>\blambda\b)"
)
_ITEM = re.compile(r"[ \t]*[^\s#)\]}\\]")


@dataclass(frozen=True)
class Style:
    repo: RepoStyle
    quote: str  # '"' or "'"
    indent: str
    newline: str
    logger: str | None  # the module's own logger, e.g. LOGGER or logger
    line_length: int  # the settings', else the file's own (see ``shown_line_length``)

    @classmethod
    def for_module(cls, module: cst.Module, repo: RepoStyle | None = None, text: str | None = None) -> Style:
        """``text``: the module's source, when at hand (else it is rendered if the line length must be read from it)."""
        repo = repo or RepoStyle()
        quote = {"double": '"', "single": "'"}.get(repo.quote_style or "", "") or dominant_quote(module)
        length = repo.line_length or shown_line_length(text if text is not None else module.code)
        return cls(repo, quote, module.default_indent, module.default_newline, module_logger(module), length)

    @classmethod
    def for_file(cls, module: cst.Module, path: Path, text: str | None = None) -> Style:
        return cls.for_module(module, repo_style(path.parent.resolve()), text)


def shown_line_length(text: str) -> int:
    """The line length a file without settings shows: 88, unless the code of a line a formatter would have split (a
    comma between two items in brackets, not a lambda's) runs past it; then the longest such, at most 119. A file that
    keeps 110-column calls is not formatted at 88, and new lines wrapped there would read unlike it."""
    starts, lengths = [0], []  # each row's offset and length ("\n" ends a row, as for the tokenizer)
    for line in io.StringIO(text).readlines():
        starts.append(starts[-1] + len(line))
        lengths.append(len(line.rstrip("\r\n")))
    longest = min(max(lengths, default=0), WIDEST_SHOWN)
    widest, depth, lambdas = DEFAULT_LINE_LENGTH, 0, []  # lambdas: the depth of each lambda whose parameters are open
    for found in _SCAN.finditer(text) if longest > DEFAULT_LINE_LENGTH else ():
        kind = found.lastgroup
        if kind == "open":
            depth += 1
        elif kind == "close":
            depth -= 1
        elif kind == "lambda":
            lambdas.append(depth)
        elif kind == "colon" and lambdas and lambdas[-1] == depth:
            lambdas.pop()
        elif kind == "comma" and depth > 0 and not (lambdas and lambdas[-1] == depth):
            row = bisect.bisect_right(starts, found.start()) - 1
            if lengths[row] > widest and _ITEM.match(text, found.end()):  # an item follows the comma on its row
                end = starts[row] + lengths[row]
                comment = next((m.start() for m in _SCAN.finditer(text, found.end(), end) if m.lastgroup == "comment"), end)
                widest = max(widest, len(text[starts[row] : comment].rstrip()))
                if widest >= longest:
                    break
    return min(widest, WIDEST_SHOWN)


@per_module
def dominant_quote(module: cst.Module) -> str:
    """The quote most of the file's one-line strings use (double on a tie)."""
    quotes = [node.quote for node in module_walk(module).order if type(node) is cst.SimpleString]  # type(): an ABC's isinstance is slow
    return "'" if quotes.count("'") > quotes.count('"') else '"'


def module_logger(module: cst.Module) -> str | None:
    """The module-level name bound to ``logging.getLogger(...)`` / ``*.setup_logger(__name__)``."""
    for statement in module.body:
        for small in statement.body if isinstance(statement, cst.SimpleStatementLine) else ():
            if isinstance(small, (cst.Assign, cst.AnnAssign)) and isinstance(small.value, cst.Call) and callee_name(small.value) in LOGGER_FACTORIES:
                target = small.targets[0].target if isinstance(small, cst.Assign) else small.target
                if isinstance(target, cst.Name):
                    return target.value
    return None
