"""Family 5: the patch's footprint on each fixture.

Per fixture and changed file: upstream lines touched (the removed lines of the diff),
added lines and hunks, as ``llmfix diff --stat`` prints them, cross-checked with
``git diff --numstat`` (and the ``@@`` headers of ``git diff``) after ``llmfix apply`` in a
git repository made of the fixture; and the size of the inserted runtime block: from
its banner comment through the last runtime definition after it, with the definitions
it holds per runtime module (codemods/runtime/*.py).
"""

from __future__ import annotations

import ast
import os
import re
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bench.common import CATALOG, Row, Scratch, clean_env, llmfix_command, log

STAT_FILE = re.compile(r"^ (?P<path>\S.*?) \| \+(?P<added>\d+) -(?P<removed>\d+), (?P<hunks>\d+) hunks?(?:, (?P<touched>\d+) upstream)?")
STAT_TRANSFORM = re.compile(r"^ {5}(?P<name>\S+) +\+(?P<added>\d+) -(?P<removed>\d+)$")
GIT_ENV = {
    "GIT_AUTHOR_NAME": "bench",
    "GIT_AUTHOR_EMAIL": "bench@127.0.0.1",
    "GIT_COMMITTER_NAME": "bench",
    "GIT_COMMITTER_EMAIL": "bench@127.0.0.1",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
}


def parse_stat(text: str) -> dict[str, dict]:
    """``llmfix diff --stat`` per changed file: added, removed, hunks and the per-transform lines."""
    files: dict[str, dict] = {}
    current = None
    for line in text.splitlines():
        match = STAT_FILE.match(line)
        if match:
            current = files[match["path"]] = {
                "added": int(match["added"]),
                "removed": int(match["removed"]),
                "hunks": int(match["hunks"]),
                "touched": int(match["touched"]) if match["touched"] else None,
                "transforms": {},
            }
            continue
        match = STAT_TRANSFORM.match(line)
        if match and current is not None:
            current["transforms"][match["name"]] = (int(match["added"]), int(match["removed"]))
    return files


def _git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, env={**os.environ, **GIT_ENV})
    if done.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)}: {done.stderr.strip()[-300:]}")
    return done.stdout


def git_figures(repo: Path) -> dict[str, dict]:
    """Added, removed and hunks per changed file, as git counts them (default diff settings)."""
    files: dict[str, dict] = {}
    for line in _git(repo, "diff", "--numstat").splitlines():
        added, removed, path = line.split("\t", 2)
        files[path] = {"added": int(added), "removed": int(removed), "hunks": 0}
    current = None
    for line in _git(repo, "diff").splitlines():
        if line.startswith("diff --git "):
            current = line.split(" b/", 1)[1]
        elif line.startswith("@@") and current in files:
            files[current]["hunks"] += 1
    return files


def runtime_block(text: str) -> dict | None:
    """Lines of the runtime block (banner comment through its last definition) and what it defines."""
    from llmfix.codemods import runtime_block as block

    lines = text.splitlines()
    banner = next((i + 1 for i, line in enumerate(lines) if line.strip() == block.BANNER), None)
    if banner is None:
        return None
    names = block.runtime_names()
    tree = ast.parse(text)
    end, defined, per_module = banner, [], {}
    for statement in tree.body:
        start = min([statement.lineno, *(d.lineno for d in getattr(statement, "decorator_list", []))])
        if start <= banner:
            continue
        if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            found = [statement.name]
        elif isinstance(statement, (ast.Assign, ast.AnnAssign)):
            targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
            found = [t.id for t in targets if isinstance(t, ast.Name)]
        else:
            found = []
        if not found or not set(found) <= names:
            break
        defined += found
        end = statement.end_lineno or statement.lineno
        module = block.module_defining(found[0]) or "?"
        per_module[module] = per_module.get(module, 0) + end - start + 1
    return {"lines": end - banner + 1, "first_line": banner, "definitions": len(defined), "lines_per_module": per_module}


def measure(name: str, scratch: Scratch) -> dict:
    """One fixture: --stat, git's counts after apply, and the runtime block of each patched file."""
    repo = scratch.copy_fixture(name, f"5-{name}")
    _git(repo, "init", "-q")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "fixture")
    stat = subprocess.run([*llmfix_command(), "diff", "--stat", str(repo)], capture_output=True, text=True, env=clean_env())
    if stat.returncode not in (0, 1):
        return {"error": f"llmfix diff --stat exited {stat.returncode}: {stat.stderr.strip()[-300:]}"}
    applied = subprocess.run([*llmfix_command(), "apply", "-q", str(repo)], capture_output=True, text=True, env=clean_env())
    if applied.returncode != 0:
        return {"error": f"llmfix apply exited {applied.returncode}: {applied.stderr.strip()[-300:]}"}
    llmfix_files = parse_stat(stat.stdout)
    git_files = git_figures(repo)
    files = {}
    for path in sorted(set(llmfix_files) | set(git_files)):
        ours, git = llmfix_files.get(path), git_files.get(path)
        agree = ours is not None and git is not None and all(ours[k] == git[k] for k in ("added", "removed", "hunks"))
        block = runtime_block((repo / path).read_text(encoding="utf-8")) if (repo / path).exists() else None
        files[path] = {"llmfix": ours, "git": git, "agree": agree, "block": block}
    return {"files": files, "stat": stat.stdout}


def run(scratch: Scratch, fixtures: tuple[str, ...] | None = None) -> dict:
    names = [name for name in sorted(CATALOG) if fixtures is None or name in fixtures]
    log(f"5: footprint of the patch on {len(names)} fixtures")
    with ThreadPoolExecutor(2) as pool:
        measured = dict(zip(names, pool.map(lambda n: measure(n, scratch), names)))
    return measured


def _short(path: str) -> str:
    return Path(path).name


def rows(r: dict) -> list[Row]:
    out = []
    for name, m in r.items():
        if "error" in m:
            out.append(Row("5", f"{name}: footprint", "-", m["error"][:160], "-", "= git diff --numstat", "MISSED"))
            continue
        files = m["files"]
        if not files:
            out.append(Row("5", f"{name}: footprint", "0 lines touched", "no change", "-", "= git diff --numstat", "met"))
            continue
        counted = [f["llmfix"] or f["git"] for f in files.values()]
        touched = sum(c["removed"] for c in counted)
        added = sum(c["added"] for c in counted)
        hunks = ", ".join(f"{_short(p)} {(f['llmfix'] or f['git'])['hunks']}" for p, f in files.items())
        block = sum((f["block"] or {}).get("lines", 0) for f in files.values())
        agree = all(f["agree"] for f in files.values())
        out.append(
            Row(
                "5",
                f"{name}: upstream lines touched / lines added (hunks per file: {hunks}); runtime block",
                f"{touched} touched",
                f"+{added}; block {block} lines",
                f"block {block / added:.0%} of added" if added else "-",
                "= git diff --numstat",
                "met" if agree else "MISSED",
            )
        )
    return out
