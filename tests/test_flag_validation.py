"""Values from flags become code only as literals, and bad ones are refused by the option itself.

Each bad value is one line on stderr, exit 2, and no file changes. A value that passes
validation reaches the patched code as a literal built by llmfix (a number, a list of
strings), never pasted in as source text. In-process: the checks are click's and llmfix's.
"""

from __future__ import annotations

import ast

import pytest
from support import copy_fixture, invoke, run_entry, snapshot, target_file


@pytest.fixture(scope="module")
def checkout(tmp_path_factory):
    """One pristine copy for the refusals (each must leave it as it is)."""
    root = copy_fixture("drtulu-canonical", tmp_path_factory.mktemp("flags"))
    return root, snapshot(root)


INJECTION = 'x"] + [__import__("os").system("echo INJECTED")] + ["y'


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--fallback", INJECTION], "is not a model name"),
        (["--fallback", ""], "empty fallback model name"),
        (["--fallback", "a,,b"], "empty model name"),
        (["--fallback", "gpt-4.1\nimport os"], "is not a model name"),
        (["--timeout", "nan"], "is not a timeout"),
        (["--timeout", "inf"], "is not a timeout"),
        (["--timeout", "1e309"], "is not a timeout"),
        (["--timeout", "1e-320"], "is not a timeout"),
        (["--timeout", "-5"], "is not a timeout"),
        (["--retries", "1e3"], "is not a whole number"),
        (["--retries", "101"], "outside 0..100"),
        (["--only", ""], "empty transform name"),
        (["--skip", "retries,,guards"], "empty transform name"),
        (["--only", "bogus"], "unknown transform"),
    ],
)
@pytest.mark.parametrize("command", ["apply", "check", "diff"])
def test_bad_values_are_refused_before_anything_is_read(checkout, command, args, message):
    root, before = checkout
    result = run_entry(command, root, *args)
    assert result.exit_code == 2, result.stdout + result.stderr
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
    assert snapshot(root) == before


@pytest.mark.parametrize(
    "args",
    [["apply", ""], ["check", ""], ["diff", ""], ["revert", ""], ["diff", "--output", ""], ["explain", ""], ["doctor", "", "--offline"], ["verify", ""]],
)
def test_empty_arguments_are_bad_input(checkout, args, monkeypatch):
    root, before = checkout
    monkeypatch.chdir(root)  # a command that fell back to "." would act on the checkout
    result = run_entry(*args, *([str(root)] if args[0] == "diff" and "--output" in args else []))
    assert result.exit_code == 2, result.stdout + result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
    assert snapshot(root) == before


def test_comma_separated_fallbacks_split_like_the_environment_variable(tmp_path):
    root = copy_fixture("drtulu-canonical", tmp_path)
    assert invoke("apply", root, "--fallback", "openai/gpt-4o-mini,gpt-4.1-mini", "--fallback", "o3").exit_code == 0
    tree = ast.parse(target_file("drtulu-canonical", root, "run_utils").read_text(encoding="utf-8"))
    lists = [
        ast.literal_eval(call.args[0])
        for call in ast.walk(tree)
        if isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and call.func.attr == "fallback_models"
    ]
    assert len(lists) == 3 and all(values == ["openai/gpt-4o-mini", "gpt-4.1-mini", "o3"] for values in lists)  # one per helper


def test_a_value_with_quotes_is_a_literal_even_when_built_directly(tmp_path):
    """Below the CLI, a hostile value still becomes one string element, never code."""
    import libcst as cst

    from llmfix.codemods.building import string

    node = string(INJECTION)
    assert cst.parse_expression(node.value).evaluated_value == INJECTION
    assert ast.literal_eval(node.value) == INJECTION
