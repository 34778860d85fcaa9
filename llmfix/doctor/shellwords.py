"""Split a launcher script into commands of words, and expand ``$VAR``/``${VAR:-default}`` in them
(pure, no shell run): the lexing half of :mod:`llmfix.doctor.launchers`.

Words keep single-quoted text apart from text that undergoes expansion; command substitution
and positional parameters expand to :data:`UNRESOLVED`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterator

NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
ASSIGN = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)(\+?)=(.*)", re.S)
UNRESOLVED = "\x00"  # marks a value that holds $(...), `...`, $1 and the like


@dataclass
class Word:
    text: str
    line: int
    quoted: bool = False  # any part quoted (so an empty word still counts)
    has_assign_shape: bool = False  # NAME= prefix was unquoted


def lex(source: str) -> Iterator[list[Word] | None]:
    """Yield commands as word lists (expansion markers kept for the expander). None never yielded."""
    i, n, line = 0, len(source), 1
    words: list[Word] = []
    parts: list[tuple[str, str]] = []  # (kind, text): kind in raw/single/double
    start_line = 1
    quoted = False

    def end_word() -> None:
        nonlocal parts, quoted
        if parts or quoted:
            raw0 = parts[0][1] if parts and parts[0][0] == "raw" else ""
            words.append(Word(_encode(parts), start_line, quoted, bool(ASSIGN.match(raw0))))
        parts, quoted = [], False

    while i < n:
        c = source[i]
        if c == "\\" and source.startswith("\n", i + 1):  # a line continuation
            i, line = i + 2, line + 1
        elif c in " \t\r":
            end_word()
            i += 1
        elif c in "\n;|&":  # the end of a command
            end_word()
            if words:
                yield words
            words = []
            line += c == "\n"
            i += 2 if source.startswith(("&&", "||"), i) else 1
        elif c == "#" and not parts and not quoted:  # a comment, up to the end of the line
            j = source.find("\n", i)
            i = n if j < 0 else j
        else:
            if not parts and not quoted:
                start_line = line
            kind, text, i, is_quoted = _part(source, i)
            if is_quoted:
                line += text.count("\n")
                quoted = True
            parts.append((kind, text))
    end_word()
    if words:
        yield words


def _part(source: str, i: int) -> tuple[str, str, int, bool]:
    """The piece of a word starting at ``i``: (kind, text, the index after it, whether it was quoted)."""
    n, c = len(source), source[i]
    if c == "'":
        j = source.find("'", i + 1)
        j = n if j < 0 else j
        return "single", source[i + 1 : j], j + 1, True
    if c == '"':
        text, j = _double_quoted(source, i + 1)
        return "double", text, j + 1, True
    if c == "\\" and i + 1 < n:
        return "single", source[i + 1], i + 2, False
    if source.startswith("$(", i):
        j = _closing_paren(source, i + 1)
        return "raw", source[i : j + 1], j + 1, False
    if source.startswith("${", i) or c == "`":
        j = source.find("}" if c == "$" else "`", i + (c == "`"))
        j = n - 1 if j < 0 else j
        return "raw", source[i : j + 1], j + 1, False
    j = i
    while j < n and source[j] not in " \t\r\n;&|'\"\\$`#":  # a run of plain characters
        j += 1
    j = max(j, i + 1)  # a lone $ or a # inside a word
    return "raw", source[i:j], j, False


def _double_quoted(source: str, j: int) -> tuple[str, int]:
    """The text of a double-quoted string opened before ``j``, and the index of its closing quote."""
    n, buf = len(source), []
    while j < n and source[j] != '"':
        if source[j] == "\\" and j + 1 < n and source[j + 1] in '"\\$`\n':
            if source[j + 1] != "\n":
                buf.append("\\" + source[j + 1] if source[j + 1] in "$`" else source[j + 1])
            j += 2
            continue
        buf.append(source[j])
        j += 1
    return "".join(buf), j


def _closing_paren(source: str, j: int) -> int:
    """The index of the ``)`` closing the ``(`` at ``j`` (or the end)."""
    depth, n = 0, len(source)
    while j < n:
        if source[j] == "(":
            depth += 1
        elif source[j] == ")":
            depth -= 1
            if depth == 0:
                break
        j += 1
    return j


# Parts are encoded into one string with private-use separators so the expander can tell
# single-quoted (literal) text from text that undergoes expansion.
_S, _E = "\ue000", "\ue001"


def _encode(parts: list[tuple[str, str]]) -> str:
    return "".join(f"{_S}{t}{_E}" if kind == "single" else t for kind, t in parts)


_EXPANSION = re.compile(
    r"\\([$`])"  # escaped inside double quotes
    r"|\$\{(?P<braced>[^}]*)\}"
    r"|\$(?P<name>[A-Za-z_][A-Za-z0-9_]*)"
    r"|\$(?P<special>[0-9@*#?$!-])"
    r"|(?P<cmd>\$\(.*?\)|`[^`]*`)",
    re.S,
)


def expand(text: str, lookup) -> str:
    out: list[str] = []
    for literal, chunk in _split_literal(text):
        out.append(chunk if literal else _expand_chunk(chunk, lookup))
    return "".join(out)


def _split_literal(text: str) -> Iterator[tuple[bool, str]]:
    while text:
        start = text.find(_S)
        if start < 0:
            yield False, text
            return
        if start:
            yield False, text[:start]
        end = text.find(_E, start)
        yield True, text[start + 1 : end]
        text = text[end + 1 :]


def _expand_chunk(chunk: str, lookup) -> str:
    def repl(m: re.Match[str]) -> str:
        if m.group(1):
            return m.group(1)
        if m.group("name"):
            return lookup(m.group("name"))
        if m.group("special") is not None or m.group("cmd"):
            return UNRESOLVED
        braced = m.group("braced")
        nm = NAME.match(braced)
        if not nm:
            return UNRESOLVED
        name, rest = nm.group(0), braced[nm.end() :]
        value = lookup(name)
        if not rest:
            return value
        for op in (":-", ":=", "-", "="):
            if rest.startswith(op):
                default = _expand_chunk(rest[len(op) :], lookup)
                empty = value == "" if op.startswith(":") else value == "" and not lookup_is_set(lookup, name)
                return default if empty else value
        return UNRESOLVED

    return _EXPANSION.sub(repl, chunk)


def lookup_is_set(lookup, name: str) -> bool:
    return getattr(lookup, "is_set", lambda _n: True)(name)
