"""The merge driver with hostile names, and without llmfix on PATH (real git, temporary repositories).

Branch names and paths carry ``%`` (git's own placeholders among them), ``$()``, quotes,
spaces and newlines: nothing of them may run, and a clean merge stays clean. The
installed driver runs ``llmfix`` from PATH: a virtualenv moved or recreated keeps
working, and without llmfix git merges as it would, saying why.
"""

from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path

import pytest
from support import invoke
from test_merge_chain import GIT_ENV, checkout_files, conflict_hunks, git, llmfix_process, write_tree

PAIR = ("upstream-autumn2025-defaults", "upstream-autumn2025-lazy")
BRANCHES = ["up%P#stream", "x$(touch${IFS}PWNED-branch)", "a'b\"c`touch${IFS}PWNED-tick`", "u%A%O%B%L%%", "semi;touch${IFS}PWNED-semi"]
FOLDERS = ["sub$(touch PWNED-folder) %P", "it's \"q\" %A%O", "new\nline %L"]
TOPS = ["r %A%O%B%L", "t $(touch PWNED-top) 'q' \"d\"", "nl\n%P%%"]


def build(repo: Path, sub: str, branch: str) -> Path:
    """``repo`` with the older checkout in ``sub`` patched on main, the newer one on ``branch``; returns the checkout."""
    checkout = repo / sub
    checkout.mkdir(parents=True)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "core.autocrlf", "false")
    write_tree(checkout, checkout_files(PAIR[0]))
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "upstream, older")
    git(repo, "branch", branch)
    assert invoke("apply", checkout).exit_code == 0
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "llmfix apply")
    git(repo, "checkout", "-q", branch)
    git(repo, "rm", "-q", "-r", "--", sub)
    write_tree(checkout, checkout_files(PAIR[1]))
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "upstream, newer")
    git(repo, "checkout", "-q", "main")
    return checkout


_FRESH: dict[str, bytes] = {}


def fresh(tmp_path: Path) -> dict[str, bytes]:
    """The newer checkout's Python files after a plain apply (applied once per worker)."""
    if not _FRESH:
        root = tmp_path / "fresh"
        write_tree(root, checkout_files(PAIR[1]))
        assert invoke("apply", root).exit_code == 0
        _FRESH.update(_texts(root))
    return dict(_FRESH)


def _texts(checkout: Path) -> dict[str, bytes]:
    return {p.relative_to(checkout).as_posix(): p.read_bytes() for p in sorted(checkout.rglob("*.py")) if "__pycache__" not in p.parts}


def pwned(tmp_path: Path) -> list[Path]:
    return [p for p in (*tmp_path.rglob("PWNED*"), *Path.cwd().glob("PWNED*"), *Path(os.sep, "tmp").glob("PWNED*"))]


@pytest.mark.parametrize(
    ("top", "sub", "branch"), list(zip(TOPS, FOLDERS, BRANCHES)) + [(TOPS[0], FOLDERS[1], BRANCHES[3]), (TOPS[2], FOLDERS[0], BRANCHES[4])]
)
def test_llmfix_merge_runs_nothing_from_names_and_stays_clean(tmp_path, top, sub, branch):
    repo = tmp_path / top
    checkout = build(repo, sub, branch)
    done = llmfix_process("merge", branch, checkout, cwd=repo)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Traceback" not in done.stderr and "conflict" not in done.stderr
    assert pwned(tmp_path) == []
    assert git(repo, "status", "--porcelain").stdout == ""
    assert len(git(repo, "rev-list", "--parents", "-n", "1", "HEAD").stdout.split()) == 3
    assert _texts(checkout) == fresh(tmp_path)
    assert not (attributes := Path(git(repo, "rev-parse", "--git-path", "info/attributes").stdout.strip())).exists() or "llmfix" not in attributes.read_text()


@pytest.mark.parametrize(("top", "sub", "branch"), list(zip(TOPS, FOLDERS, BRANCHES)))
def test_the_installed_driver_runs_nothing_from_names_and_stays_clean(tmp_path, top, sub, branch):
    repo = tmp_path / top
    checkout = build(repo, sub, branch)
    installed = llmfix_process("install-merge-driver", repo, cwd=repo)
    assert installed.returncode == 0, installed.stderr
    config = git(repo, "config", "--get", "merge.llmfix.driver").stdout
    assert str(repo) not in config and sys.executable not in config
    git(repo, "add", ".gitattributes")
    git(repo, "commit", "-q", "-m", "driver")
    done = git(repo, "merge", "--no-edit", branch, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Traceback" not in done.stderr and "merged as git would" not in done.stderr, done.stderr
    assert pwned(tmp_path) == []
    assert _texts(checkout) == fresh(tmp_path)


def _path_without_llmfix() -> str:
    return os.pathsep.join(p for p in GIT_ENV["PATH"].split(os.pathsep) if not (Path(p) / "llmfix").exists())


def _with_path(repo: Path, path: str, *args: str):
    import subprocess

    env = {**os.environ, **GIT_ENV, "PATH": path}
    return subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, env=env, timeout=300, check=False)


