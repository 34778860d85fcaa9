"""Family 5: the patch's footprint, as git counts it, beside the hand fix.

Per patchable fixture: a git repository made of the fixture, ``llmfix apply``, ``git add -N``
for the files it created, then ``git diff --numstat``. Added lines in run_utils.py and
rubric_utils.py together, in ground_truth_utils.py (when present), in the support module
litellm_utils.py, in .llmfix/ (the record and what sits beside it), the whole change, and
the record's size in bytes. DR Tulu's hand fix (the same five fixes by hand on
drtulu-canonical, as the issue shows it) is +55 / -9. A fixture without
ground_truth_utils.py is measured once more with the judge module bench/judge_module.py
writes (``+ judge``), so the judge transform's footprint is counted too.
"""

from __future__ import annotations

import os
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bench import judge_module
from bench.common import CATALOG, GOALS, PATCHABLE, Row, Scratch, clean_env, llmfix_command, log

HAND_FIX = {"added": 55, "removed": 9}  # DR Tulu, the five fixes by hand (the issue)
GIT_ENV = {
    "GIT_AUTHOR_NAME": "bench",
    "GIT_AUTHOR_EMAIL": "bench@127.0.0.1",
    "GIT_COMMITTER_NAME": "bench",
    "GIT_COMMITTER_EMAIL": "bench@127.0.0.1",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
}
GROUPS = (  # (group, test on the path) in order: the first that matches counts the file
    ("upstream", lambda p: Path(p).name in ("run_utils.py", "rubric_utils.py")),
    ("judge", lambda p: Path(p).name == "ground_truth_utils.py"),
    ("support", lambda p: Path(p).name == "litellm_utils.py"),
    ("llmfix_dir", lambda p: "/.llmfix/" in f"/{p}"),
)


def _git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, env={**os.environ, **GIT_ENV})
    if done.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)}: {done.stderr.strip()[-300:]}")
    return done.stdout


def numstat(repo: Path) -> dict[str, tuple[int, int]]:
    """(added, removed) per changed file, new files included (``git add -N``)."""
    _git(repo, "add", "-N", ".")
    files = {}
    for line in _git(repo, "diff", "--numstat").splitlines():
        added, removed, path = line.split("\t", 2)
        files[path] = (int(added), int(removed))
    return files


def measure(name: str, scratch: Scratch, judge: bool = False) -> dict:
    """One fixture (``judge``: with bench's judge module added first): git's counts after apply."""
    repo = scratch.copy_fixture(name, f"5-{name}{'-judge' if judge else ''}")
    if judge:
        judge_module.write(repo, name)
    _git(repo, "init", "-q")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "fixture")
    applied = subprocess.run([*llmfix_command(), "apply", "-q", str(repo)], capture_output=True, text=True, env=clean_env())
    if applied.returncode != 0:
        return {"error": f"llmfix apply exited {applied.returncode}: {applied.stderr.strip()[-300:]}"}
    files = numstat(repo)
    groups = {group: {"added": 0, "removed": 0, "files": []} for group, _ in GROUPS}
    groups["other"] = {"added": 0, "removed": 0, "files": []}
    for path, (added, removed) in files.items():
        group = next((g for g, test in GROUPS if test(path)), "other")
        groups[group]["added"] += added
        groups[group]["removed"] += removed
        groups[group]["files"].append(path)
    records = list(repo.rglob(".llmfix/record.json"))
    return {
        "files": {path: list(counts) for path, counts in files.items()},
        "groups": groups,
        "total": {"added": sum(a for a, _ in files.values()), "removed": sum(r for _, r in files.values())},
        "record_bytes": records[0].stat().st_size if records else None,
        "judge_added_by_bench": judge,
    }


def run(scratch: Scratch, fixtures: tuple[str, ...] | None = None) -> dict:
    jobs = [(name, False) for name in sorted(PATCHABLE) if fixtures is None or name in fixtures]
    jobs += [(name, True) for name, _ in jobs if name.startswith("drtulu") and not judge_module.present(name)]
    log(f"5: footprint of the patch on {len(jobs)} checkouts")
    with ThreadPoolExecutor(2) as pool:
        measured = list(pool.map(lambda job: measure(job[0], scratch, job[1]), jobs))
    return {f"{name}{' + judge' if judge else ''}": m for (name, judge), m in zip(jobs, measured)}


def _upstream_goal_applies(key: str) -> bool:
    """The <= 40 lines goal is set for the DR Tulu shape (DR Tulu's layout of run_utils.py and rubric_utils.py)."""
    return CATALOG[key.split(" + ")[0]]["layout"] == "drtulu"


def _figures(m: dict) -> str:
    g, total = m["groups"], m["total"]
    up, judge = g["upstream"], g["judge"]
    text = f"run+rubric +{up['added']} / -{up['removed']}; "
    text += f"ground_truth_utils.py +{judge['added']} / -{judge['removed']}; " if judge["files"] else ""
    text += f"litellm_utils.py +{g['support']['added']}; .llmfix/ +{g['llmfix_dir']['added']} ({len(g['llmfix_dir']['files'])} files)"
    text += f"; other +{g['other']['added']}" if g["other"]["files"] else ""
    return f"{text}; whole +{total['added']} / -{total['removed']}; record {m['record_bytes']} B"


def rows(r: dict) -> list[Row]:
    out = []
    hand = f"hand fix: +{HAND_FIX['added']} / -{HAND_FIX['removed']}"
    for key, m in r.items():
        if "error" in m:
            out.append(Row("5", f"{key}: footprint", hand, m["error"][:160], "-", "-", "MISSED"))
            continue
        checks = [("5-total", m["total"]["added"]), ("5-record", m["record_bytes"] if m["record_bytes"] is not None else float("nan"))]
        if _upstream_goal_applies(key):
            checks.insert(0, ("5-upstream", m["groups"]["upstream"]["added"]))
        missed = [GOALS[k].text for k, value in checks if GOALS[k].status(value) == "MISSED"]
        goal = " / ".join(f"{GOALS[k].text}" for k, _ in checks)
        status = "MISSED" if missed else "met"
        ratio = f"{m['total']['added'] / HAND_FIX['added']:.1f}x the hand fix's added lines" + (f"; missed: {', '.join(missed)}" if missed else "")
        out.append(Row("5", f"{key}: lines added (git diff --numstat)", hand, _figures(m), ratio, goal, status))
    return out
