"""Upstream merges into a patched branch, over the fixture chains, with the real git binary.

For every consecutive pair (older, newer) of each chain: the older checkout is
committed, patched with ``llmfix apply`` and committed again (with ``.llmfix/``);
an ``upstream`` branch holds the newer checkout (moves as git sees them). The
newer version is then merged into the patched branch three ways: with plain
git (what users do today), with ``llmfix merge upstream`` and with the driver
``llmfix install-merge-driver`` sets up. This module counts the conflict hunks
on llmfix's lines each way (goal: none with llmfix) and checks that a user's
own edit that collides with upstream's still conflicts, showing upstream's
lines against the user's and never llmfix's. The helpers here also serve
``test_convergence.py`` and ``test_merge_commands.py``.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from support import CATALOG, FIXTURES, invoke

GIT_ENV = {
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@example.invalid",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@example.invalid",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
}
KINDS = ("run_utils", "rubric_utils", "ground_truth_utils")
RECORD = ".llmfix/record.json"


def _llmfix_on_path() -> Path:
    """A folder holding an ``llmfix`` command that runs this llmfix (the installed driver and hook find it on PATH)."""
    folder = Path(tempfile.gettempdir(), "llmfix-test-path-" + hashlib.sha256(sys.executable.encode()).hexdigest()[:12])
    folder.mkdir(exist_ok=True)
    command = folder / "llmfix"
    text = f'#!/bin/sh\nexec {shlex.quote(sys.executable)} -m llmfix "$@"\n'
    if not command.is_file() or command.read_text(encoding="utf-8") != text:
        command.write_text(text, encoding="utf-8")
        command.chmod(0o755)
    return folder


GIT_ENV["PATH"] = f"{_llmfix_on_path()}{os.pathsep}{os.environ.get('PATH', '')}"
USER_MARK = "# edited on the patched branch"


def _chains() -> dict[str, list[str]]:
    chains: dict[str, list[str]] = {}
    for name, entry in sorted(CATALOG.items(), key=lambda item: item[1]["date"]):
        chains.setdefault(entry["chain"], []).append(name)
    return chains


PAIRS = [(older, newer) for names in _chains().values() for older, newer in itertools.pairwise(names)]
PAIR_IDS = [f"{older}->{newer}" for older, newer in PAIRS]


def git(repo: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    done = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, env={**os.environ, **GIT_ENV}, timeout=120, check=False)
    if check:
        assert done.returncode == 0, f"git {' '.join(args)}: {done.stdout}{done.stderr}"
    return done


def llmfix_process(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    """``llmfix ARGS`` as a real process (git runs the driver as one too)."""
    return subprocess.run(
        [sys.executable, "-m", "llmfix", *map(str, args)], cwd=cwd, capture_output=True, text=True, env={**os.environ, **GIT_ENV}, timeout=300, check=False
    )


def checkout_files(name: str) -> dict[str, bytes]:
    """Every file of a fixture checkout, by its path relative to the checkout root."""
    root = FIXTURES / name / CATALOG[name]["root_subdir"]
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file() and "__pycache__" not in p.parts}


def kinds(name: str) -> list[str]:
    """The target files the fixture has (an early one has no LLM judge module)."""
    return [kind for kind in KINDS if kind in CATALOG[name]["files"]]


def target_path(name: str, kind: str) -> str:
    root = CATALOG[name]["root_subdir"]
    path = CATALOG[name]["files"][kind]
    return path if root == "." else path.removeprefix(root + "/")


def write_tree(repo: Path, files: dict[str, bytes]) -> None:
    for rel, data in files.items():
        path = repo / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


@dataclass
class History:
    """A repository whose ``main`` is the older version patched, and whose ``upstream`` is the newer version."""

    repo: Path
    older: str
    newer: str
    clean: dict[str, str]  # target path -> the older text before llmfix
    patched: dict[str, str]  # target path -> the older text as llmfix patched it (with the user's edit, if any)
    user_lines: dict[str, tuple[str, str]]  # target path -> (the user's line, upstream's line it collides with)

    def llmfix_lines(self, path: str) -> tuple[set[str], set[str]]:
        """(lines llmfix wrote, lines llmfix replaced) in the older version of the file named like ``path``."""
        older = next(p for p in self.clean if Path(p).name == Path(path).name)
        before, after = set(self.clean[older].splitlines()), set(self.patched[older].splitlines())
        added = {line for line in after - before if line.strip() and USER_MARK not in line}
        removed = {line for line in before - after if line.strip() and f"{line}  {USER_MARK}" not in after}
        return added, removed


_HISTORIES: dict[tuple[str, str, bool], History] = {}


def make_history(tmp_path: Path, older: str, newer: str, user_edit: bool = False) -> History:
    """``tmp_path/checkout``: a copy of the history built once per worker for these arguments (git copies whole).

    The one built is kept beside the test folders, in the session's temp folder (``tmp_path.parent``).
    """
    key = (older, newer, user_edit)
    if key not in _HISTORIES:
        _HISTORIES[key] = _build_history(Path(tempfile.mkdtemp(prefix="merge-history-", dir=tmp_path.parent)), older, newer, user_edit)
    built = _HISTORIES[key]
    repo = tmp_path / "checkout"
    shutil.copytree(built.repo, repo, symlinks=True)
    return History(repo, older, newer, dict(built.clean), dict(built.patched), dict(built.user_lines))


def _build_history(tmp_path: Path, older: str, newer: str, user_edit: bool) -> History:
    repo = tmp_path / "checkout"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "core.autocrlf", "false")
    write_tree(repo, checkout_files(older))
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", f"upstream {older}")
    git(repo, "branch", "upstream")

    paths = [target_path(older, kind) for kind in kinds(older)]
    clean = {p: (repo / p).read_text(encoding="utf-8") for p in paths}
    applied = invoke("apply", repo)
    assert applied.exit_code == 0, applied.stderr
    user_lines: dict[str, tuple[str, str]] = {}
    if user_edit:
        user_lines = _edit_a_line_upstream_changes(repo, older, newer)
        assert user_lines, f"{older}->{newer}: upstream changes no line of the targets the user could edit"
    patched = {p: (repo / p).read_text(encoding="utf-8") for p in paths}
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "llmfix apply" + (" and a local edit" if user_edit else ""))

    git(repo, "checkout", "-q", "upstream")
    git(repo, "rm", "-q", "-r", ".")
    write_tree(repo, checkout_files(newer))
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", f"upstream {newer}")
    git(repo, "checkout", "-q", "main")
    return History(repo, older, newer, clean, patched, user_lines)


def upstream_changes(older: str, newer: str, kind: str) -> list[tuple[str, int, int, int, int]]:
    """difflib's opcodes from the older to the newer text of one target file (without the equal runs)."""
    import difflib

    old, new = (_fixture_lines(name, kind) for name in (older, newer))
    return [op for op in difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes() if op[0] != "equal"]


