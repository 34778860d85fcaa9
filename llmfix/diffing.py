"""Git-style unified diffs of two texts, and their line counts.

The edit script is a shortest one (Myers, git's default), so the counts are ``git diff``'s. Lines on
one side only are set aside first; a region needing more than :data:`MAX_COST` edits is cut at the
furthest point reached, as git's xdiff does. ``git apply`` takes the output from the checkout root.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence

EQUAL = "equal"
MAX_COST = 256  # git's XDL_MAX_COST_MIN
NO_NEWLINE = "\\ No newline at end of file\n"

Opcode = tuple[str, int, int, int, int]


def split_lines(text: str) -> list[str]:
    """The lines of ``text`` with their line ends, as git counts them (only ``\\n`` ends a line)."""
    lines = text.split("\n")
    return [line + "\n" for line in lines[:-1]] + ([lines[-1]] if lines[-1] else [])


def _myers(a: Sequence[int], b: Sequence[int]) -> list[tuple[int, int]]:
    """The index pairs of equal lines along a shortest edit script, round by round of at most MAX_COST edits."""
    n, m, offset = len(a), len(b), MAX_COST + 1
    matches: list[tuple[int, int]] = []
    x0 = y0 = 0
    while True:
        v, trace, end = [0] * (2 * offset + 1), [], None
        v[offset + 1] = x0
        for d in range(MAX_COST + 1):
            trace.append(v[:])  # trace[d]: the furthest x on each diagonal after d - 1 edits
            for k in range(-d, d + 1, 2):
                x = v[offset + k + 1] if k == -d or (k != d and v[offset + k - 1] < v[offset + k + 1]) else v[offset + k - 1] + 1
                y = y0 + x - x0 - k
                while x < n and y < m and a[x] == b[y]:
                    x, y = x + 1, y + 1
                v[offset + k] = x
                if x >= n and y >= m:
                    end = (d, x, y)
                    break
            if end:
                break
        if end is None:  # past MAX_COST: go on from the furthest point reached inside the box
            reached = [(v[offset + k], y0 + v[offset + k] - x0 - k) for k in range(-MAX_COST, MAX_COST + 1, 2)]
            end = (MAX_COST, *max((p for p in reached if p[0] <= n and p[1] <= m), key=sum))
        d, x, y = end
        found = []
        for step in range(d, 0, -1):
            before, k = trace[step], x - x0 - (y - y0)
            back = k + 1 if k == -step or (k != step and before[offset + k - 1] < before[offset + k + 1]) else k - 1
            px = before[offset + back]
            py = y0 + px - x0 - back
            while x > px and y > py:
                x, y = x - 1, y - 1
                found.append((x, y))
            x, y = px, py
        found += [(x0 + i, y0 + i) for i in reversed(range(x - x0))]
        matches += reversed(found)
        if (end[1], end[2]) == (n, m):
            return matches
        x0, y0 = end[1], end[2]


def opcodes(old: Sequence[str], new: Sequence[str]) -> list[Opcode]:
    """``(tag, i1, i2, j1, j2)`` runs turning ``old`` into ``new``, as :mod:`difflib` names them."""
    ids: dict[str, int] = {}
    a, b = [ids.setdefault(line, len(ids)) for line in old], [ids.setdefault(line, len(ids)) for line in new]
    in_a, in_b = set(a), set(b)
    a_index, b_index = [i for i, line in enumerate(a) if line in in_b], [j for j, line in enumerate(b) if line in in_a]
    pairs = [(a_index[i], b_index[j]) for i, j in _myers([a[i] for i in a_index], [b[j] for j in b_index])]
    codes: list[Opcode] = []
    i = j = 0
    for x, y in [*pairs, (len(a), len(b))]:
        if i < x or j < y:
            codes.append(("replace" if i < x and j < y else "delete" if i < x else "insert", i, x, j, y))
        if x < len(a):
            if codes and codes[-1][0] == EQUAL:
                codes[-1] = (EQUAL, codes[-1][1], x + 1, codes[-1][3], y + 1)
            else:
                codes.append((EQUAL, x, x + 1, y, y + 1))
        i, j = x + 1, y + 1
    return codes


class _Hunks(difflib.SequenceMatcher):
    """difflib's grouping of changes with their context into hunks, over the shortest edit script."""

    def get_opcodes(self) -> list[Opcode]:
        return opcodes(self.a, self.b)


def _hunks(old: Sequence[str], new: Sequence[str], context: int = 3) -> list[list[Opcode]]:
    return list(_Hunks(None, old, new, autojunk=False).get_grouped_opcodes(context))


def count_changes(old: Sequence[str], new: Sequence[str]) -> tuple[int, int]:
    """(added, removed) lines of the shortest edit script."""
    codes = [c for c in opcodes(old, new) if c[0] != EQUAL]
    return sum(j2 - j1 for _, _, _, j1, j2 in codes), sum(i2 - i1 for _, i1, i2, _, _ in codes)


def _range(start: int, stop: int) -> str:
    """A unified diff range (an empty one names the line before)."""
    return str(start + 1) if stop - start == 1 else f"{start + (stop > start)},{stop - start}"


def unified_diff(relpath: str, old: str, new: str, context: int = 3, created: bool = False, deleted: bool = False) -> str:
    """One file's diff in git's format (empty when nothing changes); ``created``: a new file, ``deleted``: a removed one."""
    if old == new and not deleted:
        return ""
    a, b = split_lines(old), split_lines(new)
    head = f"diff --git a/{relpath} b/{relpath}\n"
    if created:
        head += f"new file mode 100644\n--- /dev/null\n+++ b/{relpath}\n"
    elif deleted:
        head += f"deleted file mode 100644\n--- a/{relpath}\n+++ /dev/null\n"
    else:
        head += f"--- a/{relpath}\n+++ b/{relpath}\n"
    out = [head]
    for hunk in _hunks(a, b, context):
        out.append(f"@@ -{_range(hunk[0][1], hunk[-1][2])} +{_range(hunk[0][3], hunk[-1][4])} @@\n")
        for tag, i1, i2, j1, j2 in hunk:
            lines = [" " + line for line in a[i1:i2]] if tag == EQUAL else ["-" + line for line in a[i1:i2]] + ["+" + line for line in b[j1:j2]]
            out += (line if line.endswith("\n") else line + "\n" + NO_NEWLINE for line in lines)
    return "".join(out)


def count(old: str, new: str) -> tuple[int, int, int]:
    """(added, removed, hunks) of the diff from ``old`` to ``new``, as git counts them."""
    a, b = split_lines(old), split_lines(new)
    return (*count_changes(a, b), len(_hunks(a, b)))
