"""Undo recorded applies: byte for byte when the file is untouched, else hunk by hunk.

When a file still holds exactly the text llmfix wrote, the recorded original
comes back whole. When it was edited since, each of llmfix's hunks is found in
the current text (its patched lines, context included, nearest the expected
place) and swapped back; a hunk that can't be found stops the revert with a
message naming it, and nothing is written.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from llmfix.errors import LlmfixError
from llmfix.state import Record, digest

DEF_LINE = re.compile(r"^\s*(async\s+)?def\s+\w+")


class RevertConflict(LlmfixError):
    """One of llmfix's hunks is no longer in the file as llmfix wrote it."""


@dataclass(frozen=True)
class Hunk:
    old_start: int
    old_lines: list[str]
    new_start: int
    new_lines: list[str]
    where: str

    def header(self) -> str:
        return f"@@ -{self.old_start + 1},{len(self.old_lines)} +{self.new_start + 1},{len(self.new_lines)} @@ {self.where}".rstrip()


def _enclosing_def(lines: list[str], index: int) -> str:
    for line in reversed(lines[: index + 1]):
        if DEF_LINE.match(line):
            return line.strip()
    return ""


def hunks(record: Record, context: int = 3) -> list[Hunk]:
    """llmfix's hunks for one record, as a unified diff would group them."""
    old = record.original.splitlines(keepends=True)
    new = record.patched.splitlines(keepends=True)
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    found = []
    for group in matcher.get_grouped_opcodes(context):
        o_lo, o_hi = group[0][1], group[-1][2]
        n_lo, n_hi = group[0][3], group[-1][4]
        first_change = next(op[3] for op in group if op[0] != "equal")
        found.append(Hunk(o_lo, old[o_lo:o_hi], n_lo, new[n_lo:n_hi], _enclosing_def(new, first_change)))
    return found


def _find_block(lines: list[str], block: list[str], expected: int) -> int | None:
    """Start of ``block`` in ``lines`` nearest to ``expected``."""
    size = len(block)
    if size == 0:
        return min(max(expected, 0), len(lines))
    starts = [i for i in range(len(lines) - size + 1) if lines[i] == block[0] and lines[i : i + size] == block]
    return min(starts, key=lambda i: abs(i - expected)) if starts else None


def undo_record(text: str, record: Record, relpath: str) -> str:
    """``text`` with one record's changes taken out."""
    if digest(text) == record.patched_digest:
        return record.original
    lines = text.splitlines(keepends=True)
    offset = 0
    for hunk in hunks(record):
        start = _find_block(lines, hunk.new_lines, hunk.new_start + offset)
        if start is None:
            raise RevertConflict(
                f"{relpath}: can't revert hunk {hunk.header()}: its lines were edited since llmfix applied it"
            )
        lines[start : start + len(hunk.new_lines)] = hunk.old_lines
        offset = start - hunk.new_start + len(hunk.old_lines) - len(hunk.new_lines)
    return "".join(lines)


def revert_text(text: str, records: list[Record], relpath: str) -> str:
    """Undo every record, newest first."""
    for record in reversed(records):
        text = undo_record(text, record, relpath)
    return text
