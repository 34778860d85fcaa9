"""Undo recorded applies: exactly when the file is what llmfix wrote, else hunk by hunk.

Records are undone newest first. For each:

- the file's text is the one llmfix wrote (same SHA-256): its hunks are
  swapped back where the record says, giving the recorded original exactly;
- it is the recorded original: that apply is already undone, nothing to do;
- otherwise (edited since, or merged with upstream) each hunk is located by
  its lines: llmfix's lines with their context (3 lines, then 2, 1, none when
  a context line was edited), and swapped back only where that block appears
  exactly once (a run of identical hunks: exactly as many times as there are
  hunks). A hunk whose block appears more often (a copy of llmfix's lines
  pasted elsewhere) or not at all (its lines edited, or removed by upstream)
  can't be reverted and is named; a hunk whose original lines are back in
  place is already reverted.

A file is reverted whole or not at all: when any hunk can't be reverted the
file is left as it is and every such hunk is reported. Locating is linear in
the file size (one index of the file's lines per record).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from llmfix.errors import LlmfixError
from llmfix.linediff import Hunk, split_lines
from llmfix.state import Record, digest

DEF_LINE = re.compile(r"^\s*(async\s+)?def\s+\w+")
CONTEXT_LEVELS = (3, 2, 1, 0)


class RevertConflict(LlmfixError):
    """One of llmfix's hunks is no longer in the file as llmfix wrote it."""


@dataclass(frozen=True)
class HunkProblem:
    """A hunk revert can't undo, and why."""

    header: str
    where: str
    reason: str

    def describe(self) -> str:
        return f"hunk {self.header}{' ' + self.where if self.where else ''}: {self.reason}"


@dataclass
class FileRevert:
    """What reverting one file's records gives: the text, or the hunks in the way."""

    text: str
    problems: list[HunkProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _enclosing_def(lines: Sequence[str], index: int) -> str:
    for line in reversed(lines[: index + 1]):
        if DEF_LINE.match(line):
            return line.strip().rstrip(":")
    return ""


def _trimmed(hunk: Hunk, level: int) -> tuple[int, list[str], list[str]]:
    """(lines cut from the front, new block, old block) with at most ``level`` context lines each side."""
    lines = hunk.lines
    lead = 0
    while lead < len(lines) and lines[lead][0] == " ":
        lead += 1
    trail = 0
    while trail < len(lines) - lead and lines[len(lines) - 1 - trail][0] == " ":
        trail += 1
    cut_front = max(lead - level, 0)
    cut_back = max(trail - level, 0)
    kept = lines[cut_front : len(lines) - cut_back]
    return cut_front, [x[1:] for x in kept if x[0] != "-"], [x[1:] for x in kept if x[0] != "+"]


class _Index:
    """Where each line of a text is, to find blocks in time linear in the text."""

    def __init__(self, lines: list[str]) -> None:
        self.lines = lines
        self.positions: dict[str, list[int]] = defaultdict(list)
        for number, line in enumerate(lines):
            self.positions[line].append(number)

    def find(self, block: list[str]) -> list[int]:
        """Every start of ``block`` in the text."""
        if not block:
            return []
        rarest = min(range(len(block)), key=lambda i: len(self.positions.get(block[i], ())))
        starts = []
        size = len(block)
        for position in self.positions.get(block[rarest], ()):
            start = position - rarest
            if start >= 0 and self.lines[start : start + size] == block:
                starts.append(start)
        return starts


def _undo_exactly(lines: list[str], record: Record) -> list[str] | None:
    """The record's hunks swapped back at their recorded places, or None when they aren't there."""
    out = list(lines)
    for hunk in reversed(record.hunks):
        new = hunk.new_lines
        if out[hunk.new_start : hunk.new_start + len(new)] != new:
            return None
        out[hunk.new_start : hunk.new_start + len(new)] = hunk.old_lines
    return out


def _undo_located(lines: list[str], record: Record) -> tuple[list[str], list[HunkProblem]]:
    """Swap back each hunk found unambiguously; the problems for those that aren't."""
    index = _Index(lines)
    placed: dict[int, tuple[int, int, list[str]]] = {}  # hunk -> (start, length, replacement)
    taken: list[tuple[int, int]] = []

    def free(start: int, length: int) -> bool:
        return all(start + length <= s or s + n <= start for s, n in taken) if length else True

    counts: dict[int, list[int]] = {}
    for level in CONTEXT_LEVELS:
        groups: dict[tuple[str, ...], list[int]] = defaultdict(list)
        blocks = {}
        for number, hunk in enumerate(record.hunks):
            if number in placed:
                continue
            _, new, old = blocks[number] = _trimmed(hunk, level)
            if new:
                groups[tuple(new)].append(number)
        for block, members in groups.items():
            starts = [s for s in index.find(list(block)) if free(s, len(block))]
            for number in members:
                counts.setdefault(number, starts)
            if len(starts) == len(members):
                for number, start in zip(members, starts):
                    placed[number] = (start, len(block), blocks[number][2])
                    taken.append((start, len(block)))
    problems = []
    for number, hunk in enumerate(record.hunks):
        if number in placed:
            continue
        _, new, old = _trimmed(hunk, CONTEXT_LEVELS[0])
        if old and len(index.find(old)) == 1 and not index.find(new):
            continue  # its original lines are back, and llmfix's are gone: already reverted
        starts = counts.get(number, [])
        first_change = next((i for i, line in enumerate(hunk.lines) if line[0] != " "), 0)
        where = _enclosing_def(lines, min(hunk.new_start + first_change, len(lines) - 1))
        if len(starts) > 1:
            at = ", ".join(str(s + 1) for s in starts[:5])
            reason = f"its lines appear {len(starts)} times (lines {at}); llmfix can't tell which it wrote"
        else:
            reason = "its lines were changed since llmfix applied it"
        problems.append(HunkProblem(hunk.header(), where, reason))
    if problems:
        return lines, problems
    out = list(lines)
    for start, length, replacement in sorted(placed.values(), reverse=True):
        out[start : start + length] = replacement
    return out, []


def revert_file(text: str, records: Sequence[Record]) -> FileRevert:
    """``text`` with every record undone (newest first), or the hunks that prevent it."""
    lines = split_lines(text)
    located = False
    for record in reversed(records):
        current = digest("".join(lines))
        if current == record.original:
            continue
        exact = _undo_exactly(lines, record) if current == record.patched else None
        if exact is not None and digest("".join(exact)) == record.original:
            lines = exact
            continue
        lines, problems = _undo_located(lines, record)
        located = True
        if problems:
            return FileRevert(text, problems)
    result = "".join(lines)
    if located and result != text and not _still_compiles(text, result):
        return FileRevert(text, [HunkProblem("", "", "undoing llmfix's hunks in the edited file gives code that does not compile")])
    return FileRevert(result)


def _still_compiles(before: str, after: str) -> bool:
    """False when ``before`` compiles and ``after`` does not."""
    try:
        compile(before, "<before>", "exec", dont_inherit=True)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return True
    try:
        compile(after, "<after>", "exec", dont_inherit=True)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return True


def revert_text(text: str, records: Sequence[Record], relpath: str) -> str:
    """Undo every record, or raise :class:`RevertConflict` naming the first hunk in the way."""
    outcome = revert_file(text, records)
    if not outcome.ok:
        raise RevertConflict(f"{relpath}: can't revert {outcome.problems[0].describe()}")
    return outcome.text