def test_the_installed_driver_survives_a_recreated_virtualenv(tmp_path):
    repo = tmp_path / "repo"
    checkout = build(repo, "work", "upstream")
    assert llmfix_process("install-merge-driver", repo, cwd=repo).returncode == 0
    git(repo, "add", ".gitattributes")
    git(repo, "commit", "-q", "-m", "driver")
    before = git(repo, "rev-parse", "HEAD").stdout.strip()

    gone = _with_path(repo, _path_without_llmfix(), "merge", "--no-edit", "upstream")  # the virtualenv is gone
    assert gone.returncode == 1 and "Traceback" not in gone.stderr
    assert "llmfix merge driver: llmfix is not on PATH" in gone.stderr and "as git would" in gone.stderr
    assert conflict_hunks(repo), "git's own merge: the conflicts plain git has"
    git(repo, "merge", "--abort")
    assert git(repo, "rev-parse", "HEAD").stdout.strip() == before and git(repo, "status", "--porcelain").stdout == ""

    new_env = tmp_path / "new venv" / "bin"  # recreated elsewhere: llmfix on PATH again
    new_env.mkdir(parents=True)
    (new_env / "llmfix").write_text(f'#!/bin/sh\nexec {shlex.quote(sys.executable)} -m llmfix "$@"\n', encoding="utf-8")
    (new_env / "llmfix").chmod(0o755)
    done = _with_path(repo, f"{new_env}{os.pathsep}{_path_without_llmfix()}", "merge", "--no-edit", "upstream")
    assert done.returncode == 0, done.stdout + done.stderr
    assert conflict_hunks(repo) == [] and _texts(checkout) == fresh(tmp_path)


def test_a_broken_llmfix_on_path_leaves_gits_own_merge(tmp_path):
    repo = tmp_path / "repo"
    build(repo, "work", "upstream")
    assert llmfix_process("install-merge-driver", repo, cwd=repo).returncode == 0
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "llmfix").write_text("#!/nonexistent/python\n", encoding="utf-8")  # a virtualenv deleted under its script
    (broken / "llmfix").chmod(0o755)
    done = _with_path(repo, f"{broken}{os.pathsep}{_path_without_llmfix()}", "merge", "--no-edit", "upstream")
    assert done.returncode == 1 and ("llmfix failed (exit 126" in done.stderr or "llmfix failed (exit 127" in done.stderr), done.stderr
    assert conflict_hunks(repo)


def test_the_hook_without_llmfix_on_path_says_so(tmp_path):
    repo = tmp_path / "repo"
    build(repo, "work", "upstream")
    assert llmfix_process("install-merge-driver", repo, cwd=repo).returncode == 0
    hook = Path(git(repo, "rev-parse", "--git-path", "hooks/post-merge").stdout.strip())
    hook = hook if hook.is_absolute() else repo / hook
    assert sys.executable not in hook.read_text(encoding="utf-8")
    import subprocess

    done = subprocess.run([str(hook)], cwd=repo, capture_output=True, text=True, env={**os.environ, "PATH": _path_without_llmfix()}, check=False)
    assert done.returncode == 0 and "llmfix post-merge hook: llmfix is not on PATH" in done.stderr


def test_a_driver_that_cannot_take_out_is_named_not_blamed_on_the_user(tmp_path):
    """Conflicts from git's own merge (an unreadable record) are said to be git's, never "your edits"."""
    repo = tmp_path / "repo"
    checkout = build(repo, "work", "upstream")
    (checkout / ".llmfix" / "record.json").write_text("{not json", encoding="utf-8")
    git(repo, "commit", "-q", "-am", "a broken record")
    done = llmfix_process("merge", "upstream", checkout, cwd=repo)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "merged as git would" in done.stderr and "unreadable" in done.stderr
    assert "(git's own merge)" in done.stderr and "your edits" not in done.stderr
    assert "Traceback" not in done.stderr
