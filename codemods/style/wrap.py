"""Split a generated line the way black and ``ruff format`` would: the last bracket pair first, then one item per line
with a trailing comma, recursively; a trailing comment stays on the closing bracket's line."""

from __future__ import annotations

import io
import tokenize
from functools import lru_cache

import libcst as cst

from llmfix.codemods.analysis.tree import copy_tree

OPENING, CLOSING = "([{", ")]}"


def fits(text: str, limit: int) -> bool:
    return all(len(line) <= limit for line in text.splitlines())


def _split_comment(line: str) -> tuple[str, str]:
    """(code, "  # comment") of one physical line, found with the tokenizer (never inside a string)."""
    try:
        for token in tokenize.generate_tokens(io.StringIO(line).readline):
            if token.type == tokenize.COMMENT:
                start = token.start[1]
                return line[:start].rstrip(), "  " + line[start:].rstrip("\n")
    except (tokenize.TokenError, IndentationError, SyntaxError):
        pass
    return line.rstrip("\n"), ""


def _operators(code: str) -> list[tuple[str, int]] | None:
    """(operator, column) of every operator token of one line of ``code`` (strings excluded); None if it does not tokenize."""
    try:
        return [(t.string, t.start[1]) for t in tokenize.generate_tokens(io.StringIO(code).readline) if t.type == tokenize.OP]
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return None


def _last_pair(code: str) -> tuple[int, int] | None:
    """Columns of the last closing bracket and its opener."""
    brackets = [op for op in _operators(code) or () if op[0] in OPENING + CLOSING]
    last = next((i for i in range(len(brackets) - 1, -1, -1) if brackets[i][0] in CLOSING), None)
    depth = 0
    for char, column in reversed(brackets[: last + 1] if last is not None else []):
        depth += 1 if char in CLOSING else -1
        if depth == 0:
            return column, brackets[last][1]  # type: ignore[index]
    return None


def _top_level_items(body: str) -> list[str]:
    """``body`` split at its top-level commas (brackets and strings respected)."""
    operators = _operators(body)
    if operators is None:
        return [body]
    items, depth, start = [], 0, 0
    for operator, column in operators:
        depth += (operator in OPENING) - (operator in CLOSING)
        if operator == "," and depth == 0:
            items.append(body[start:column].strip())
            start = column + 1
    tail = body[start:].strip()
    return [*items, tail] if tail else items


@lru_cache(maxsize=1024)
def wrap_line(line: str, indent: str, limit: int) -> tuple[str, ...]:
    """One logical line (with its absolute indentation) as the physical lines black would make."""
    if len(line) <= limit:
        return (line,)
    code, comment = _split_comment(line)
    pair = _last_pair(code)
    if pair is None:
        return (line,)
    opening, closing = pair
    head, body, tail = code[: opening + 1], code[opening + 1 : closing].strip(), code[closing:] + comment
    if not body:
        return (line,)
    base = code[: len(code) - len(code.lstrip())]
    inner = base + indent
    if len(inner + body) <= limit and not body.endswith(","):
        return (head, inner + body, base + tail)
    items = _top_level_items(body)
    if len(items) == 1:
        middle = wrap_line(inner + items[0], indent, limit)
    else:
        middle = tuple(part for item in items for part in wrap_line(f"{inner}{item},", indent, limit))
    return (head, *middle, base + tail)


def fit(statement: cst.BaseStatement, module: cst.Module, indent: str, limit: int) -> cst.BaseStatement:
    """``statement`` (a one-line simple statement, at ``indent``) wrapped to ``limit`` columns."""
    if not isinstance(statement, cst.SimpleStatementLine):
        return statement
    line = cst.Module([]).code_for_node(statement.with_changes(leading_lines=())).rstrip("\r\n")
    if "\n" in line or len(wrap_line(indent + line, module.default_indent, limit)) == 1:
        return statement
    try:
        return wrapped(module, line, indent, limit).with_changes(leading_lines=statement.leading_lines)
    except cst.ParserSyntaxError:
        return statement


def wrapped(module: cst.Module, text: str, indent: str, limit: int, built: cst.BaseStatement | None = None) -> cst.BaseStatement:
    """The statement whose code is the one line ``text`` (``built``, when given, is that statement already),
    wrapped as black would when the line is too long (parsed once, only then)."""
    if built is not None and fits(indent + text, limit):
        return built
    lines = wrap_line(indent + text, module.default_indent, limit)
    source = module.default_newline.join(line[len(indent) :] if line.startswith(indent) else line for line in lines)
    return statement_of(source + module.default_newline, module)


def statement_of(source: str, module: cst.Module) -> cst.BaseStatement:
    """The statement ``source`` parsed as in ``module``: each call gets its own nodes (a statement is never in
    two places of a tree), copied from one parse per text (the same lines recur in every helper)."""
    return copy_tree(_parsed(source, module.encoding, module.default_indent, module.default_newline))


@lru_cache(maxsize=256)
def _parsed(source: str, encoding: str, indent: str, newline: str) -> cst.BaseStatement:
    """Only ever copied (:func:`statement_of`), never put in a tree itself."""
    return cst.parse_statement(source, config=cst.PartialParserConfig(encoding=encoding, default_indent=indent, default_newline=newline))
