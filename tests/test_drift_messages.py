"""When a construct can't be patched safely: exit 2, nothing written, and the message says what it
found, where (transform, file, function), and how to apply the rest."""

from __future__ import annotations

import pytest
from support import copy_fixture, invoke, snapshot, target_file

HELPER = '''import litellm


def run_litellm(model_name, user_prompt, **chat_kwargs):
    {line}
    response = litellm.completion(model=model_name, messages=[{{"role": "user", "content": user_prompt}}], {keyword}**chat_kwargs)
    return response.choices[0].message.content
'''


@pytest.mark.parametrize(
    ("line", "keyword", "transform", "said"),
    [
        ('chat_kwargs["fallbacks"] = ["gpt-4.1-mini"]', "", "fallbacks", "sets `fallbacks` whatever the caller passed (not a default)"),
        (
            'chat_kwargs["num_retries"] = chat_kwargs.get("num_retries", RETRIES)',
            "",
            "retries",
            "the num_retries default is `RETRIES`; expected an integer literal",
        ),
        ("pass", "timeout=30, ", "timeout", "`timeout=` is passed to the LiteLLM call as a keyword"),
        (
            'chat_kwargs["fallbacks"] = chat_kwargs.get("fallbacks", pick_fallbacks())',
            "",
            "fallbacks",
            "the fallbacks default is `pick_fallbacks()`; expected a list of model names",
        ),
    ],
    ids=["fallbacks-forced", "retries-name", "timeout-keyword", "fallbacks-call"],
)
def test_anchor_missing_says_what_it_found_and_how_to_apply_the_rest(tmp_path, line, keyword, transform, said):
    root = copy_fixture("upstream-mid2025", tmp_path)
    target_file("upstream-mid2025", root, "run_utils").write_text(HELPER.format(line=line, keyword=keyword), encoding="utf-8")
    target_file("upstream-mid2025", root, "rubric_utils").unlink()
    before = snapshot(root)
    for command in ("apply", "check", "diff"):
        result = invoke(command, root)
        assert result.exit_code == 2, (command, result.stdout)
        assert said in result.stderr and f"apply the rest with `--skip {transform}`" in result.stderr
        assert "run_utils.py" in result.stderr and transform in result.stderr
    assert snapshot(root) == before
    assert invoke("apply", root, "--skip", transform).exit_code == 0


def test_drift_in_a_real_checkout_names_transform_file_and_function(tmp_path):
    root = copy_fixture("drtulu-canonical", tmp_path)
    path = target_file("drtulu-canonical", root, "run_utils")
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace('chat_kwargs.get("num_retries", 5)', 'chat_kwargs.get("num_retries", RETRIES)', 1), encoding="utf-8")
    before = snapshot(root)
    result = invoke("apply", root)
    assert result.exit_code == 2
    assert result.stderr.startswith("llmfix: error: anchor missing, nothing written")
    for word in ("retries", "run_utils.py", "run_litellm()", "RETRIES"):
        assert word in result.stderr
    assert snapshot(root) == before
