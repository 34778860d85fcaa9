"""Where ``llmfix apply``'s time goes: the profile behind a missed speed goal (1a, 1b, 1c).

    python bench/profile_apply.py cprofile DIR   # cProfile of `llmfix apply` on a copy of DIR, in one process (JSON)
    python bench/profile_apply.py imports DIR    # -X importtime: `llmfix apply` on a copy of DIR vs the floor (JSON)

``cprofile`` runs the CLI's own entry point (``llmfix.cli.run``, imports included) under
cProfile and lists the functions of llmfix (llmfix/ and codemods/) by cumulative time, and
the top functions by self time. ``imports`` reads ``-X importtime``: the import time of
each of llmfix's modules (self and cumulative), and per top-level package what apply
imports beyond the floor.
"""

from __future__ import annotations

import cProfile
import importlib.util
import json
import pstats
import re
import shutil
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
if sys.path and Path(sys.path[0] or ".").resolve() == HERE:
    del sys.path[0]
if "bench" not in sys.modules:  # bench as a package, without putting this checkout's llmfix/ on sys.path
    _spec = importlib.util.spec_from_file_location("bench", HERE / "__init__.py", submodule_search_locations=[str(HERE)])
    sys.modules["bench"] = importlib.util.module_from_spec(_spec)
    _spec.loader.exec_module(sys.modules["bench"])

OURS = re.compile(r"/(llmfix|codemods)/")


def _short(filename: str) -> str:
    match = OURS.search(filename)
    if match:
        return filename[match.start() + 1 :]
    for marker in ("site-packages/", "/lib/python3"):
        if marker in filename:
            return filename.split(marker, 1)[1]
    return filename


def _label(key: tuple) -> str:
    filename, line, function = key
    return function if filename == "~" else f"{function} ({_short(filename)}:{line})"


def cprofile(folder: Path, top: int = 30) -> dict:
    """cProfile of ``llmfix apply`` (the console entry point) on a copy of ``folder``."""
    with tempfile.TemporaryDirectory(prefix="llmfix-profile-") as tmp:
        work = Path(tmp) / "work"
        shutil.copytree(folder, work)
        sys.argv = ["llmfix", "apply", "-q", str(work)]
        profiler = cProfile.Profile()
        profiler.enable()
        try:
            from llmfix.cli import run

            run()
        except SystemExit:
            pass
        finally:
            profiler.disable()
    entries = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    total = max((stat[3] for stat in entries.values()), default=float("nan"))  # the outermost call's cumulative time
    ours = [key for key in entries if OURS.search(key[0])]
    return {
        "seconds": total,
        "cumulative_llmfix": [(_label(k), entries[k][1], entries[k][3], entries[k][3] / total) for k in sorted(ours, key=lambda k: -entries[k][3])[:top]],
        "self_top": [(_label(k), entries[k][1], entries[k][2], entries[k][2] / total) for k in sorted(entries, key=lambda k: -entries[k][2])[:top]],
    }


def _importtime(cmd: list[str]) -> list[tuple[str, float, float]]:
    """(module, self seconds, cumulative seconds) per import, from ``-X importtime`` (run outside this checkout)."""
    done = subprocess.run([sys.executable, "-X", "importtime", *cmd], capture_output=True, text=True, cwd=tempfile.gettempdir())
    found = []
    for line in done.stderr.splitlines():
        match = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|\s*(\S+)", line)
        if match:
            found.append((match.group(3), int(match.group(1)) / 1e6, int(match.group(2)) / 1e6))
    return found


def imports(folder: Path, top: int = 12) -> dict:
    """Import costs of a real ``llmfix apply`` next to the floor's."""
    from bench.speed import FLOOR

    with tempfile.TemporaryDirectory(prefix="llmfix-profile-") as tmp:
        work = Path(tmp) / "work"
        shutil.copytree(folder, work)
        apply = _importtime(["-c", "from llmfix.cli import run; run()", "apply", "-q", str(work)])
    targets = [p for p in sorted(folder.rglob("*.py")) if p.name in ("run_utils.py", "rubric_utils.py")]
    floor = _importtime(["-c", FLOOR, *map(str, targets)])
    packages: dict[str, float] = defaultdict(float)
    for name, own, _ in apply:
        packages[name.split(".")[0]] += own
    for name, own, _ in floor:
        packages[name.split(".")[0]] -= own
    llmfix = [entry for entry in apply if entry[0].split(".")[0] == "llmfix"]
    return {
        "apply_total": sum(own for _, own, _ in apply),
        "floor_total": sum(own for _, own, _ in floor),
        "llmfix_total": sum(own for _, own, _ in llmfix),
        "llmfix_modules": sorted(llmfix, key=lambda e: -e[1])[:top],
        "beyond_floor": sorted(((k, v) for k, v in packages.items() if v > 0.001), key=lambda kv: -kv[1])[:8],
    }


def _script(mode: str, folder: Path) -> dict:
    done = subprocess.run([sys.executable, str(Path(__file__)), mode, str(folder)], capture_output=True, text=True, timeout=1800)
    if done.returncode != 0:
        return {"error": done.stderr.strip()[-800:]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def profile_misses(results: dict, rows: list, scratch, profile) -> dict:
    """Profiles for the speed goals a run missed (1a, 1b: the fixture; 1c: a sample of the batch)."""
    from bench.common import CANONICAL, log
    from bench.generate import batch

    missed = {r.bench for r in rows if r.status == "MISSED"} & {"1a", "1b", "1c"}
    out: dict = {}
    if missed & {"1a", "1b"}:
        log("profile: apply on the fixture (cProfile, -X importtime)")
        copy = scratch.copy_fixture(CANONICAL, "profile-1a")
        out["1a"] = {"cprofile": _script("cprofile", copy), "imports": _script("imports", copy)}
    if "1c" in missed:
        sample = scratch.root / "profile-1c"
        files = len(batch(sample, min(profile.sample_1c, results["1c"]["files"]))["files"])
        log(f"profile: apply on {files} files of the batch (cProfile)")
        out["1c"] = {"files": files, "cprofile": _script("cprofile", sample)}
    return out


MODES = {"cprofile": cprofile, "imports": imports}

if __name__ == "__main__":
    print(json.dumps(MODES[sys.argv[1]](Path(sys.argv[2])), default=str))
