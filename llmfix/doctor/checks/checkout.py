"""Check 6: is the checkout patched (`llmfix check PATH --json`, in a subprocess), and does the merge driver `llmfix
install-merge-driver` wrote still start (a recreated virtualenv leaves it naming a gone interpreter)? It is never run."""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from llmfix.doctor.checks import Started, last_words
from llmfix.doctor.findings import LAYER, OK, WARN, Finding

CHECK_TIMEOUT = 20.0
GIT_TIMEOUT = 5.0
FIND_TIMEOUT = 10.0
_FIND = "import importlib.util, sys; sys.exit(0 if importlib.util.find_spec(sys.argv[1]) else 3)"


def _finding(check: str, status: str, summary: str, fix: str, cause: str, source: str, detail: list[str] | None = None) -> Finding:
    return Finding(check, status, summary, fix, cause, source, LAYER["checkout"], detail or [])


def start_check(path: Path) -> Started:
    """`llmfix check PATH --json`, started now."""
    env = {"LITELLM_LOCAL_MODEL_COST_MAP": "True", **os.environ}
    return Started([sys.executable, "-m", "llmfix", "check", str(path), "--json"], env, CHECK_TIMEOUT)


def interpret(path: Path, done: tuple[int, str, str] | str, source: str = "environment") -> Finding:
    """`llmfix check --json`'s (exit code, stdout, stderr), or why it did not run, as the checkout's verdict."""
    data = None
    with contextlib.suppress(ValueError):
        data = json.loads(done[1]) if not isinstance(done, str) and done[1].strip() else None
    if not isinstance(data, dict) or "files" not in data:
        why = done if isinstance(done, str) else last_words(done[0], done[2]) + ("" if done[2].strip() else ", no JSON report")
        return _finding("checkout", WARN, f"could not run `llmfix check {path}`: {why}", f"run `llmfix check {path}` by hand", "check-unavailable", source)
    files = [f for f in data["files"] if isinstance(f, dict)]
    buckets: dict[str, list[str]] = {"pending": [], "anchor-missing": [], "already-present": []}
    for f in files:
        for name, info in (f.get("transforms") or {}).items():
            status, reason = (info or {}).get("status"), (info or {}).get("reason")
            if name == "support":  # the support module llmfix writes beside the fixes, not a fix
                continue
            where = f"{name} in {f.get('path')}" + (f": {reason}" if status == "anchor-missing" and reason else "")
            buckets.get("pending" if status == "applied" else status, []).append(where)
    pending, drift = buckets["pending"], buckets["anchor-missing"]
    detail = [f"pending: {p}" for p in pending] + [f"cannot patch: {d}" for d in drift]
    if done[0] == 0 and not pending and not drift:
        return _finding("checkout", OK, f"{path} is patched: {len(buckets['already-present'])} fixes present in {len(files)} file(s)", "", "", source)
    if drift or done[0] == 2:
        summary = f"llmfix check cannot patch parts of {path} ({len(drift)} anchor(s) missing)"
        return _finding("checkout", WARN, summary, f"llmfix diff {path}  (and see the reasons)", "checkout-drift", source, detail)
    names = ", ".join(sorted({p.split(" in ", 1)[0] for p in pending}))
    summary = f"{path} is not patched: {len(pending)} fix(es) pending ({names}); LLM failures there end as empty rubrics, silently"
    return _finding("checkout", WARN, summary, f"llmfix apply {path}", "checkout-unpatched", source, detail)


def _git(root: Path, *args: str) -> str | None:
    try:
        argv = ["git", "-C", str(root if root.is_dir() else root.parent), *args]
        done = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=GIT_TIMEOUT, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def _driver_problem(command: str, top: str, env: Mapping[str, str]) -> tuple[str, str]:
    """(what keeps the driver command from starting, "" when nothing; the program it runs). Git runs
    it in the repository's top folder; for ``PYTHON -m MODULE`` the interpreter must still find MODULE."""
    try:
        words = shlex.split(command)
    except ValueError as exc:
        return f"cannot be read as a shell command ({exc})", ""
    if not words:
        return "is empty", ""
    program = shutil.which(words[0], path=env.get("PATH", os.defpath)) if "/" not in words[0] else os.path.join(top, words[0])
    if program is None:
        return f"runs `{words[0]}`, which is not on PATH", words[0]
    if not os.path.isfile(program) or not os.access(program, os.X_OK):
        return f"runs {program}, which {'is not executable' if os.path.isfile(program) else 'no longer exists'}", program
    if len(words) < 3 or words[1] != "-m":
        return "", program
    module = words[2].split(".")[0]
    try:
        argv = [program, "-c", _FIND, module]
        done = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, env=dict(env), cwd=top, timeout=FIND_TIMEOUT, check=False)
    except subprocess.TimeoutExpired:
        return "", program  # slow, not broken
    except OSError as exc:
        return f"runs {program}, which cannot be started ({exc.strerror or exc})", program
    if done.returncode == 3:
        return f"runs {program} -m {module}, but {module} is not installed for that interpreter", program
    return (f"runs {program}, which fails to start (exit {done.returncode})" if done.returncode else ""), program


def merge_driver_findings(root: Path, env: Mapping[str, str], source: str, seen: set[str]) -> list[Finding]:
    """The merge driver of the repository ``root`` is in (none without one; once per repository in ``seen``)."""
    top = _git(root, "rev-parse", "--show-toplevel")
    command = _git(root, "config", "--get", "merge.llmfix.driver") if top is not None else None
    if not command or top in seen:
        return []
    seen.add(top)
    what, program = _driver_problem(command, top, env)
    if not what:
        return [_finding("merge-driver", OK, f"the merge driver in {top}/.git/config runs {program}", "", "", source)]
    summary = f"the merge driver in {top}/.git/config {what}: the next `git merge` of a patched file fails"
    fix = f"run `llmfix install-merge-driver {top}` again (with the llmfix you use now)"
    return [_finding("merge-driver", WARN, summary, fix, "merge-driver-broken", source, [f"merge.llmfix.driver={command}"])]
