"""Values from flags become code only as literals, and bad ones are refused by the option itself.

Each bad value is one line on stderr, exit 2, and no file changes. A value that passes
validation reaches the patched code as a string literal built by llmfix, never pasted
in as source text.
"""

from __future__ import annotations

import ast

import pytest

from support import copy_fixture, run_cli, snapshot, target_files

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
def test_bad_values_are_refused_before_anything_is_read(tmp_path, command, args, message):
    root = copy_fixture("drtulu-canonical", tmp_path)
    before = snapshot(root)
    result = run_cli(command, root, *args)
    assert result.returncode == 2, result.stdout + result.stderr
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
    assert snapshot(root) == before


@pytest.mark.parametrize(
    "args",
    [["apply", ""], ["check", ""], ["diff", ""], ["revert", ""], ["diff", "--output", ""], ["explain", ""], ["doctor", "", "--offline"], ["verify", ""]],
)
def test_empty_arguments_are_bad_input(tmp_path, args):
    root = copy_fixture("drtulu-canonical", tmp_path)
    before = snapshot(root)
    result = run_cli(*args, *([str(root)] if args[0] == "diff" and "--output" in args else []), cwd=root)
    assert result.returncode == 2, result.stdout + result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
    assert snapshot(root) == before


def test_comma_separated_fallbacks_split_like_the_environment_variable(tmp_path):
    root = copy_fixture("drtulu-canonical", tmp_path)
    assert run_cli("apply", root, "--fallback", "openai/gpt-4o-mini,gpt-4.1-mini", "--fallback", "o3").returncode == 0
    run_utils = target_files("drtulu-canonical", root)[0].read_text(encoding="utf-8")
    from llmfix.codemods.runtime_block import runtime_names

    helpers = [f for f in ast.parse(run_utils).body if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef)) and f.name not in runtime_names()]
    lists = [
        [e.value for e in call.args[0].elts]
        for helper in helpers
        for call in ast.walk(helper)
        if isinstance(call, ast.Call) and getattr(call.func, "id", None) == "_fallback_models_from_env" and isinstance(call.args[0], ast.List)
    ]
    assert lists and all(values == ["openai/gpt-4o-mini", "gpt-4.1-mini", "o3"] for values in lists)


def test_a_value_with_quotes_is_a_literal_even_when_built_directly(tmp_path):
    """Below the CLI, a hostile value still becomes one string element, never code."""
    import libcst as cst

    from llmfix.codemods.building import string

    node = string(INJECTION)
    assert cst.parse_expression(node.value).evaluated_value == INJECTION
    assert ast.literal_eval(node.value) == INJECTION
