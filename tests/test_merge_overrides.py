"""A merge that keeps llmfix's value over one upstream changed says so (real git).

Upstream raises run_litellm's ``num_retries`` default from 5 to 7; the patch keeps 10 (never
lowered). ``llmfix merge`` and the installed driver name the helper, upstream's old and new
value and what llmfix kept; the record notes upstream's new literal, so revert gives 7 back.
"""

from __future__ import annotations

import json

import pytest
from support import invoke
from test_merge_chain import RECORD, checkout_files, git, llmfix_process, write_tree

FIXTURE = "upstream-autumn2025-defaults"
RUN_UTILS = "open_instruct/search_rewards/utils/run_utils.py"
OLD_LINE = 'chat_kwargs["num_retries"] = chat_kwargs.get("num_retries", 5)\n'
MESSAGE = "run_litellm(): upstream changed the num_retries default from 5 to {new}; llmfix keeps {kept} (LITELLM_NUM_RETRIES sets it at run time)"


def history(tmp_path, new: int):
    """main: the fixture patched; upstream: run_litellm's retry default changed to ``new``."""
    repo = tmp_path / "checkout"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    write_tree(repo, checkout_files(FIXTURE))
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "upstream")
    git(repo, "checkout", "-q", "-b", "upstream")
    path = repo / RUN_UTILS
    text = path.read_text(encoding="utf-8")
    assert text.count(OLD_LINE) == 1  # run_litellm's; run_litellm_async's line has a comment
    path.write_text(text.replace(OLD_LINE, OLD_LINE.replace("5)", f"{new})")), encoding="utf-8")
    git(repo, "commit", "-q", "-am", f"upstream: {new} retries")
    git(repo, "checkout", "-q", "main")
    assert invoke("apply", repo).exit_code == 0
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "llmfix apply")
    return repo


def _note(repo) -> list:
    return json.loads((repo / RECORD).read_text(encoding="utf-8"))["notes"][RUN_UTILS]["retries"]["run_litellm"]


def test_llmfix_merge_says_which_upstream_value_it_overrides(tmp_path):
    repo = history(tmp_path, 7)
    done = llmfix_process("merge", "upstream", repo, cwd=repo)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"llmfix: {RUN_UTILS}: " + MESSAGE.format(new=7, kept=10) in done.stdout
    assert done.stdout.count("upstream changed") == 1
    assert _note(repo)[0] == 7
    assert 'litellm_utils.from_env("LITELLM_NUM_RETRIES", 10)' in (repo / RUN_UTILS).read_text(encoding="utf-8")
    assert invoke("revert", repo).exit_code == 0
    assert (repo / RUN_UTILS).read_text(encoding="utf-8") == git(repo, "show", f"upstream:{RUN_UTILS}").stdout


def test_a_value_llmfix_takes_over_is_not_an_override(tmp_path):
    repo = history(tmp_path, 12)  # above llmfix's 10: the patch bakes in upstream's 12
    done = llmfix_process("merge", "upstream", repo, cwd=repo)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "upstream changed" not in done.stdout + done.stderr
    assert 'litellm_utils.from_env("LITELLM_NUM_RETRIES", 12)' in (repo / RUN_UTILS).read_text(encoding="utf-8")


@pytest.mark.parametrize("new", [7, 3])
def test_the_installed_driver_says_so_too(tmp_path, new):
    repo = history(tmp_path, new)
    assert llmfix_process("install-merge-driver", repo, cwd=repo).returncode == 0
    git(repo, "add", ".gitattributes")
    git(repo, "commit", "-q", "-m", "driver")
    done = git(repo, "merge", "--no-edit", "upstream", check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert MESSAGE.format(new=new, kept=10) in done.stderr
    assert _note(repo)[0] == new