def _fixture_lines(name: str, kind: str) -> list[str]:
    return (FIXTURES / name / CATALOG[name]["files"][kind]).read_text(encoding="utf-8").splitlines()


def _edit_a_line_upstream_changes(repo: Path, older: str, newer: str) -> dict[str, tuple[str, str]]:
    """In each patched older file, edit a line upstream replaces, or add a line where upstream adds some.

    Returns, per file, (the user's line, upstream's line it collides with).
    """
    edits: dict[str, tuple[str, str]] = {}
    for kind in [k for k in kinds(older) if k in kinds(newer)]:
        path = target_path(older, kind)
        old, new = _fixture_lines(older, kind), _fixture_lines(newer, kind)
        lines = (repo / path).read_text(encoding="utf-8").splitlines(keepends=True)

        def unique(line: str, lines: list[str] = lines) -> int | None:
            matches = [n for n, current in enumerate(lines) if current.rstrip("\r\n") == line]
            return matches[0] if len(matches) == 1 else None

        changes = upstream_changes(older, newer, kind)
        for tag, i1, i2, j1, j2 in sorted(changes, key=lambda op: op[0] != "replace"):
            if tag == "replace":
                found = [
                    (n, line, new[j1 + k])
                    for k, line in enumerate(old[i1 : min(i2, i1 + j2 - j1)])
                    if len(line.strip()) >= 12 and not line.strip().startswith(("#", '"', "'")) and not line.endswith("\\") and (n := unique(line)) is not None
                ]
                if not found:
                    continue
                number, line, replacement = found[0]
                edited = f"{line}  {USER_MARK}"
                lines[number] = edited + lines[number][len(line):]
            elif tag == "insert" and i1 > 0 and (number := unique(old[i1 - 1])) is not None and new[j1].strip():
                edited, replacement = f"{USER_MARK}", new[j1]
                lines.insert(number + 1, edited + "\n")
            else:
                continue
            (repo / path).write_text("".join(lines), encoding="utf-8", newline="")
            edits[path] = (edited, replacement)
            break
    return edits


