"""Check 6: the checkout. Is it patched (asks the core's `llmfix check PATH --json` in a subprocess, so
the doctor does not depend on core internals and never crashes when that command is absent), and
does the merge driver `llmfix install-merge-driver` wrote into .git/config still run?

The driver is a shell command naming an interpreter by its absolute path (or ``llmfix``); a
recreated virtualenv leaves it pointing at nothing, and the next `git merge` fails. The doctor
reads ``git config --get merge.llmfix.driver`` in the checkout's repository and checks that the
command's program exists and is executable (and, for ``PYTHON -m llmfix...``, that this
interpreter still finds llmfix). It never runs the driver."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Mapping

from llmfix.doctor.checks import Started
from llmfix.doctor.findings import LAYER_CHECKOUT, OK, WARN, Finding
from llmfix.doctor.redact import redact_url

CHECK_TIMEOUT = 20.0
GIT_TIMEOUT = 5.0
FIND_TIMEOUT = 10.0
_FIND = "import importlib.util, sys; sys.exit(0 if importlib.util.find_spec(sys.argv[1]) else 3)"


def start_check(path: Path) -> Started:
    """`llmfix check PATH --json`, started now."""
    env = {"LITELLM_LOCAL_MODEL_COST_MAP": "True", **os.environ}
    return Started([sys.executable, "-m", "llmfix", "check", str(path), "--json"], env, CHECK_TIMEOUT)


def check_findings(path: Path, started: Started, source: str = "environment") -> list[Finding]:
    if started.error is not None:
        return _unavailable(path, str(started.error), source)
    done = started.collect()
    if done is None:
        return _unavailable(path, f"no answer within {started.timeout:g} s", source)
    return interpret(path, *done, source=source)


def patched(findings: list[Finding]) -> bool | None:
    """What a checkout verdict says: patched, not patched, or unknown (drift, could not run)."""
    (f,) = findings
    return True if f.status == OK else False if f.cause == "checkout-unpatched" else None


def _unavailable(path: Path, why: str, source: str) -> list[Finding]:
    return [Finding("checkout", WARN, f"could not run `llmfix check {path}`: {why}", f"run `llmfix check {path}` by hand",
                    [], "check-unavailable", source, LAYER_CHECKOUT)]


def interpret(path: Path, code: int, out: str, err: str, source: str = "environment") -> list[Finding]:
    """Turn `llmfix check --json` output into findings (a fix ``check`` would add is ``pending``);
    ``source`` names the checkout when PATH holds several."""
    try:
        data = json.loads(out) if out.strip() else None
    except ValueError:
        data = None
    if not isinstance(data, dict) or "files" not in data:
        said = [line.strip() for line in (err or "").strip().splitlines() if line.strip()]
        return _unavailable(path, redact_url(said[-1])[:200] if said else f"exit {code}, no JSON report", source)  # redacted, then cut
    files = [f for f in data.get("files", []) if isinstance(f, dict)]
    pending: list[str] = []
    drift: list[str] = []
    present: list[str] = []
    buckets = {"pending": pending, "applied": pending, "anchor-missing": drift, "already-present": present}
    for f in files:
        for name, info in (f.get("transforms") or {}).items():
            if name == "support":  # the support module llmfix writes beside the fixes, not a fix
                continue
            status, where = (info or {}).get("status"), f"{name} in {f.get('path')}"
            if status == "anchor-missing":
                where = f"{where}: {(info or {}).get('reason', '')}".rstrip(": ")
            buckets.get(status, []).append(where)
    detail = [f"pending: {p}" for p in pending] + [f"cannot patch: {d}" for d in drift]
    if code == 0 and not pending and not drift:
        return [Finding("checkout", OK, f"{path} is patched: {len(present)} fixes present in {len(files)} file(s)",
                        "", [], "", source, LAYER_CHECKOUT)]
    if drift or code == 2:
        return [Finding("checkout", WARN, f"llmfix check cannot patch parts of {path} ({len(drift)} anchor(s) missing)",
                        f"llmfix diff {path}  (and see the reasons)", detail, "checkout-drift", source, LAYER_CHECKOUT)]
    names = sorted({p.split(" in ", 1)[0] for p in pending})
    return [Finding("checkout", WARN, f"{path} is not patched: {len(pending)} fix(es) pending ({', '.join(names)}); "
                                      f"LLM failures there end as empty rubrics, silently",
                    f"llmfix apply {path}", detail, "checkout-unpatched", source, LAYER_CHECKOUT)]


def _git(root: Path, *args: str) -> str | None:
    folder = root if root.is_dir() else root.parent
    try:
        done = subprocess.run(["git", "-C", str(folder), *args], stdin=subprocess.DEVNULL, capture_output=True,
                              text=True, timeout=GIT_TIMEOUT, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def _driver_problem(command: str, top: str, env: Mapping[str, str]) -> tuple[str, str]:
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
    return f"runs {program}, which fails to start (exit {done.returncode})" if done.returncode != 0 else ""


def merge_driver_findings(root: Path, env: Mapping[str, str], source: str, seen: set[str]) -> list[Finding]:
    """The finding about the merge driver of the repository ``root`` is in (none without one);
    a repository in ``seen`` is not reported again."""
    top = _git(root, "rev-parse", "--show-toplevel")
    command = _git(root, "config", "--get", "merge.llmfix.driver") if top is not None else None
    if not command or top in seen:
        return []
    seen.add(top)
    what, program = _driver_problem(command, top, env)
    if not what:
        return [Finding("merge-driver", OK, f"the merge driver in {top}/.git/config runs {program}", "", [], "", source, LAYER_CHECKOUT)]
    return [Finding("merge-driver", WARN, f"the merge driver in {top}/.git/config {what}: the next `git merge` of a patched file fails",
                    f"run `llmfix install-merge-driver {top}` again (with the llmfix you use now)", [f"merge.llmfix.driver={command}"],
                    "merge-driver-broken", source, LAYER_CHECKOUT)]
