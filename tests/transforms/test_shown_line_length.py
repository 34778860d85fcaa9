"""Where no settings give a line length, the file's own lines do (``style.shown_line_length``).

Rows are (source, expected length). A file a formatter keeps at 88 only ever goes past it on a line
the formatter can't split (a long string, a comment): those don't count. A line with a comma inside
brackets between two items past 88 shows the file is not formatted at 88: its length is the file's, at most 119.
"""

from __future__ import annotations

import libcst as cst
import pytest

from llmfix.codemods.style import Style, shown_line_length
from llmfix.codemods.style.config import RepoStyle

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
    pytest.param('"""' + LONG_CALL, 88, id="not-python-the-default"),
]


@pytest.mark.parametrize(("source", "expected"), ROWS)
def test_shown_line_length(source, expected):
    assert shown_line_length(source) == expected


def test_settings_win_over_the_file():
    module = cst.parse_module(LONG_CALL)
    assert Style.for_module(module, RepoStyle(line_length=88, line_length_source="tests")).line_length == 88
    assert Style.for_module(module, RepoStyle()).line_length == len(LONG_CALL) - 1
    assert Style.for_module(module, RepoStyle(), "x = 1\n").line_length == 88  # the text given is the one read
