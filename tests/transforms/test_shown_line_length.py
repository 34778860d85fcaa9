"""Where no settings give a line length, the file's own lines do (``style.shown_line_length``).

Rows are (source, expected length). A file a formatter keeps at 88 only ever goes past it on a line
the formatter can't split (a long string, a comment): those don't count. A line with a comma inside
brackets between two items past 88 shows the file is not formatted at 88: its length is the file's, at most 119.
"""

from __future__ import annotations

import importlib
import io
import tokenize
from pathlib import Path

import libcst as cst
import pytest

from llmfix.codemods.style import Style, shown_line_length
from llmfix.codemods.style.config import RepoStyle

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
NOT_ITEMS = (tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE)
CLOSING = (")", "]", "}")

LONG_CALL = "x = call(" + ", ".join(f"argument_{i}" for i in range(9)) + ")\n"  # 114 columns
LONG_DEF = "def helper(model_name, user_prompt=None, system_prompt=None, messages=None, **chat_kwargs):\n    pass\n"
ROW = "    " + ", ".join(["argument"] * 9) + ","  # 93 columns, inside the call's brackets
ROWS = [
    pytest.param("x = 1\n", 88, id="short-file"),
    pytest.param(f"x = {'a' * 120!r}\n", 88, id="long-string-black-leaves"),
    pytest.param("x = 1  # " + "c" * 100 + "\n", 88, id="long-comment"),
    pytest.param(f"y = f({'a' * 100!r})\n", 88, id="long-call-of-one-argument"),
    pytest.param(LONG_CALL, len(LONG_CALL) - 1, id="long-call-with-commas"),
    pytest.param(LONG_DEF, LONG_DEF.index(":\n") + 1, id="long-signature"),
    pytest.param(LONG_CALL.replace("argument", "a_much_longer_argument"), 119, id="capped-at-119"),
    pytest.param("x = call(\n" + ROW + "\n)\n", len(ROW), id="comma-inside-brackets-on-a-later-row"),
    pytest.param(f"x = [\n    {'a' * 100!r},\n    {'b' * 100!r},\n]\n", 88, id="exploded-list-of-long-strings"),
    pytest.param("x = call(a,  # " + "c" * 100 + "\n    b)\n", 88, id="long-comment-after-a-comma"),
    pytest.param('x = t.Literal["a", "b"]  # pyright: ' + "c" * 90 + "\n", 88, id="short-code-long-pragma"),
    pytest.param("f(\n    lambda " + ", ".join(f"arg{i}" for i in range(20)) + ": 0\n)\n", 88, id="lambda-parameters"),
    pytest.param(LONG_CALL.replace("\n", "\r\n"), len(LONG_CALL) - 1, id="crlf"),
    pytest.param('x = """\n' + LONG_CALL + '"""\n', 88, id="a-call-inside-a-string"),
    pytest.param("x = '\\\n" + LONG_CALL.rstrip() + "'\n", 88, id="a-call-inside-a-continued-string"),
]


@pytest.mark.parametrize(("source", "expected"), ROWS)
def test_shown_line_length(source, expected):
    assert shown_line_length(source) == expected


def test_settings_win_over_the_file():
    module = cst.parse_module(LONG_CALL)
    assert Style.for_module(module, RepoStyle(line_length=88)).line_length == 88
    assert Style.for_module(module, RepoStyle()).line_length == len(LONG_CALL) - 1
    assert Style.for_module(module, RepoStyle(), "x = 1\n").line_length == 88  # the text given is the one read


def tokenized_line_length(text: str) -> int:
    """The same rule read with Python's own tokenizer: slower, and the reference the scanner must agree with."""
    lines = io.StringIO(text).readlines()  # the rows tokenize counts (only "\n" ends one)
    longest_from = [0] * (len(lines) + 2)  # [row]: the longest line over 88 from that row on
    for row in range(len(lines), 0, -1):
        length = len(lines[row - 1].rstrip("\r\n"))
        longest_from[row] = max(length if length > 88 else 0, longest_from[row + 1])
    widest, current, split, comment = 88, 0, False, None  # split: the current row counts
    depth, comma, lambdas = 0, 0, []  # comma: the row of the comma just read (0: none)
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline) if longest_from[1] else ():
            row, kind, string = token.start[0], token.type, token.string
            if row != current:
                if split:  # its code, without a trailing comment
                    widest = max(widest, len(lines[current - 1][:comment].rstrip()))
                if widest >= min(longest_from[row], 119):  # no later line can change the answer
                    break
                current, split, comment = row, False, None
            if row == comma and kind not in NOT_ITEMS and string not in CLOSING:  # an item follows the comma on its row
                split = True
            comma = 0
            if kind == tokenize.COMMENT:
                comment = token.start[1]
            elif kind == tokenize.NAME and string == "lambda":
                lambdas.append(depth)
            elif kind == tokenize.OP and string in ("(", "[", "{"):
                depth += 1
            elif kind == tokenize.OP and string in CLOSING:
                depth -= 1
            elif kind == tokenize.OP and string == ":" and lambdas and lambdas[-1] == depth:
                lambdas.pop()
            elif kind == tokenize.OP and string == "," and depth > 0 and not (lambdas and lambdas[-1] == depth):
                comma = row
    except (tokenize.TokenError, SyntaxError):  # not Python llmfix can patch: the default
        return 88
    return min(widest, 119)


def test_the_scanner_reads_what_the_tokenizer_reads():
    """Over real code (the fixtures, libcst, click, hypothesis, black: black-formatted at 88 and not), every answer agrees."""
    roots = [FIXTURES, *(Path(importlib.import_module(name).__file__).parent for name in ("libcst", "click", "hypothesis", "black"))]
    texts = [path.read_text(encoding="utf-8", errors="replace") for root in roots for path in sorted(root.rglob("*.py"))]
    assert len(texts) > 400
    differ = [(shown_line_length(text), tokenized_line_length(text)) for text in texts if shown_line_length(text) != tokenized_line_length(text)]
    assert differ == []
    assert any(shown_line_length(text) > 88 for text in texts)  # the comparison saw both answers
