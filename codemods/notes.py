"""What a transform notes for revert (an upstream literal and its statement's digest), and how revert turns a note
back into code: validated, built by llmfix's own literal builders, never pasted from the record."""

from __future__ import annotations

import io
import math
import re
import tokenize
from collections.abc import Callable

import libcst as cst

from llmfix.codemods.building import string
from llmfix.safefiles import digest as digest_bytes

_DIGEST = re.compile(r"^[0-9a-f]{8}$")
_MODEL_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/@+\-]*")


class BadNote(ValueError):
    """A note in llmfix's record that is not one llmfix could have written."""


def statement_code(statement: cst.CSTNode) -> str:
    """The statement's (or expression's) own code: no leading comments or blank lines, no indentation."""
    if hasattr(statement, "leading_lines"):
        statement = statement.with_changes(leading_lines=())  # type: ignore[attr-defined]
    return cst.Module([]).code_for_node(statement)


def digest(statement: cst.CSTNode) -> str:
    """The note's digest of a statement's own code (see :func:`statement_code`)."""
    return digest_bytes(statement_code(statement).encode("utf-8"))[:8]


def literal_value(node: cst.BaseExpression | None) -> object:
    """The value of a literal llmfix can write back (a number, a string, a list of strings), else raise BadNote."""
    if isinstance(node, cst.Integer):
        return int(node.evaluated_value)
    if isinstance(node, cst.Float):
        return float(node.evaluated_value)
    if isinstance(node, cst.SimpleString) and "\\" not in node.value:
        return node.evaluated_value
    if isinstance(node, cst.List):
        return [literal_value(element.value) for element in node.elements]
    raise BadNote("not a literal llmfix can restore")


def literal_node(value: object, quote: str) -> cst.BaseExpression:
    """Code for a noted literal; BadNote for anything else."""
    if isinstance(value, bool) or value is None:
        raise BadNote(f"{value!r} is not a default llmfix replaces")
    if isinstance(value, int):
        return cst.Integer(str(value))
    if isinstance(value, float):
        if not math.isfinite(value):
            raise BadNote(f"{value!r} is not a finite number")
        return cst.Float(repr(value))
    if isinstance(value, str) and _MODEL_NAME.fullmatch(value):
        return string(value, quote)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return cst.List([cst.Element(literal_node(v, quote)) for v in value]) if value else cst.List([])
    raise BadNote(f"{value!r} is not a number, a model name or a list of model names")


def check_digest(value: object) -> str:
    if not isinstance(value, str) or not _DIGEST.match(value):
        raise BadNote(f"{value!r} is not a statement digest")
    return value


def joined(statement: cst.BaseStatement) -> cst.BaseStatement | None:
    """``statement`` on one line (brackets' line breaks removed, a trailing comment kept); None if it is one line."""
    code = statement_code(statement)
    if "\n" not in code.rstrip("\r\n"):
        return None
    try:
        return cst.parse_statement(one_line(code) + ("\r\n" if code.endswith("\r\n") else "\n"))
    except cst.ParserSyntaxError:
        return None


def one_line(code: str) -> str:
    """A statement's code on one line: :func:`unwrapped`, its trailing comment kept."""
    comment = re.search(r"(\s*#[^\n]*)\r?\n?$", code)
    body = unwrapped(code)
    return body + (comment.group(1) if comment and "#" not in body else "")


def unwrapped(code: str) -> str:
    """One logical line's code with the line breaks inside its brackets removed (and no trailing comment)."""
    pieces: list[str] = []
    previous_end = None
    skipped = (tokenize.NL, tokenize.NEWLINE, tokenize.COMMENT, tokenize.ENDMARKER, tokenize.INDENT, tokenize.DEDENT)
    for token in tokenize.generate_tokens(io.StringIO(code).readline):
        if token.type in skipped:
            continue
        if previous_end is not None and token.start != previous_end:
            if token.string not in ")]}," and not (pieces and pieces[-1] in "([{"):
                pieces.append(" ")
        if pieces and pieces[-1] == "," and token.string in ")]}":
            pieces.pop()  # a trailing comma the wrapping added
        pieces.append(token.string)
        previous_end = token.end
    return "".join(pieces)


def restored(
    statement: cst.BaseStatement,
    build: Callable[[str], cst.BaseStatement],
    expected: str | None,
    quote: str,
    layouts: tuple[Callable[[cst.BaseStatement], cst.BaseStatement], ...] = (),
) -> cst.BaseStatement:
    """The statement upstream had: ``build(quote)`` as it stands, joined onto one line, or in one of
    ``layouts``, in either quote, whichever matches the noted digest (without a match: as it
    stands, in the file's quote)."""
    for candidate_quote in dict.fromkeys((quote, "'" if quote == '"' else '"')):
        built = build(candidate_quote)
        for candidate in (built, joined(built), *(layout(built) for layout in layouts)):
            if candidate is not None and expected is not None and digest(candidate) == expected:
                return candidate.with_changes(leading_lines=statement.leading_lines)  # type: ignore[union-attr]
    return build(quote).with_changes(leading_lines=statement.leading_lines)  # type: ignore[union-attr]
