"""Check 6c: does the merge driver `llmfix install-merge-driver` wrote into .git/config still run?

The driver is a shell command naming an interpreter by its absolute path (or ``llmfix``);
a recreated virtualenv leaves it pointing at nothing, and the next `git merge` fails. The
doctor reads ``git config --get merge.llmfix.driver`` in the checkout's repository and checks
that the command's program exists and is executable (and, for ``PYTHON -m llmfix...``, that
this interpreter still finds llmfix). It never runs the driver."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
from pathlib import Path
from typing import Mapping

from llmfix.doctor.findings import LAYER_CHECKOUT, OK, WARN, Finding

CHECK = "merge-driver"
GIT_TIMEOUT = 5.0
FIND_TIMEOUT = 10.0
_FIND = "import importlib.util, sys; sys.exit(0 if importlib.util.find_spec(sys.argv[1]) else 3)"


def _git(root: Path, *args: str) -> str | None:
    folder = root if root.is_dir() else root.parent
    try:
        done = subprocess.run(["git", "-C", str(folder), *args], stdin=subprocess.DEVNULL, capture_output=True,
                              text=True, timeout=GIT_TIMEOUT, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def driver(root: Path) -> tuple[str, str] | None:
    """(the repository's top folder, the driver command) when ``root`` is in a repository with one."""
    top = _git(root, "rev-parse", "--show-toplevel")
    if top is None:
        return None
    command = _git(root, "config", "--get", "merge.llmfix.driver")
    return (top, command) if command else None


def problem(command: str, top: str, env: Mapping[str, str]) -> tuple[str, str]:
    """(what is wrong with the driver command, "" when it would start; the program it runs)."""
    try:
        words = shlex.split(command)
    except ValueError as exc:
        return f"cannot be read as a shell command ({exc})", ""
    if not words:
        return "is empty", ""
    program = words[0]
    if "/" not in program:
        found = shutil.which(program, path=env.get("PATH", os.defpath))
        if found is None:
            return f"runs `{program}`, which is not on PATH", program
        program = found
    elif not os.path.isabs(program):
        program = os.path.join(top, program)  # git runs the driver in the repository's top folder
    if not os.path.isfile(program):
        return f"runs {program}, which no longer exists", program
    if not os.access(program, os.X_OK):
        return f"runs {program}, which is not executable", program
    if len(words) > 2 and words[1] == "-m":
        return _module_problem(program, words[2].split(".")[0], env, top), program
    return "", program


def _module_problem(program: str, module: str, env: Mapping[str, str], top: str) -> str:
    """Whether ``program`` (an interpreter) still finds ``module`` where git runs the driver (the
    repository's top folder); only looks it up, imports nothing."""
    try:
        done = subprocess.run([program, "-c", _FIND, module], stdin=subprocess.DEVNULL, capture_output=True,
                              env=dict(env), cwd=top, timeout=FIND_TIMEOUT, check=False)
    except subprocess.TimeoutExpired:
        return ""  # slow, not broken
    except OSError as exc:
        return f"runs {program}, which cannot be started ({exc.strerror or exc})"
    if done.returncode == 3:
        return f"runs {program} -m {module}, but {module} is not installed for that interpreter"
    if done.returncode != 0:
        return f"runs {program}, which fails to start (exit {done.returncode})"
    return ""


def check(root: Path, env: Mapping[str, str], source: str = "environment", seen: set[str] | None = None) -> list[Finding]:
    """The finding about the merge driver of the repository ``root`` is in (none without one);
    a repository in ``seen`` is not reported again."""
    found = driver(root)
    if found is None or (seen is not None and found[0] in seen):
        return []
    top, command = found
    if seen is not None:
        seen.add(top)
    what, program = problem(command, top, env)
    if not what:
        return [Finding(CHECK, OK, f"the merge driver in {top}/.git/config runs {program}", "", [], "", source, LAYER_CHECKOUT)]
    return [Finding(CHECK, WARN, f"the merge driver in {top}/.git/config {what}: the next `git merge` of a patched file fails",
                    f"run `llmfix install-merge-driver {top}` again (with the llmfix you use now)", [f"merge.llmfix.driver={command}"],
                    "merge-driver-broken", source, LAYER_CHECKOUT)]