_FRESH: dict[str, dict[str, bytes]] = {}


def fresh_apply(tmp_path: Path, newer: str) -> dict[str, bytes]:
    """The target files and llmfix's record after a plain ``llmfix apply`` of the newer version (applied once per worker)."""
    if newer not in _FRESH:
        root = tmp_path / "fresh"
        root.mkdir()
        write_tree(root, checkout_files(newer))
        result = invoke("apply", root)
        assert result.exit_code == 0, result.stderr
        _FRESH[newer] = result_files(root, newer)
    return dict(_FRESH[newer])


def result_files(repo: Path, newer: str) -> dict[str, bytes]:
    """The newer version's target files and llmfix's record (the checkout is the repository top), by path."""
    out = {path: (repo / path).read_bytes() for path in (target_path(newer, kind) for kind in kinds(newer))}
    known = repo / RECORD
    out[RECORD] = known.read_bytes() if known.exists() else b""
    return out


CONFLICT = re.compile(r"^<{7} [^\n]*\n(?P<ours>.*?)(?:^\|{7}[^\n]*\n(?P<base>.*?))?^={7}\n(?P<theirs>.*?)^>{7}[^\n]*(?:\n|\Z)", re.DOTALL | re.MULTILINE)


@dataclass(frozen=True)
class ConflictHunk:
    path: str
    ours: tuple[str, ...]
    base: tuple[str, ...]
    theirs: tuple[str, ...]


def conflict_hunks(repo: Path) -> list[ConflictHunk]:
    """Every conflict hunk git left in the unmerged files (diff3 style: ours, base, theirs)."""
    listed = git(repo, "diff", "--name-only", "--diff-filter=U").stdout.split()
    hunks = []
    for path in listed:
        file = repo / path
        if not file.is_file():
            continue
        for match in CONFLICT.finditer(file.read_text(encoding="utf-8")):
            hunks.append(ConflictHunk(path, *(tuple((match.group(part) or "").splitlines()) for part in ("ours", "base", "theirs"))))
    return hunks


def on_llmfix_lines(hunk: ConflictHunk, history: History) -> bool:
    """True when the hunk's ours side holds a line llmfix wrote in that file, or lacks one llmfix replaced."""
    added, removed = history.llmfix_lines(hunk.path)
    return bool(set(hunk.ours) & added) or bool((set(hunk.base) & removed) - set(hunk.ours))


def unmerged_paths(repo: Path) -> list[str]:
    return git(repo, "diff", "--name-only", "--diff-filter=U").stdout.split()


def plain_merge(history: History) -> subprocess.CompletedProcess:
    return git(history.repo, "-c", "merge.conflictStyle=diff3", "merge", "--no-edit", "upstream", check=False)


def llmfix_merge(history: History) -> subprocess.CompletedProcess:
    git(history.repo, "config", "merge.conflictStyle", "diff3")
    return llmfix_process("merge", "upstream", history.repo, cwd=history.repo)


def driver_merge(history: History) -> subprocess.CompletedProcess:
    installed = llmfix_process("install-merge-driver", history.repo, cwd=history.repo)
    assert installed.returncode == 0, installed.stderr
    git(history.repo, "add", ".gitattributes")
    git(history.repo, "commit", "-q", "-m", "llmfix merge driver")
    git(history.repo, "config", "merge.conflictStyle", "diff3")
    return git(history.repo, "merge", "--no-edit", "upstream", check=False)


MODES = {"git": plain_merge, "llmfix-merge": llmfix_merge, "driver": driver_merge}


