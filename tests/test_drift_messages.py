"""When a construct can't be patched safely: the message says what it is, and how to apply the rest.

And a transform left out with --skip leaves no trace in the others' code.
"""

from __future__ import annotations

import ast

import pytest

from support import copy_fixture, run_cli, snapshot, target_files

HELPER = '''import litellm


def run_litellm(model_name, user_prompt, **chat_kwargs):
    {line}
    response = litellm.completion(model=model_name, messages=[{{"role": "user", "content": user_prompt}}], {keyword}**chat_kwargs)
    return response.choices[0].message.content
'''


@pytest.mark.parametrize(
    ("line", "keyword", "transform", "said"),
    [
        ('chat_kwargs["fallbacks"] = ["gpt-4.1-mini"]', "", "fallbacks", 'sets `fallbacks` whatever the caller passed (not a default)'),
        ('chat_kwargs["num_retries"] = chat_kwargs.get("num_retries", RETRIES)', "", "retries", "the num_retries default is `RETRIES`; expected an integer literal"),
        ("pass", "timeout=30, ", "timeout", "`timeout=` is passed to the LiteLLM call as a keyword"),
        ('chat_kwargs["fallbacks"] = chat_kwargs.get("fallbacks", pick_fallbacks())', "", "fallbacks", "the fallbacks default is `pick_fallbacks()`; expected a list of model names"),
    ],
)
def test_anchor_missing_says_what_it_found_and_how_to_apply_the_rest(tmp_path, line, keyword, transform, said):
    root = copy_fixture("upstream-mid2025", tmp_path)
    run_utils = target_files("upstream-mid2025", root)[0]
    run_utils.write_text(HELPER.format(line=line, keyword=keyword), encoding="utf-8")
    (root / "open_instruct" / "search_rewards" / "rubric_utils.py").unlink()
    before = snapshot(root)
    result = run_cli("apply", root)
    assert result.returncode == 2
    assert said in result.stderr
    assert f"apply the rest with `--skip {transform}`" in result.stderr
    assert snapshot(root) == before
    assert run_cli("apply", root, "--skip", transform).returncode == 0


def test_a_conditional_hand_written_default_is_the_fix_not_drift(tmp_path):
    root = copy_fixture("drtulu-fork-fallbacks", tmp_path)
    result = run_cli("apply", root, "--json")
    assert result.returncode == 0, result.stderr
    assert "anchor-missing" not in result.stdout


def test_skipping_fallbacks_leaves_no_trace_in_the_precheck(tmp_path):
    root = copy_fixture("drtulu-canonical", tmp_path)
    assert run_cli("apply", root, "--skip", "fallbacks").returncode == 0
    run_utils = target_files("drtulu-canonical", root)[0].read_text(encoding="utf-8")
    tree = ast.parse(run_utils)
    functions = {n.name: n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
    assert "_fallback_models_from_env" not in functions and "_fallback_models_from_env" not in run_utils
    targets = functions["_litellm_precheck_targets"]
    assert ast.unparse(targets.body[-1]) == "return [model_name]"
    assert "*[]" not in run_utils
