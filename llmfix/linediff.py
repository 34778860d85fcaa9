"""Minimal line diffs (Myers' algorithm, as git uses by default) and their hunks.

``opcodes(old, new)`` says, like :mod:`difflib`, which runs of lines are equal,
deleted, inserted or replaced; the edit script is a shortest one, so its added
and removed line counts are those of ``git diff``. The work is linear in the
file size when few lines change: the common head and tail are cut off first,
lines found in only one side are set aside (they can only be edits), and what
is left is split at Myers' "middle snake" in linear space. A region whose
edit distance passes :data:`MAX_COST` is split at the furthest point reached
instead, as git's xdiff does, so a huge rewrite stays fast (the diff is then
still correct, only possibly longer than the shortest).

``hunks(old, new)`` groups the edits with context lines, as a unified diff
shows them; ``render`` writes them in git's format.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

EQUAL, DELETE, INSERT, REPLACE = "equal", "delete", "insert", "replace"
MAX_COST = 256  # git's XDL_MAX_COST_MIN
NO_NEWLINE = "\\ No newline at end of file\n"

Opcode = tuple[str, int, int, int, int]


def split_lines(text: str) -> list[str]:
    """The lines of ``text`` with their line ends, as git counts them (only ``\\n`` ends a line)."""
    lines = text.split("\n")
    out = [line + "\n" for line in lines[:-1]]
    if lines[-1]:
        out.append(lines[-1])
    return out


def _intern(old: Sequence[str], new: Sequence[str]) -> tuple[list[int], list[int]]:
    ids: dict[str, int] = {}
    a = [ids.setdefault(line, len(ids)) for line in old]
    b = [ids.setdefault(line, len(ids)) for line in new]
    return a, b


class _Myers:
    """Matched line pairs between two sequences of ints, found box by box."""

    def __init__(self, a: Sequence[int], b: Sequence[int]) -> None:
        self.a, self.b = a, b
        self.matches: list[tuple[int, int]] = []

    def run(self) -> list[tuple[int, int]]:
        boxes = [(0, 0, len(self.a), len(self.b))]
        while boxes:
            box = self._trim(*boxes.pop())
            if box is None:
                continue
            left, top, right, bottom = box
            start, finish = self._middle_snake(left, top, right, bottom)
            self._walk(start, finish)
            # the tail box is pushed first so the head box is handled first (order is irrelevant: matches are sorted)
            boxes.append((finish[0], finish[1], right, bottom))
            boxes.append((left, top, start[0], start[1]))
        self.matches.sort()
        return self.matches

    def _trim(self, left: int, top: int, right: int, bottom: int) -> tuple[int, int, int, int] | None:
        a, b, matches = self.a, self.b, self.matches
        while left < right and top < bottom and a[left] == b[top]:
            matches.append((left, top))
            left += 1
            top += 1
        while left < right and top < bottom and a[right - 1] == b[bottom - 1]:
            right -= 1
            bottom -= 1
            matches.append((right, bottom))
        if left == right or top == bottom:
            return None
        return left, top, right, bottom

    def _walk(self, start: tuple[int, int], finish: tuple[int, int]) -> None:
        """Record the diagonal moves between two points of the path."""
        a, b = self.a, self.b
        (x, y), (u, v) = start, finish
        while x < u and y < v and a[x] == b[y]:
            self.matches.append((x, y))
            x += 1
            y += 1
        if u - x > v - y:
            x += 1
        elif v - y > u - x:
            y += 1
        while x < u and y < v and a[x] == b[y]:
            self.matches.append((x, y))
            x += 1
            y += 1

    def _middle_snake(self, left: int, top: int, right: int, bottom: int) -> tuple[tuple[int, int], tuple[int, int]]:
        """The middle snake of a box (its start and end), or a split point past MAX_COST."""
        a, b = self.a, self.b
        width, height = right - left, bottom - top
        delta = width - height
        odd = delta % 2 == 1
        limit = (width + height + 1) // 2
        offset = limit + 1
        forward = [0] * (2 * limit + 3)
        backward = [0] * (2 * limit + 3)
        forward[offset + 1] = left
        backward[offset + 1] = bottom
        for d in range(limit + 1):
            if d > MAX_COST:
                return self._furthest(forward, offset, d - 1, left, top, right, bottom)
            for k in range(d, -d - 1, -2):
                if k == -d or (k != d and forward[offset + k - 1] < forward[offset + k + 1]):
                    px = x = forward[offset + k + 1]
                else:
                    px = forward[offset + k - 1]
                    x = px + 1
                y = top + (x - left) - k
                py = y if (d == 0 or x != px) else y - 1
                while x < right and y < bottom and a[x] == b[y]:
                    x += 1
                    y += 1
                forward[offset + k] = x
                c = k - delta
                if odd and -(d - 1) <= c <= d - 1 and y >= backward[offset + c]:
                    return (px, py), (x, y)
            for c in range(d, -d - 1, -2):
                if c == -d or (c != d and backward[offset + c - 1] > backward[offset + c + 1]):
                    py = y = backward[offset + c + 1]
                else:
                    py = backward[offset + c - 1]
                    y = py - 1
                k = c + delta
                x = left + (y - top) + k
                px = x if (d == 0 or y != py) else x + 1
                while x > left and y > top and a[x - 1] == b[y - 1]:
                    x -= 1
                    y -= 1
                backward[offset + c] = y
                if not odd and -d <= k <= d and x <= forward[offset + k]:
                    return (x, y), (px, py)
        raise AssertionError("no middle snake")  # pragma: no cover - Myers always meets by d = limit

    @staticmethod
    def _furthest(forward: list[int], offset: int, d: int, left: int, top: int, right: int, bottom: int) -> tuple[tuple[int, int], tuple[int, int]]:
        best = None
        for k in range(d, -d - 1, -2):
            x = min(forward[offset + k], right)
            y = top + (x - left) - k
            if top <= y <= bottom and (best is None or x + y > best[0] + best[1]):
                best = (x, y)
        assert best is not None and best != (left, top)
        if best == (right, bottom):  # pragma: no cover - the forward pass would have met the backward one
            best = (right - 1, bottom) if right > left else (right, bottom - 1)
        return best, best


def _matching_pairs(a: list[int], b: list[int]) -> list[tuple[int, int]]:
    """Line pairs of a longest common subsequence of ``a`` and ``b``."""
    in_b, in_a = set(b), set(a)
    a_index = [i for i, line in enumerate(a) if line in in_b]
    b_index = [j for j, line in enumerate(b) if line in in_a]
    if len(a_index) == len(a) and len(b_index) == len(b):
        return _Myers(a, b).run()
    pairs = _Myers([a[i] for i in a_index], [b[j] for j in b_index]).run()
    return [(a_index[i], b_index[j]) for i, j in pairs]


def opcodes(old: Sequence[str], new: Sequence[str]) -> list[Opcode]:
    """``(tag, i1, i2, j1, j2)`` runs turning ``old`` into ``new``, as :mod:`difflib` names them."""
    a, b = _intern(old, new)
    codes: list[Opcode] = []
    i = j = 0
    for x, y in [*_matching_pairs(a, b), (len(a), len(b))]:
        if i < x or j < y:
            tag = REPLACE if i < x and j < y else DELETE if i < x else INSERT
            codes.append((tag, i, x, j, y))
        if x < len(a):
            if codes and codes[-1][0] == EQUAL:
                _, i1, _, j1, _ = codes[-1]
                codes[-1] = (EQUAL, i1, x + 1, j1, y + 1)
            else:
                codes.append((EQUAL, x, x + 1, y, y + 1))
        i, j = x + 1, y + 1
    return codes


def count_changes(old: Sequence[str], new: Sequence[str]) -> tuple[int, int]:
    """(added, removed) lines of the shortest edit script."""
    added = removed = 0
    for tag, i1, i2, j1, j2 in opcodes(old, new):
        if tag != EQUAL:
            removed += i2 - i1
            added += j2 - j1
    return added, removed


@dataclass(frozen=True)
class Hunk:
    """One group of changes with its context, as a unified diff shows it.

    ``lines`` are ``" "``, ``"-"`` or ``"+"`` followed by the line, line end
    included. Starts are 0-based line indexes into the old and new texts.
    """

    old_start: int
    new_start: int
    lines: tuple[str, ...]

    @property
    def old_lines(self) -> list[str]:
        return [line[1:] for line in self.lines if line[0] != "+"]

    @property
    def new_lines(self) -> list[str]:
        return [line[1:] for line in self.lines if line[0] != "-"]

    @property
    def added(self) -> int:
        return sum(1 for line in self.lines if line[0] == "+")

    @property
    def removed(self) -> int:
        return sum(1 for line in self.lines if line[0] == "-")

    def header(self) -> str:
        return f"@@ -{_range(self.old_start, len(self.old_lines))} +{_range(self.new_start, len(self.new_lines))} @@"


def _range(start: int, length: int) -> str:
    """A unified diff range (git's and difflib's convention: an empty range names the line before)."""
    if length == 1:
        return str(start + 1)
    return f"{start + (1 if length else 0)},{length}"


def _grouped(codes: list[Opcode], context: int) -> Iterable[list[Opcode]]:
    """Opcodes in groups with up to ``context`` equal lines around each change (difflib's grouping)."""
    if not codes:
        codes = [(EQUAL, 0, 1, 0, 1)]
    if codes[0][0] == EQUAL:
        tag, i1, i2, j1, j2 = codes[0]
        codes[0] = (tag, max(i1, i2 - context), i2, max(j1, j2 - context), j2)
    if codes[-1][0] == EQUAL:
        tag, i1, i2, j1, j2 = codes[-1]
        codes[-1] = (tag, i1, min(i2, i1 + context), j1, min(j2, j1 + context))
    group: list[Opcode] = []
    for tag, i1, i2, j1, j2 in codes:
        if tag == EQUAL and i2 - i1 > 2 * context:
            group.append((tag, i1, min(i2, i1 + context), j1, min(j2, j1 + context)))
            yield group
            group = []
            i1, j1 = max(i1, i2 - context), max(j1, j2 - context)
        group.append((tag, i1, i2, j1, j2))
    if group and not (len(group) == 1 and group[0][0] == EQUAL):
        yield group


def hunks(old: Sequence[str], new: Sequence[str], context: int = 3) -> list[Hunk]:
    """The hunks of a unified diff from ``old`` to ``new`` (lists of lines, line ends kept)."""
    found = []
    for group in _grouped(opcodes(old, new), context):
        lines: list[str] = []
        for tag, i1, i2, j1, j2 in group:
            if tag == EQUAL:
                lines += [" " + line for line in old[i1:i2]]
                continue
            lines += ["-" + line for line in old[i1:i2]]
            lines += ["+" + line for line in new[j1:j2]]
        found.append(Hunk(group[0][1], group[0][3], tuple(lines)))
    return found


def render(hunk_list: Sequence[Hunk]) -> str:
    """The hunks as unified diff text; a last line without a line end is marked as git marks it."""
    out = []
    for hunk in hunk_list:
        out.append(hunk.header() + "\n")
        for line in hunk.lines:
            if line.endswith("\n"):
                out.append(line)
            else:
                out.append(line + "\n")
                out.append(NO_NEWLINE)
    return "".join(out)