@pytest.mark.parametrize("mode", list(MODES))
@pytest.mark.parametrize(("older", "newer"), PAIRS, ids=PAIR_IDS)
def test_conflicts_on_llmfix_lines(tmp_path, older, newer, mode):
    """Plain git conflicts on llmfix's lines (counted); llmfix merge and the driver never do."""
    history = make_history(tmp_path, older, newer)
    MODES[mode](history)
    hunks = conflict_hunks(history.repo)
    on_llmfix = [h for h in hunks if on_llmfix_lines(h, history)]
    _record_count(f"{older}->{newer}", mode, len(hunks), len(on_llmfix), len({h.path for h in on_llmfix}))
    if mode == "git":
        assert len(on_llmfix) == len(hunks), "a plain merge of an untouched upstream conflicts only on llmfix's lines"
    elif mode == "driver":
        # git itself stops on llmfix's support module when upstream renames its folder ("file location"
        # conflict: no hunk, no driver involved); llmfix merge settles it, a plain git merge can't
        assert hunks == [] and [p for p in unmerged_paths(history.repo) if Path(p).name != "litellm_utils.py"] == []
    else:
        assert hunks == [] and unmerged_paths(history.repo) == []


def _record_count(pair: str, mode: str, hunks: int, on_llmfix: int, files: int) -> None:
    """Write the counts where ``LLMFIX_MERGE_COUNTS`` says (a JSON-lines file), for the report."""
    destination = os.environ.get("LLMFIX_MERGE_COUNTS")
    if destination:
        with open(destination, "a", encoding="utf-8") as out:
            out.write(json.dumps({"pair": pair, "mode": mode, "hunks": hunks, "on_llmfix": on_llmfix, "files": files}) + "\n")


# upstream changes only lines llmfix rewrote: the import llmfix wraps (the files move), the guards llmfix adds
ONLY_ON_LLMFIX_LINES = [("upstream-mid2025", "upstream-sep2025"), ("upstream-main-split", "upstream-main-guarded")]
CHANGING = [pair for pair in PAIRS if pair not in ONLY_ON_LLMFIX_LINES]


@pytest.mark.parametrize(("older", "newer"), ONLY_ON_LLMFIX_LINES, ids=[f"{o}->{n}" for o, n in ONLY_ON_LLMFIX_LINES])
def test_where_upstream_changes_only_near_llmfix_lines_no_user_edit_can_collide(tmp_path, older, newer):
    """Every upstream change of these pairs falls within three lines of a line llmfix changed in the older version."""
    import difflib

    history = make_history(tmp_path, older, newer)
    changes = 0
    for kind in ("run_utils", "rubric_utils"):  # the judge's module changes on its own (fixtures/README.md)
        path = target_path(older, kind)
        before, after = history.clean[path].splitlines(), history.patched[path].splitlines()
        edited = [(i1, i2) for tag, i1, i2, _, _ in difflib.SequenceMatcher(None, before, after, autojunk=False).get_opcodes() if tag != "equal"]
        for _, i1, i2, _, _ in upstream_changes(older, newer, kind):
            changes += 1
            inside = [(a, b) for a, b in edited if a - 3 <= i1 and max(i2, i1 + 1) <= b + 3]
            assert inside, f"{kind}: upstream's change of lines {i1 + 1}-{i2} is away from llmfix's changes"
    assert changes


@pytest.mark.parametrize("mode", ["llmfix-merge", "driver"])
@pytest.mark.parametrize(("older", "newer"), CHANGING, ids=[f"{o}->{n}" for o, n in CHANGING])
def test_a_user_edit_that_collides_with_upstream_still_conflicts(tmp_path, older, newer, mode):
    """The conflict shows the user's line against upstream's; no conflict hunk holds a line llmfix wrote."""
    history = make_history(tmp_path, older, newer, user_edit=True)
    done = MODES[mode](history)
    assert done.returncode == 1, done.stdout + done.stderr
    hunks = conflict_hunks(history.repo)
    assert hunks, "the user's edit of a line upstream changed must conflict"
    for hunk in hunks:
        added, _ = history.llmfix_lines(hunk.path)
        assert not set(hunk.ours) & added, f"llmfix's lines in a conflict: {hunk}"
        assert not on_llmfix_lines(hunk, history), hunk
    for path, (user_line, upstream_line) in history.user_lines.items():
        in_file = [h for h in hunks if Path(h.path).name == Path(path).name]
        assert in_file, f"{path}: the user's edit did not conflict"
        assert any(user_line in h.ours and upstream_line in h.theirs for h in in_file), (path, user_line, upstream_line, in_file)
