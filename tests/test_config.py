"""``[tool.llmfix]`` in the target repo's pyproject.toml: read by every command, flags override it.

A value that differs from what a patched file bakes in is reported by ``check`` (exit 1)
and updated by ``apply``; a bad key or value is one line, exit 2.
"""

from __future__ import annotations

import pytest
from support import copy_fixture, invoke, snapshot, target_file

NAME = "upstream-main-split"


def configure(root, text: str) -> None:
    pyproject = root / "pyproject.toml"
    pyproject.write_text(pyproject.read_text(encoding="utf-8") + "\n[tool.llmfix]\n" + text, encoding="utf-8")


def run_utils_text(root) -> str:
    return target_file(NAME, root, "run_utils").read_text(encoding="utf-8")


def test_config_values_are_baked_in_and_flags_override_them(tmp_path):
    root = copy_fixture(NAME, tmp_path)
    configure(root, 'retries = 20\ntimeout = 45\nfallbacks = ["openai/gpt-4o-mini"]\nskip = ["health"]\n')
    assert invoke("apply", root).exit_code == 0
    text = run_utils_text(root)
    assert 'from_env("LITELLM_NUM_RETRIES", 20)' in text and 'from_env("LITELLM_DEFAULT_TIMEOUT", 45)' in text
    assert 'fallback_models(["openai/gpt-4o-mini"]' in text
    assert "track_calls" not in text
    assert invoke("check", root).exit_code == 0
    assert invoke("check", root, "--timeout", "60").exit_code == 1  # the flag wins over the config


def test_a_changed_value_is_reported_by_check_and_updated_by_apply(tmp_path):
    root = copy_fixture(NAME, tmp_path)
    assert invoke("apply", root).exit_code == 0
    configure(root, "retries = 25\n")
    check = invoke("check", root)
    assert check.exit_code == 1
    assert "bakes in num_retries 10; [tool.llmfix] asks for 25" in check.stdout
    assert invoke("apply", root).exit_code == 0
    assert run_utils_text(root).count('from_env("LITELLM_NUM_RETRIES", 25)') == 3  # every helper's defaults
    assert invoke("check", root).exit_code == 0
    again = invoke("apply", root, "--retries", "40")
    assert again.exit_code == 0 and "the command line asks for 40" in again.stdout


def test_retries_are_raised_never_lowered(tmp_path):
    root = copy_fixture(NAME, tmp_path)
    assert invoke("apply", root, "--retries", "20").exit_code == 0
    assert invoke("check", root, "--retries", "12").exit_code == 0  # 20 >= 12: nothing to do
    assert 'from_env("LITELLM_NUM_RETRIES", 20)' in run_utils_text(root)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("retries = 1000\n", "outside 0..100"),
        ('retries = "many"\n', "is not a whole number"),
        ("colour = true\n", "unknown key 'colour'"),
        ('only = ["bogus"]\n', "unknown transform 'bogus'"),
        ('fallbacks = ["a b"]\n', "is not a model name"),
        ("timeout = nan\n", "is not a timeout"),
        ("retries = [\n", "not valid TOML"),
    ],
)
def test_a_bad_config_is_one_line_and_nothing_changes(tmp_path, text, message):
    root = copy_fixture(NAME, tmp_path)
    configure(root, text)
    before = snapshot(root)
    result = invoke("apply", root)
    assert result.exit_code == 2, result.stdout
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert snapshot(root) == before
