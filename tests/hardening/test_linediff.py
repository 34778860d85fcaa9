"""Diffs that agree with git: llmfix's counts equal ``git diff --numstat``, and ``git apply`` takes its diff."""

from __future__ import annotations

import os
import random
import re
import subprocess
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support import ALL_FIXTURES, CATALOG, GIT_ENV, copy_fixture, invoke

from llmfix import diffing
from llmfix.config import CommandSettings as Options  # planning.Options became config.CommandSettings
from llmfix.report import diff_view
from llmfix.workflow import plan_paths


def git(repo: Path, *args: str, input: bytes | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["git", "-c", "core.autocrlf=false", *args], cwd=repo, capture_output=True, check=True, timeout=60, input=input,
        env={**os.environ, **GIT_ENV, "HOME": str(repo)},
    )


def git_numstat(old: str, new: str, tmp_path: Path) -> tuple[int, int]:
    repo = tmp_path / f"numstat-{time.monotonic_ns()}"
    repo.mkdir()
    git(repo, "init", "-q")
    (repo / "f.py").write_bytes(old.encode("utf-8"))
    git(repo, "add", "f.py")
    git(repo, "commit", "-q", "-m", "old")
    (repo / "f.py").write_bytes(new.encode("utf-8"))
    added, removed, _ = git(repo, "diff", "--numstat", "--", "f.py").stdout.decode().split("\t")
    return int(added), int(removed)


def lcs_length(a: list[str], b: list[str]) -> int:
    previous = [0] * (len(b) + 1)
    for x in a:
        current = [0]
        for j, y in enumerate(b):
            current.append(previous[j] + 1 if x == y else max(previous[j + 1], current[j]))
        previous = current
    return previous[-1]


def rebuilt(old: list[str], new: list[str]) -> list[str]:
    out = []
    for tag, i1, i2, j1, j2 in diffing.opcodes(old, new):
        assert tag in ("equal", "replace", "delete", "insert")
        if tag == "equal":
            assert old[i1:i2] == new[j1:j2]
            out += old[i1:i2]
        else:
            out += new[j1:j2]
    return out


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["a\n", "b\n", "c\n", "\n", "d"]), max_size=30), st.lists(st.sampled_from(["a\n", "b\n", "c\n", "\n", "e\n"]), max_size=30))
def test_the_edit_script_is_correct_and_shortest(old, new):
    assert rebuilt(old, new) == new
    common = lcs_length(old, new)
    assert diffing.count_changes(old, new) == (len(new) - common, len(old) - common)


@pytest.mark.parametrize("name", [n for n in ALL_FIXTURES if CATALOG[n]["helpers"]])
def test_counts_equal_git_numstat_and_the_diff_applies(name, tmp_path):
    root = copy_fixture(name, tmp_path)
    plans = [p for p in plan_paths([root], Options()) if p.changed]
    assert plans
    for plan in plans:
        added, removed, _ = diffing.count(plan.original, plan.patched)
        assert (added, removed) == git_numstat(plan.original, plan.patched, tmp_path), plan.target.relpath
    repo = copy_fixture(name, tmp_path / "apply")
    git(repo, "init", "-q")
    git(repo, "apply", "--check", "-", input=diff_view(plans, "diff").encode("utf-8"))
    git(repo, "apply", "-", input=diff_view(plans, "diff").encode("utf-8"))
    for plan in plans:
        assert (repo / plan.target.relpath).read_bytes() == plan.patched.encode("utf-8")


def fork_with_repeated_blocks(tmp_path: Path) -> Path:
    """A fork whose helpers come in copies: the same blocks, again and again."""
    root = copy_fixture("drtulu-canonical", tmp_path)
    path = root / CATALOG["drtulu-canonical"]["files"]["run_utils"]
    text = path.read_text(encoding="utf-8")
    copies = []
    for n in range(1, 4):
        copy = re.sub(r"def (\w+)\(", lambda m, n=n: f"def {m.group(1)}_copy{n}(", text.split("\ndef ", 1)[1])
        copies.append("\ndef " + copy)
    path.write_text(text + "".join(copies), encoding="utf-8")
    return root


def test_stat_on_a_fork_with_repeated_blocks_agrees_with_git(tmp_path):
    root = fork_with_repeated_blocks(tmp_path)
    stat = invoke("diff", root, "--stat")
    assert stat.exit_code == 0, stat.stderr
    repo = root
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "fork")
    assert invoke("apply", root, "--force").exit_code == 0
    git(repo, "add", "-A")  # the support module apply created is counted too (llmfix's record folder is not code: not listed)
    numstat = "".join(line for line in git(repo, "diff", "--cached", "--numstat", "--", "rl").stdout.decode().splitlines(True) if "/.llmfix/" not in line)
    for line in numstat.splitlines():
        added, removed, path = line.split("\t")
        relpath = path
        assert f" {relpath} | +{added} -{removed}" in stat.stdout, (line, stat.stdout)
    total = re.search(r"(\d+) insertion\(s\)\(\+\), (\d+) deletion", stat.stdout)
    git_added = sum(int(line.split("\t")[0]) for line in numstat.splitlines())
    git_removed = sum(int(line.split("\t")[1]) for line in numstat.splitlines())
    assert (int(total.group(1)), int(total.group(2))) == (git_added, git_removed)


def test_a_few_changes_in_a_large_file():
    """Few changes in 50,000 lines with many repeated ones (difflib's SequenceMatcher is quadratic here)."""
    rng = random.Random(7)
    old = [rng.choice(["\n", "    return x\n", "    pass\n", f"x = {rng.randint(0, 99)}\n"]) for _ in range(50_000)]
    new = list(old)
    for k in range(100):
        new.insert(rng.randrange(len(new)), f"inserted {k}\n")
    assert diffing.count_changes(old, new) == (100, 0)
    assert rebuilt(old, new) == new
