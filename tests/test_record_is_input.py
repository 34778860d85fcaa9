"""The committed record is input, never code: whatever it asks for, revert writes only what llmfix builds itself.

The record holds the literals llmfix replaced (numbers, model names) and statement digests.
A record edited to carry code (in a literal's place, as a key, as a path) is refused with
one line on stderr, exit 2, and no file changes.
"""

from __future__ import annotations

import json

import pytest
from support import copy_fixture, run_cli, snapshot

FIXTURE = "drtulu-canonical"
RUN_UTILS = "open_instruct/search_rewards/utils/run_utils.py"
CODE = "__import__('os').system('touch pwned')"


def _tamper(record: dict) -> dict:
    return record


TAMPERINGS = {
    "code-for-a-literal": lambda r: r["notes"][RUN_UTILS]["retries"].update(run_litellm=[CODE, "2f752755"]),
    "code-in-a-list": lambda r: r["notes"][RUN_UTILS]["fallbacks"].update(run_litellm=[[CODE], "14a3d7f0"]),
    "a-digest-that-is-code": lambda r: r["notes"][RUN_UTILS]["retries"].update(run_litellm=[5, CODE]),
    "a-key-that-is-code": lambda r: r["notes"][RUN_UTILS]["retries"].update({CODE: None}),
    "a-transform-that-is-code": lambda r: r["notes"][RUN_UTILS].update({CODE: {}}),
    "a-path-out-of-the-checkout": lambda r: r["notes"].update({"../../etc/passwd.py": {}}),
    "a-nested-object": lambda r: r["notes"][RUN_UTILS]["retries"].update(run_litellm={"code": CODE}),
    "a-boolean-for-a-literal": lambda r: r["notes"][RUN_UTILS]["retries"].update(run_litellm=[True, "2f752755"]),
}


@pytest.mark.parametrize("tamper", TAMPERINGS)
def test_a_record_that_asks_for_code_is_refused_and_nothing_changes(tmp_path, tamper):
    root = copy_fixture(FIXTURE, tmp_path)
    assert run_cli("apply", root).returncode == 0
    path = root / "rl/open-instruct/.llmfix/record.json"
    record = json.loads(path.read_text(encoding="utf-8"))
    TAMPERINGS[tamper](record)
    path.write_text(json.dumps(record), encoding="utf-8")
    before = snapshot(root)
    result = run_cli("revert", root)
    assert result.returncode == 2, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "record" in lines[0] and "Traceback" not in result.stderr, result.stderr
    assert snapshot(root) == before
    assert not (root / "pwned").exists() and not (tmp_path / "pwned").exists()


def test_an_untampered_record_reverts_byte_for_byte(tmp_path):
    root = copy_fixture(FIXTURE, tmp_path)
    original = snapshot(root)
    assert run_cli("apply", root).returncode == 0
    assert run_cli("revert", root).returncode == 0
    assert snapshot(root) == original
