"""A target's bytes as text and back (a UTF-8 byte-order mark set aside, line endings kept), and the
checks before parsing: at most :data:`MAX_SOURCE_BYTES`, and no nesting deep enough to overflow libcst's parser.
"""

from __future__ import annotations

import ast
import io
import keyword
import os
import re
import tokenize
from pathlib import Path

from llmfix.errors import BadInput
from llmfix.safefiles import MIB, open_regular, read_regular

BOM = b"\xef\xbb\xbf"
MAX_SOURCE_BYTES = 8 * MIB  # open-instruct's helpers are tens of KB; libcst's tree of megabytes would cost many times that
TOO_LARGE = "not a helper file llmfix patches (nothing written)"
MAX_NESTING = 400
CONFLICT_START = re.compile(r"^<{7}(?: |$)")
CONFLICT_MIDDLE = re.compile(r"^={7}$")

# tokens that make the expression tree one level deeper where they appear
NESTING_OPERATORS = {"+", "-", "*", "/", "//", "%", "**", "@", "<<", ">>", "&", "|", "^", "~", "."}
NESTING_KEYWORDS = {"and", "or", "not", "if", "else", "lambda", "await", "for", "async", "yield"}
OPENING, CLOSING = "([{", ")]}"


def read_source_bytes(path: Path) -> bytes:
    """A target file's bytes, never through a symlink and at most :data:`MAX_SOURCE_BYTES`; BadInput (one line) otherwise."""
    data = read_regular(path, MAX_SOURCE_BYTES, TOO_LARGE)
    if data is None:
        raise BadInput(f"{path}: no such file")
    return data


def check_size(path: Path) -> None:
    """BadInput when ``path`` is not a regular file of at most :data:`MAX_SOURCE_BYTES` (nothing is read)."""
    fd = open_regular(path, MAX_SOURCE_BYTES, TOO_LARGE)
    if fd is None:
        raise BadInput(f"{path}: no such file")
    os.close(fd)


def decode(data: bytes, path: Path) -> str:
    """The text of a target file (without a byte-order mark); BadInput when it isn't UTF-8 Python text."""
    if b"\0" in data:
        raise BadInput(f"{path}: binary file, not Python source")
    try:
        return data.removeprefix(BOM).decode("utf-8")
    except UnicodeDecodeError as error:
        raise BadInput(f"{path}: not UTF-8 text (byte {error.start + (len(BOM) if data.startswith(BOM) else 0)})") from None


def encode(text: str, like: bytes | None) -> bytes:
    """``text`` as bytes for a file that held ``like`` (its byte-order mark kept)."""
    data = text.encode("utf-8")
    return BOM + data if like is not None and like.startswith(BOM) else data


def conflict_marker_line(text: str) -> int | None:
    """The 1-based line of the first ``<<<<<<<`` opening a conflict that git left in ``text``."""
    start = None
    for number, line in enumerate(text.splitlines(), start=1):
        if CONFLICT_START.match(line):
            start = number
        elif start is not None and CONFLICT_MIDDLE.match(line):
            return start
    return None


def nesting(text: str) -> tuple[int, int]:
    """(estimated deepest expression nesting, its 1-based line), from the tokens alone: each bracket, operator,
    trailer and nesting keyword in a chain adds a level, a comma ends the chain, each indented block adds one."""
    deepest, where = 0, 1
    frames: list[list[int]] = [[0, 0]]  # per open bracket: [depth at the bracket, operators since the last comma]
    indent = 0
    previous: tokenize.TokenInfo | None = None
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            kind, string = token.type, token.string
            if kind == tokenize.INDENT:
                indent += 1
            elif kind == tokenize.DEDENT:
                indent -= 1
            elif kind == tokenize.NEWLINE:
                frames = [[0, 0]]
            elif kind == tokenize.OP and string in OPENING:
                frame = frames[-1]
                if _is_trailer(previous):
                    frame[1] += 1
                frames.append([frame[0] + frame[1] + 1, 0])
            elif kind == tokenize.OP and string in CLOSING:
                if len(frames) > 1:
                    frames.pop()
            elif kind == tokenize.OP and string in (",", ";"):
                frames[-1][1] = 0
            elif (kind == tokenize.OP and string in NESTING_OPERATORS) or (kind == tokenize.NAME and string in NESTING_KEYWORDS):
                frames[-1][1] += 1
            elif kind == tokenize.STRING and previous is not None and previous.type == tokenize.STRING:
                frames[-1][1] += 1  # implicit concatenation nests too
            depth = indent + frames[-1][0] + frames[-1][1]
            if depth > deepest:
                deepest, where = depth, token.start[0]
            if kind not in (tokenize.NL, tokenize.COMMENT):
                previous = token
    except (tokenize.TokenError, SyntaxError):
        pass
    return deepest, where


def _is_trailer(previous: tokenize.TokenInfo | None) -> bool:
    """True when a bracket after ``previous`` is a call or subscript (which nests), not a new atom."""
    if previous is None:
        return False
    if previous.type == tokenize.NAME:
        return not keyword.iskeyword(previous.string) or previous.string in ("None", "True", "False")
    return previous.type in (tokenize.NUMBER, tokenize.STRING) or previous.string in CLOSING


SHALLOW = 100  # an AST no deeper than this is far from what libcst can't take


def _shallow(text: str) -> bool:
    """True when CPython's own (cheap) parser reads ``text`` into a shallow tree; else :func:`nesting` decides."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    level: list[ast.AST] = [tree]
    for _ in range(SHALLOW + 1):  # one level of the tree at a time (three times cheaper than ast.iter_child_nodes)
        below = []
        for node in level:
            for name in node._fields:
                value = getattr(node, name, None)
                if type(value) is list:
                    below.extend(value)
                elif isinstance(value, ast.AST):
                    below.append(value)
        level = [child for child in below if isinstance(child, ast.AST)]
        if not level:
            return True
    return False


def check_nesting(path: Path, text: str) -> None:
    """BadInput for code nested too deeply for libcst to parse safely."""
    depth, line = (0, 1) if _shallow(text) else nesting(text)
    if depth > MAX_NESTING:
        raise BadInput(
            f"{path}:{line}: code nested about {depth} levels deep (a very long operator chain or deep brackets); "
            f"llmfix's parser handles up to {MAX_NESTING}; nothing written"
        )
